import PQueue from 'p-queue'
import { toHex, type CID } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import type { Engine, Listener, ListenOptions, Network, PageSyncState, Peer, SyncMode, SyncStats } from '../ledger/index.js'
import { Announcer, realHeads } from './announcer.js'
import { SyncContext, type SyncTuning } from './context.js'
import { dispatch, type DispatchTarget } from './dispatch.js'
import { handshake } from './handshake.js'
import { KeyedLock } from './keyed-lock.js'
import { PeerFetcher } from './peer-fetcher.js'
import { pullFrom } from './pull.js'
import { DEFAULT_TIMEOUT_MS, Session } from './session.js'
import { SyncStates } from './sync-states.js'
import { Tally } from './tally.js'
import { connectWebSocket, listenWebSocket, protocolViolation, type Transport } from './transport/index.js'

/** Automatic pulls in flight at once. */
const AUTO_PULL_CONCURRENCY = 8

/** How a transport joins the network: which handshake role, with which token and frame limit. */
export interface AttachOptions {
  role: 'client' | 'server'
  token?: string | undefined
  maxFrameBytes?: number | undefined
  /** Whether `sync` calls wait for this connection's handshake (in-memory links, which return at once). */
  awaited?: boolean | undefined
}

/**
 * A ledger's sync layer: its sessions with peers (WebSocket, in-memory), the listeners serving
 * it, pulls and pushes per page, live announcements (autoSync), sync state, and the fetcher of
 * lazy values. See docs/sync-protocol.md for the wire protocol and docs/sync.md for behaviour.
 */
export class SyncNetwork implements Network, DispatchTarget {
  readonly ctx: SyncContext
  readonly fetcher: PeerFetcher
  readonly #engine: Engine
  readonly #states = new SyncStates()
  readonly #autoSync: boolean
  #timeoutMs: number
  readonly #sessions = new Set<Session>()
  readonly #connecting = new Set<Promise<unknown>>()
  /** Transports still in their handshake: `close` cuts them, so a silent peer cannot hold it up. */
  readonly #handshaking = new Set<Transport>()
  /** Outgoing connections still opening their socket: `close` aborts them (they reject CLOSED). */
  readonly #dials = new Set<AbortController>()
  readonly #closers = new Set<() => Promise<void>>()
  readonly #pullLock = new KeyedLock()
  readonly #autoPulls = new WeakMap<Session, Map<string, { again: boolean }>>()
  /** Automatic pulls (after announcements) run a few at a time, whatever the number of pages. */
  readonly #autoQueue = new PQueue({ concurrency: AUTO_PULL_CONCURRENCY })
  readonly #announcer: Announcer | undefined
  #closed = false

