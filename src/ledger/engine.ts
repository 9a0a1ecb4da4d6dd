import { randomBytes } from 'node:crypto'
import { toHex, type Block } from '../codec/index.js'
import { CommitReader, HybridClock } from '../commit/index.js'
import { LedgerError } from '../errors/index.js'
import type { Store } from '../store/index.js'
import { Tree, TREE_FORMAT } from '../tree/index.js'
import { ValueStore } from '../value/index.js'
import type { ConflictResolver, MergePolicy } from './interface.js'
import type { Network } from './network.js'
import { PageState } from './page-state.js'

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

export interface PolicyChoice {
  policy: MergePolicy
  resolver: ConflictResolver | undefined
}

/**
 * The engine behind one open ledger: storage, tree, values, commits, the clock and the shared
 * state of every page. Page connections, snapshots, merging and sync all work through it.
 */
export class Engine {
  readonly store: Store
  readonly tree: Tree
  readonly values: ValueStore
  readonly commits: CommitReader
  readonly clock: HybridClock
  readonly replicaId: string
  readonly defaultPolicy: PolicyChoice
  /** Set by the ledger when the sync layer is present. */
  network: Network | undefined
  readonly #policies = new Map<string, PolicyChoice>()
  readonly #pages = new Map<string, Promise<PageState>>()
  readonly #pageListeners = new Set<(state: PageState) => void>()
  readonly #dropListeners = new Set<(state: PageState) => void>()
  /** Holds on each page's state (hex id): connections, syncs, imports, exports. */
  readonly #holds = new Map<string, number>()
  /** The state each settled load gave (a release forgets only the state the engine serves). */
  readonly #loaded = new Map<string, PageState>()
  #closed = false

  private constructor(store: Store, replicaId: string, clock: HybridClock, policy: PolicyChoice, cacheBytes: number | undefined) {
    this.store = store
    this.replicaId = replicaId
    this.clock = clock
    this.defaultPolicy = policy
    this.tree = new Tree(store, { cacheBytes })
    this.values = new ValueStore(store, { putBlocks: (blocks: Block[]) => store.write({ blocks }) })
    this.commits = new CommitReader(store)
  }

  static async open(
    store: Store,
    options: { replicaId: string | undefined; clock: () => number; policy: PolicyChoice; cacheBytes?: number | undefined },
  ): Promise<Engine> {
    let replicaId: string
    const stored = await store.getMeta('replicaId')
    if (stored !== undefined) {
      replicaId = textDecoder.decode(stored)
      await checkTreeFormat(store)
    } else {
      replicaId = options.replicaId ?? toHex(randomBytes(16))
      const meta = { replicaId: textEncoder.encode(replicaId), treeFormat: textEncoder.encode(String(TREE_FORMAT)) }
      await store.write({ meta })
    }
    const last = await store.getMeta('lastTimestamp')
    const lastTs = last === undefined ? 0 : Number(textDecoder.decode(last))
    return new Engine(store, replicaId, new HybridClock(options.clock, lastTs), options.policy, options.cacheBytes)
  }

  get closed(): boolean {
    return this.#closed
  }

  assertOpen(): void {
    if (this.#closed) throw LedgerError.closed('ledger')
  }

  /** Metadata to write with every commit so the clock never runs backwards across restarts. */
  clockMeta(): Record<string, Uint8Array> {
    return { lastTimestamp: textEncoder.encode(String(this.clock.last)) }
  }

  /**
   * The shared state of a page, loaded once, for a user that calls `releasePage` when done (a
   * connection when it closes; sync, import and export when their work is done). A state nobody
   * holds is forgotten if it has no commit here: it reloads the same, and opening or syncing many
   * ids that are never written must not hold memory for each. A state with commits stays loaded.
   */
  async holdPage(pageId: Uint8Array): Promise<PageState> {
    const key = toHex(pageId)
    this.#holds.set(key, (this.#holds.get(key) ?? 0) + 1)
    try {
      return await this.#load(pageId)
    } catch (err) {
      this.#unhold(key)
      throw err
    }
  }

  releasePage(state: PageState): void {
    const key = state.hex
    if (!this.#unhold(key) || this.#closed || !state.blank || this.#loaded.get(key) !== state) return
    this.#pages.delete(key)
    this.#loaded.delete(key)
    for (const l of this.#dropListeners) l(state)
    void state.close()
  }

  /**
   * The page's state without holding it: for reads, and for callers that hold it another way (an
   * open connection to the page). Tests and benchmarks use it.
   */
  pageState(pageId: Uint8Array): Promise<PageState> {
    return this.#load(pageId)
  }

  /** Runs `task` holding the page's state (see `holdPage`). */
  async withPageState<T>(pageId: Uint8Array, task: (state: PageState) => Promise<T> | T): Promise<T> {
    const state = await this.holdPage(pageId)
    try {
      return await task(state)
    } finally {
      this.releasePage(state)
    }
  }

  /** Counts a hold off; true when it was the page's last (never for a page nobody held). */
  #unhold(key: string): boolean {
    const held = this.#holds.get(key)
    if (held === undefined) return false
    const n = held - 1
    if (n > 0) this.#holds.set(key, n)
    else this.#holds.delete(key)
    return n <= 0
  }

  /** Called for every page state forgotten by `releasePage` (followers drop their hooks). */
  onPageDropped(listener: (state: PageState) => void): () => void {
    this.#dropListeners.add(listener)
    return () => this.#dropListeners.delete(listener)
  }

  #load(pageId: Uint8Array): Promise<PageState> {
    const key = toHex(pageId)
    let state = this.#pages.get(key)
    if (!state) {
      state = PageState.load(this, pageId)
      this.#pages.set(key, state)
      state.then(
        (s) => {
          this.#loaded.set(key, s)
          for (const l of this.#pageListeners) l(s)
        },
        () => this.#pages.delete(key),
      )
    }
    return state
  }

  /** Page states loaded so far. */
  async loadedPages(): Promise<PageState[]> {
    return Promise.all(this.#pages.values())
  }

  /** Called for every page state as it loads (the sync layer follows new pages with it). */
  onPageLoaded(listener: (state: PageState) => void): () => void {
    this.#pageListeners.add(listener)
    return () => this.#pageListeners.delete(listener)
  }

  policyFor(pageId: Uint8Array): PolicyChoice {
    return this.#policies.get(toHex(pageId)) ?? this.defaultPolicy
  }

  async setPolicy(pageId: Uint8Array, choice: PolicyChoice): Promise<void> {
    this.#policies.set(toHex(pageId), choice)
    const state = this.#pages.get(toHex(pageId))
    if (state) (await state).policyChanged()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.network?.close()
    const states = await Promise.allSettled(this.#pages.values())
    for (const s of states) if (s.status === 'fulfilled') await s.value.close()
    await this.store.close()
  }
}

/**
 * A store records the tree format it was written in (stores from before the record are format
 * 1). Trees of another format cannot be read or extended by this build's tree code.
 */
async function checkTreeFormat(store: Store): Promise<void> {
  const stored = await store.getMeta('treeFormat')
  const format = stored === undefined ? '1' : textDecoder.decode(stored)
  if (format !== String(TREE_FORMAT)) {
    throw new LedgerError(
      'DATA_INTEGRITY_ERROR',
      `the store holds tree format ${format}; this dagkv reads tree format ${TREE_FORMAT} (see CHANGELOG.md)`,
      { data: { treeFormat: format, expected: TREE_FORMAT } },
    )
  }
}
