import * as dagCbor from '@ipld/dag-cbor'
import * as fc from 'fast-check'
import { describe, expect, it, onTestFinished } from 'vitest'
import { LedgerError } from '../../../src/errors/index.js'
import { handshake, PROTOCOL_VERSION, type HandshakeOptions } from '../../../src/sync/handshake.js'
import { connectWebSocket, createMemoryLink, listenWebSocket, type Transport } from '../../../src/sync/transport/index.js'
import { bytes, collect, type TransportPair } from './suite.js'

/** a = client end, b = server end. */
const factories: Record<string, () => Promise<TransportPair>> = {
  memory: async () => {
    const [a, b] = createMemoryLink()
    return { a, b }
  },
  websocket: async () => {
    let accept: (t: Transport) => void = () => {}
    const accepted = new Promise<Transport>((resolve) => {
      accept = resolve
    })
    const server = await listenWebSocket({ onTransport: (t) => accept(t) })
    const a = await connectWebSocket(server.url)
    return { a, b: await accepted, cleanup: () => server.close() }
  },
}

async function open(kind: string): Promise<TransportPair> {
  const pair = await factories[kind]!()
  onTestFinished(async () => {
    await Promise.all([pair.a.close(), pair.b.close()])
    await pair.cleanup?.()
  })
  return pair
}

/** Records every frame a transport sends. */
function tap(t: Transport, frames: Uint8Array[]): Transport {
  return {
    send: (frame) => {
      frames.push(new Uint8Array(frame))
      t.send(frame)
    },
    onMessage: (l) => t.onMessage(l),
    onClose: (l) => t.onClose(l),
    close: (err) => t.close(err),
    get closed() {
      return t.closed
    },
  }
}

type Outcome = { ok: true; value: Awaited<ReturnType<typeof handshake>> } | { ok: false; err: unknown }

function settle(p: Promise<Awaited<ReturnType<typeof handshake>>>): Promise<Outcome> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (err: unknown) => ({ ok: false as const, err }),
  )
}

function codeOf(outcome: Outcome): string | undefined {
  return outcome.ok ? undefined : LedgerError.is(outcome.err) ? outcome.err.code : `not a LedgerError: ${String(outcome.err)}`
}

async function both(pair: TransportPair, client: Partial<HandshakeOptions>, server: Partial<HandshakeOptions>): Promise<[Outcome, Outcome]> {
  return Promise.all([
    settle(handshake(pair.a, { role: 'client', replicaId: 'replica-client', ...client })),
    settle(handshake(pair.b, { role: 'server', replicaId: 'replica-server', ...server })),
  ])
}

function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).includes(Buffer.from(needle))
}

const encoder = new TextEncoder()

