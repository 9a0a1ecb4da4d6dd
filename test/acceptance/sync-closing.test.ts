/** Black-box acceptance tests (package root only; hostile peers use `ws` and dag-cbor). Sync: closing peers, links, listeners and ledgers. */
import { describe, expect, it, onTestFinished } from 'vitest'
import { Ledger, LedgerError, connectInMemory } from 'dagkv'
import { until } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { ZERO, autoLedger, within, expectCode, contents, seeded, serve, dial, link, hostileServer } from './sync-api-helpers.js'

describe('acceptance / sync API: closing peers, links, listeners and ledgers', () => {
  it('Peer.close() is idempotent (also concurrently); the server sees the peer gone; connect works again', async () => {
    const s = await memoryLedger()
    const c = await memoryLedger()
    const listener = await serve(s)
    const peer = await c.connect(listener.url)
    expect(typeof peer.id).toBe('string')
    expect(typeof peer.close).toBe('function')
    await within(Promise.all([peer.close(), peer.close()]), 5000, 'peer.close twice')
    await within(peer.close(), 5000, 'peer.close again')
    const ps = await s.page('p')
    await ps.put('k', 'v')
    await until(async () => (await ps.sync()).roundTrips === 0)
    expect(await (await c.page('p')).sync()).toEqual(ZERO)
    const again = await dial(c, listener.url)
    expect(again.id).toBe(s.replicaId)
    expect((await (await c.page('p')).sync({ mode: 'pull' })).commitsReceived).toBe(1)
  })

  it('connectInMemory close() is idempotent, cuts both sides, and the ledgers can be linked again', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    const l = connectInMemory(a, b)
    expect(typeof l.close).toBe('function')
    const pa = await a.page('p')
    const pb = await b.page('p')
    await pa.put('k', 'v')
    expect((await pa.sync({ mode: 'push' })).commitsSent).toBe(1)
    await within(Promise.all([l.close(), l.close()]), 5000, 'link close')
    await l.close()
    await pa.put('k2', 'v2')
    expect(await pa.sync()).toEqual(ZERO)
    expect(await pb.sync()).toEqual(ZERO)
    await expectCode(() => pa.sync({ peers: [b.replicaId] }), 'INVALID_ARGUMENT')
    link(a, b)
    expect((await pb.sync({ mode: 'pull' })).commitsReceived).toBe(1)
  })

  it('connectInMemory returns at once and a sync right away (naming either side\'s id) waits for the link instead of failing', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    const pa = await a.page('p')
    const pb = await b.page('q')
    await pa.put('k', 'v')
    await pb.put('k', 'w')
    link(a, b)
    const [sa, sb] = await Promise.all([pa.sync({ mode: 'push', peers: [b.replicaId] }), pb.sync({ mode: 'push', peers: [a.replicaId] })])
    expect(sa.commitsSent).toBe(1)
    expect(sb.commitsSent).toBe(1)
    expect((await a.pages()).length).toBe(2)
    expect((await b.pages()).length).toBe(2)
  })

  it('listener.close() is idempotent, drops the peers that came through it, and frees the port', async () => {
    const s = await memoryLedger()
    await (await s.page('p')).put('k', 'v')
    const listener = await s.listen({ host: '127.0.0.1', port: 0 })
    const c = await memoryLedger()
    await dial(c, listener.url)
    const pc = await c.page('p')
    expect((await pc.sync({ mode: 'pull' })).commitsReceived).toBe(1)
    await within(Promise.all([listener.close(), listener.close()]), 5000, 'listener close twice')
    await within(listener.close(), 5000, 'listener close again')
    await until(async () => (await pc.sync()).roundTrips === 0)
    await expectCode(() => c.connect(listener.url), 'NETWORK_ERROR')
    // The same port can be served again, by this ledger, and works.
    const again = await s.listen({ host: '127.0.0.1', port: listener.port }).catch((e: unknown) => e)
    expect(again instanceof Error, `re-listen on the freed port: ${String(again)}`).toBe(false)
    const l2 = again as { url: string; close(): Promise<void> }
    onTestFinished(() => l2.close())
    expect(l2.url).toBe(listener.url)
    await dial(c, l2.url)
    await (await s.page('p')).put('k2', 'v2')
    expect((await pc.sync({ mode: 'pull' })).commitsReceived).toBe(1)
  })

  it('ledger.close() with live peers, links and listeners resolves; the others see the drop; later calls → CLOSED', async () => {
    const s = await Ledger.open({ autoSync: true })
    let sClosed = false
    onTestFinished(() => (sClosed ? undefined : s.close()))
    const ps = await s.page('p')
    await ps.put('k', 'v')
    const listener = await s.listen({ host: '127.0.0.1', port: 0 })
    const second = await s.listen({ host: '127.0.0.1', port: 0 })
    const c = await autoLedger()
    const d = await autoLedger()
    const peer = await dial(c, listener.url)
    const memLink = connectInMemory(s, d)
    onTestFinished(() => memLink.close())
    const pc = await c.page('p')
    const pd = await d.page('p')
    await until(async () => (await contents(pc))['k'] === 'v' && (await contents(pd))['k'] === 'v')

    await within(s.close(), 10_000, 'ledger.close with live peers')
    sClosed = true
    await within(s.close(), 5000, 'second ledger.close')
    // The port is released and the peers are gone.
    await expectCode(() => c.connect(listener.url), 'NETWORK_ERROR')
    await expectCode(() => c.connect(second.url), 'NETWORK_ERROR')
    await until(async () => (await pc.sync()).roundTrips === 0)
    await until(async () => (await pd.sync()).roundTrips === 0)
    await until(() => pc.syncState().download === 'error' || pc.syncState().upload === 'error')
    // Closing its listener, peer and link afterwards is harmless.
    await within(listener.close(), 5000, 'listener.close after ledger.close')
    await within(second.close(), 5000, 'second listener close')
    await within(peer.close(), 5000, 'peer.close after server close')
    await within(memLink.close(), 5000, 'link close after ledger close')
    // Every later sync call on the closed ledger → CLOSED.
    await expectCode(() => s.listen({ host: '127.0.0.1', port: 0 }), 'CLOSED')
    await expectCode(() => s.connect('ws://127.0.0.1:1'), 'CLOSED')
    await expectCode(() => ps.sync(), 'CLOSED')
    await expectCode(() => connectInMemory(s, c), 'CLOSED')
    // The survivors still work together.
    link(c, d)
    await pc.put('after', '1')
    await until(async () => (await contents(pd))['after'] === '1')
  })

  it('closing a ledger in the middle of autoSync traffic leaves no unhandled error; its peer goes on', async () => {
    const s = await autoLedger()
    const c = await Ledger.open({ autoSync: true })
    let cClosed = false
    onTestFinished(() => (cClosed ? undefined : c.close()))
    const listener = await serve(s)
    await c.connect(listener.url)
    const pages = await Promise.all(['a', 'b', 'c'].map((n) => c.page(n)))
    const spages = await Promise.all(['a', 'b', 'c'].map((n) => s.page(n)))
    const writes = (async () => {
      for (let i = 0; i < 40; i++) {
        for (const p of pages) await p.put(`k${i}`, seeded(3000, i)).catch(() => undefined)
        for (const p of spages) await p.put(`s${i}`, 'x')
      }
    })()
    await until(async () => (await s.pages()).length === 3)
    await within(c.close(), 10_000, 'close during traffic')
    cClosed = true
    await within(writes, 20_000, 'writes after the close')
    // The server is fine and serves a new client.
    const d = await memoryLedger()
    await dial(d, listener.url)
    const pd = await d.page('a')
    await pd.sync({ mode: 'pull' })
    expect((await contents(pd))['s39']).toBe('x')
  })

  it('a client ledger closing drops it from the server; the server accepts others', async () => {
    const s = await memoryLedger()
    await (await s.page('p')).put('k', 'v')
    const listener = await serve(s)
    const c = await Ledger.open({ autoSync: false })
    await c.connect(listener.url)
    await within(c.close(), 10_000, 'client close with a live peer')
    const ps = await s.page('p')
    await until(async () => LedgerError.is(await ps.sync({ peers: [c.replicaId] }).then(() => undefined, (e: unknown) => e), 'INVALID_ARGUMENT'))
    const d = await memoryLedger()
    await dial(d, listener.url)
    expect((await (await d.page('p')).sync({ mode: 'pull' })).commitsReceived).toBe(1)
  })

  it('the server closing during a pull: the pull settles (NETWORK_ERROR or done) and nothing half-received shows', async () => {
    const s = await Ledger.open({ autoSync: false })
    onTestFinished(() => s.close())
    const ps = await s.page('p')
    await ps.startTransaction()
    for (let i = 0; i < 4000; i++) await ps.put(`k${String(i).padStart(5, '0')}`, seeded(200, i))
    await ps.commit()
    await ps.put('last', 'x')
    const listener = await s.listen({ host: '127.0.0.1', port: 0 })
    const c = await memoryLedger()
    await c.connect(listener.url)
    const pc = await c.page('p')
    const pulling = pc.sync({ mode: 'pull' })
    void s.close()
    const outcome = await within(pulling.then(() => 'ok', (e: unknown) => e), 20_000, 'pull while the server closes')
    if (outcome !== 'ok') expect(LedgerError.is(outcome, 'NETWORK_ERROR') || LedgerError.is(outcome, 'CLOSED'), String(outcome)).toBe(true)
    const n = Object.keys(await contents(await c.page('p'))).length
    expect([0, 4001]).toContain(n)
  })

  it('a ledger closing during its own pull: the pull settles (CLOSED or NETWORK_ERROR), close resolves', async () => {
    const s = await memoryLedger()
    const ps = await s.page('p')
    await ps.startTransaction()
    for (let i = 0; i < 3000; i++) await ps.put(`k${i}`, seeded(200, i))
    await ps.commit()
    const listener = await serve(s)
    const c = await Ledger.open({ autoSync: false })
    onTestFinished(() => c.close())
    await c.connect(listener.url)
    const pc = await c.page('p')
    const pulling = pc.sync({ mode: 'pull' }).then(() => 'ok', (e: unknown) => e)
    await within(c.close(), 10_000, 'close during own pull')
    const outcome = await within(pulling, 10_000, 'own pull after close')
    if (outcome !== 'ok') {
      expect(LedgerError.is(outcome), String(outcome)).toBe(true)
      expect(['CLOSED', 'NETWORK_ERROR']).toContain((outcome as LedgerError).code)
    }
    // The server is fine.
    const d = await memoryLedger()
    await dial(d, listener.url)
    expect((await (await d.page('p')).sync({ mode: 'pull' })).commitsReceived).toBe(1)
  })

  it('a connect pending on a silent server holds up neither page.sync with the connected peers nor ledger.close', async () => {
    const silent = await hostileServer(() => undefined)
    // Ledger A: linked to B, and trying to reach the silent server.
    const a = await memoryLedger()
    const b = await memoryLedger()
    link(a, b)
    const pa = await a.page('p')
    await pa.put('k', 'v')
    await pa.sync({ mode: 'push' }) // the link is up
    const aConnecting = a.connect(silent).then(() => 'connected', (e: unknown) => e)
    // Ledger C: closes while its connect is pending.
    const c = await Ledger.open({ autoSync: false })
    onTestFinished(() => c.close())
    const cConnecting = c.connect(silent).then(() => 'connected', (e: unknown) => e)
    await new Promise((r) => setTimeout(r, 200)) // let both sockets open (the handshake is now pending)

    const syncing = (async () => {
      await pa.put('k2', 'v2')
      const t = Date.now()
      const stats = await pa.sync({ mode: 'push', peers: [b.replicaId] })
      return { stats, ms: Date.now() - t }
    })()
    const closing = (async () => {
      const t = Date.now()
      await within(c.close(), 10_000, 'close with a pending connect')
      const closeMs = Date.now() - t
      const outcome = await within(cConnecting, 20_000, 'pending connect after close')
      return { closeMs, outcome, settleMs: Date.now() - t }
    })()
    const [sync, close] = await Promise.all([within(syncing, 25_000, 'sync'), closing])
    expect(sync.stats.commitsSent).toBe(1)
    expect.soft(sync.ms, 'page.sync with a connected peer waited for an unrelated pending connect (its handshake timeout)').toBeLessThan(3000)
    expect(close.closeMs).toBeLessThan(3000)
    expect(LedgerError.is(close.outcome), String(close.outcome)).toBe(true)
    expect(['CLOSED', 'NETWORK_ERROR']).toContain((close.outcome as LedgerError).code)
    expect.soft(close.settleMs, 'connect kept running for its full handshake timeout after the ledger closed').toBeLessThan(3000)
    const aOutcome = await within(aConnecting, 20_000, 'A connect')
    expect(LedgerError.is(aOutcome, 'NETWORK_ERROR'), String(aOutcome)).toBe(true)
  }, 40_000)
})
