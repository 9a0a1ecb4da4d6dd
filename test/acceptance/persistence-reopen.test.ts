/** Black-box acceptance tests (package root only): what a disk ledger keeps across close and reopen. */
import { describe, expect, it } from 'vitest'
import { LedgerError, type MergeContext, type PageChange } from 'dagkv'
import { collect, str, until, utf8 } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { codeOf, contents, fork, link, pieces, same, seeded, stepClock, within, EMPTY } from './merge-api-helpers.js'
import { digest, dump, hexId, reopenable } from './persistence-helpers.js'

describe('persistence: contents, pages and history across close + reopen', () => {
  it('several pages (root, binary and 128-byte ids, one emptied by clear, one with deletions) come back identical', async () => {
    const dir = reopenable()
    const first = await dir.open()
    const root = await first.rootPage()
    await root.put('r', 'root')
    const bin = await first.page(new Uint8Array([0xff, 0x00, 0x80]))
    await bin.put(new Uint8Array([0]), 'zero key')
    await bin.put(new Uint8Array(1024).fill(0xfe), 'max key')
    await bin.put('', 'empty key')
    const long = await first.page(new Uint8Array(128).fill(7))
    await long.put('k', seeded(200_000, 3)) // chunked
    const emptied = await first.page('emptied')
    await emptied.put('a', '1')
    await emptied.put('b', '2')
    await emptied.clear()
    const dels = await first.page('dels')
    for (let i = 0; i < 20; i++) await dels.put(`k${String(i).padStart(2, '0')}`, `v${i}`)
    for (let i = 0; i < 20; i += 3) await dels.delete(`k${String(i).padStart(2, '0')}`)
    await dels.delete('never-there')
    const emptyTree = (await (await first.page('never-written')).snapshot()).contentId
    const before = await digest(first)
    const pagesBefore = (await first.pages()).map(hexId)
    await first.close()

    const second = await dir.open()
    expect((await second.pages()).map(hexId)).toEqual(pagesBefore)
    expect(pagesBefore).toContain(hexId(utf8('emptied'))) // it has commits, although empty now
    expect(pagesBefore).not.toContain(hexId(utf8('never-written')))
    expect(await digest(second)).toEqual(before)
    const e = await (await second.page('emptied')).snapshot()
    expect(e.contentId).toBe(emptyTree)
    expect(await collect(e.keys())).toEqual([])
    expect(same(await (await (await second.page(new Uint8Array(128).fill(7))).snapshot()).get('k'), seeded(200_000, 3))).toBe(true)
    // Writes go on from the stored heads.
    const d2 = await second.page('dels')
    await d2.put('k00', 'back')
    expect((await dump(d2))['k00']).toBe('back')
    expect(Object.keys(await dump(d2))).toHaveLength(14)
  })

  it('the same contents give the same contentId on disk (before and after reopen) and in memory, whatever the write order', async () => {
    const writes: [string, Uint8Array | string, 'eager' | 'lazy'][] = [
      ['small', 'v', 'eager'], ['lazy', 'l', 'lazy'], ['big', seeded(300_000, 1), 'eager'], ['bigLazy', seeded(100_000, 2), 'lazy'],
    ]
    const dir = reopenable()
    const disk = await dir.open()
    const dp = await disk.page('same')
    for (const [k, v, priority] of writes) await dp.put(k, v, { priority })
    const mem = await memoryLedger()
    const mp = await mem.page('other page')
    for (const [k, v, priority] of [...writes].reverse()) await mp.put(k, v, { priority })
    await mp.put('tmp', 'x')
    await mp.delete('tmp')
    const id = (await dp.snapshot()).contentId
    expect((await mp.snapshot()).contentId).toBe(id)
    await disk.close()
    const again = await dir.open()
    expect((await (await again.page('same')).snapshot()).contentId).toBe(id)
  })

  it('the replicaId generated at the first open is kept; a different replicaId option at a later open does not change it', async () => {
    const dir = reopenable()
    const first = await dir.open()
    const id = first.replicaId
    expect(id.length).toBeGreaterThan(0)
    await first.close()
    const second = await dir.open()
    expect(second.replicaId).toBe(id)
    await second.close()
    // API.md: "stored at the first open of a path and is the same at every later open".
    const third = await dir.open({ replicaId: 'something-else' })
    expect(third.replicaId).toBe(id)
    await third.close()
    const named = reopenable()
    const n1 = await named.open({ replicaId: 'named' })
    await n1.close()
    expect((await named.open()).replicaId).toBe('named')
  })

  it('snapshot({ at }) of every earlier commit works after reopen; diffs between them; foreign ids → INVALID_ARGUMENT', async () => {
    const dir = reopenable({ clock: stepClock(5000) })
    const first = await dir.open()
    const page = await first.page('hist')
    const history: { id: string; content: string; map: Record<string, string | null> }[] = []
    const note = async (): Promise<void> => {
      const s = await page.snapshot()
      history.push({ id: s.commitId, content: s.contentId, map: await dump(page) })
    }
    await note() // the implicit empty commit
    await page.put('a', '1'); await note()
    await page.put('b', '2'); await note()
    await page.delete('a'); await note()
    await page.startTransaction(); await page.put('c', '3'); await page.put('a', 'again'); await page.commit(); await note()
    await page.clear(); await note()
    await page.put('z', 'last', { priority: 'lazy' }); await note()
    const other = await first.page('other')
    await other.put('o', 'x')
    const otherId = (await other.snapshot()).commitId
    await first.close()

    const second = await dir.open({ clock: stepClock(5000) })
    const p2 = await second.page('hist')
    for (const h of history) {
      const s = await p2.snapshot({ at: h.id })
      expect(s.commitId).toBe(h.id)
      expect(s.contentId).toBe(h.content)
      expect(await dump(p2, h.id)).toEqual(h.map)
    }
    const d = await collect((await p2.snapshot({ at: history[2]!.id })).diff(await p2.snapshot({ at: history[4]!.id })))
    expect(d.map((x) => [str(x.key), str(x.before?.value), str(x.after?.value)])).toEqual([
      ['a', '1', 'again'],
      ['c', undefined, '3'],
    ])
    expect(await codeOf(() => p2.snapshot({ at: otherId }))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(() => (async () => (await second.page('other')).snapshot({ at: history[1]!.id }))())).toBe('INVALID_ARGUMENT')
  })

  it('a committed transaction and a reference (streamed, chunked, put lazy) survive; fetchPartial reads them after reopen', async () => {
    const dir = reopenable()
    const first = await dir.open()
    const page = await first.page('refs')
    const big = seeded(700_000, 9)
    const ref = await page.createReference(pieces(big, 65_537), { size: big.length })
    const unused = await page.createReference(pieces(seeded(90_000, 10), 1000))
    await page.startTransaction()
    for (let i = 0; i < 50; i++) await page.put(`t${i}`, `v${i}`)
    await page.putReference('lazyRef', ref, { priority: 'lazy' })
    await page.commit()
    await first.close()

    const second = await dir.open()
    const p2 = await second.page('refs')
    const s = await p2.snapshot()
    expect(Object.keys(await dump(p2))).toHaveLength(51)
    expect(same(await s.get('lazyRef'), big)).toBe(true) // issued here: its bytes are local
    expect(same(await s.fetchPartial('lazyRef', 300_000, 10_000), big.subarray(300_000, 310_000))).toBe(true)
    expect(same(await s.fetchPartial('lazyRef', -5, -1), big.subarray(-5))).toBe(true)
    // References issued before the restart may still be put (docs/values.md: they survive restarts).
    const q = await second.page('q')
    await q.putReference('eager', ref)
    await q.putReference('unused', unused)
    expect(same(await (await q.snapshot()).get('unused'), seeded(90_000, 10))).toBe(true)
  })
})

