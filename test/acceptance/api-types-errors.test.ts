/** Black-box acceptance tests (package root only). API.md "Types" and "Errors": key order, key/value forms, owned byte arrays. */
import { describe, expect, it } from 'vitest'
import { LedgerError, MAX_KEY_SIZE } from 'dagkv'
import { collect, str, until, utf8 } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { cmp, hex, keysOf, recorder } from './api-helpers.js'

describe('Types and Errors', () => {
  it('exports MAX_KEY_SIZE = 1024 and LedgerError, an Error with a stable code', async () => {
    expect(MAX_KEY_SIZE).toBe(1024)
    const page = await (await memoryLedger()).page('p')
    const err = await page.commit().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(LedgerError)
    expect(err).toBeInstanceOf(Error)
    expect((err as LedgerError).code).toBe('NO_TRANSACTION_IN_PROGRESS')
    expect(typeof (err as Error).message).toBe('string')
  })

  it('orders keys by unsigned bytes, not by UTF-16 code units', async () => {
    const page = await (await memoryLedger()).page('p')
    const keys: Uint8Array[] = [
      utf8('\uffff'), // EF BF BF: before the emoji in bytes, after it in UTF-16
      utf8('😀'), // F0 9F 98 80
      utf8('z'),
      utf8('é'),
      Uint8Array.of(0x7f),
      Uint8Array.of(0x80),
      Uint8Array.of(0x00),
      utf8(''),
      utf8('a'),
      utf8('ab'),
      Uint8Array.of(0xff, 0xff),
    ]
    await page.startTransaction()
    for (const k of keys) await page.put(k, 'v')
    await page.commit()
    const expected = [...keys].sort(cmp).map(hex)
    const s = await page.snapshot()
    expect((await collect(s.keys())).map(hex)).toEqual(expected)
    expect((await collect(s.keys({ reverse: true }))).map(hex)).toEqual([...expected].reverse())
    expect((await s.getEntries({ limit: 4 })).entries.map((e) => hex(e.key))).toEqual(expected.slice(0, 4))
    // a range between the two: '\uffff' <= k < '😀' holds only '\uffff' in byte order
    expect((await collect(s.keys({ start: '\uffff', end: '😀' }))).map(hex)).toEqual([hex(utf8('\uffff'))])
  })

  it('treats a string key and its UTF-8 bytes as the same key', async () => {
    const page = await (await memoryLedger()).page('p')
    await page.put('é/ü', '1')
    const s1 = await page.snapshot()
    expect(str(await s1.get(utf8('é/ü')))).toBe('1')
    await page.put(utf8('é/ü'), utf8('1')) // same key, same value: no commit
    expect((await page.snapshot()).commitId).toBe(s1.commitId)
    await page.delete(utf8('é/ü'))
    expect(await (await page.snapshot()).get('é/ü')).toBeUndefined()
  })

  it('stores only the bytes a subarray view shows, accepts a Buffer, and returns plain Uint8Arrays', async () => {
    const page = await (await memoryLedger()).page('p')
    const backing = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)
    await page.put(backing.subarray(2, 4), backing.subarray(5, 8))
    await page.put(Buffer.from('buf-key'), Buffer.from('buf-value'))
    const s = await page.snapshot()
    expect(await s.get(Uint8Array.of(3, 4))).toEqual(Uint8Array.of(6, 7, 8))
    const entries = await collect(s.entries())
    expect(entries.map((e) => [hex(e.key), hex(e.value)])).toEqual([
      ['0304', '060708'],
      [hex(utf8('buf-key')), hex(utf8('buf-value'))],
    ])
    for (const e of entries) {
      expect(e.key.constructor).toBe(Uint8Array)
      expect(e.value!.constructor).toBe(Uint8Array)
    }
    const v = await s.get('buf-key')
    expect(v!.constructor).toBe(Uint8Array)
  })

  it('copies the caller\'s arrays at call time outside a transaction, even when not awaited', async () => {
    const page = await (await memoryLedger()).page('p')
    const k1 = utf8('k1')
    const v1 = utf8('first')
    const k2 = utf8('k2')
    const v2 = new Uint8Array(10_000).fill(1)
    const p1 = page.put(k1, v1)
    const p2 = page.put(k2, v2)
    k1.fill(0x30)
    v1.fill(0x30)
    k2.fill(0x30)
    v2.fill(9)
    await Promise.all([p1, p2])
    const s = await page.snapshot()
    expect(str(await s.get('k1'))).toBe('first')
    expect(await s.get('k2')).toEqual(new Uint8Array(10_000).fill(1))
    expect(await keysOf(s)).toEqual(['k1', 'k2'])
  })

  it('distinguishes an empty value from a missing key', async () => {
    const page = await (await memoryLedger()).page('p')
    await page.put('k', '')
    const s = await page.snapshot()
    const v = await s.get('k')
    expect(v).toBeInstanceOf(Uint8Array)
    expect(v).toHaveLength(0)
    expect(await s.get('missing')).toBeUndefined()
    expect(await collect(s.entries())).toEqual([{ key: utf8('k'), value: new Uint8Array(0), priority: 'eager' }])
    await page.put('k', new Uint8Array(0)) // the same value: no commit
    expect((await page.snapshot()).commitId).toBe(s.commitId)
  })

  it('hands out arrays from every read that the caller may mutate without affecting the store or each other', async () => {
    const ledger = await memoryLedger()
    const page = await ledger.page('p')
    const { seen, listener } = recorder()
    await page.watch(listener)
    await page.startTransaction()
    for (let i = 0; i < 20; i++) await page.put(`key${String(i).padStart(2, '0')}`, `value${i}`)
    await page.put('big', new Uint8Array(6000).fill(5))
    await page.commit()
    const s1 = await page.snapshot()
    await page.delete('key00')
    await page.put('key01', 'changed')
    const s2 = await page.snapshot()
    await until(() => seen.length > 0 && seen.flatMap((c) => c.deleted).length === 1)

    const got = await s1.get('key05')
    const entries = await collect(s1.entries())
    const keys = await collect(s1.keys())
    const page1 = (await s1.getEntries({ limit: 7 })).entries
    const diff = await collect(s1.diff(s2))
    const changed = seen.flatMap((c) => c.changed)
    const deleted = seen.flatMap((c) => c.deleted)
    const ids = await ledger.pages()
    const all: Uint8Array[] = [
      got!,
      ...entries.flatMap((e) => [e.key, e.value!]),
      ...keys,
      ...page1.flatMap((e) => [e.key, e.value!]),
      // a diff item's key, before.key and after.key name one key and may share bytes: only `key` is mutated here
      ...diff.flatMap((d) => [d.key, ...(d.before ? [d.before.value!] : []), ...(d.after ? [d.after.value!] : [])]),
      ...changed.flatMap((e) => [e.key, e.value!]),
      ...deleted,
      ...ids,
    ]
    for (const a of all) expect(a.constructor).toBe(Uint8Array)
    // snapshot the expected contents of every array, then mutate each within its own bounds
    const before = all.map((a) => hex(a))
    for (let i = 0; i < all.length; i++) {
      all[i]!.fill(0xee)
      for (let j = i + 1; j < all.length; j++) {
        if (all[j] !== all[i] && hex(all[j]) !== before[j]) throw new Error(`mutating array ${i} changed array ${j}`)
      }
    }
    expect(str(await s1.get('key05'))).toBe('value5')
    expect((await collect(s1.entries())).map((e) => `${str(e.key)}=${e.value!.length}`)).toEqual(
      entries.map((_, i) => (i === 0 ? 'big=6000' : `key${String(i - 1).padStart(2, '0')}=${`value${i - 1}`.length}`)),
    )
    expect((await collect(s1.diff(s2))).map((d) => str(d.key))).toEqual(['key00', 'key01'])
    expect((await ledger.pages()).map((p) => str(p))).toEqual(['p'])
    expect(await (await page.snapshot()).get('big')).toEqual(new Uint8Array(6000).fill(5))
  })
})

// ---------------------------------------------------------------------------------------------
