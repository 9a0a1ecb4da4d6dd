import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareBytes } from '../../src/codec/index.js'
import { Journal } from '../../src/ledger/journal.js'
import { keyLevel } from '../../src/tree/index.js'
import type { TreeEntry } from '../../src/tree/interface.js'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { numRuns } from '../helpers/bytes.js'

// Few distinct bytes and short keys: many shared prefixes, prefixes of each other, empty keys.
const keyArb = fc.uint8Array({ minLength: 0, maxLength: 7, min: 0, max: 3 })

describe('Journal.staged', () => {
  it('orders keys by unsigned bytes, last write per key wins', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(keyArb, fc.boolean()), { maxLength: 200 }), fc.integer({ min: 1, max: 64 }), (writes, compactAt) => {
        // Small `compactAt`: the log is compacted (reduced to the last change per key) as it grows.
        const j = new Journal({ compactAt })
        const last = new Map<string, boolean>()
        for (const [key, del] of writes) {
          if (del) j.delete(key)
          else j.put({ key, value: { inline: key }, priority: 'eager' }, [])
          last.set(Buffer.from(key).toString('hex'), del)
        }
        const sorted = j.staged().changes()
        const expected = [...last.keys()].map((h) => Uint8Array.from(Buffer.from(h, 'hex'))).sort(compareBytes)
        expect(sorted.map((c) => Buffer.from(c.key).toString('hex'))).toEqual(expected.map((k) => Buffer.from(k).toString('hex')))
        for (const c of sorted) expect(c.entry === undefined).toBe(last.get(Buffer.from(c.key).toString('hex')))
      }),
      { numRuns: numRuns(100) },
    )
  })

  it('orders any bytes (full range, shared prefixes of up to 8 bytes) like compareBytes', () => {
    const anyKey = fc.uint8Array({ minLength: 0, maxLength: 9 }).map((k) => (k.length > 6 ? k.map((b, i) => (i < 5 ? 0 : b)) : k))
    fc.assert(
      fc.property(fc.array(anyKey, { maxLength: 300 }), (keys) => {
        const j = new Journal()
        for (const key of keys) j.put({ key, value: { inline: key }, priority: 'eager' }, [])
        const hex = (k: Uint8Array): string => Buffer.from(k).toString('hex')
        const expected = [...new Set(keys.map(hex))].map((h) => Uint8Array.from(Buffer.from(h, 'hex'))).sort(compareBytes).map(hex)
        expect(j.staged().changes().map((c) => hex(c.key))).toEqual(expected)
      }),
      { numRuns: numRuns(100) },
    )
  })

  it('compacts a long log of rewrites of a few keys to their last changes', () => {
    const j = new Journal({ compactAt: 100 })
    for (let i = 0; i < 10_000; i++) j.put({ key: Uint8Array.of(i % 3), value: { inline: Uint8Array.of(i & 0xff) }, priority: 'eager' }, [])
    const sorted = j.staged().changes()
    expect(sorted.map((c) => [c.key[0], (c.entry!.value as { inline: Uint8Array }).inline[0]])).toEqual([
      [0, 9_999 & 0xff],
      [1, 9_997 & 0xff],
      [2, 9_998 & 0xff],
    ])
  })

  it('orders high bytes after low ones (unsigned) in every prefix position', () => {
    const j = new Journal()
    const keys = [
      [0xff], [0x7f, 0xff], [0x80], [0, 0, 0, 0xff], [0, 0, 0, 0x01, 0xff], [], [0, 0, 0, 0x01],
      // Bytes 4 and 5: the sort word holds byte 4 and the top 3 bits of byte 5; the rest ties.
      [0, 0, 0, 0, 0x80], [0, 0, 0, 0, 0x7f, 0xff], [0, 0, 0, 0, 0, 0x20], [0, 0, 0, 0, 0, 0x1f, 0xff],
      [0, 0, 0, 0, 0, 0xe0], [0, 0, 0, 0, 0, 0xff], [0, 0, 0, 0, 0, 0xe1, 0], [0, 0, 0, 0, 0, 0x01],
    ].map((k) => Uint8Array.from(k))
    for (const key of keys) j.put({ key, value: { inline: key }, priority: 'eager' }, [])
    expect(j.staged().changes().map((c) => [...c.key])).toEqual([...keys].sort(compareBytes).map((k) => [...k]))
  })

  it('stages inline puts, entry puts, deletes and clears like a map of the last change per key', async () => {
    const link = CID.createV1(0x55, await sha256.digest(Uint8Array.of(1, 2, 3)))
    const op = fc.oneof(
      fc.record({ t: fc.constant('inline' as const), key: keyArb, value: fc.uint8Array({ maxLength: 40 }) }),
      fc.record({ t: fc.constant('lazy' as const), key: keyArb, value: fc.uint8Array({ maxLength: 8 }) }),
      fc.record({ t: fc.constant('link' as const), key: keyArb, size: fc.nat(5000) }),
      fc.record({ t: fc.constant('delete' as const), key: keyArb }),
      fc.record({ t: fc.constant('clear' as const) }),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 150 }), fc.integer({ min: 1, max: 200 }), async (ops, compactAt) => {
        const j = new Journal({ compactAt })
        const model = new Map<string, TreeEntry | undefined>()
        const hex = (k: Uint8Array): string => Buffer.from(k).toString('hex')
        for (const o of ops) {
          if (o.t === 'clear') {
            j.clear()
            model.clear()
            continue
          }
          // The journal copies what it is given: mutating the caller's arrays afterwards changes nothing.
          const key = o.key.slice()
          let entry: TreeEntry | undefined
          if (o.t === 'inline') {
            const value = o.value.slice()
            j.putInline(key, value)
            value.fill(7)
            entry = { key: o.key, value: { inline: o.value }, priority: 'eager' }
          } else if (o.t === 'lazy') {
            entry = { key: o.key.slice(), value: { inline: o.value }, priority: 'lazy' }
            j.put(entry, [])
          } else if (o.t === 'link') {
            entry = { key: o.key.slice(), value: { link, size: o.size }, priority: 'eager' }
            j.put(entry, [])
          } else {
            j.delete(key)
          }
          key.fill(9)
          model.set(hex(o.key), entry)
        }
        const staged = j.staged()
        const expected = [...model.keys()].sort().map((h) => ({ h, e: model.get(h) }))
        const got = staged.changes()
        expect(j.cleared).toBe(ops.some((o) => o.t === 'clear'))
        expect(got.map((c) => hex(c.key))).toEqual(expected.map((x) => x.h))
        got.forEach((c, i) => {
          const e = expected[i]!.e
          if (e === undefined) {
            expect(c.entry).toBeUndefined()
            expect(staged.levels[i]).toBe(-1)
            return
          }
          expect(staged.levels[i]).toBe(keyLevel(c.key))
          expect(c.entry!.priority).toBe(e.priority)
          if ('inline' in e.value) expect(hex((c.entry!.value as { inline: Uint8Array }).inline)).toBe(hex(e.value.inline))
          else expect(c.entry!.value).toEqual(e.value)
        })
      }),
      { numRuns: numRuns(100) },
    )
  })
})