describe('persistence: lazy values received from a peer', () => {
  it('not fetched: still NEEDS_FETCH after reopen, fetch after reconnect; once fetched it is local after another restart', async () => {
    const a = await memoryLedger({ replicaId: 'A' })
    const pa = await a.page('lz')
    const big = seeded(400_000, 5)
    await pa.put('small', 'tiny', { priority: 'lazy' })
    await pa.put('big', big, { priority: 'lazy' })
    await pa.put('eager', seeded(5000, 6))
    const dir = reopenable({ replicaId: 'B' })
    const b1 = await dir.open()
    const l1 = link(a, b1)
    await within((await b1.page('lz')).sync({ mode: 'pull' }))
    await l1.close()
    await b1.close()

    const b2 = await dir.open()
    const s2 = await (await b2.page('lz')).snapshot()
    expect(s2.commitId).toBe((await pa.snapshot()).commitId)
    expect(same(await s2.get('eager'), seeded(5000, 6))).toBe(true)
    expect(await codeOf(() => s2.get('small'))).toBe('NEEDS_FETCH')
    expect(await codeOf(() => s2.get('big'))).toBe('NEEDS_FETCH')
    expect(await codeOf(() => s2.fetch('small'))).toBe('NETWORK_ERROR') // no peer
    const l2 = link(a, b2)
    expect(str(await within(s2.fetch('small')))).toBe('tiny')
    expect(same(await within(s2.fetchPartial('big', 100_000, 50)), big.subarray(100_000, 100_050))).toBe(true)
    expect(same(await within(s2.fetch('big')), big)).toBe(true)
    await l2.close()
    await b2.close()

    const b3 = await dir.open()
    const s3 = await (await b3.page('lz')).snapshot()
    expect(str(await s3.get('small'))).toBe('tiny')
    expect(same(await s3.get('big'), big)).toBe(true)
  })
})