for (const kind of Object.keys(factories)) {
  describe(`handshake over ${kind}`, () => {
    it('succeeds without tokens and reports ids, version, frame limits', async () => {
      const pair = await open(kind)
      const [c, s] = await both(pair, { maxFrameBytes: 5000 }, {})
      expect(c).toEqual({
        ok: true,
        value: { remoteReplicaId: 'replica-server', version: PROTOCOL_VERSION, authenticated: false, remoteMaxFrameBytes: 16 * 1024 * 1024 },
      })
      expect(s).toEqual({
        ok: true,
        value: { remoteReplicaId: 'replica-client', version: PROTOCOL_VERSION, authenticated: false, remoteMaxFrameBytes: 5000 },
      })
      expect(pair.a.closed || pair.b.closed).toBe(false)
    })

    it('succeeds with the same token on both sides: mutual proof', async () => {
      const pair = await open(kind)
      const [c, s] = await both(pair, { token: 'correct horse' }, { token: 'correct horse' })
      expect(c.ok && c.value.authenticated).toBe(true)
      expect(s.ok && s.value.authenticated).toBe(true)
    })

    it('never puts the token on the wire', async () => {
      const pair = await open(kind)
      const token = 'super-secret-token-\u00e9\u{1f511}'
      const frames: Uint8Array[] = []
      const [c, s] = await Promise.all([
        settle(handshake(tap(pair.a, frames), { role: 'client', replicaId: 'c', token })),
        settle(handshake(tap(pair.b, frames), { role: 'server', replicaId: 's', token })),
      ])
      expect(c.ok && s.ok).toBe(true)
      expect(frames.length).toBe(4)
      const needles = [encoder.encode(token), encoder.encode('super-secret'), Buffer.from(token).toString('base64'), Buffer.from(token).toString('hex')]
      for (const frame of frames) {
        for (const needle of needles) {
          expect(containsBytes(frame, typeof needle === 'string' ? encoder.encode(needle) : needle)).toBe(false)
        }
      }
    })

    it('wrong token: the client gets UNAUTHORIZED, the server refuses and sees the failure', async () => {
      const pair = await open(kind)
      const frames: Uint8Array[] = []
      const [c, s] = await Promise.all([
        settle(handshake(pair.a, { role: 'client', replicaId: 'c', token: 'wrong' })),
        settle(handshake(tap(pair.b, frames), { role: 'server', replicaId: 's', token: 'right' })),
      ])
      expect(codeOf(c)).toBe('UNAUTHORIZED')
      expect(codeOf(s)).toBe('UNAUTHORIZED')
      expect(pair.a.closed && pair.b.closed).toBe(true)
      // the server said so explicitly, and sent nothing but its hello and the refusal
      const sent = frames.map((f) => dagCbor.decode<{ t: string; reason?: string }>(f))
      expect(sent.map((m) => m.t)).toEqual(['hello', 'reject'])
      expect(sent[1]?.reason).toBe('unauthorized')
    })

    it('missing token: the client gets UNAUTHORIZED', async () => {
      const pair = await open(kind)
      const [c, s] = await both(pair, {}, { token: 'right' })
      expect(codeOf(c)).toBe('UNAUTHORIZED')
      expect(codeOf(s)).toBe('UNAUTHORIZED')
    })

    it('a client with a token accepts a token-less server (unauthenticated)', async () => {
      const pair = await open(kind)
      const [c, s] = await both(pair, { token: 'mine' }, {})
      expect(c.ok && c.value.authenticated).toBe(false)
      expect(s.ok && s.value.authenticated).toBe(false)
    })

    it('frames the peer sends right after the handshake are kept for the next listener', async () => {
      const pair = await open(kind)
      const server = handshake(pair.b, { role: 'server', replicaId: 's', token: 't' }).then(() => {
        pair.b.send(bytes(1))
        pair.b.send(bytes(2))
      })
      await handshake(pair.a, { role: 'client', replicaId: 'c', token: 't' })
      await server
      await new Promise((r) => setTimeout(r, 30))
      expect(await collect(pair.a, 2)).toEqual([bytes(1), bytes(2)])
    })

    it('times out with NETWORK_ERROR when the peer says nothing', async () => {
      const pair = await open(kind)
      const started = Date.now()
      const outcome = await settle(handshake(pair.a, { role: 'client', replicaId: 'c', timeoutMs: 100 }))
      expect(codeOf(outcome)).toBe('NETWORK_ERROR')
      expect(!outcome.ok && (outcome.err as LedgerError).data).toMatchObject({ reason: 'timeout' })
      expect(Date.now() - started).toBeLessThan(2000)
      expect(pair.a.closed).toBe(true)
    })
  })
}

