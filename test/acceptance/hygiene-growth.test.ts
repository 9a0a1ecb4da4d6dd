/**
 * Black-box resource hygiene (package root only): repeating an open/close cycle through the public
 * API does not grow the heap, the open file descriptors or the active handles linearly. Each case
 * runs in a child process with --expose-gc (hygiene-helpers.ts); the heap is measured after a
 * warm-up and again after `n` more cycles, and the growth must stay far below what a leak of even
 * one small object graph per cycle would add. The child must also exit cleanly afterwards.
 */
import { describe, expect, it } from 'vitest'
import { expectCleanRun, type ChildRun } from './hygiene-helpers.js'

/**
 * Child-side: runs `f(i)` `warm` times, measures, runs it `n` more times, measures again and
 * reports { name, n, heapGrowth (bytes), fds: [before, after], active: [before, after] }.
 */
const MEASURE = `
const settle = () => sleep(100)
let iteration = 0
const measure = async (name, warm, n, f) => {
  for (let i = 0; i < warm; i++) await f(iteration++)
  await settle()
  const h0 = heap(), f0 = fds(), a0 = active()
  for (let i = 0; i < n; i++) await f(iteration++)
  await settle()
  const h1 = heap(), f1 = fds(), a1 = active()
  report({ name, n, heapGrowth: h1 - h0, fds: [f0, f1], active: [a0.join(','), a1.join(',')] })
}`

const GROWTH_RUN = { flags: ['--expose-gc'], scriptMs: 18_000 }
const MB = 1024 * 1024

interface Measure { name: string; n: number; heapGrowth: number; fds: [number, number]; active: [string, string] }

/** The measurement reported under `name`. */
function measured(run: ChildRun, name: string): Measure {
  const m = run.results.find((r: Measure) => r.name === name) as Measure | undefined
  expect(m, `no measurement "${name}" in ${JSON.stringify(run.results)}`).toBeDefined()
  return m!
}

/** Heap growth within `maxBytes`; file descriptors and active handles back where they were. */
function expectFlat(m: Measure, maxBytes: number, { fdSlack = 2 } = {}): void {
  const perCycle = Math.round(m.heapGrowth / m.n)
  expect(m.heapGrowth, `${m.name}: heap grew ${(m.heapGrowth / MB).toFixed(2)} MiB over ${m.n} cycles (~${perCycle} B/cycle)`).toBeLessThan(maxBytes)
  expect(m.fds[1], `${m.name}: open file descriptors ${m.fds[0]} → ${m.fds[1]}`).toBeLessThanOrEqual(m.fds[0] + fdSlack)
  expect(m.active[1], `${m.name}: active resources`).toBe(m.active[0])
}

