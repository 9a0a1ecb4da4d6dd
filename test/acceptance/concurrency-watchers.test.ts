/** Black-box acceptance tests (package root only). Watchers under concurrency: aggregation, slow and failing listeners, transactions. */
import { describe, expect, it } from 'vitest'
import { type Page, type PageChange, type Snapshot } from 'dagkv'
import { str, until } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { within } from '../helpers/timing.js'
import { gate, rng, sleep } from './api-helpers.js'
import { link } from './merge-api-helpers.js'
import { canon, contentsOf, expectChangesBridgeSnapshots, only, turns } from './concurrency-helpers.js'

type Seen = { change: PageChange; snap: Snapshot }[]

/** A watcher whose listener takes its snapshot, then sleeps a random while and sometimes throws or rejects. */
async function slowWatcher(page: Page, seed: number, prefix?: string): Promise<{ start: Snapshot; seen: Seen; close(): void }> {
  const next = rng(seed)
  const seen: Seen = []
  const handle = await page.watch(
    async (change) => {
      seen.push({ change, snap: await change.snapshot() })
      const r = next()
      if (r < 0.15) throw new Error('listener failure')
      await sleep(Math.floor(next() * 4))
      if (r > 0.85) return Promise.reject(new Error('listener rejection'))
    },
    prefix === undefined ? undefined : { prefix },
  )
  return { start: handle.snapshot, seen, close: handle.close }
}

/** Resolves once the watcher's last notification is `commitId`. */
const caughtUp = (seen: Seen, commitId: string): Promise<void> => until(() => seen.length > 0 && seen[seen.length - 1]!.snap.commitId === commitId, 10_000)

/** Random writes (puts, deletes, a rare clear, small transactions) on `page`, issued without awaiting in bursts. */
async function scribble(page: Page, seed: number, n: number, keyPrefixes: string[]): Promise<void> {
  const next = rng(seed)
  const calls: Promise<unknown>[] = []
  for (let i = 0; i < n; i++) {
    const k = `${keyPrefixes[Math.floor(next() * keyPrefixes.length)]}${Math.floor(next() * 6)}`
    const r = next()
    if (r < 0.55) calls.push(page.put(k, `${seed}.${i}`))
    else if (r < 0.8) calls.push(page.delete(k))
    else if (r < 0.83) calls.push(page.clear())
    else calls.push(page.startTransaction(), page.put(k, `tx${seed}.${i}`), page.delete(`${k}x`), page.put(`${k}y`, 'y'), page.commit())
    if (next() < 0.2) {
      await Promise.all(calls.splice(0))
      await turns(1)
    }
  }
  await Promise.all(calls)
}

