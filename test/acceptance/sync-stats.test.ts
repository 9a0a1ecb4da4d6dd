/** Black-box acceptance tests (package root only; hostile peers use `ws` and dag-cbor). Sync: page.sync modes, peer filtering and SyncStats. */
import { describe, expect, it, onTestFinished } from 'vitest'
import { Ledger, LedgerError } from 'dagkv'
import { collect, str, until, utf8 } from '../helpers/bytes.js'
import { memoryLedger, tempDir } from '../helpers/ledgers.js'
import { join } from 'node:path'
import { ZERO, STAT_FIELDS, autoLedger, within, expectCode, contents, headOf, hex, seeded, sameBytes, serve, dial, link } from './sync-api-helpers.js'

describe('acceptance / sync API: page.sync modes, peers and stats', () => {
  it('with no peer connected every mode resolves with zero stats (exactly the seven fields), also after peers closed', async () => {
    const a = await memoryLedger()
    const p = await a.page('p')
    await p.put('k', 'v')
    for (const mode of ['push', 'pull', 'both'] as const) {
      const s = await p.sync({ mode })
      expect(Object.keys(s).sort()).toEqual(STAT_FIELDS)
      expect(s).toEqual(ZERO)
    }
    expect(await p.sync({ peers: [] })).toEqual(ZERO)
    const b = await memoryLedger()
    const l = link(a, b)
    expect((await p.sync({ mode: 'push' })).commitsSent).toBe(1)
    await l.close()
    const server = await memoryLedger()
    const listener = await serve(server)
    const peer = await dial(a, listener.url)
    await p.put('k2', 'v2')
    expect((await p.sync({ mode: 'push' })).commitsSent).toBe(2)
    await peer.close()
    for (const mode of ['push', 'pull', 'both'] as const) expect(await p.sync({ mode })).toEqual(ZERO)
  })

  it('push sends and receives no commits; pull receives and sends none; stats count commits, blocks and bytes', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    const listener = await serve(b)
    const peer = await dial(a, listener.url)
    const pa = await a.page('p')
    const pb = await b.page('p')
    const big = seeded(200_000, 5) // chunked: at least 4 value chunks
    await pa.put('big', big)
    await pa.put('small', 'x')
    await pb.put('theirs', 'y')

    const pushed = await pa.sync({ mode: 'push', peers: [peer.id] })
    expect(pushed.commitsSent).toBe(2)
    expect(pushed.commitsReceived).toBe(0)
    expect(pushed.blocksReceived).toBe(0)
    expect(pushed.blocksSent).toBeGreaterThanOrEqual(2 + 4)
    expect(pushed.bytesSent).toBeGreaterThan(big.length)
    expect(pushed.bytesReceived).toBeGreaterThan(0) // the peer's requests and the done
    expect(pushed.bytesReceived).toBeLessThan(big.length)
    expect(pushed.roundTrips).toBeGreaterThanOrEqual(1)
    // A push does not bring B's commit here.
    expect(await contents(pa)).toEqual({ big: str(big)!, small: 'x' })

    const pulled = await pa.sync({ mode: 'pull' })
    // B's commit, and B's merge of its two heads if it merged already.
    expect(pulled.commitsReceived).toBeGreaterThanOrEqual(1)
    expect(pulled.commitsReceived).toBeLessThanOrEqual(2)
    expect(pulled.blocksReceived).toBeGreaterThanOrEqual(1)
    expect(pulled.commitsSent).toBe(0)
    expect(pulled.blocksSent).toBe(0)
    expect(pulled.bytesReceived).toBeGreaterThan(0)
    expect(pulled.bytesSent).toBeGreaterThan(0) // the request
    expect(pulled.roundTrips).toBeGreaterThanOrEqual(1)

    // Nothing new: no commits and no blocks in either direction, bytes small.
    await pa.waitForConflictResolution()
    await pb.sync({ mode: 'pull' })
    await pb.waitForConflictResolution()
    const again = await pa.sync()
    expect(again.commitsSent + again.commitsReceived + again.blocksSent + again.blocksReceived).toBe(0)
    expect(again.bytesReceived + again.bytesSent).toBeLessThan(10_000)
  })

  it('concurrent syncs of one page resolve and never count a commit twice', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    const listener = await serve(a)
    await dial(b, listener.url)
    const pa = await a.page('p')
    for (let i = 0; i < 40; i++) await pa.put(`k${i}`, seeded(500, i))
    const pb = await b.page('p')
    const pb2 = await b.page('p')
    const results = await within(
      Promise.all([pb.sync({ mode: 'pull' }), pb2.sync(), pb.sync({ mode: 'pull' }), pb2.sync({ mode: 'both' }), pb.sync({ mode: 'push' })]),
      15_000,
      'concurrent syncs',
    )
    expect(results.reduce((n, r) => n + r.commitsReceived, 0)).toBe(40)
    expect(results.reduce((n, r) => n + r.commitsSent, 0)).toBe(0)
    await pb.waitForConflictResolution()
    expect(await headOf(pb)).toBe(await headOf(pa))
  })

  it('pull does not send: the peer does not get this side\'s commits', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    link(a, b)
    const pa = await a.page('p')
    const pb = await b.page('p')
    await pa.put('a', '1')
    await pb.put('b', '2')
    await pb.sync({ mode: 'pull' })
    await pb.waitForConflictResolution()
    expect(await contents(pb)).toEqual({ a: '1', b: '2' })
    expect(await contents(await a.page('p'))).toEqual({ a: '1' })
  })

  it('stats are counted for this page only; other pages do not travel with a manual sync', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    link(a, b)
    const other = await a.page('other')
    for (let i = 0; i < 5; i++) await other.put(`o${i}`, seeded(3000, i))
    const pa = await a.page('p')
    await pa.put('k', 'v')
    const s = await pa.sync({ mode: 'push' })
    expect(s.commitsSent).toBe(1)
    expect(s.bytesSent).toBeLessThan(3000)
    expect((await b.pages()).map(hex)).toEqual([hex(utf8('p'))])
  })

  it('peers filters by replica id over WebSocket, on the client side (Peer.id) and the server side (the client\'s replicaId)', async () => {
    const s1 = await memoryLedger()
    const s2 = await memoryLedger()
    const l1 = await serve(s1)
    const l2 = await serve(s2)
    const c = await memoryLedger()
    const peer1 = await dial(c, l1.url)
    const peer2 = await dial(c, l2.url)
    expect(peer1.id).toBe(s1.replicaId)
    expect(peer2.id).toBe(s2.replicaId)
    const pc = await c.page('p')
    await pc.put('k', 'v')
    const s = await pc.sync({ mode: 'push', peers: [peer1.id] })
    expect(s.commitsSent).toBe(1)
    expect(await s1.pages()).toHaveLength(1)
    expect(await s2.pages()).toHaveLength(0)
    // Duplicates in peers are harmless.
    await pc.put('k2', 'v2')
    expect((await pc.sync({ mode: 'push', peers: [peer2.id, peer2.id] })).commitsSent).toBe(2)
    expect(await s1.pages()).toHaveLength(1)
    expect(await contents(await s1.page('p'))).toEqual({ k: 'v' })
    expect(await contents(await s2.page('p'))).toEqual({ k: 'v', k2: 'v2' })
    // The server knows the client by its replicaId.
    const sp = await s2.page('p')
    await sp.put('from-server', '1')
    const back = await sp.sync({ mode: 'push', peers: [c.replicaId] })
    expect(back.commitsSent).toBe(1)
    await expectCode(() => sp.sync({ peers: [s1.replicaId] }), 'INVALID_ARGUMENT')
    // A closed peer is no longer a valid id.
    await peer1.close()
    await expectCode(() => pc.sync({ peers: [peer1.id] }), 'INVALID_ARGUMENT')
    await until(async () => LedgerError.is(await (await s1.page('p')).sync({ peers: [c.replicaId] }).then(() => undefined, (e: unknown) => e), 'INVALID_ARGUMENT'))
  })

  it('when sync resolves, what it received is stored and among the heads: a new connection sees it at once, an open one after waitForConflictResolution', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    const listener = await serve(a)
    await dial(b, listener.url)
    const pa = await a.page('p')
    for (let i = 0; i < 20; i++) await pa.put(`k${i}`, `v${i}`)
    const aHead = await headOf(pa)
    const pb = await b.page('p')
    await pb.sync({ mode: 'pull' })
    const fresh = await b.page('p')
    expect(await headOf(fresh)).toBe(aHead)
    expect(Object.keys(await contents(fresh))).toHaveLength(20)
    await pb.waitForConflictResolution()
    expect(await headOf(pb)).toBe(aHead)
    // Concurrent local edit on B: after the pull both heads are there and merging joins them.
    await pb.put('local', 'b')
    await pa.put('remote', 'a')
    const aHead2 = await headOf(pa)
    await pb.sync({ mode: 'pull' })
    // The received commit is in the page's history at once.
    const at = await (await b.page('p')).snapshot({ at: aHead2 }).catch((e: unknown) => e)
    expect(at instanceof LedgerError, `snapshot at the received commit: ${String(at)}`).toBe(false)
    await pb.waitForConflictResolution()
    const c = await contents(pb)
    expect(c['local']).toBe('b')
    expect(c['remote']).toBe('a')
  })

  it('what a sync received is durable: a disk ledger reopened after the pull has it, and a new sync moves nothing', async () => {
    const a = await memoryLedger()
    const pa = await a.page('p')
    for (let i = 0; i < 10; i++) await pa.put(`k${i}`, seeded(5000, i))
    await pa.put('lazy', seeded(4000, 99), { priority: 'lazy' })
    const listener = await serve(a)
    const path = join(tempDir(), 'db')
    const b1 = await Ledger.open({ path, autoSync: false })
    const id = b1.replicaId
    const peer1 = await b1.connect(listener.url)
    expect(peer1.id).toBe(a.replicaId)
    const got = await (await b1.page('p')).sync({ mode: 'pull' })
    expect(got.commitsReceived).toBe(11)
    await b1.close()
    const b2 = await Ledger.open({ path, autoSync: false })
    onTestFinished(() => b2.close())
    expect(b2.replicaId).toBe(id)
    const pb = await b2.page('p')
    expect(await headOf(pb)).toBe(await headOf(pa))
    expect(sameBytes(await (await pb.snapshot()).get('k3'), seeded(5000, 3))).toBe(true)
    await dial(b2, listener.url)
    const again = await pb.sync()
    expect(again.commitsReceived + again.commitsSent + again.blocksReceived + again.blocksSent).toBe(0)
    // The server knows the reopened replica by the same id.
    await expectCode(() => pa.sync({ peers: ['not-' + id] }), 'INVALID_ARGUMENT')
    await pa.sync({ peers: [id] })
    expect(sameBytes(await (await pb.snapshot()).fetch('lazy'), seeded(4000, 99))).toBe(true)
  })

  it('a push resolves only once the peer stored it: the peer\'s ledger shows it immediately', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    const listener = await serve(b)
    await dial(a, listener.url)
    const pa = await a.page('fresh-page')
    const data = seeded(150_000, 9)
    await pa.put('blob', data)
    await pa.put('x', 'y')
    await pa.sync({ mode: 'push' })
    expect((await b.pages()).map(hex)).toEqual([hex(utf8('fresh-page'))])
    const pb = await b.page('fresh-page')
    expect(await headOf(pb)).toBe(await headOf(pa))
    expect(sameBytes(await (await pb.snapshot()).get('blob'), data)).toBe(true)
  })

  it('lazy values do not travel with push or autoSync; get → NEEDS_FETCH, fetch brings them', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    const listener = await serve(b)
    const peer = await dial(a, listener.url)
    const pa = await a.page('lazy')
    const big = seeded(500_000, 3)
    await pa.put('big', big, { priority: 'lazy' })
    await pa.put('tiny', 't', { priority: 'lazy' })
    await pa.put('eager', 'e')
    const s = await pa.sync({ mode: 'push', peers: [peer.id] })
    expect(s.commitsSent).toBe(3)
    expect(s.bytesSent).toBeLessThan(20_000)
    const snap = await (await b.page('lazy')).snapshot()
    await expectCode(() => snap.get('big'), 'NEEDS_FETCH')
    await expectCode(() => snap.get('tiny'), 'NEEDS_FETCH')
    expect(str(await snap.get('eager'))).toBe('e')
    const entries = await collect(snap.entries())
    expect(entries.map((e) => [str(e.key), e.value === undefined ? null : str(e.value), e.priority])).toEqual([
      ['big', null, 'lazy'],
      ['eager', 'e', 'eager'],
      ['tiny', null, 'lazy'],
    ])
    // B fetches from A (B is the server, A connected to it).
    expect(sameBytes(await snap.fetch('big'), big)).toBe(true)
    expect(str(await snap.fetch('tiny'))).toBe('t')
    expect(sameBytes(await snap.get('big'), big)).toBe(true)

    // autoSync: on connect, lazy values stay behind too.
    const c = await autoLedger()
    const d = await autoLedger()
    const pc = await c.page('lz')
    await pc.put('v', seeded(300_000, 4), { priority: 'lazy' })
    link(c, d)
    await until(async () => (await d.pages()).length === 1)
    const pd = await d.page('lz')
    await until(async () => (await contents(pd))['v'] === null)
    await expectCode(async () => (await pd.snapshot()).get('v'), 'NEEDS_FETCH')
    expect(sameBytes(await (await pd.snapshot()).fetch('v'), seeded(300_000, 4))).toBe(true)
  })

  it('a server with maxFrameBytes of 1 MiB still syncs big values and many commits with a legit peer', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    const listener = await serve(b, { maxFrameBytes: 1024 * 1024 })
    await dial(a, listener.url)
    const pa = await a.page('p')
    const big = seeded(3 * 1024 * 1024, 11)
    await pa.put('big', big)
    await pa.startTransaction()
    for (let i = 0; i < 3000; i++) await pa.put(`key-${String(i).padStart(5, '0')}`, seeded(300, i))
    await pa.commit()
    const s = await within(pa.sync({ mode: 'push' }), 20_000, 'push to a 1 MiB-frame server')
    expect(s.commitsSent).toBe(2)
    const pb = await b.page('p')
    expect(await headOf(pb)).toBe(await headOf(pa))
    expect(sameBytes(await (await pb.snapshot()).get('big'), big)).toBe(true)
    // And back: the server pushes to the client (which accepts 16 MiB).
    await pb.put('back', seeded(2 * 1024 * 1024, 12))
    expect((await pb.sync({ mode: 'push' })).commitsSent).toBe(1)
  })
})