describe('bounded growth: ledgers and page connections', () => {
  it('open / write / close of a disk ledger on the same path, 200 times: no fd, handle or heap growth', async () => {
    const run = await expectCleanRun(`${MEASURE}
      const path = dir + '/db'
      await measure('reopen', 40, 160, async (i) => {
        const l = await Ledger.open({ path })
        const p = await l.page('p')
        await p.put('k' + (i % 10), 'v' + i)
        await (await p.snapshot()).get('k0')
        await l.close()
      })
      const l = await Ledger.open({ path })
      report({ name: 'keys', n: (await (await (await l.page('p')).snapshot()).getEntries()).entries.length })
      await l.close()
    `, GROWTH_RUN)
    expectFlat(measured(run, 'reopen'), 3 * MB)
    expect(measured(run, 'keys').n).toBe(10)
  })

  it('page() + close() of the same page 3,000 times on one ledger: heap stays flat', async () => {
    const run = await expectCleanRun(`${MEASURE}
      const l = await Ledger.open({ path: dir + '/db' })
      const keep = await l.page('p'); await keep.put('k', 'v')
      await measure('page-same', 500, 3000, async () => { const p = await l.page('p'); await p.close() })
      await l.close()
    `, GROWTH_RUN)
    // Was a bug: ~2.8 KB retained per closed connection (the ledger kept every connection it opened until it closed).
    expectFlat(measured(run, 'page-same'), 2 * MB)
  })

  it('page() + close() of 3,000 distinct, never-written page ids, with a sync link up: heap stays flat, sync still works', async () => {
    const run = await expectCleanRun(`${MEASURE}
      const l = await Ledger.open()
      const other = await Ledger.open()
      const link = connectInMemory(l, other)
      await measure('page-distinct', 500, 3000, async (i) => { const p = await l.page('id-' + i); await p.close() })
      report({ name: 'pages', n: (await l.pages()).length })
      // A page forgotten here still receives what the other replica writes to it.
      await (await other.page('id-7')).put('k', 'from other')
      const p = await l.page('id-7')
      await p.sync()
      await p.waitForConflictResolution()
      report({ name: 'synced', n: (await (await p.snapshot()).getEntries()).entries.length })
      await link.close(); await other.close(); await l.close()
    `, GROWTH_RUN)
    // Was a bug: ~4.8 KB retained per page id ever opened (the page's shared state, merge runner and queue were kept
    // forever, plus the closed connection itself).
    expectFlat(measured(run, 'page-distinct'), 2 * MB)
    expect(measured(run, 'pages').n).toBe(0)
    expect(measured(run, 'synced').n).toBe(1)
  })

  it('single-put commits past the decoded-commit cache: heap stays flat (the cache is bounded by bytes)', async () => {
    const run = await expectCleanRun(`${MEASURE}
      const l = await Ledger.open({ path: dir + '/db', autoSync: false })
      const p = await l.page('p')
      await measure('commits', 7000, 4000, async (i) => { await p.put('k' + (i % 50), 'v' + i) })
      // The implicit empty commit is never stored: it must still be found once the cache has turned over.
      const blank = await l.page('never-written')
      const empty = (await blank.snapshot()).commitId
      report({ name: 'empty', conflicts: (await blank.conflicts()).length, at: (await blank.snapshot({ at: empty })).commitId === empty })
      await l.close()
    `, GROWTH_RUN)
    // Was ~2.95 KB per commit up to 50,000 cached commits (~150 MB); now 16 MiB at most.
    expectFlat(measured(run, 'commits'), 3 * MB)
    // A review caught the bounded cache evicting the empty commit (conflicts() → DATA_INTEGRITY_ERROR).
    expect(run.results.find((r: { name: string }) => r.name === 'empty')).toEqual({ name: 'empty', conflicts: 0, at: true })
  })

  it('page() + sync() + close() of 2,000 never-written page ids with a peer: heap stays flat', async () => {
    const run = await expectCleanRun(`${MEASURE}
      const l = await Ledger.open()
      const other = await Ledger.open()
      const link = connectInMemory(l, other)
      await measure('sync-distinct', 300, 2000, async (i) => { const p = await l.page('s-' + i); await p.sync(); await p.close() })
      report({ name: 'pages', n: (await l.pages()).length })
      // Ids neither side wrote are not tracked by the connection: its drop leaves them idle, holding nothing.
      const probe = await l.page('s-7')
      await link.close()
      await sleep(50)
      report({ name: 'after-drop', state: probe.syncState() })
      await probe.close(); await other.close(); await l.close()
    `, GROWTH_RUN)
    // Reviews found the sync layer pinning the state of every page id it pulled, written or not, and then an
    // 'error' entry per such id after a dropped connection.
    expectFlat(measured(run, 'sync-distinct'), 1 * MB)
    expect(measured(run, 'pages').n).toBe(0)
    expect(run.results.find((r: { name: string }) => r.name === 'after-drop')).toEqual({ name: 'after-drop', state: { download: 'idle', upload: 'idle' } })
  })

  it('snapshot() + reads, 3,000 times on one connection: heap stays flat', async () => {
    const run = await expectCleanRun(`${MEASURE}
      const l = await Ledger.open({ path: dir + '/db' })
      const p = await l.page('p')
      for (let i = 0; i < 50; i++) await p.put('k' + i, 'v' + i)
      await measure('snapshot', 500, 3000, async (i) => {
        const s = await p.snapshot(i % 2 ? { prefix: 'k1' } : undefined)
        await s.get('k1')
        for await (const _ of s.keys({ limit: 3 })) {}
      })
      await l.close()
    `, GROWTH_RUN)
    expectFlat(measured(run, 'snapshot'), 2 * MB)
  })

  it('watch() + close(), 3,000 times on one connection; later commits reach only the live watcher', async () => {
    const run = await expectCleanRun(`${MEASURE}
      const l = await Ledger.open()
      const p = await l.page('p')
      let closedCalls = 0
      await measure('watch', 500, 3000, async () => { const w = await p.watch(() => { closedCalls++ }); w.close() })
      let live = 0
      const w = await p.watch(() => { live++ })
      for (let i = 0; i < 5; i++) await p.put('k', 'v' + i)
      await sleep(100)
      report({ name: 'calls', n: [closedCalls, live] })
      w.close()
      await l.close()
    `, GROWTH_RUN)
    expectFlat(measured(run, 'watch'), 2 * MB)
    const calls = measured(run, 'calls').n as unknown as [number, number]
    expect(calls[0]).toBe(0)
    expect(calls[1]).toBeGreaterThanOrEqual(1)
  })

  it('onSyncState subscribe / unsubscribe, 3,000 times (autoSync, a linked peer): heap stays flat, unsubscribed listeners are not called', async () => {
    const run = await expectCleanRun(`${MEASURE}
      const a = await Ledger.open(); const b = await Ledger.open()
      const link = connectInMemory(a, b)
      const p = await a.page('p')
      let stale = 0
      await measure('onSyncState', 500, 3000, async () => { const off = p.onSyncState(() => { stale++ }); off() })
      let live = 0
      const off = p.onSyncState(() => { live++ })
      for (let i = 0; i < 5; i++) await p.put('k', 'v' + i)
      await p.sync()
      report({ name: 'calls', n: [stale, live > 0] })
      off()
      await link.close(); await a.close(); await b.close()
    `, GROWTH_RUN)
    expectFlat(measured(run, 'onSyncState'), 2 * MB)
    expect(measured(run, 'calls').n).toEqual([0, true])
  })
})

