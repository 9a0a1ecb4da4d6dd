/** Black-box acceptance tests (package root only; hostile peers use `ws` and dag-cbor). Sync: connect never hangs on hostile or broken servers; a hostile peer is dropped while the server and its other peers go on. */
import * as dagCbor from '@ipld/dag-cbor'
import { createServer as createHttpServer } from 'node:http'
import { createServer as createTcpServer, type Socket } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { WebSocket } from 'ws'
import { LedgerError } from 'dagkv'
import { until, utf8 } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { ZERO, within, failureOf, expectCode, contents, seeded, serve, type Msg, RawClient, hostileServer, serverHello, listening, stillServes, victimServer } from './sync-api-helpers.js'

describe('acceptance / sync API: connect never hangs against hostile or broken servers', () => {
  it('a closed port → NETWORK_ERROR', async () => {
    const a = await memoryLedger()
    const tcp = createTcpServer()
    const port = await listening(tcp)
    await new Promise<void>((resolve) => tcp.close(() => resolve()))
    await expectCode(() => a.connect(`ws://127.0.0.1:${port}`), 'NETWORK_ERROR')
  })

  it('a TCP server that hangs up at once, an HTTP server answering 404 or 401 → NETWORK_ERROR (or UNAUTHORIZED)', async () => {
    const a = await memoryLedger()
    const sockets: Socket[] = []
    const tcp = createTcpServer((s) => {
      sockets.push(s)
      s.destroy()
    })
    const tcpPort = await listening(tcp)
    await expectCode(() => a.connect(`ws://127.0.0.1:${tcpPort}`), 'NETWORK_ERROR')
    for (const status of [404, 401, 500]) {
      const http = createHttpServer((_req, res) => {
        res.writeHead(status)
        res.end('no')
      })
      const port = await listening(http)
      await expectCode(() => a.connect(`ws://127.0.0.1:${port}`), 'NETWORK_ERROR', 'UNAUTHORIZED')
      http.closeAllConnections()
    }
    expect(await a.pages()).toEqual([])
  })

  it('a server that sends garbage, a text frame, a non-map, a wrong version or closes after hello → NETWORK_ERROR', async () => {
    const a = await memoryLedger()
    const behaviours: [string, (ws: WebSocket) => void][] = [
      ['garbage', (ws) => ws.send(new Uint8Array([0xff, 0xfe, 0x00, 0x13]))],
      ['text frame', (ws) => ws.send('hello')],
      ['not a map', (ws) => ws.send(dagCbor.encode([1, 2, 3]))],
      ['no t', (ws) => ws.send(dagCbor.encode({ v: 1 }))],
      ['version 2', (ws) => ws.send(serverHello({ v: 2 }))],
      ['client role', (ws) => ws.send(serverHello({ role: 'client' }))],
      ['hello then close', (ws) => {
        ws.send(serverHello())
        ws.close(1000)
      }],
      ['hello then welcome-less garbage', (ws) => {
        ws.send(serverHello())
        ws.on('message', () => ws.send(new Uint8Array([1, 2, 3])))
      }],
      ['close at once', (ws) => ws.close(1000)],
      ['terminate at once', (ws) => ws.terminate()],
    ]
    for (const [name, behaviour] of behaviours) {
      const url = await hostileServer(behaviour)
      const err = await expectCode(() => a.connect(url), 'NETWORK_ERROR')
      expect(err.message, name).not.toBe('')
    }
    expect(await a.pages()).toEqual([])
    expect(await (await a.page('p')).sync()).toEqual(ZERO)
  })

  it('a server that rejects the token → UNAUTHORIZED; one that claims a token but cannot prove it → UNAUTHORIZED', async () => {
    const a = await memoryLedger()
    const rejecting = await hostileServer((ws) => {
      ws.send(serverHello({ auth: true }))
      ws.once('message', () => {
        ws.once('message', () => undefined)
        ws.send(dagCbor.encode({ t: 'reject', reason: 'unauthorized', message: 'no' }))
        ws.close(4401)
      })
    })
    await expectCode(() => a.connect(rejecting, { token: 't' }), 'UNAUTHORIZED')
    const impostor = await hostileServer((ws) => {
      ws.send(serverHello({ auth: true }))
      let n = 0
      ws.on('message', () => {
        if (++n === 2) ws.send(dagCbor.encode({ t: 'welcome', mac: new Uint8Array(32) }))
      })
    })
    await expectCode(() => a.connect(impostor, { token: 'secret' }), 'UNAUTHORIZED')
  })

  it('a server whose maxFrameBytes is below the size of a hello drops the client: connect → NETWORK_ERROR at once', async () => {
    const s = await memoryLedger()
    const listener = await serve(s, { maxFrameBytes: 16 })
    const c = await memoryLedger()
    const started = Date.now()
    await expectCode(() => c.connect(listener.url), 'NETWORK_ERROR', 'UNAUTHORIZED')
    expect(Date.now() - started).toBeLessThan(5000)
    expect(await (await c.page('p')).sync()).toEqual(ZERO)
  })

  it('listen({ token: \'\' }) is refused up front, or serves a usable server (not one every connect fails on)', async () => {
    const s = await memoryLedger()
    await (await s.page('p')).put('k', 'v')
    const outcome: unknown = await s.listen({ host: '127.0.0.1', port: 0, token: '' }).then(
      (l) => {
        onTestFinished(() => l.close())
        return l
      },
      (e: unknown) => e,
    )
    if (outcome instanceof Error) {
      expect(LedgerError.is(outcome, 'INVALID_ARGUMENT'), String(outcome)).toBe(true)
      return
    }
    // The listener exists: some client must be able to use it (with the empty token, or none).
    const url = (outcome as { url: string }).url
    const c = await memoryLedger()
    const withEmpty = await c.connect(url, { token: '' }).then((p) => p, (e: unknown) => e)
    const withNone = await c.connect(url).then((p) => p, (e: unknown) => e)
    for (const r of [withEmpty, withNone]) if (!(r instanceof Error)) onTestFinished(() => (r as { close(): Promise<void> }).close())
    expect(
      !(withEmpty instanceof Error) || !(withNone instanceof Error),
      `listen accepted token '' but every connect fails: ${String(withEmpty)} / ${String(withNone)}`,
    ).toBe(true)
  })

  it('a server that never answers the upgrade, or accepts the WebSocket and never speaks → NETWORK_ERROR in bounded time (no hang)', async () => {
    const a = await memoryLedger()
    const held: Socket[] = []
    const mute = createTcpServer((sock) => {
      held.push(sock)
      sock.on('error', () => undefined)
    })
    const mutePort = await listening(mute)
    onTestFinished(() => {
      for (const sock of held) sock.destroy()
    })
    const silent = await hostileServer(() => undefined)
    const started = Date.now()
    const [e1, e2] = await within(
      Promise.all([failureOf(() => a.connect(`ws://127.0.0.1:${mutePort}`), 25_000), failureOf(() => a.connect(silent), 25_000)]),
      25_000,
      'connect to silent servers',
    )
    expect(LedgerError.is(e1, 'NETWORK_ERROR'), `mute TCP: ${String(e1)}`).toBe(true)
    expect(LedgerError.is(e2, 'NETWORK_ERROR'), `silent WebSocket: ${String(e2)}`).toBe(true)
    expect(Date.now() - started).toBeLessThan(25_000)
    // The ledger is usable afterwards.
    expect(await (await a.page('p')).sync()).toEqual(ZERO)
  }, 40_000)
})