  constructor(engine: Engine, options: { autoSync: boolean } & SyncTuning) {
    this.#engine = engine
    this.#autoSync = options.autoSync
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.ctx = new SyncContext(engine, this.#states, options, (s, p, t, f) => this.pull(s, p, t, f))
    this.fetcher = new PeerFetcher(() => this.#ready())
    engine.values.fetcher = this.fetcher
    this.#announcer = options.autoSync ? new Announcer(engine, this.#states, () => this.#open()) : undefined
  }

  /** @internal Changes tuning knobs (tests, benchmarks); applies to sessions opened afterwards. */
  tune(tuning: SyncTuning): void {
    if (tuning.timeoutMs !== undefined) this.#timeoutMs = tuning.timeoutMs
    if (tuning.nodeMode !== undefined) this.ctx.nodeMode = tuning.nodeMode
  }

  /** Open sessions (for tests and the in-memory link). */
  get sessions(): Session[] {
    return this.#open()
  }

  async listen(options: ListenOptions): Promise<Listener> {
    this.#assertOpen()
    const token = options.token
    const maxFrameBytes = options.maxFrameBytes
    const server = await listenWebSocket({
      host: options.host,
      port: options.port,
      maxFrameBytes,
      onTransport: async (transport) => {
        await this.attach(transport, { role: 'server', token, maxFrameBytes })
      },
    })
    const close = (): Promise<void> => {
      this.#closers.delete(close)
      return server.close()
    }
    this.#closers.add(close)
    if (this.#closed) {
      await close()
      throw LedgerError.closed('ledger')
    }
    return { url: server.url, port: server.port, close }
  }

  async connect(url: string, options: { token?: string }): Promise<Peer> {
    this.#assertOpen()
    const dial = new AbortController()
    this.#dials.add(dial)
    let transport: Transport
    try {
      transport = await connectWebSocket(url, { signal: dial.signal })
    } finally {
      this.#dials.delete(dial)
    }
    // Not `awaited`: the caller holds this peer only once connect resolves, and an unrelated
    // sync must not wait out a slow or silent server's handshake.
    const session = await this.attach(transport, { role: 'client', token: options.token })
    return { id: session.remoteId, close: () => session.close() }
  }

  /** Runs the handshake on a fresh transport, then opens a session on it. */
  attach(transport: Transport, options: AttachOptions): Promise<Session> {
    if (this.#closed) {
      void transport.close()
      return Promise.reject(LedgerError.closed('ledger'))
    }
    this.#handshaking.add(transport)
    const task = (async () => {
      let result: Awaited<ReturnType<typeof handshake>>
      try {
        result = await handshake(transport, {
          role: options.role,
          replicaId: this.#engine.replicaId,
          token: options.token,
          maxFrameBytes: options.maxFrameBytes,
        })
      } catch (err) {
        // `close` cut this handshake short: the caller learns the ledger closed, not a network error.
        throw this.#closed ? LedgerError.closed('ledger') : err
      } finally {
        this.#handshaking.delete(transport)
      }
      if (this.#closed) {
        await transport.close()
        throw LedgerError.closed('ledger')
      }
      return this.#start(transport, result.remoteReplicaId, result.remoteMaxFrameBytes)
    })()
    if (options.awaited) {
      this.#connecting.add(task)
      void task.then(
        () => this.#connecting.delete(task),
        () => this.#connecting.delete(task),
      )
    }
    return task
  }

  /** Registers something to close with the network (an in-memory link); returns its removal. */
  track(close: () => Promise<void>): () => void {
    this.#closers.add(close)
    return () => this.#closers.delete(close)
  }

  async syncPage(pageId: Uint8Array, options: { mode: SyncMode; peers?: string[] }): Promise<SyncStats> {
    this.#assertOpen()
    let sessions = await this.#ready()
    const peers = options.peers
    if (peers !== undefined) {
      const ids = new Set(sessions.map((s) => s.remoteId))
      for (const p of peers) if (!ids.has(p)) throw LedgerError.invalidArgument(`no connected peer ${JSON.stringify(p.slice(0, 80))}`)
      sessions = sessions.filter((s) => peers.includes(s.remoteId))
    }
    const total = new Tally()
    const results = await Promise.allSettled(
      sessions.map(async (session) => {
        const tally = new Tally()
        if (options.mode !== 'push') await this.pull(session, pageId, tally)
        if (options.mode !== 'pull') await this.#push(session, pageId, tally)
        return tally
      }),
    )
    let error: unknown
    for (const r of results) {
      if (r.status === 'fulfilled') total.add(r.value)
      else error ??= r.reason
    }
    if (error !== undefined) throw error
    return total.toStats()
  }

  syncState(pageId: Uint8Array): PageSyncState {
    return this.#states.get(pageId)
  }

  onSyncState(pageId: Uint8Array, listener: (state: PageSyncState) => void): () => void {
    return this.#states.listen(pageId, listener)
  }

  /** Pulls a page from one peer; pulls of one page run one at a time, whichever peer they go to. */
  pull(session: Session, pageId: Uint8Array, tally: Tally, forId?: number): Promise<void> {
    const hex = toHex(pageId)
    return this.#pullLock.run(hex, async () => {
      const end = this.#states.begin(hex, 'download')
      try {
        await pullFrom(this.ctx, session, pageId, tally, forId)
        end(true)
      } catch (err) {
        end(false)
        throw err
      }
    })
  }