describe('bounded growth: peers, links and listeners', () => {
  it('connect + sync + close of a WebSocket peer with a token, 60 times: fds, handles and heap back to baseline on both sides', async () => {
    const run = await expectCleanRun(`${MEASURE}
      const a = await Ledger.open({ path: dir + '/a', autoSync: false }); const b = await Ledger.open({ autoSync: false })
      const server = await a.listen({ host: '127.0.0.1', port: 0, token: 't' })
      const pa = await a.page('p'); const pb = await b.page('p')
      await measure('peer', 10, 50, async (i) => {
        const peer = await b.connect(server.url, { token: 't' })
        await pa.put('k', 'v' + i)
        const s = await pb.sync({ mode: 'pull' })
        if (s.commitsReceived !== 1) throw new Error('sync ' + i + ' received ' + s.commitsReceived)
        await peer.close()
      })
      await server.close(); await a.close(); await b.close()
    `, GROWTH_RUN)
    expectFlat(measured(run, 'peer'), 3 * MB)
  })

  it('failed connects (nothing listening; wrong token), 50 times each: fds, handles and heap back to baseline', async () => {
    const run = await expectCleanRun(`${MEASURE}
      const a = await Ledger.open(); const b = await Ledger.open()
      const server = await a.listen({ host: '127.0.0.1', port: 0, token: 'right' })
      const port = await new Promise((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)) }) })
      const expectCode = async (p, code) => { try { await p } catch (e) { if (e.code === code) return; throw e } throw new Error('connected') }
      await measure('refused', 10, 50, () => expectCode(within(b.connect('ws://127.0.0.1:' + port), 10000, 'connect'), 'NETWORK_ERROR'))
      await measure('unauthorized', 10, 50, () => expectCode(within(b.connect(server.url, { token: 'wrong' }), 10000, 'connect'), 'UNAUTHORIZED'))
      await server.close(); await a.close(); await b.close()
    `, GROWTH_RUN)
    expectFlat(measured(run, 'refused'), 3 * MB)
    expectFlat(measured(run, 'unauthorized'), 3 * MB)
  })

  it('connectInMemory + sync + close, 300 times: heap stays flat', async () => {
    const run = await expectCleanRun(`${MEASURE}
      const a = await Ledger.open({ autoSync: false }); const b = await Ledger.open({ autoSync: false })
      const pa = await a.page('p'); const pb = await b.page('p')
      await pa.put('k', 'v')
      await measure('link', 100, 300, async () => { const link = connectInMemory(a, b); await pb.sync(); await link.close() })
      await a.close(); await b.close()
    `, GROWTH_RUN)
    expectFlat(measured(run, 'link'), 2 * MB)
  })

  it('listen + close, 60 times: the port is released each time, no fd or handle left', async () => {
    const run = await expectCleanRun(`${MEASURE}
      const l = await Ledger.open()
      let port
      await measure('listen', 10, 50, async () => { const s = await l.listen({ host: '127.0.0.1', port: port ?? 0 }); port = s.port; await s.close() })
      await l.close()
    `, GROWTH_RUN)
    expectFlat(measured(run, 'listen'), 2 * MB)
  })

  it('many at once — 50 connections to one page with watchers and sync-state listeners, 20 peers on one listener, 40 concurrent syncs — no MaxListenersExceededWarning, clean exit', async () => {
    const run = await expectCleanRun(`
      const a = await Ledger.open(); const b = await Ledger.open({ autoSync: false })
      const server = await a.listen({ host: '127.0.0.1', port: 0 })
      const conns = await Promise.all(Array.from({ length: 50 }, () => a.page('same')))
      await Promise.all(conns.map((c) => c.watch(() => {})))
      conns.forEach((c) => c.onSyncState(() => {}))
      await Promise.all(conns.map((c, i) => c.put('k' + i, 'v')))
      const pages = await Promise.all(Array.from({ length: 40 }, (_, i) => a.page('p' + i)))
      await Promise.all(pages.map((p) => p.put('k', 'v')))
      const peers = await Promise.all(Array.from({ length: 20 }, () => b.connect(server.url)))
      const bp = await Promise.all(Array.from({ length: 40 }, (_, i) => b.page('p' + i)))
      const stats = await Promise.all(bp.map((p) => p.sync({ peers: [peers[0].id] })))
      report(stats.reduce((x, s) => x + s.commitsReceived, 0))
      await Promise.all(bp.map((p) => p.sync()))
      await a.close(); await b.close()
    `, { scriptMs: 18_000 })
    expect(run.results).toEqual([40])
  })
})