describe('watchers under concurrent writers', () => {
  it('a slow, sometimes failing listener: every aggregated change is exactly the diff between the snapshots it bridges, full and prefixed', async () => {
    const ledger = await memoryLedger()
    const [c1, c2, c3] = await Promise.all([ledger.page('p'), ledger.page('p'), ledger.page('p')])
    await c1.put('a/seed', '0')
    const full = await slowWatcher(c1, 1)
    const pre = await slowWatcher(c1, 2, 'b/')
    const quick = await slowWatcher(c2, 3)
    await within(Promise.all([scribble(c1, 10, 60, ['a/', 'b/']), scribble(c2, 20, 60, ['b/', 'c/']), scribble(c3, 30, 60, ['a/', 'c/'])]), 20_000)
    await within(Promise.all([c1, c2, c3].map((p) => p.waitForConflictResolution())))
    const end = await c1.snapshot()
    await caughtUp(full.seen, end.commitId)
    await caughtUp(quick.seen, end.commitId)
    const endContents = await contentsOf(end)
    expect(canon(await expectChangesBridgeSnapshots(full.start, full.seen))).toBe(canon(endContents))
    expect(canon(await expectChangesBridgeSnapshots(quick.start, quick.seen))).toBe(canon(endContents))
    // The prefix watcher: every change limited to b/, bridging its snapshots within b/, ending on c1's b/ keys.
    await until(async () => pre.seen.length > 0 && canon(only(await contentsOf(pre.seen[pre.seen.length - 1]!.snap), 'b/')) === canon(only(endContents, 'b/')), 10_000)
    for (const { change } of pre.seen) {
      for (const k of [...change.changed.map((e) => e.key), ...change.deleted]) expect(str(k)!.startsWith('b/')).toBe(true)
    }
    expect(canon(await expectChangesBridgeSnapshots(pre.start, pre.seen, 'b/'))).toBe(canon(only(endContents, 'b/')))
    for (const w of [full, pre, quick]) w.close()
  })

  it('changes outside a prefix while its listener is busy make no notification; those inside are aggregated into one', async () => {
    const ledger = await memoryLedger()
    const [c1, c2] = await Promise.all([ledger.page('p'), ledger.page('p')])
    const g = gate()
    const seen: PageChange[] = []
    await c1.watch(
      async (c) => {
        seen.push(c)
        if (seen.length === 1) await g.wait
      },
      { prefix: 'in/' },
    )
    await c2.put('in/1', 'a')
    await until(() => seen.length === 1)
    await Promise.all([c2.put('out/1', 'x'), c1.put('out/2', 'y'), c2.put('in/2', 'b'), c1.delete('in/1'), c2.put('out/1', 'z')])
    await Promise.all([c1.put('in/3', 'c'), c2.delete('in/3'), c1.put('in/2', 'bb')])
    await c1.waitForConflictResolution()
    g.open()
    await until(async () => seen.length === 2 && (await seen[1]!.snapshot()).commitId === (await c1.snapshot()).commitId, 5000).catch(() => undefined)
    await sleep(30)
    const want = only(await contentsOf(c1), 'in/')
    expect(seen.length).toBe(2)
    expect(seen[1]!.deleted.map((k) => str(k))).toEqual(['in/1'])
    expect(seen[1]!.changed.map((e) => [str(e.key), str(e.value)])).toEqual(Object.entries(want))
    // With only keys outside the prefix changing, no notification at all.
    await Promise.all([c2.put('out/9', '1'), c1.put('out/8', '2')])
    await sleep(30)
    expect(seen.length).toBe(2)
  })

  it('startTransaction waits for this connection\'s busy watchers while others commit; the pinned state is the last one its watchers were told of', async () => {
    const ledger = await memoryLedger()
    const [c1, c2] = await Promise.all([ledger.page('p'), ledger.page('p')])
    const slow = await slowWatcher(c1, 7)
    const g = gate()
    const gated: Snapshot[] = []
    await c1.watch(async (c) => {
      gated.push(await c.snapshot())
      if (gated.length === 1) await g.wait
    })
    await c2.put('k0', '0')
    await until(() => gated.length === 1)
    const storm = scribble(c2, 99, 40, ['k'])
    await turns(3)
    let started = false
    const tx = c1.startTransaction().then(() => void (started = true))
    await turns(5)
    expect(started).toBe(false)
    g.open()
    await within(tx)
    const pinned = await c1.snapshot()
    // Both watchers were told of everything up to the pinned state, nothing beyond it.
    expect(gated[gated.length - 1]!.commitId).toBe(pinned.commitId)
    expect(slow.seen[slow.seen.length - 1]!.snap.commitId).toBe(pinned.commitId)
    const n = [gated.length, slow.seen.length]
    await within(storm)
    await c2.put('late', '1')
    await sleep(20)
    expect([gated.length, slow.seen.length]).toEqual(n) // no notification while the transaction is open
    expect((await c1.snapshot()).commitId).toBe(pinned.commitId)
    await c1.put('mine', 'm')
    await c1.commit()
    const end = await c1.snapshot()
    await caughtUp(slow.seen, end.commitId)
    await c1.waitForConflictResolution()
    const final = await c1.snapshot()
    await caughtUp(slow.seen, final.commitId)
    expect(canon(await expectChangesBridgeSnapshots(slow.start, slow.seen))).toBe(canon(await contentsOf(final)))
    expect((await contentsOf(final)).mine).toBe('m')
  })

  it('rollback restores: the next notification holds only what other connections committed meanwhile', async () => {
    const ledger = await memoryLedger()
    const [c1, c2] = await Promise.all([ledger.page('p'), ledger.page('p')])
    await c1.put('shared', '0')
    await c1.put('gone', '0')
    const seen: PageChange[] = []
    await c1.watch((c) => void seen.push(c))
    await c1.startTransaction()
    await Promise.all([c1.put('shared', 'mine'), c1.clear(), c1.put('tx-only', '1'), c2.put('other', '2'), c2.delete('gone')])
    const during = await c1.snapshot()
    expect(await contentsOf(during)).toEqual({ gone: '0', shared: '0' })
    await sleep(20)
    expect(seen).toHaveLength(0)
    await c1.rollback()
    await until(() => seen.length === 1)
    expect(seen[0]!.changed.map((e) => [str(e.key), str(e.value)])).toEqual([['other', '2']])
    expect(seen[0]!.deleted.map((k) => str(k))).toEqual(['gone'])
    expect(await contentsOf(c1)).toEqual({ other: '2', shared: '0' })
    expect(await contentsOf(during)).toEqual({ gone: '0', shared: '0' }) // the snapshot taken in the transaction is unchanged
  })

  it("a change's snapshot() called late (after more commits, after the page closed) still shows the state of that change", async () => {
    const ledger = await memoryLedger()
    const [c1, c2] = await Promise.all([ledger.page('p'), ledger.page('p')])
    const changes: PageChange[] = []
    await c1.watch(async (c) => {
      changes.push(c)
      await sleep(3)
    })
    for (let i = 0; i < 6; i++) await Promise.all([c2.put(`k${i}`, String(i)), c2.delete(`k${i - 2}`)])
    await c1.waitForConflictResolution()
    await until(async () => changes.length > 0 && (await changes[changes.length - 1]!.snapshot()).commitId === (await c1.snapshot()).commitId)
    await c2.put('after', 'x')
    await c1.close()
    for (const [i, c] of changes.entries()) {
      const snap = await c.snapshot()
      const got = await contentsOf(snap)
      for (const e of c.changed) expect(got[str(e.key)!]).toBe(str(e.value))
      for (const d of c.deleted) expect(got[str(d)!]).toBeUndefined()
      expect(got.after, `change ${i}`).toBeUndefined()
    }
  })

  it("an aggregated change holding another replica's commit is 'remote'; a purely local one is 'local'", async () => {
    const la = await memoryLedger({ replicaId: 'A' })
    const lb = await memoryLedger({ replicaId: 'B' })
    const pa = await la.page('p')
    const pb = await lb.page('p')
    link(la, lb)
    const g = gate()
    const seen: PageChange[] = []
    await pa.watch(async (c) => {
      seen.push(c)
      if (seen.length === 1) await g.wait
    })
    await pa.put('first', '1')
    await until(() => seen.length === 1)
    await pb.put('remote', 'r')
    await within(pa.sync())
    await pa.waitForConflictResolution()
    await pa.put('local', 'l')
    g.open()
    await until(async () => seen.length >= 2 && (await seen[seen.length - 1]!.snapshot()).commitId === (await pa.snapshot()).commitId)
    expect(seen[0]!.origin).toBe('local')
    const rest = seen.slice(1)
    const withRemote = rest.find((c) => c.changed.some((e) => str(e.key) === 'remote'))
    expect(withRemote?.origin).toBe('remote')
    for (const c of rest) if (!c.changed.some((e) => str(e.key) === 'remote')) expect(c.origin).toBe('local')
    await pa.put('only-local', '2')
    await until(() => seen.some((c) => c.changed.some((e) => str(e.key) === 'only-local')))
    expect(seen[seen.length - 1]!.origin).toBe('local')
  })

  it('a change split into parts while other connections keep committing: every part carries the whole change\'s snapshot; joined parts bridge the snapshots', async () => {
    const ledger = await memoryLedger()
    const [c1, c2, c3] = await Promise.all([ledger.page('p'), ledger.page('p'), ledger.page('p')])
    const seen: { change: PageChange; snap: Snapshot }[] = []
    const { snapshot: start } = await c1.watch(async (change) => {
      seen.push({ change, snap: await change.snapshot() })
      await sleep(2)
    })
    await c2.startTransaction()
    for (let i = 0; i < 1500; i++) await c2.put(`big/${String(i).padStart(4, '0')}`, 'v')
    const committed = c2.commit()
    const small = (async () => {
      for (let i = 0; i < 10; i++) {
        await c3.put(`small/${i}`, String(i))
        if (i % 3 === 0) await c3.delete(`big/${String(i * 100).padStart(4, '0')}`)
        await turns(1)
      }
    })()
    await within(Promise.all([committed, small]), 20_000)
    await within(Promise.all([c1, c2, c3].map((p) => p.waitForConflictResolution())))
    const end = await c1.snapshot()
    await until(() => seen.length > 0 && seen[seen.length - 1]!.snap.commitId === end.commitId && seen[seen.length - 1]!.change.state.endsWith('completed'), 10_000)
    // Join the parts of each change, then check them as one notification.
    const joined: { change: PageChange; snap: Snapshot }[] = []
    let parts: PageChange[] = []
    for (const { change, snap } of seen) {
      parts.push(change)
      if (change.state === 'partial-started') expect(parts).toHaveLength(1)
      if (change.state !== 'completed' && change.state !== 'partial-completed') continue
      expect(new Set(parts.map((p) => p.timestamp)).size).toBe(1)
      const idx = seen.findIndex((x) => x.change === parts[0])
      for (const x of seen.slice(idx, idx + parts.length)) expect(x.snap.commitId).toBe(snap.commitId)
      const keys = parts.flatMap((p) => [...p.changed.map((e) => str(e.key)!), ...p.deleted.map((k) => str(k)!)].sort()) // parts in key order
      expect(keys).toEqual([...keys].sort())
      joined.push({ change: { ...change, state: 'completed', changed: parts.flatMap((p) => p.changed), deleted: parts.flatMap((p) => p.deleted) }, snap })
      parts = []
    }
    expect(parts).toEqual([])
    expect(seen.some((x) => x.change.state === 'partial-started')).toBe(true)
    expect(canon(await expectChangesBridgeSnapshots(start, joined))).toBe(canon(await contentsOf(end)))
  })

  it('watchers of many pages written concurrently hear only of their own page', async () => {
    const ledger = await memoryLedger()
    const ids = ['a', 'b', 'c', 'd', 'e', 'f']
    const got = new Map<string, Set<string>>()
    const writers: Page[] = []
    for (const id of ids) {
      const w = await ledger.page(id)
      const seen = new Set<string>()
      got.set(id, seen)
      await (await ledger.page(id)).watch(async (c) => {
        for (const e of c.changed) seen.add(str(e.key)!)
        await turns(1)
      })
      writers.push(w)
    }
    await within(Promise.all(writers.flatMap((w, i) => Array.from({ length: 15 }, (_, j) => w.put(`${ids[i]}/${j}`, 'v')))))
    for (const id of ids) await until(() => got.get(id)!.size === 15)
    for (const id of ids) for (const k of got.get(id)!) expect(k.startsWith(`${id}/`)).toBe(true)
  })

  it('a listener that writes to its own connection and awaits it does not deadlock the connection', async () => {
    // API.md is silent: writing from inside a listener must not hang (Fuchsia clients do this routinely).
    const page = await (await memoryLedger()).page('p')
    let n = 0
    await page.watch(async (c) => {
      if (n++ < 3 && c.changed.some((e) => str(e.key) === 'ping')) await within(page.put('pong', String(n)), 3000, 'put from listener')
    })
    await page.put('ping', '1')
    await until(async () => (await contentsOf(page)).pong === '1')
    expect(await within(page.startTransaction(), 3000, 'startTransaction after a writing listener')).toBeUndefined()
    await page.rollback()
  })
})