describe('handshake against a hand-written peer', () => {
  function hello(role: 'client' | 'server', extra: Record<string, unknown> = {}): Uint8Array {
    return dagCbor.encode({ t: 'hello', v: PROTOCOL_VERSION, role, id: 'fake', nonce: new Uint8Array(32), max: 1000, ...(role === 'server' ? { auth: false } : {}), ...extra })
  }

  it('version mismatch: NETWORK_ERROR with a clear message, a reject sent, link closed', async () => {
    const [a, b] = createMemoryLink()
    b.send(hello('server', { v: 2 }))
    const outcome = await settle(handshake(a, { role: 'client', replicaId: 'c' }))
    expect(codeOf(outcome)).toBe('NETWORK_ERROR')
    const err = (outcome as { err: LedgerError }).err
    expect(err.message).toMatch(/version mismatch.*version 1.*version 2/)
    expect(err.data).toMatchObject({ reason: 'version-mismatch', local: 1, remote: 2 })
    expect(a.closed).toBe(true)
    await b.close()
  })

  it('version mismatch over WebSocket: the peer receives the reject before the close', async () => {
    let accept: (t: Transport) => void = () => {}
    const accepted = new Promise<Transport>((resolve) => {
      accept = resolve
    })
    const server = await listenWebSocket({ onTransport: (t) => accept(t) })
    onTestFinished(() => server.close())
    const client = await connectWebSocket(server.url)
    const serverSide = await accepted
    const outcome = settle(handshake(serverSide, { role: 'server', replicaId: 's' }))
    const received = collect(client, 2)
    client.send(hello('client', { v: 7 }))
    const [serverHello, reject] = (await received).map((f) => dagCbor.decode<Record<string, unknown>>(f))
    expect(serverHello).toMatchObject({ t: 'hello', v: 1, role: 'server', id: 's', auth: false })
    expect(reject).toMatchObject({ t: 'reject', reason: 'version', v: 1 })
    expect((await outcome).ok).toBe(false)
    // a v7 client reading that reject learns the mismatch
    expect(codeOf(await outcome)).toBe('NETWORK_ERROR')
  })

  it('a server that claims a token but cannot prove it is refused by the client', async () => {
    const [a, b] = createMemoryLink()
    onTestFinished(() => a.close())
    b.onMessage((frame) => {
      const message = dagCbor.decode<{ t: string }>(frame)
      if (message.t === 'auth') b.send(dagCbor.encode({ t: 'welcome', mac: new Uint8Array(32) }))
    })
    b.send(hello('server', { auth: true }))
    const outcome = await settle(handshake(a, { role: 'client', replicaId: 'c', token: 'secret' }))
    expect(codeOf(outcome)).toBe('UNAUTHORIZED')
  })

  it('two clients (or two servers) refuse each other', async () => {
    const [a, b] = createMemoryLink()
    const [x, y] = await Promise.all([
      settle(handshake(a, { role: 'client', replicaId: 'a' })),
      settle(handshake(b, { role: 'client', replicaId: 'b' })),
    ])
    expect(codeOf(x)).toBe('NETWORK_ERROR')
    expect(codeOf(y)).toBe('NETWORK_ERROR')
  })

  it('bad options reject with INVALID_ARGUMENT', async () => {
    for (const options of [
      { role: 'peer', replicaId: 'a' },
      { role: 'client', replicaId: '' },
      { role: 'client', replicaId: 'x'.repeat(257) },
      { role: 'client', replicaId: 'a', token: '' },
      { role: 'client', replicaId: 'a', timeoutMs: -1 },
    ]) {
      const [a] = createMemoryLink()
      const outcome = await settle(handshake(a, options as HandshakeOptions))
      expect(codeOf(outcome)).toBe('INVALID_ARGUMENT')
    }
  })

  it('a closed transport rejects with NETWORK_ERROR', async () => {
    const [a] = createMemoryLink()
    await a.close()
    expect(codeOf(await settle(handshake(a, { role: 'client', replicaId: 'a' })))).toBe('NETWORK_ERROR')
  })

  it('the peer closing mid-handshake rejects with NETWORK_ERROR', async () => {
    const [a, b] = createMemoryLink()
    const outcome = settle(handshake(a, { role: 'client', replicaId: 'a' }))
    await b.close()
    expect(codeOf(await outcome)).toBe('NETWORK_ERROR')
  })

  // Arbitrary messages in place of the peer's: well-formed CBOR with the right and wrong fields.
  const anyValue = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 80 }),
    fc.array(fc.integer(), { maxLength: 3 }),
  )
  const anyMessage = fc.record(
    {
      t: fc.oneof(fc.constantFrom('hello', 'auth', 'welcome', 'reject'), anyValue),
      v: fc.oneof(fc.constant(PROTOCOL_VERSION), anyValue),
      role: fc.oneof(fc.constantFrom('client', 'server'), anyValue),
      id: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), anyValue),
      nonce: fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), anyValue),
      max: fc.oneof(fc.integer({ min: 1, max: 1 << 20 }), anyValue),
      auth: fc.oneof(fc.boolean(), anyValue),
      mac: fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), anyValue),
      reason: fc.oneof(fc.constantFrom('unauthorized', 'version'), anyValue),
      message: anyValue,
    },
    { requiredKeys: [] },
  )
  const anyFrame = fc.oneof(
    anyMessage.map((m) => dagCbor.encode(m)),
    fc.uint8Array({ maxLength: 200 }),
    anyValue.map((v) => dagCbor.encode(v)),
  )

  it('arbitrary peer frames end in a LedgerError and a closed link, never a crash or a hang', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('client', 'server'), fc.boolean(), fc.array(anyFrame, { minLength: 0, maxLength: 3 }), async (role, withToken, frames) => {
        const [a, b] = createMemoryLink()
        const outcome = settle(handshake(a, { role: role as 'client' | 'server', replicaId: 'me', timeoutMs: 50, ...(withToken ? { token: 'tok' } : {}) }))
        for (const frame of frames) b.send(frame)
        const result = await outcome
        if (result.ok) {
          // only a well-formed exchange with a token-less side can succeed
          expect(withToken && role === 'server').toBe(false)
        } else {
          expect(LedgerError.is(result.err)).toBe(true)
          expect(['NETWORK_ERROR', 'UNAUTHORIZED']).toContain((result.err as LedgerError).code)
          expect(a.closed).toBe(true)
        }
        await b.close()
      }),
      { numRuns: 100 },
    )
  })

  it('survives a fault-injected link after faultsAfter lets the handshake through', async () => {
    const [a, b] = createMemoryLink({ dropRate: 0.5, duplicateRate: 0.5, seed: 9, faultsAfter: 2 })
    onTestFinished(() => a.close())
    const [c, s] = await both({ a, b }, { token: 'x' }, { token: 'x' })
    expect(c.ok && s.ok).toBe(true)
  })
})
