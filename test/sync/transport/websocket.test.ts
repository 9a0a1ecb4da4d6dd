import * as fc from 'fast-check'
import { createServer, type Server } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { WebSocket } from 'ws'
import { LedgerError } from '../../../src/errors/index.js'
import { handshake } from '../../../src/sync/handshake.js'
import {
  connectWebSocket,
  listenWebSocket,
  type ListenWebSocketOptions,
  type Transport,
  type WebSocketListener,
} from '../../../src/sync/transport/index.js'
import { bytes, closedWith, collect, transportSuite } from './suite.js'

/** A server whose accepted transports land in `accepted` (and resolve `next()`). */
async function serve(options: Partial<ListenWebSocketOptions> = {}): Promise<{ server: WebSocketListener; next(): Promise<Transport> }> {
  const waiting: ((t: Transport) => void)[] = []
  const accepted: Transport[] = []
  const server = await listenWebSocket({
    ...options,
    onTransport: (t) => {
      const waiter = waiting.shift()
      if (waiter) waiter(t)
      else accepted.push(t)
    },
  })
  onTestFinished(() => server.close())
  return {
    server,
    next: () => {
      const t = accepted.shift()
      return t ? Promise.resolve(t) : new Promise((resolve) => waiting.push(resolve))
    },
  }
}

async function connect(url: string, options: { maxFrameBytes?: number; timeoutMs?: number } = {}): Promise<Transport> {
  const t = await connectWebSocket(url, options)
  onTestFinished(() => t.close())
  return t
}

/** A raw `ws` client, to send what our transport never would. */
async function rawClient(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url)
  ws.on('error', () => {})
  onTestFinished(() => ws.terminate())
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  return ws
}

function rawClosed(ws: WebSocket): Promise<number> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve(-1)
  return new Promise((resolve) => ws.once('close', resolve))
}

async function expectRejectCode(promise: Promise<unknown>, code: string): Promise<LedgerError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(LedgerError.is(err)).toBe(true)
  expect((err as LedgerError).code).toBe(code)
  return err as LedgerError
}

transportSuite('WebSocket', async () => {
  const waiting: ((t: Transport) => void)[] = []
  const server = await listenWebSocket({ onTransport: (t) => waiting.shift()?.(t) })
  const accepted = new Promise<Transport>((resolve) => waiting.push(resolve))
  const a = await connectWebSocket(server.url)
  return { a, b: await accepted, cleanup: () => server.close() }
})

