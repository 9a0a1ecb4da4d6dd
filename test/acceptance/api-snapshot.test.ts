/** Black-box acceptance tests (package root only). API.md "Snapshot": contentId, at, ranges, prefixes, getEntries tokens, diff. */
import { describe, expect, it } from 'vitest'
import { collect, str, until, utf8 } from '../helpers/bytes.js'
import { diskLedger, memoryLedger } from '../helpers/ledgers.js'
import { codeOf, asyncCodeOf, cmp, hex, keysOf, rng, randomBytes, recorder } from './api-helpers.js'

describe('Snapshot', () => {
  it('an empty page has the same commitId and the empty tree\'s contentId on every page, backend and replica', async () => {
    const mem = await memoryLedger()
    const disk = await diskLedger()
    const sMem = await (await mem.page('p')).snapshot()
    const sDisk = await (await disk.page('other')).snapshot()
    const sRoot = await (await mem.rootPage()).snapshot()
    expect(typeof sMem.commitId).toBe('string')
    expect(typeof sMem.contentId).toBe('string')
    expect(sMem.contentId).not.toBe(sMem.commitId)
    expect(sDisk.contentId).toBe(sMem.contentId)
    expect(sRoot.contentId).toBe(sMem.contentId)
    expect(sDisk.commitId).toBe(sMem.commitId)
    const page = await disk.page('p')
    await page.put('a', '1')
    await page.put('b', new Uint8Array(20_000).fill(3))
    await page.delete('a')
    await page.delete('b')
    const back = await page.snapshot()
    expect(back.contentId).toBe(sMem.contentId)
    expect(back.commitId).not.toBe(sMem.commitId)
  })

  it('contentId depends only on the contents, for multi-level trees and chunked values across replicas', async () => {
    const mem = await memoryLedger()
    const disk = await diskLedger()
    const p = await mem.page('p')
    const q = await disk.page('q')
    const n = 3000
    const key = (i: number): string => `key/${String(i * 7919 % 100_003).padStart(6, '0')}`
    const big = new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff)
    await p.startTransaction()
    for (let i = 0; i < n; i++) await p.put(key(i), `value-${i}`)
    await p.put('big', big)
    await p.put('lazy', 'l', { priority: 'lazy' })
    await p.commit()
    await q.startTransaction()
    for (let i = n - 1; i >= n / 2; i--) await q.put(key(i), `value-${i}`)
    for (let i = 0; i < 500; i++) await q.put(`junk/${i}`, 'junk')
    await q.put(key(5), 'wrong')
    await q.commit()
    await q.startTransaction()
    for (let i = 0; i < n / 2; i++) await q.put(key(i), `value-${i}`)
    await q.put('big', big)
    await q.commit()
    await q.startTransaction()
    for (let i = 0; i < 500; i++) await q.delete(`junk/${i}`)
    await q.put('lazy', 'l', { priority: 'lazy' })
    await q.commit()
    const [sp, sq] = [await p.snapshot(), await q.snapshot()]
    expect(sq.contentId).toBe(sp.contentId)
    await q.put('big', big.map((b) => b ^ 1))
    expect((await q.snapshot()).contentId).not.toBe(sp.contentId)
  })

  it('snapshot({ at }) reads any commit of the history, the implicit empty commit included, and refuses other CIDs', async () => {
    const ledger = await memoryLedger({ mergePolicy: 'custom' }) // no resolver: heads stay apart
    const page = await ledger.page('p')
    const empty = await page.snapshot()
    await page.put('a', '1')
    await page.put('b', '2')
    const s2 = await page.snapshot()
    await page.put('a', '3')
    const old = await page.snapshot({ at: s2.commitId, prefix: 'a' })
    expect(old.commitId).toBe(s2.commitId)
    expect(await keysOf(old)).toEqual(['a'])
    expect(str(await old.get('a'))).toBe('1')
    const atEmpty = await page.snapshot({ at: empty.commitId })
    expect(await keysOf(atEmpty)).toEqual([])
    // the empty commit of a page never written to is the same implicit commit
    const fresh = await (await ledger.page('fresh')).snapshot()
    expect(await keysOf(await page.snapshot({ at: fresh.commitId }))).toEqual([])
    // a head made by another connection is in the page's history
    const c1 = await ledger.page('p')
    const c2 = await ledger.page('p')
    await c1.startTransaction()
    await c2.startTransaction()
    await c1.put('k', 'one')
    await c2.put('k', 'two')
    await c1.commit()
    await c2.commit()
    const twoId = (await c2.snapshot()).commitId
    expect(str(await (await c1.snapshot({ at: twoId })).get('k'))).toBe('two')
    // not commits of this page
    const other = await ledger.page('q')
    await other.put('z', 'z')
    const foreign = await other.snapshot()
    const ref = await page.createReference(new Uint8Array(100_000).fill(1))
    const notOurs: [string, string][] = [
      ['commit of another page', foreign.commitId],
      ['tree root (contentId)', s2.contentId],
      ['value (reference id)', ref.id],
      ['unknown CID', 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'],
      ['commit id with a space', ` ${s2.commitId}`],
    ]
    const codes = []
    for (const [name, at] of notOurs) codes.push(`${name}: ${await asyncCodeOf(() => page.snapshot({ at }))}`)
    expect(codes).toEqual(notOurs.map(([name]) => `${name}: INVALID_ARGUMENT`))
    expect(str(await (await page.snapshot()).get('a'))).toBe('3') // still usable
  })

  it('entries and keys honour start/end/reverse/limit on a multi-level tree exactly like a sorted array', async () => {
    const page = await (await memoryLedger()).page('p')
    const next = rng(42)
    const map = new Map<string, Uint8Array>()
    while (map.size < 2500) {
      const k = randomBytes(next, 1 + Math.floor(next() * 6))
      map.set(hex(k)!, k)
    }
    await page.startTransaction()
    for (const k of map.values()) await page.put(k, k)
    await page.commit()
    const sorted = [...map.values()].sort(cmp)
    const s = await page.snapshot()
    const bound = (): Uint8Array | undefined => {
      const r = next()
      if (r < 0.2) return undefined
      if (r < 0.6) return sorted[Math.floor(next() * sorted.length)]!
      return randomBytes(next, Math.floor(next() * 4))
    }
    for (let i = 0; i < 40; i++) {
      const o: { start?: Uint8Array; end?: Uint8Array; reverse?: boolean; limit?: number } = {}
      const start = bound()
      const end = bound()
      if (start) o.start = start
      if (end) o.end = end
      if (next() < 0.5) o.reverse = true
      if (next() < 0.5) o.limit = Math.floor(next() * 1500)
      let want = sorted.filter((k) => (!start || cmp(k, start) >= 0) && (!end || cmp(k, end) < 0))
      if (o.reverse) want = want.reverse()
      if (o.limit !== undefined) want = want.slice(0, o.limit)
      const label = JSON.stringify({ start: hex(start), end: hex(end), reverse: o.reverse, limit: o.limit })
      const gotKeys = (await collect(s.keys(o))).map(hex)
      expect(`${label} ${gotKeys.length}`).toBe(`${label} ${want.length}`)
      expect(gotKeys).toEqual(want.map(hex))
      if (i % 4 === 0) {
        const gotEntries = await collect(s.entries(o))
        expect(gotEntries.map((e) => hex(e.value))).toEqual(want.map(hex))
        expect(gotEntries.every((e) => e.priority === 'eager')).toBe(true)
      }
    }
    // degenerate ranges
    expect(await collect(s.keys({ start: sorted[10]!, end: sorted[10]! }))).toEqual([])
    expect(await collect(s.keys({ start: sorted[20]!, end: sorted[10]! }))).toEqual([])
    expect(await collect(s.keys({ start: sorted[20]!, end: sorted[10]!, reverse: true }))).toEqual([])
    expect(await collect(s.keys({ limit: 0 }))).toEqual([])
    expect((await collect(s.keys({ reverse: true, start: sorted[2498]! }))).map(hex)).toEqual([hex(sorted[2499]), hex(sorted[2498])])
    expect((await collect(s.keys({ reverse: true, end: sorted[2]! }))).map(hex)).toEqual([hex(sorted[1]), hex(sorted[0])])
  })

  it('prefix snapshots: prefixes ending in 0xff, bounds outside the prefix, and the prefix itself as a key', async () => {
    const page = await (await memoryLedger()).page('p')
    const keys = [[0xfe, 0xff], [0xff], [0xff, 0x00], [0xff, 0xff, 0x01], [0x01], [0x01, 0xff], [0x01, 0xff, 0x05], [0x02], [0x01, 0xfe]].map((k) => Uint8Array.from(k))
    await page.startTransaction()
    for (const k of keys) await page.put(k, k)
    await page.commit()
    const ff = await page.snapshot({ prefix: Uint8Array.of(0xff) })
    expect((await collect(ff.keys())).map(hex)).toEqual(['ff', 'ff00', 'ffff01'])
    expect((await collect(ff.keys({ reverse: true }))).map(hex)).toEqual(['ffff01', 'ff00', 'ff'])
    expect((await collect(ff.keys({ start: Uint8Array.of(0x00) }))).map(hex)).toEqual(['ff', 'ff00', 'ffff01'])
    expect((await collect(ff.keys({ end: Uint8Array.of(0xff, 0x01) }))).map(hex)).toEqual(['ff', 'ff00'])
    expect((await collect(ff.keys({ start: Uint8Array.of(0xff, 0x01), reverse: true, limit: 5 }))).map(hex)).toEqual(['ffff01'])
    expect(hex(await ff.get(Uint8Array.of(0xff)))).toBe('ff')
    expect(await ff.get(Uint8Array.of(0xfe, 0xff))).toBeUndefined()
    const p1ff = await page.snapshot({ prefix: Uint8Array.of(0x01, 0xff) })
    expect((await collect(p1ff.keys())).map(hex)).toEqual(['01ff', '01ff05'])
    expect((await collect(p1ff.keys({ reverse: true }))).map(hex)).toEqual(['01ff05', '01ff'])
    expect((await p1ff.getEntries()).entries.map((e) => hex(e.key))).toEqual(['01ff', '01ff05'])
    expect((await collect(p1ff.keys({ start: Uint8Array.of(0x03) })))).toEqual([])
    expect((await collect(p1ff.keys({ end: Uint8Array.of(0x01) })))).toEqual([])
    // getEntries pages through the prefix only
    const firstPage = await ff.getEntries({ limit: 2 })
    expect(firstPage.entries.map((e) => hex(e.key))).toEqual(['ff', 'ff00'])
    const second = await ff.getEntries({ token: firstPage.next!, limit: 2 })
    expect(second.entries.map((e) => hex(e.key))).toEqual(['ffff01'])
    expect(second.next).toBeUndefined()
    expect((await ff.getEntries({ start: Uint8Array.of(0x00), limit: 1 })).entries.map((e) => hex(e.key))).toEqual(['ff'])
    // diff of two prefixed snapshots, and of a prefixed one with a full one, sees only the prefix
    await page.put(Uint8Array.of(0xff, 0x10), 'new')
    await page.put(Uint8Array.of(0xfe), 'outside')
    await page.delete(Uint8Array.of(0xff))
    const ff2 = await page.snapshot({ prefix: Uint8Array.of(0xff) })
    const d = await collect(ff.diff(ff2))
    expect(d.map((x) => [hex(x.key), hex(x.before?.key), hex(x.after?.key)])).toEqual([
      ['ff', 'ff', undefined],
      ['ff10', undefined, 'ff10'],
    ])
    expect((await collect(ff.diff(await page.snapshot()))).map((x) => hex(x.key))).toEqual(['ff', 'ff10'])
  })

  it('getEntries: default limit 1000, exact boundaries, start, reusable tokens, and INVALID_TOKEN for tokens from elsewhere', async () => {
    const ledger = await memoryLedger()
    const page = await ledger.page('p')
    const key = (i: number): string => `k${String(i).padStart(4, '0')}`
    await page.startTransaction()
    for (let i = 0; i < 1001; i++) await page.put(key(i), `${i}`)
    await page.commit()
    const s = await page.snapshot()
    const all = await s.getEntries()
    expect(all.entries).toHaveLength(1000)
    expect(all.entries[999]!.key).toEqual(utf8(key(999)))
    expect(typeof all.next).toBe('string')
    const rest = await s.getEntries({ token: all.next! })
    expect(rest.entries.map((e) => str(e.key))).toEqual([key(1000)])
    expect('next' in rest && rest.next !== undefined).toBe(false)
    const again = await s.getEntries({ token: all.next! }) // a token may be used again
    expect(again.entries.map((e) => str(e.key))).toEqual([key(1000)])
    expect((await s.getEntries({ limit: 1001 })).next).toBeUndefined()
    expect((await s.getEntries({ limit: 5000 })).entries).toHaveLength(1001)
    const tail = await s.getEntries({ start: key(995), limit: 6 })
    expect(tail.entries.map((e) => str(e.key))).toEqual([995, 996, 997, 998, 999, 1000].map(key))
    expect(tail.next).toBeUndefined()
    expect(await s.getEntries({ start: 'zzz' })).toEqual({ entries: [] })
    expect((await s.getEntries({ limit: 1 })).entries).toEqual([{ key: utf8(key(0)), value: utf8('0'), priority: 'eager' }])
    // a snapshot of the same commit accepts the token
    const same = await page.snapshot()
    expect((await same.getEntries({ token: all.next! })).entries).toHaveLength(1)
    // tokens from elsewhere
    const other = await ledger.page('q')
    await other.startTransaction()
    for (let i = 0; i < 20; i++) await other.put(key(i), 'q')
    await other.commit()
    const foreign = (await (await other.snapshot()).getEntries({ limit: 5 })).next!
    expect(await asyncCodeOf(() => s.getEntries({ token: foreign }))).toBe('INVALID_TOKEN')
    await page.put('later', 'x')
    const newer = await page.snapshot()
    expect(await asyncCodeOf(() => newer.getEntries({ token: all.next! }))).toBe('INVALID_TOKEN')
    const bad = ['garbage', all.next!.slice(0, -6), 'AQ', '!!!!', 'x'.repeat(20_000)]
    for (const t of bad) expect(`${t.slice(0, 12)}: ${await asyncCodeOf(() => s.getEntries({ token: t }))}`).toBe(`${t.slice(0, 12)}: INVALID_TOKEN`)
    expect(['INVALID_TOKEN', 'INVALID_ARGUMENT']).toContain(await asyncCodeOf(() => s.getEntries({ token: 5 as never })))
    expect((await s.getEntries({ limit: 2 })).entries).toHaveLength(2) // still usable
  })

  it('diff on a multi-level tree equals the model diff, in ascending key order, across pages too', async () => {
    const ledger = await memoryLedger()
    const page = await ledger.page('p')
    const next = rng(7)
    const model = new Map<string, { key: Uint8Array; value: Uint8Array; priority: 'eager' | 'lazy' }>()
    await page.startTransaction()
    for (let i = 0; i < 1500; i++) {
      const key = randomBytes(next, 2 + Math.floor(next() * 5))
      const value = randomBytes(next, Math.floor(next() * 40))
      model.set(hex(key)!, { key, value, priority: 'eager' })
      await page.put(key, value)
    }
    await page.commit()
    const s1 = await page.snapshot()
    const before = new Map(model)
    const existing = [...model.values()]
    await page.startTransaction()
    for (let i = 0; i < 300; i++) {
      const pick = existing[Math.floor(next() * existing.length)]!
      const r = next()
      if (r < 0.3) {
        model.delete(hex(pick.key)!)
        await page.delete(pick.key)
      } else if (r < 0.6) {
        const value = randomBytes(next, 1 + Math.floor(next() * 40))
        model.set(hex(pick.key)!, { key: pick.key, value, priority: 'eager' })
        await page.put(pick.key, value)
      } else if (r < 0.7) {
        if (!model.has(hex(pick.key)!)) continue
        model.set(hex(pick.key)!, { ...model.get(hex(pick.key)!)!, priority: 'lazy' })
        await page.put(pick.key, model.get(hex(pick.key)!)!.value, { priority: 'lazy' })
      } else {
        const key = randomBytes(next, 2 + Math.floor(next() * 5))
        const value = randomBytes(next, 3)
        model.set(hex(key)!, { key, value, priority: 'eager' })
        await page.put(key, value)
      }
    }
    await page.commit()
    const s2 = await page.snapshot()
    const keys = new Set([...before.keys(), ...model.keys()])
    const sig = (e: { value: Uint8Array | undefined; priority: string } | undefined): string | undefined =>
      e === undefined ? undefined : `${hex(e.value)}/${e.priority}`
    const want = [...keys]
      .filter((k) => sig(before.get(k)) !== sig(model.get(k)))
      .sort((a, b) => cmp(Buffer.from(a, 'hex'), Buffer.from(b, 'hex')))
      .map((k) => [k, sig(before.get(k)), sig(model.get(k))])
    const d = await collect(s1.diff(s2))
    expect(d.map((x) => [hex(x.key), sig(x.before), sig(x.after)])).toEqual(want)
    for (const x of d) {
      if (x.before) expect(x.before.key).toEqual(x.key)
      if (x.after) expect(x.after.key).toEqual(x.key)
    }
    const back = await collect(s2.diff(s1))
    expect(back.map((x) => [hex(x.key), sig(x.before), sig(x.after)])).toEqual(want.map(([k, b, a]) => [k, a, b]))
    // across pages of one ledger
    const q = await ledger.page('q')
    await q.put(Uint8Array.of(0), 'only-in-q')
    const cross = await collect((await q.snapshot()).diff(s1))
    expect(cross).toHaveLength(1501)
    expect(cross[0]!.before?.value).toEqual(utf8('only-in-q'))
  })

  it('a snapshot is immutable: iterating it while the page changes yields its own state', async () => {
    const page = await (await memoryLedger()).page('p')
    await page.startTransaction()
    for (let i = 0; i < 1200; i++) await page.put(`k${String(i).padStart(4, '0')}`, 'v')
    await page.commit()
    const s = await page.snapshot()
    const seen: string[] = []
    let i = 0
    for await (const k of s.keys()) {
      seen.push(str(k)!)
      if (i++ % 300 === 0) {
        await page.put(`k${String(i).padStart(4, '0')}a`, 'new')
        await page.delete(`k${String(i + 500).padStart(4, '0')}`)
      }
    }
    expect(seen).toHaveLength(1200)
    expect((await collect(s.entries())).every((e) => str(e.value) === 'v')).toBe(true)
  })

  it('snapshots from snapshot(), watch() and PageChange.snapshot() keep working after page.close()', async () => {
    const ledger = await memoryLedger()
    const page = await ledger.page('p')
    const { seen, listener } = recorder()
    const { snapshot: watchSnap } = await page.watch(listener, { prefix: 'a' })
    await page.put('a1', '1')
    await page.put('b1', '1')
    await until(() => seen.length === 1)
    const plain = await page.snapshot()
    await page.close()
    const changeSnap = await seen[0]!.snapshot()
    expect(await keysOf(changeSnap)).toEqual(['a1'])
    expect(await keysOf(plain)).toEqual(['a1', 'b1'])
    expect(await keysOf(watchSnap)).toEqual([])
    expect((await collect(watchSnap.diff(changeSnap))).map((d) => str(d.key))).toEqual(['a1'])
    expect((await plain.getEntries({ limit: 1 })).next).toBeDefined()
    await ledger.close()
    expect(await codeOf(() => plain.get('a1'))).toBe('CLOSED')
    expect(await codeOf(async () => (await seen[0]!.snapshot()).get('a1'))).toBe('CLOSED')
  })
})

// ---------------------------------------------------------------------------------------------