  announced(session: Session, pageId: Uint8Array, heads: CID[]): void {
    const hex = toHex(pageId)
    session.remoteHeads.set(hex, heads)
    session.announced.set(hex, heads)
    if (this.#autoSync && !this.#closed) this.#autoPull(session, pageId, hex)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#announcer?.close()
    await Promise.allSettled([...this.#closers].map((close) => close()))
    for (const dial of this.#dials) dial.abort(LedgerError.closed('ledger'))
    await Promise.allSettled([...this.#handshaking].map((t) => t.close()))
    await Promise.allSettled([...this.#sessions].map((s) => s.close()))
  }

  /** Asks the peer to pull the page (`pleasePull`) and waits until it has: one round trip. */
  async #push(session: Session, pageId: Uint8Array, tally: Tally): Promise<void> {
    const hex = toHex(pageId)
    const heads = await this.#engine.withPageState(pageId, realHeads)
    const known = session.remoteHeads.get(hex)
    if (heads.length === 0 || (known && heads.every((h) => known.some((k) => k.equals(h))))) return
    session.pages.add(hex)
    const end = this.#states.begin(hex, 'upload')
    try {
      const exchange = session.request({ t: 'pleasePull', page: pageId, heads }, tally)
      const reply = await exchange.next()
      if (reply?.t !== 'done') throw protocolViolation(`expected done, got ${String(reply?.t)}`)
      session.remoteHeads.set(hex, heads)
      end(true)
    } catch (err) {
      end(false)
      throw err
    }
  }

  /** Pulls after an announcement naming heads not stored here; coalesces repeats. */
  #autoPull(session: Session, pageId: Uint8Array, hex: string): void {
    let running = this.#autoPulls.get(session)
    if (!running) this.#autoPulls.set(session, (running = new Map()))
    const entry = running.get(hex)
    if (entry) {
      entry.again = true
      return
    }
    const mine = { again: true }
    running.set(hex, mine)
    this.#states.pending(hex, 'download', 1)
    void (async () => {
      try {
        while (mine.again && !session.closed && !this.#closed) {
          mine.again = false
          const wanted = session.announced.get(hex) ?? []
          const present = await this.#engine.store.getBlocks(wanted)
          if (present.every((b) => b !== undefined)) continue
          await this.#autoQueue.add(() => this.pull(session, pageId, new Tally()))
        }
      } catch {
        // Reported through the sync state; a peer at fault was dropped.
      } finally {
        running.delete(hex)
        this.#states.pending(hex, 'download', -1)
      }
    })()
  }

  #start(transport: Transport, remoteId: string, remoteMaxFrameBytes: number): Session {
    const session = new Session(transport, {
      remoteId,
      remoteMaxFrameBytes,
      timeoutMs: this.#timeoutMs,
      onRequest: (s, m, n) => dispatch(this, s, m, n),
      onClose: (s, err) => this.#dropped(s, err),
    })
    this.#sessions.add(session)
    if (this.#announcer) {
      this.#announcer.announceAll(session).catch((err: unknown) => {
        void session.close(LedgerError.is(err) ? err : LedgerError.network('announcing pages failed', err))
      })
    }
    return session
  }

  #dropped(session: Session, err: LedgerError | undefined): void {
    this.#sessions.delete(session)
    if (err === undefined || this.#closed) return
    for (const hex of session.pages) this.#states.fail(hex)
  }

  async #ready(): Promise<Session[]> {
    if (this.#connecting.size > 0) await Promise.allSettled([...this.#connecting])
    return this.#open()
  }

  #open(): Session[] {
    return [...this.#sessions].filter((s) => !s.closed)
  }

  #assertOpen(): void {
    this.#engine.assertOpen()
    if (this.#closed) throw LedgerError.closed('ledger')
  }
}