describe('persistence: clocks, merge policies and unmerged heads', () => {
  it('timestamps never run backwards across a restart, even when the wall clock does (own and received commits)', async () => {
    const far = 4_000_000_000_000
    const peer = await memoryLedger({ clock: () => far + 1_000_000 })
    await (await peer.page('t')).put('peer', 'x')
    const dir = reopenable()
    const first = await dir.open({ clock: () => far })
    const p1 = await first.page('t')
    const seen1: PageChange[] = []
    await p1.watch((c) => void seen1.push(c))
    await p1.put('k', 'first')
    const l = link(peer, first)
    await within(p1.sync({ mode: 'pull' }))
    await l.close()
    await within(p1.waitForConflictResolution())
    await until(() => seen1.some((c) => c.changed.some((e) => str(e.key) === 'peer')))
    await first.close()
    const ts1 = Math.max(...seen1.map((c) => c.timestamp))
    expect(ts1).toBeGreaterThanOrEqual(far + 1_000_000)

    const second = await dir.open({ clock: () => 1000 }) // the wall clock went far back
    const p2 = await second.page('t')
    const seen2: PageChange[] = []
    await p2.watch((c) => void seen2.push(c))
    await p2.put('k', 'second')
    await until(() => seen2.length > 0)
    expect(seen2).toHaveLength(1)
    expect(seen2[0]!.timestamp).toBeGreaterThan(ts1)
    // Last-one-wins therefore keeps the edit made after the restart against a concurrent older one.
    const a = await second.page('t')
    const b = await second.page('t')
    await a.startTransaction()
    await b.startTransaction()
    await b.put('w', 'older')
    await a.put('w', 'newer')
    await b.commit()
    await a.commit()
    await within(a.waitForConflictResolution())
    expect((await dump(a))['w']).toBe('newer')
  })

  it('setMergePolicy is not stored (docs/merging.md): after reopen the page merges with the ledger default', async () => {
    // API.md is silent; docs/merging.md says "per ledger object, not stored: set it again after reopening".
    const dir = reopenable({ clock: stepClock(10_000) })
    const first = await dir.open()
    await first.setMergePolicy('p', 'custom') // no resolver: heads would stay
    const { a } = await fork(first, 'p', EMPTY, { x: 'older' }, { x: 'newer', y: '1' })
    expect(await within(Promise.race([a.waitForConflictResolution(), new Promise((r) => setTimeout(() => r('stuck'), 300))]))).toBe('stuck')
    await first.close()

    const second = await dir.open({ clock: stepClock(20_000) })
    const p = await second.page('p')
    expect(await within(p.waitForConflictResolution())).not.toBe('no-conflicts')
    expect(await dump(p)).toEqual({ x: 'newer', y: '1' })
  })

  it('heads left unmerged (custom, no resolver) are still heads after reopen: the resolver set then sees them', async () => {
    const dir = reopenable({ mergePolicy: 'custom', clock: stepClock(10_000) })
    const first = await dir.open()
    const { a, b } = await fork(first, 'p', { base: '0' }, { x: 'right', r: '1' }, { x: 'left', l: '1' })
    const right = (await a.snapshot()).commitId
    const left = (await b.snapshot()).commitId
    expect(right).not.toBe(left)
    await first.close()

    const second = await dir.open({ clock: stepClock(20_000) })
    const p = await second.page('p')
    expect([left, right]).toContain((await p.snapshot()).commitId)
    const seen: { left: string; right: string; base: string[] }[] = []
    const resolver = async (m: MergeContext): Promise<void> => {
      seen.push({ left: m.left.commitId, right: m.right.commitId, base: (await collect(m.base.keys())).map((k) => str(k)!) })
      await m.mergeNonConflictingEntries()
      await m.merge([{ key: 'x', source: 'new', value: 'both' }])
    }
    await second.setMergePolicy('p', 'custom', resolver)
    expect(await within(p.waitForConflictResolution())).toBe('conflicts-resolved')
    expect(seen).toEqual([{ left, right, base: ['base'] }])
    expect(await dump(p)).toEqual({ base: '0', l: '1', r: '1', x: 'both' })
  })

  it('a merge pending at close (resolver never settles) is completed after reopen, and the result persists', async () => {
    const dir = reopenable({ clock: stepClock(10_000) })
    let calls = 0
    const first = await dir.open({ mergePolicy: 'custom', resolver: () => { calls++; return new Promise<void>(() => undefined) } })
    const { a } = await fork(first, 'p', { k: '0' }, { k: 'older', o: '1' }, { k: 'newer', n: '1' })
    await within((async () => { while (calls === 0) await new Promise((r) => setTimeout(r, 5)) })())
    await within(first.close(), 5000, 'close with a resolver pending')
    expect(await codeOf(() => a.waitForConflictResolution())).toBe('CLOSED')

    const second = await dir.open({ clock: stepClock(20_000) }) // default: last-one-wins
    const p = await second.page('p')
    await within(p.waitForConflictResolution())
    const merged = await p.snapshot()
    expect(await dump(p)).toEqual({ k: 'newer', n: '1', o: '1' })
    await second.close()
    const third = await dir.open()
    const p3 = await third.page('p')
    expect(await within(p3.waitForConflictResolution())).toBe('no-conflicts')
    expect((await p3.snapshot()).commitId).toBe(merged.commitId)
  })
})

