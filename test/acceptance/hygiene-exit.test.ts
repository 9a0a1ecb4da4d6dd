/**
 * Black-box resource hygiene (package root only): after closing everything a scenario opened, a
 * Node process exits by itself — no timers, sockets or handles left — with no unhandled rejection,
 * uncaught exception or process warning. Each scenario runs in a child process (hygiene-helpers.ts).
 */
import { describe, expect, it } from 'vitest'
import { expectCleanRun } from './hygiene-helpers.js'

/** Child-side snippet: polls `cond` (async) every 10 ms for up to `ms`. */
const UNTIL = `const until = async (cond, ms = 8000, what = 'condition') => { const end = Date.now() + ms; while (!(await cond())) { if (Date.now() > end) throw new Error(what + ' not reached'); await sleep(10) } };
const text = (b) => b === undefined ? undefined : new TextDecoder().decode(b);
const codeOf = async (p) => { try { await p; return 'resolved' } catch (e) { return e instanceof LedgerError ? e.code : 'not a LedgerError: ' + e } };
const freePort = () => new Promise((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)) }) });`

describe('a process exits by itself after close', () => {
  it('disk ledger: writes, transactions, references, snapshots and watchers, each closed explicitly', async () => {
    await expectCleanRun(`${UNTIL}
      const l = await Ledger.open({ path: dir + '/db' })
      const a = await l.page('a')
      const b = await l.page('b')
      const seen = []
      const w = await a.watch(async (c) => { seen.push(c.changed.length); await sleep(1) })
      const wp = await b.watch(() => {}, { prefix: 'x' })
      for (let i = 0; i < 20; i++) await a.put('k' + i, 'v' + i)
      await b.startTransaction(); await b.put('x1', '1'); await b.put('y1', '2'); await b.commit()
      const ref = await b.createReference(new Uint8Array(300_000).fill(7))
      await b.putReference('big', ref, { priority: 'lazy' })
      const s1 = await a.snapshot(); const s2 = await a.snapshot({ prefix: 'k1' })
      let n = 0; for await (const _ of s1.entries()) n++
      for await (const _ of s1.diff(s2)) n++
      await s1.getEntries({ limit: 3 })
      await until(() => seen.reduce((x, y) => x + y, 0) === 20, 8000, 'watcher saw every put')
      w.close(); wp.close()
      await a.close(); await b.close()
      await l.close()
      await l.close()
    `)
  })

  it('disk ledger: only ledger.close() — pages, watchers, snapshots, iterators and onSyncState left open', async () => {
    const run = await expectCleanRun(`${UNTIL}
      const l = await Ledger.open({ path: dir + '/db', mergePolicy: 'automatic-with-fallback' })
      const pages = []
      for (let i = 0; i < 5; i++) {
        const p = await l.page('p' + i)
        await p.watch(() => {})
        p.onSyncState(() => {})
        await p.put('k', 'v' + i)
        pages.push(p)
      }
      const it = (await pages[0].snapshot()).entries()[Symbol.asyncIterator]()
      await it.next()  // an iterator left half-way
      await pages[1].startTransaction(); await pages[1].put('t', 'open transaction')
      await l.close()
      report(await codeOf(pages[2].put('x', 'y')))
    `)
    expectResults(run.results, ['CLOSED'])
  })

  it('two disk ledgers syncing over WebSocket with a token (autoSync), then peer, listener and ledgers closed', async () => {
    await expectCleanRun(`${UNTIL}
      const a = await Ledger.open({ path: dir + '/a' })
      const b = await Ledger.open({ path: dir + '/b' })
      const server = await a.listen({ host: '127.0.0.1', port: 0, token: 'secret' })
      const peer = await b.connect(server.url, { token: 'secret' })
      const pa = await a.page('p'); const pb = await b.page('p')
      const states = []; const off = pb.onSyncState((s) => states.push(s))
      for (let i = 0; i < 10; i++) { await pa.put('a' + i, 'x'); await pb.put('b' + i, 'y') }
      await until(async () => text(await (await pb.snapshot()).get('a9')) === 'x' && text(await (await pa.snapshot()).get('b9')) === 'y', 10000, 'converged')
      await pb.sync()
      off()
      await peer.close(); await server.close()
      await pa.close(); await pb.close()
      await a.close(); await b.close()
    `)
  })

  it('two ledgers syncing over WebSocket: ledger.close() alone closes its listener and peer (docs/sync.md)', async () => {
    await expectCleanRun(`${UNTIL}
      const a = await Ledger.open({ path: dir + '/a' })
      const b = await Ledger.open()
      const server = await a.listen({ host: '127.0.0.1', port: 0, token: 't' })
      await b.connect(server.url, { token: 't' })
      const pa = await a.page('p'); const pb = await b.page('p')
      await pa.put('k', 'v')
      await until(async () => text(await (await pb.snapshot()).get('k')) === 'v', 10000, 'synced')
      await b.close(); await a.close()
    `)
  })

  it('a refused token (UNAUTHORIZED) leaves nothing behind on either side', async () => {
    await expectCleanRun(`${UNTIL}
      const a = await Ledger.open(); const b = await Ledger.open()
      const server = await a.listen({ host: '127.0.0.1', port: 0, token: 'right' })
      for (let i = 0; i < 3; i++) report(await codeOf(within(b.connect(server.url, { token: 'wrong' }), 10000, 'connect')))
      report(await codeOf(within(b.connect(server.url), 10000, 'connect without token')))
      await server.close(); await a.close(); await b.close()
    `)
  })

  it('connect to a port where nothing listens → NETWORK_ERROR, then close: exits', async () => {
    const run = await expectCleanRun(`${UNTIL}
      const l = await Ledger.open({ path: dir + '/db' })
      const port = await freePort()
      for (let i = 0; i < 3; i++) report(await codeOf(within(l.connect('ws://127.0.0.1:' + port), 10000, 'connect')))
      await l.close()
    `)
    expectResults(run.results, ['NETWORK_ERROR', 'NETWORK_ERROR', 'NETWORK_ERROR'])
  })

  it('connect to a server that accepts TCP and never answers: close() of the ledger ends the pending connect', async () => {
    const run = await expectCleanRun(`${UNTIL}
      const sockets = new Set()
      const silent = net.createServer((s) => { sockets.add(s); s.on('error', () => {}) })
      await new Promise((r) => silent.listen(0, '127.0.0.1', r))
      const l = await Ledger.open()
      const pending = codeOf(l.connect('ws://127.0.0.1:' + silent.address().port))
      await sleep(300)
      await within(l.close(), 3000, 'ledger.close with a connect pending')
      report(await within(pending, 3000, 'pending connect after ledger.close'))
      for (const s of sockets) s.destroy()
      silent.close()
    `)
    expectResults(run.results, [['CLOSED', 'NETWORK_ERROR']])
  })

  it('a peer whose server closes first: the client notices, then closes cleanly', async () => {
    await expectCleanRun(`${UNTIL}
      const a = await Ledger.open({ path: dir + '/a' })
      const b = await Ledger.open({ path: dir + '/b' })
      const server = await a.listen({ host: '127.0.0.1', port: 0 })
      const peer = await b.connect(server.url)
      const pa = await a.page('p'); const pb = await b.page('p')
      await pa.put('k', 'v')
      await until(async () => text(await (await pb.snapshot()).get('k')) === 'v', 10000, 'synced')
      await within(server.close(), 3000, 'listener.close with a peer connected')
      await within(a.close(), 3000, 'server ledger close')
      // The client goes on working locally; a sync naming the gone peer fails or finds nothing.
      await pb.put('after', 'x')
      await sleep(200)
      await within(peer.close(), 3000, 'peer.close after the server went')
      await within(b.close(), 3000, 'client ledger close')
    `)
  })

  it('the server ledger closes (without listener.close) while a client is connected; the client keeps running, then closes', async () => {
    await expectCleanRun(`${UNTIL}
      const a = await Ledger.open(); const b = await Ledger.open()
      const server = await a.listen({ host: '127.0.0.1', port: 0 })
      await b.connect(server.url)
      const pb = await b.page('p'); await pb.put('k', 'v')
      await until(async () => text(await (await (await a.page('p')).snapshot()).get('k')) === 'v', 10000, 'synced')
      await within(a.close(), 3000, 'server ledger close')
      await sleep(300)
      await pb.put('k2', 'v2')
      report(await codeOf(within(pb.sync(), 5000, 'sync after the server went')))
      await within(b.close(), 3000, 'client ledger close')
    `)
  })
})