describe('acceptance / sync API: a hostile peer is dropped; the server and its other peers go on', () => {
  it('the raw client speaks the protocol: a well-formed pull is answered (so the violations below are real)', async () => {
    const { url } = await victimServer()
    const raw = await RawClient.open(url)
    await raw.handshake()
    raw.sendSession({ t: 'pull', id: 1, page: utf8('p'), have: [] })
    let last: Msg
    do last = await raw.nextOf('commits')
    while (last['more'] === true)
    expect(last['re']).toBe(1)
    expect(Array.isArray(last['heads'])).toBe(true)
    expect((last['heads'] as unknown[]).length).toBe(1)
    expect(raw.isClosed).toBe(false)
  })

  const violations: [string, (raw: RawClient) => void][] = [
    ['a frame that is not dag-cbor', (raw) => raw.sendRaw(new Uint8Array([0xff, 0x00, 0x13, 0x37]))],
    ['a text frame', (raw) => raw.sendRaw('{"t":"pull"}')],
    ['a message that is not a map', (raw) => raw.sendRaw(dagCbor.encode('pull'))],
    ['a cbor array', (raw) => raw.sendRaw(dagCbor.encode(['pull', 1]))],
    ['a message without t', (raw) => raw.sendSession({ id: 1 })],
    ['an unknown message type', (raw) => raw.sendSession({ t: 'bogus' })],
    ['a frame out of sequence', (raw) => raw.send({ t: 'heads', s: 7, pages: [] })],
    ['a response to no pending request', (raw) => raw.sendSession({ t: 'done', re: 77 })],
    ['a pull with a page id that is not bytes', (raw) => raw.sendSession({ t: 'pull', id: 1, page: 'p', have: [] })],
    ['a pull with a page id over 128 bytes', (raw) => raw.sendSession({ t: 'pull', id: 1, page: new Uint8Array(200), have: [] })],
    ['a pull with a have that is not CIDs', (raw) => raw.sendSession({ t: 'pull', id: 1, page: utf8('p'), have: ['x'] })],
    ['a request with id 0', (raw) => raw.sendSession({ t: 'pull', id: 0, page: utf8('p'), have: [] })],
    ['a heads announcement that is not a list of pairs', (raw) => raw.sendSession({ t: 'heads', pages: [utf8('p')] })],
    ['a second hello after the handshake', (raw) => raw.hello()],
  ]
  for (const [name, attack] of violations) {
    it(`after the handshake, ${name} drops that peer only`, async () => {
      const { server, client, url } = await victimServer()
      const raw = await RawClient.open(url)
      await raw.handshake('raw-attacker')
      const sp = await server.page('p')
      attack(raw)
      const closed = await raw.expectDropped()
      expect(closed.code).not.toBe(1000)
      // The dropped peer is no longer connected on the server side.
      await until(async () => LedgerError.is(await sp.sync({ peers: ['raw-attacker'] }).then(() => undefined, (e: unknown) => e), 'INVALID_ARGUMENT'))
      await stillServes(server, client, 'p')
      expect(await contents(sp)).toMatchObject({ k: 'v' })
    })
  }

  it('a sync waiting on a peer that answers with garbage or hangs up rejects promptly with NETWORK_ERROR; an empty valid answer resolves', async () => {
    const { server, client, url } = await victimServer()
    const sp = await server.page('p')
    const cases: [string, (raw: RawClient, request: Msg) => void][] = [
      ['garbage', (raw) => raw.sendRaw(new Uint8Array([0xff, 0xff]))],
      ['hang up', (raw) => raw.ws.terminate()],
      ['wrong response type', (raw, req) => raw.sendSession({ t: 'blocks', re: req['id'], blocks: [], missing: [] })],
      ['answer to another id', (raw, req) => raw.sendSession({ t: 'commits', re: (req['id'] as number) + 100, items: [], blocks: [], heads: [] })],
    ]
    for (const [name, answer] of cases) {
      const raw = await RawClient.open(url)
      const id = `raw-${name.replace(/ /g, '-')}`
      await raw.handshake(id)
      const syncing = sp.sync({ mode: 'pull', peers: [id] }).then(() => 'resolved', (e: unknown) => e)
      const request = await raw.nextOf('pull')
      answer(raw, request)
      const outcome = await within(syncing, 5000, `sync after ${name}`)
      expect(LedgerError.is(outcome, 'NETWORK_ERROR'), `${name}: ${String(outcome)}`).toBe(true)
      await raw.expectDropped()
    }
    // A well-formed empty answer is accepted: the raw client really speaks the protocol.
    const good = await RawClient.open(url)
    await good.handshake('raw-good')
    const syncing = sp.sync({ mode: 'pull', peers: ['raw-good'] })
    const request = await good.nextOf('pull')
    good.sendSession({ t: 'commits', re: request['id'], items: [], blocks: [], heads: [] })
    expect(await within(syncing, 5000, 'sync with a good raw answer')).toMatchObject({ commitsReceived: 0, roundTrips: 1 })
    await stillServes(server, client, 'p')
    expect(await contents(sp)).toMatchObject({ k: 'v' })
  })

  it('a first frame over maxFrameBytes (before the handshake) drops that socket; the server goes on', async () => {
    const { server, client, url } = await victimServer({ maxFrameBytes: 4096 })
    const raw = await RawClient.open(url)
    raw.sendRaw(new Uint8Array(10_000))
    await raw.expectDropped()
    await stillServes(server, client, 'p')
  })

  it('a frame over maxFrameBytes after the handshake drops that peer; the server goes on', async () => {
    const { server, client, url } = await victimServer({ maxFrameBytes: 8192 })
    const raw = await RawClient.open(url)
    const hello = await raw.handshake()
    expect(hello['max']).toBe(8192)
    raw.sendSession({ t: 'heads', pages: [[utf8('p'), []]], pad: new Uint8Array(20_000) })
    const closed = await raw.expectDropped()
    expect(closed.code).toBe(1009)
    await stillServes(server, client, 'p')
  })

  it('garbage instead of the hello drops that socket; a legit peer connected before keeps syncing', async () => {
    const { server, client, url } = await victimServer()
    const raw = await RawClient.open(url)
    raw.sendRaw(new Uint8Array([0xa1, 0x61, 0x74, 0x01])) // {t: 1}
    await raw.expectDropped()
    const raw2 = await RawClient.open(url)
    raw2.sendSession({ t: 'pull', id: 1, page: utf8('p'), have: [] }) // skips the handshake
    await raw2.expectDropped()
    await stillServes(server, client, 'p')
  })

  it('several hostile sockets at once do not disturb a sync in progress with a legit peer', async () => {
    const { server, client, url } = await victimServer()
    const sp = await server.page('p')
    for (let i = 0; i < 200; i++) await sp.put(`key${i}`, seeded(2000, i))
    const cp = await client.page('p')
    const syncing = cp.sync({ mode: 'pull' })
    const raws = await Promise.all([0, 1, 2, 3].map(() => RawClient.open(url)))
    raws[0]!.sendRaw(new Uint8Array([0xff]))
    raws[1]!.sendRaw('text')
    await raws[2]!.handshake('r2')
    raws[2]!.sendSession({ t: 'bogus' })
    raws[3]!.sendRaw(new Uint8Array(64))
    await Promise.all(raws.map((r) => r.expectDropped()))
    const stats = await within(syncing, 15_000, 'legit pull during attacks')
    expect(stats.commitsReceived).toBe(201)
    expect(Object.keys(await contents(cp))).toHaveLength(201)
  })
})