describe('listenWebSocket / connectWebSocket', () => {
  it('listens on 127.0.0.1 and a free port by default', async () => {
    const { server } = await serve()
    expect(server.port).toBeGreaterThan(0)
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}`)
  })

  it('server close() closes every client and frees the port', async () => {
    const { server, next } = await serve()
    const c1 = await connect(server.url)
    const c2 = await connect(server.url)
    await next()
    await next()
    const closed1 = closedWith(c1)
    const closed2 = closedWith(c2)
    await server.close()
    expect((await closed1)?.code).toBe('NETWORK_ERROR')
    expect((await closed2)?.code).toBe('NETWORK_ERROR')
    await expect(server.close()).resolves.toBeUndefined()
    await expectRejectCode(connectWebSocket(server.url, { timeoutMs: 2000 }), 'NETWORK_ERROR')
    // the port is free again
    const again = await listenWebSocket({ port: server.port, onTransport: () => {} })
    await again.close()
  })

  it('connect to a closed port rejects with NETWORK_ERROR, fast', async () => {
    const probe = await listenWebSocket({ onTransport: () => {} })
    await probe.close()
    const started = Date.now()
    await expectRejectCode(connectWebSocket(probe.url), 'NETWORK_ERROR')
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('bad URLs reject with NETWORK_ERROR', async () => {
    for (const url of ['not a url', 'http://127.0.0.1:1', 'ws://', '']) {
      await expectRejectCode(connectWebSocket(url), 'NETWORK_ERROR')
    }
  })

  it('a server that never answers the upgrade times out with NETWORK_ERROR', async () => {
    const sockets: import('node:net').Socket[] = []
    const silent: Server = createServer((socket) => {
      sockets.push(socket)
      socket.on('error', () => {})
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    onTestFinished(async () => {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => silent.close(resolve))
    })
    const address = silent.address()
    const port = typeof address === 'object' && address ? address.port : 0
    const started = Date.now()
    const err = await expectRejectCode(connectWebSocket(`ws://127.0.0.1:${port}`, { timeoutMs: 200 }), 'NETWORK_ERROR')
    expect(Date.now() - started).toBeLessThan(2000)
    expect(err.message).toMatch(/timed out|cannot connect/)
  })

  it('listening on a port in use rejects with NETWORK_ERROR', async () => {
    const { server } = await serve()
    await expectRejectCode(listenWebSocket({ port: server.port, onTransport: () => {} }), 'NETWORK_ERROR')
  })

  it('an oversize frame drops only that peer; the server and other peers go on', async () => {
    const { server, next } = await serve({ maxFrameBytes: 1024 })
    const big = await connect(server.url)
    const bigAtServer = await next()
    const good = await connect(server.url)
    const goodAtServer = await next()

    const bigClosed = closedWith(big)
    const serverSideClosed = closedWith(bigAtServer)
    big.send(new Uint8Array(1025))
    const atServer = await serverSideClosed
    expect(atServer?.code).toBe('NETWORK_ERROR')
    expect(atServer?.data).toMatchObject({ reason: 'frame-too-large', max: 1024 })
    expect((await bigClosed)?.code).toBe('NETWORK_ERROR')

    const echo = collect(goodAtServer, 1)
    good.send(new Uint8Array(1024).fill(1))
    expect(await echo).toEqual([new Uint8Array(1024).fill(1)])
    const third = await connect(server.url)
    const thirdAtServer = await next()
    const got = collect(third, 1)
    thirdAtServer.send(bytes(3))
    expect(await got).toEqual([bytes(3)])
  })

  it('the client enforces its own maxFrameBytes too', async () => {
    const { server, next } = await serve()
    const client = await connect(server.url, { maxFrameBytes: 100 })
    const atServer = await next()
    const clientClosed = closedWith(client)
    atServer.send(new Uint8Array(101))
    expect((await clientClosed)?.data).toMatchObject({ reason: 'frame-too-large' })
  })

  it('a text frame is a protocol violation: that peer is dropped', async () => {
    const { server, next } = await serve()
    const ws = await rawClient(server.url)
    const atServer = await next()
    const closed = closedWith(atServer)
    const rawClose = rawClosed(ws)
    ws.send('hello')
    const err = await closed
    expect(err?.code).toBe('NETWORK_ERROR')
    expect(err?.data).toMatchObject({ reason: 'protocol-violation' })
    expect(await rawClose).toBe(1002)
  })

  it('a throwing or rejecting onTransport closes that connection only', async () => {
    let calls = 0
    const server = await listenWebSocket({
      onTransport: (t) => {
        calls++
        if (calls === 1) throw new Error('handler bug')
        if (calls === 2) return Promise.reject(new Error('async handler bug'))
        t.send(bytes(42))
        return undefined
      },
    })
    onTestFinished(() => server.close())
    const first = await connect(server.url)
    expect((await closedWith(first))?.code).toBe('NETWORK_ERROR')
    const second = await connect(server.url)
    expect((await closedWith(second))?.code).toBe('NETWORK_ERROR')
    const third = await connect(server.url)
    expect(await collect(third, 1)).toEqual([bytes(42)])
  })

  it('random bytes as a handshake close the connection cleanly, never crash the server', async () => {
    const failures: unknown[] = []
    const server = await listenWebSocket({
      onTransport: (t) => {
        handshake(t, { role: 'server', replicaId: 'server', token: 'secret', timeoutMs: 5000 }).then(
          () => failures.push(new Error('handshake accepted garbage')),
          (err: unknown) => {
            if (!LedgerError.is(err, 'NETWORK_ERROR')) failures.push(err)
          },
        )
      },
    })
    onTestFinished(() => server.close())
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 3 }), async (frames) => {
        const ws = await rawClient(server.url)
        const closed = rawClosed(ws)
        for (const frame of frames) ws.send(frame)
        const code = await closed
        expect([1002, 4000, 1005, 1006]).toContain(code)
      }),
      { numRuns: 40 },
    )
    expect(failures).toEqual([])
    // still serving
    const t = await connect(server.url)
    await expect(handshake(t, { role: 'client', replicaId: 'client', token: 'secret' })).resolves.toMatchObject({
      remoteReplicaId: 'server',
    })
  })
})
