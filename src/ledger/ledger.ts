import { LedgerError } from '../errors/index.js'
import { Store } from '../store/index.js'
import { Engine } from './engine.js'
import type { ConflictResolver, KeyLike, LedgerOptions, Listener, ListenOptions, MergePolicy, Peer } from './interface.js'
import { createNetwork } from './network.js'
import { Page } from './page.js'
import {
  optionalBoolean,
  optionalCount,
  optionalFunction,
  optionalString,
  optionsObject,
  toPageId,
  toPolicy,
} from './validate.js'

const ROOT_PAGE_ID = new Uint8Array(16)
const engines = new WeakMap<Ledger, Engine>()

/** @internal The engine behind a ledger, for the sync layer and tests. */
export function engineOf(ledger: Ledger): Engine {
  const engine = engines.get(ledger)
  if (!engine) throw LedgerError.invalidArgument('not a Ledger')
  return engine
}

/** A versioned key-value store of pages, backed by LevelDB on disk or memory. */
export class Ledger {
  /** Stable id of this replica. */
  readonly replicaId: string
  readonly #engine: Engine
  readonly #pages = new Set<Page>()
  #closing: Promise<void> | undefined

  private constructor(engine: Engine) {
    this.#engine = engine
    this.replicaId = engine.replicaId
    engines.set(this, engine)
  }

  /** Opens (or creates) a ledger. A `path` already open, here or in another process → LOCKED. */
  static async open(options?: LedgerOptions): Promise<Ledger> {
    const o = optionsObject(options, 'Ledger.open')
    const path = optionalString(o.path, 'path')
    if (path === '') throw LedgerError.invalidArgument('path must not be empty')
    const replicaId = optionalString(o.replicaId, 'replicaId')
    if (replicaId === '') throw LedgerError.invalidArgument('replicaId must not be empty')
    const policy = o.mergePolicy === undefined ? 'last-one-wins' : toPolicy(o.mergePolicy)
    const resolver = optionalFunction<ConflictResolver>(o.resolver, 'resolver')
    const autoSync = optionalBoolean(o.autoSync, 'autoSync') ?? true
    const clock = optionalFunction<() => number>(o.clock, 'clock') ?? Date.now
    const cacheBytes = optionalCount(o.cacheBytes, 'cacheBytes')
    const nodeDeltas = optionalBoolean(o.nodeDeltas, 'nodeDeltas') ?? true
    const store = await Store.open(path, { nodeDeltas })
    try {
      const engine = await Engine.open(store, { replicaId, clock, policy: { policy, resolver }, cacheBytes })
      engine.network = createNetwork(engine, { autoSync })
      return new Ledger(engine)
    } catch (err) {
      await store.close()
      throw err
    }
  }

  /** Opens a new connection to a page; no id → a new random 16-byte id. */
  async page(id?: KeyLike): Promise<Page> {
    this.#assertOpen()
    const page = await Page.open(this.#engine, id, (closed) => this.#pages.delete(closed))
    if (this.#closing !== undefined) {
      // close() was called while the page loaded: it no longer closes new connections.
      await page.close()
      throw LedgerError.closed('ledger')
    }
    this.#pages.add(page)
    return page
  }

  /** The page whose id is 16 zero bytes. */
  async rootPage(): Promise<Page> {
    return this.page(ROOT_PAGE_ID)
  }

  /** Ids of every page that has a commit here, sorted. */
  async pages(): Promise<Uint8Array[]> {
    this.#assertOpen()
    return this.#engine.store.pageIds()
  }

  /** Sets a page's merge policy; pending merges run with it. */
  async setMergePolicy(pageId: KeyLike, policy: MergePolicy, resolver?: ConflictResolver): Promise<void> {
    this.#assertOpen()
    const id = toPageId(pageId)
    const p = toPolicy(policy)
    const r = optionalFunction<ConflictResolver>(resolver, 'resolver')
    await this.#engine.setPolicy(id, { policy: p, resolver: r })
  }

  /** Serves the sync protocol over WebSocket. */
  async listen(options?: ListenOptions): Promise<Listener> {
    this.#assertOpen()
    const o = optionsObject(options, 'listen')
    const opts: ListenOptions = {}
    const host = optionalString(o.host, 'host')
    const port = optionalCount(o.port, 'port')
    const token = optionalString(o.token, 'token')
    if (token === '') throw LedgerError.invalidArgument('token must not be empty (omit it for a server without one)')
    const maxFrameBytes = optionalCount(o.maxFrameBytes, 'maxFrameBytes')
    if (port !== undefined && port > 65535) throw LedgerError.invalidArgument('port must be 0..65535')
    if (host !== undefined) opts.host = host
    if (port !== undefined) opts.port = port
    if (token !== undefined) opts.token = token
    if (maxFrameBytes !== undefined) opts.maxFrameBytes = maxFrameBytes
    return this.#network().listen(opts)
  }

  /** Connects to a ledger served at `url` (ws://host:port). */
  async connect(url: string, options?: { token?: string }): Promise<Peer> {
    this.#assertOpen()
    if (typeof url !== 'string' || url.length === 0) throw LedgerError.invalidArgument('url must be a string')
    const token = optionalString(optionsObject(options, 'connect').token, 'token')
    if (token === '') throw LedgerError.invalidArgument('token must not be empty')
    return this.#network().connect(url, token === undefined ? {} : { token })
  }

  /**
   * Closes the ledger; calls on it made after this one, and calls on its pages and snapshots →
   * CLOSED. Later calls return the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const pages = [...this.#pages]
      this.#pages.clear()
      await Promise.allSettled(pages.map((p) => p.close()))
      await this.#engine.close()
    })()
    return this.#closing
  }

  /** CLOSED once close() has been called (its pages finish their queued work meanwhile). */
  #assertOpen(): void {
    if (this.#closing !== undefined) throw LedgerError.closed('ledger')
    this.#engine.assertOpen()
  }

  #network(): NonNullable<Engine['network']> {
    const network = this.#engine.network
    if (!network) throw LedgerError.network('sync is not available')
    return network
  }
}