describe('a process exits by itself after close, with work in flight', () => {
  const BIG = `
      const fill = async (page) => {
        await page.startTransaction()
        for (let i = 0; i < 1500; i++) await page.put('key' + String(i).padStart(5, '0'), 'v'.repeat(2000) + i)
        await page.commit()
      }`

  it('the pulling ledger closes while a sync over WebSocket is in progress: sync settles, nothing left', async () => {
    const run = await expectCleanRun(`${UNTIL}${BIG}
      const a = await Ledger.open({ autoSync: false }); const b = await Ledger.open({ path: dir + '/b', autoSync: false })
      await fill(await a.page('p'))
      const server = await a.listen({ host: '127.0.0.1', port: 0 })
      await b.connect(server.url)
      const pb = await b.page('p')
      const s = codeOf(pb.sync({ mode: 'pull' }))
      await sleep(20)
      await within(b.close(), 5000, 'close during sync')
      report(await within(s, 5000, 'sync after close'))
      await server.close(); await a.close()
    `)
    expectResults(run.results, [['CLOSED', 'NETWORK_ERROR', 'resolved']])
  })

  it('the serving ledger closes while a sync over WebSocket is in progress: the puller\'s sync settles, nothing left', async () => {
    const run = await expectCleanRun(`${UNTIL}${BIG}
      const a = await Ledger.open({ path: dir + '/a', autoSync: false }); const b = await Ledger.open({ autoSync: false })
      await fill(await a.page('p'))
      const server = await a.listen({ host: '127.0.0.1', port: 0 })
      await b.connect(server.url)
      const s = codeOf((await b.page('p')).sync({ mode: 'pull' }))
      await sleep(20)
      await within(a.close(), 5000, 'server close during sync')
      report(await within(s, 8000, 'sync after the server closed'))
      await b.close()
    `)
    expectResults(run.results, [['NETWORK_ERROR', 'resolved']])
  })

  it('a ledger closes during an autoSync over an in-memory link (both sides busy): exits', async () => {
    await expectCleanRun(`${UNTIL}${BIG}
      const a = await Ledger.open({ path: dir + '/a' }); const b = await Ledger.open({ path: dir + '/b' })
      const link = connectInMemory(a, b)
      const pa = await a.page('p'); const pb = await b.page('q')
      await Promise.all([fill(pa), fill(pb)])
      await sleep(30)
      await within(a.close(), 5000, 'close a during sync')
      await within(link.close(), 3000, 'link close')
      await within(b.close(), 5000, 'close b')
    `)
  })

  it('a merge resolver that never settles: ledger.close() does not wait for it; a pending waitForConflictResolution rejects CLOSED', async () => {
    const run = await expectCleanRun(`${UNTIL}
      let called = 0
      const l = await Ledger.open({ path: dir + '/db', mergePolicy: 'custom', resolver: () => { called++; return new Promise(() => {}) } })
      const c1 = await l.page('p'); const c2 = await l.page('p')
      await c1.startTransaction(); await c2.startTransaction()
      await c1.put('k', 'left'); await c2.put('k', 'right')
      await c1.commit(); await c2.commit()
      await until(() => called > 0, 8000, 'resolver called')
      const waiting = codeOf(c1.waitForConflictResolution())
      await sleep(50)
      await within(l.close(), 3000, 'ledger.close with a resolver pending')
      report(await within(waiting, 3000, 'waitForConflictResolution after close'))
    `)
    expectResults(run.results, ['CLOSED'])
  })

  it('a merge resolver that always rejects (retried with back-off): close ends the retries, no unhandled rejection', async () => {
    await expectCleanRun(`${UNTIL}
      let called = 0
      const l = await Ledger.open({ mergePolicy: 'custom', resolver: async () => { called++; throw new Error('resolver fails') } })
      const c1 = await l.page('p'); const c2 = await l.page('p')
      await c1.startTransaction(); await c2.startTransaction()
      await c1.put('k', 'left'); await c2.put('k', 'right')
      await c1.commit(); await c2.commit()
      await until(() => called >= 3, 8000, 'resolver retried')
      await within(l.close(), 3000, 'ledger.close during retries')
      const after = called
      await sleep(1500)
      if (called !== after) throw new Error('resolver called ' + (called - after) + ' more times after close')
    `)
  })

  it('a watcher whose listener never settles: close() does not wait for it; a pending startTransaction settles', async () => {
    const run = await expectCleanRun(`${UNTIL}
      const l = await Ledger.open({ path: dir + '/db' })
      const p = await l.page('p')
      let calls = 0
      await p.watch(() => { calls++; return new Promise(() => {}) })
      await p.put('a', '1'); await p.put('b', '2'); await p.put('c', '3')
      await until(() => calls === 1, 8000, 'listener called')
      const tx = codeOf(p.startTransaction())
      await sleep(50)
      await within(l.close(), 3000, 'ledger.close with a listener pending')
      report(await within(tx, 3000, 'startTransaction after close'))
      report(calls)
    `)
    // Calls made before close() still run, in order (docs/transactions.md): the startTransaction resolves once close()
    // releases the watcher, and close() then rolls its transaction back. It must settle either way, never hang.
    expectResults(run.results, ['resolved', 1])
  })

  it('the in-memory link is cut while a sync over it is in progress: the sync settles, nothing left', async () => {
    const run = await expectCleanRun(`${UNTIL}${BIG}
      const a = await Ledger.open({ autoSync: false }); const b = await Ledger.open({ autoSync: false })
      await fill(await a.page('p'))
      const link = connectInMemory(a, b)
      const s = codeOf((await b.page('p')).sync({ mode: 'pull' }))
      await sleep(20)
      await within(link.close(), 3000, 'link close during sync')
      report(await within(s, 8000, 'sync after the link was cut'))
      await a.close(); await b.close()
    `)
    expectResults(run.results, [['NETWORK_ERROR', 'resolved']])
  })

  it('writes and a lazy fetch still pending when the ledger closes: each settles (done or CLOSED), no unhandled rejection', async () => {
    const run = await expectCleanRun(`${UNTIL}
      const a = await Ledger.open({ path: dir + '/a' }); const b = await Ledger.open({ autoSync: false })
      const link = connectInMemory(a, b)
      const pa = await a.page('p')
      await pa.put('lazy', 'x'.repeat(200_000), { priority: 'lazy' })
      const pb = await b.page('p'); await pb.sync({ mode: 'pull' })
      const snap = await pb.snapshot()
      const fetching = codeOf(snap.fetch('lazy'))
      const writes = []
      for (let i = 0; i < 200; i++) writes.push(codeOf(pa.put('k' + i, 'v' + i)))
      const closing = Promise.all([a.close(), b.close()])
      const codes = await within(Promise.all([fetching, ...writes]), 5000, 'pending calls after close')
      await within(closing, 5000, 'close with calls pending')
      report(codes.every((c) => c === 'resolved' || c === 'CLOSED' || c === 'NETWORK_ERROR'))
      await link.close()
    `)
    expectResults(run.results, [true])
  })

  it('a failed open (LOCKED, path is a file) leaves nothing behind', async () => {
    const run = await expectCleanRun(`${UNTIL}
      const l = await Ledger.open({ path: dir + '/db' })
      report(await codeOf(Ledger.open({ path: dir + '/db' })))
      fs.writeFileSync(dir + '/file', 'not a directory')
      report(await codeOf(Ledger.open({ path: dir + '/file' })))
      await l.close()
    `)
    expectResults(run.results, ['LOCKED', ['IO_ERROR', 'INVALID_ARGUMENT']])
  })

  it('watcher listeners that throw or reject: no unhandled rejection, later notifications still come', async () => {
    const run = await expectCleanRun(`${UNTIL}
      const l = await Ledger.open()
      const p = await l.page('p')
      let sync = 0, async_ = 0
      await p.watch(() => { sync++; throw new Error('listener throws') })
      await p.watch(async () => { async_++; throw new Error('listener rejects') })
      for (let i = 0; i < 3; i++) { await p.put('k' + i, 'v'); await sleep(30) }
      await until(() => sync >= 1 && async_ >= 1, 8000, 'listeners called')
      await sleep(100)
      report([sync >= 2, async_ >= 2])
      await l.close()
    `)
    expectResults(run.results, [[true, true]])
  })
})


/** Each result equals the expected value, or (expected an array of strings) is one of them. */
function expectResults(results: unknown[], expected: unknown[]): void {
  expect(results).toHaveLength(expected.length)
  expected.forEach((e, i) => {
    if (Array.isArray(e) && e.every((x) => typeof x === 'string')) expect(e, `result ${i}`).toContain(results[i])
    else expect(results[i], `result ${i}`).toEqual(e)
  })
}