describe('persistence: watchers and connections on a reopened ledger', () => {
  it('a watcher gets the stored state as its snapshot and then only new changes', async () => {
    const dir = reopenable()
    const first = await dir.open()
    const p1 = await first.page('w')
    for (let i = 0; i < 5; i++) await p1.put(`k${i}`, `${i}`)
    await first.close()
    const second = await dir.open()
    const p2 = await second.page('w')
    const seen: PageChange[] = []
    const w = await p2.watch((c) => void seen.push(c))
    expect(await contents(w.snapshot)).toEqual({ k0: '0', k1: '1', k2: '2', k3: '3', k4: '4' })
    await p2.put('k9', '9')
    await until(() => seen.length >= 1)
    await p2.delete('k0')
    await until(() => seen.length >= 2)
    expect(seen.map((c) => [c.changed.map((e) => str(e.key)), c.deleted.map((k) => str(k)), c.origin])).toEqual([
      [['k9'], [], 'local'],
      [[], ['k0'], 'local'],
    ])
  })

  it('after ledger.close() even a kept snapshot → CLOSED; a reopened ledger serves it again by id', async () => {
    const dir = reopenable()
    const first = await dir.open()
    const p1 = await first.page('s')
    await p1.put('k', 'v')
    const snap = await p1.snapshot()
    await first.close()
    const err = await snap.get('k').then(() => undefined, (e: unknown) => e)
    expect(err instanceof LedgerError && err.code).toBe('CLOSED')
    const second = await dir.open()
    const again = await (await second.page('s')).snapshot({ at: snap.commitId })
    expect(str(await again.get('k'))).toBe('v')
    expect(again.contentId).toBe(snap.contentId)
  })

  it('pages received by sync but never opened are listed after a restart; autoSync after reconnect brings remote changes to a watcher', async () => {
    const a = await memoryLedger({ replicaId: 'A', autoSync: true })
    for (const name of ['x', 'y', 'cleared']) await (await a.page(name)).put('k', name)
    await (await a.page('cleared')).clear()
    const dir = reopenable({ replicaId: 'B', autoSync: true })
    const b1 = await dir.open()
    const l1 = link(a, b1)
    const want = (await a.pages()).map(hexId)
    await until(async () => JSON.stringify((await b1.pages()).map(hexId)) === JSON.stringify(want), 10_000)
    await l1.close()
    await b1.close()

    const b2 = await dir.open()
    expect((await b2.pages()).map(hexId)).toEqual(want)
    const emptyTree = (await (await b2.page('never')).snapshot()).contentId
    expect((await (await b2.page('cleared')).snapshot()).contentId).toBe(emptyTree)
    const px = await b2.page('x')
    const seen: PageChange[] = []
    await px.watch((c) => void seen.push(c))
    await (await a.page('x')).put('while-apart', '1')
    link(a, b2)
    await until(() => seen.some((c) => c.changed.some((e) => str(e.key) === 'while-apart')), 10_000)
    expect(seen.every((c) => c.origin === 'remote')).toBe(true)
    expect(await dump(px)).toEqual({ k: 'x', 'while-apart': '1' })
  })
})
