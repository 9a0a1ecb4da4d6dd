/** Helpers of the black-box sync API tests (test/acceptance/sync-*.test.ts): servers, hostile peers, stats. */
import * as dagCbor from '@ipld/dag-cbor'
import { randomBytes } from 'node:crypto'
import { type Server as HttpServer } from 'node:http'
import { type Server as TcpServer } from 'node:net'
import { expect, onTestFinished } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { Ledger, LedgerError, connectInMemory, type Page, type SyncStats } from 'dagkv'
import { collect, str } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { within } from '../helpers/timing.js'

export { within }

// helpers

export const ZERO: SyncStats = { commitsSent: 0, commitsReceived: 0, blocksSent: 0, blocksReceived: 0, bytesSent: 0, bytesReceived: 0, roundTrips: 0 }
export const STAT_FIELDS = Object.keys(ZERO).sort()

/** A ledger with autoSync on, closed after the test. */
export const autoLedger = (): Promise<Ledger> => memoryLedger({ autoSync: true })

/** The error `fn` throws or its promise rejects with (fails when it succeeds). */
export async function failureOf(fn: () => unknown, ms = 15_000): Promise<unknown> {
  let value: unknown
  try {
    value = await within(Promise.resolve().then(fn), ms, 'call')
  } catch (err) {
    if (err instanceof Error && err.message.includes('(hang)')) throw err
    return err
  }
  throw new Error(`expected a failure, got a success (${String(value)})`)
}

/** Asserts `fn` fails with a LedgerError whose code is one of `codes`. */
export async function expectCode(fn: () => unknown, ...codes: string[]): Promise<LedgerError> {
  const err = await failureOf(fn)
  expect(err instanceof LedgerError, `expected LedgerError ${codes.join('|')}, got ${String(err)}`).toBe(true)
  expect(err instanceof Error).toBe(true)
  expect(codes, `got code ${(err as LedgerError).code}: ${(err as Error).message}`).toContain((err as LedgerError).code)
  return err as LedgerError
}

/** A page's contents as a plain object (values as strings; lazy values not here as null). */
export async function contents(page: Page): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {}
  for (const e of await collect((await page.snapshot()).entries())) out[str(e.key)!] = e.value === undefined ? null : str(e.value)!
  return out
}

export const headOf = async (page: Page): Promise<string> => (await page.snapshot()).commitId
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

export { seeded } from '../sync/helpers.js'

export function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}

export function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).indexOf(Buffer.from(needle)) >= 0
}

/** A listener on 127.0.0.1 closed after the test. */
export async function serve(ledger: Ledger, options: { token?: string; maxFrameBytes?: number } = {}): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const listener = await ledger.listen({ host: '127.0.0.1', port: 0, ...options })
  onTestFinished(() => listener.close())
  return listener
}

/** `client.connect(url)`, the peer closed after the test. */
export async function dial(client: Ledger, url: string, token?: string): Promise<{ id: string; close(): Promise<void> }> {
  const peer = await client.connect(url, token === undefined ? undefined : { token })
  onTestFinished(() => peer.close())
  return peer
}

export function link(a: Ledger, b: Ledger): { close(): Promise<void> } {
  const l = connectInMemory(a, b)
  onTestFinished(() => l.close())
  return l
}

export type Msg = Record<string, unknown> & { t?: unknown }

/** A hand-driven WebSocket client speaking (or abusing) the wire protocol. */
export class RawClient {
  readonly frames: Uint8Array[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  #seq = 0
  #cursor = 0
  #waiters: (() => void)[] = []

  private constructor(readonly ws: WebSocket) {
    ws.on('error', () => undefined)
    ws.on('message', (data: Buffer) => {
      this.frames.push(new Uint8Array(data))
      for (const w of this.#waiters.splice(0)) w()
    })
    this.closed = new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => {
      resolve({ code, reason: reason.toString() })
      for (const w of this.#waiters.splice(0)) w()
    }))
  }

  static async open(url: string): Promise<RawClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    const client = new RawClient(ws)
    onTestFinished(() => ws.terminate())
    await within(new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    }), 5000, 'raw client open')
    return client
  }

  get isClosed(): boolean {
    return this.ws.readyState === WebSocket.CLOSED || this.ws.readyState === WebSocket.CLOSING
  }

  sendRaw(data: Uint8Array | string): void {
    this.ws.send(data, { binary: typeof data !== 'string' })
  }

  send(message: Msg): void {
    this.sendRaw(dagCbor.encode(message))
  }

  /** A session message: adds the sequence number. */
  sendSession(message: Msg): void {
    this.send({ ...message, s: this.#seq++ })
  }

  /** The next decoded frame, or undefined when the socket closed first. */
  async next(ms = 5000): Promise<Msg | undefined> {
    const deadline = Date.now() + ms
    while (this.#cursor >= this.frames.length) {
      if (this.isClosed) return undefined
      if (Date.now() > deadline) throw new Error('raw client: no frame in time')
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve)
        setTimeout(resolve, 50)
      })
    }
    return dagCbor.decode(this.frames[this.#cursor++]!) as Msg
  }

  /** The next frame of type `t` (skipping others, e.g. announcements). */
  async nextOf(t: string, ms = 5000): Promise<Msg> {
    for (;;) {
      const m = await this.next(ms)
      if (m === undefined) throw new Error(`raw client: closed while waiting for ${t}`)
      if (m.t === t) return m
    }
  }

  hello(id = 'raw-client'): void {
    this.send({ t: 'hello', v: 1, role: 'client', id, nonce: new Uint8Array(randomBytes(32)), max: 16 * 1024 * 1024 })
  }

  /** The full handshake against a token-less server. */
  async handshake(id = 'raw-client'): Promise<Msg> {
    this.hello(id)
    const hello = await this.next()
    expect(hello?.t).toBe('hello')
    this.send({ t: 'auth' })
    const welcome = await this.next()
    expect(welcome?.t).toBe('welcome')
    return hello!
  }

  async expectDropped(ms = 5000): Promise<{ code: number; reason: string }> {
    return within(this.closed, ms, 'server dropping the raw peer')
  }
}

/** A hostile WebSocket server: `onConnection` decides what each accepted socket gets. */
export async function hostileServer(onConnection: (ws: WebSocket) => void): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  wss.on('connection', (ws) => {
    ws.on('error', () => undefined)
    onConnection(ws)
  })
  onTestFinished(async () => {
    for (const c of wss.clients) c.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
  })
  const address = wss.address()
  return `ws://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
}

export function serverHello(extra: Msg = {}): Uint8Array {
  return dagCbor.encode({ t: 'hello', v: 1, role: 'server', id: 'hostile', nonce: new Uint8Array(randomBytes(32)), max: 16 * 1024 * 1024, auth: false, ...extra })
}

export async function listening(server: HttpServer | TcpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const address = server.address()
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return typeof address === 'object' && address !== null ? address.port : 0
}

/** Asserts the server side still works: the legit peer's push of a new commit goes through. */
export async function stillServes(server: Ledger, client: Ledger, pageName: string): Promise<void> {
  const page = await client.page(pageName)
  await page.put(`alive-${Date.now()}-${Math.random()}`, 'yes')
  const stats = await within(page.sync({ mode: 'push' }), 10_000, 'push after the attack')
  expect(stats.commitsSent).toBe(1)
  expect(stats.roundTrips).toBe(1)
  // A brand-new connection is accepted too.
  const fresh = await memoryLedger()
  const listenerUrl = (serverUrls.get(server) as string)
  const peer = await dial(fresh, listenerUrl)
  expect(peer.id).toBe(server.replicaId)
  const pulled = await (await fresh.page(pageName)).sync({ mode: 'pull' })
  expect(pulled.commitsReceived).toBeGreaterThanOrEqual(1)
}
export const serverUrls = new WeakMap<Ledger, string>()

/** A server ledger with one page of data, a listener, and a legit client connected before the attack. */
export async function victimServer(options: { token?: string; maxFrameBytes?: number } = {}): Promise<{ server: Ledger; url: string; client: Ledger; clientPeer: { id: string } }> {
  const server = await memoryLedger()
  await (await server.page('p')).put('k', 'v')
  const listener = await serve(server, options)
  serverUrls.set(server, listener.url)
  const client = await memoryLedger()
  const clientPeer = await dial(client, listener.url, options.token)
  return { server, url: listener.url, client, clientPeer }
}

