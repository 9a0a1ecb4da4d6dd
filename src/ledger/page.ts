import { randomBytes } from 'node:crypto'
import PQueue from 'p-queue'
import { bytesView, keyView, ownBytes, parseCid, type Block } from '../codec/index.js'
import type { Commit } from '../commit/index.js'
import { LedgerError } from '../errors/index.js'
import type { TreeEntry } from '../tree/interface.js'
import { DEFAULT_CONFLICTS_LIMIT, DEFAULT_CONFLICTS_MERGES, listConflicts } from './conflicts.js'
import type { Engine } from './engine.js'
import type {
  ConflictRecord,
  ConflictsOptions,
  KeyLike,
  PageChange,
  PageSyncState,
  Priority,
  Reference,
  SyncMode,
  SyncStats,
  ValueLike,
} from './interface.js'
import { Journal } from './journal.js'
import { ZERO_STATS } from './network.js'
import type { PageState } from './page-state.js'
import { referenceValue } from './reference-value.js'
import { Snapshot } from './snapshot.js'
import { optionalCount, optionalKey, optionsObject, toKey, toPageId, toPriority, toSyncMode, toValue } from './validate.js'
import { staysInline } from '../value/index.js'
import { Watcher } from './watcher.js'

/**
 * One connection to a page. It tracks its own head, which only moves forward: to its own
 * commits, and to commits that descend from it. Calls apply in call order.
 */
export class Page {
  /** The page's id (a copy). */
  readonly id: Uint8Array
  readonly #engine: Engine
  readonly #state: PageState
  readonly #queue = new PQueue({ concurrency: 1 })
  readonly #watchers = new Set<Watcher>()
  readonly #unsubscribe: () => void
  readonly #abort = new AbortController()
  #head: Commit
  #tx: Journal | undefined
  #closed = false
  /** The one close in progress or done: every close() call waits for it. */
  #closing: Promise<void> | undefined
  #catchUpQueued = false
  readonly #onClose: (() => void) | undefined

  private constructor(engine: Engine, state: PageState, onClose: (() => void) | undefined) {
    this.#engine = engine
    this.#state = state
    this.#onClose = onClose
    this.id = state.id.slice()
    this.#head = state.newestHead
    this.#unsubscribe = state.onHeads(() => this.#scheduleCatchUp())
  }

  /** @internal `onClose` runs once the connection has closed. */
  static async open(engine: Engine, id: unknown, onClose?: (page: Page) => void): Promise<Page> {
    engine.assertOpen()
    const pageId = id === undefined ? new Uint8Array(randomBytes(16)) : toPageId(id)
    const state = await engine.holdPage(pageId)
    if (engine.closed) {
      engine.releasePage(state)
      throw LedgerError.closed('ledger')
    }
    const page: Page = new Page(engine, state, onClose && (() => onClose(page)))
    return page
  }

  /** Puts `value` under `key`: one durable commit outside a transaction. */
  async put(key: KeyLike, value: ValueLike, options?: { priority?: Priority }): Promise<void> {
    // In a transaction with nothing queued, a put is a synchronous journal write: skipping the
    // queue keeps call order and makes a 100k-entry transaction cost its tree build, not 100k tasks.
    const tx = this.#idle() ? this.#tx : undefined
    if (tx !== undefined) {
      // Applied now, so the journal copies the caller's bytes now: no copy of our own first.
      const k = keyView(key)
      const v = bytesView(value, 'value')
      const priority = toPriority(optionsObject(options, 'put').priority)
      this.#assertOpen()
      if (staysInline(v.length, priority)) return tx.putInline(k, v)
      const { ref, blocks } = this.#engine.values.encode(ownBytes(v), priority)
      return tx.put({ key: ownBytes(k), value: ref, priority }, blocks)
    }
    const k = toKey(key)
    const v = toValue(value)
    const priority = toPriority(optionsObject(options, 'put').priority)
    return this.#run(() => {
      const { ref, blocks } = this.#engine.values.encode(v, priority)
      return this.#write({ key: k, value: ref, priority }, blocks)
    })
  }

  /** Deletes `key`; deleting an absent key is a no-op. */
  async delete(key: KeyLike): Promise<void> {
    const k = toKey(key)
    return this.#run(async () => {
      if (this.#tx) return this.#tx.delete(k)
      await this.#commit([{ key: k, entry: undefined }], [], false)
    })
  }

  /** Deletes every key. */
  async clear(): Promise<void> {
    return this.#run(async () => {
      if (this.#tx) return this.#tx.clear()
      await this.#commit([], [], true)
    })
  }

  /** Stores a value of any size (streamed as it arrives) for `putReference`. */
  async createReference(data: Uint8Array | AsyncIterable<Uint8Array>, options?: { size?: number }): Promise<Reference> {
    this.#assertOpen()
    const size = optionalCount(optionsObject(options, 'createReference').size, 'size')
    const isIterable = data !== null && typeof data === 'object' && Symbol.asyncIterator in data
    if (!(data instanceof Uint8Array) && !isIterable) {
      throw LedgerError.invalidArgument('reference data must be a Uint8Array or an AsyncIterable<Uint8Array>')
    }
    const { link, size: total } = await this.#engine.values.encodeStream(data, size)
    return { id: link.toString(), size: total }
  }

  /** Puts a value created by `createReference` (on any page of this ledger) under `key`. */
  async putReference(key: KeyLike, ref: Reference, options?: { priority?: Priority }): Promise<void> {
    const k = toKey(key)
    const priority = toPriority(optionsObject(options, 'putReference').priority)
    if (ref === null || typeof ref !== 'object' || typeof ref.id !== 'string') {
      throw LedgerError.invalidArgument('reference must be an object returned by createReference')
    }
    return this.#run(async () => {
      const value = await referenceValue(this.#engine, ref, priority)
      return this.#write({ key: k, value, priority }, [])
    })
  }

  /**
   * Starts a transaction: the connection is pinned until `commit` or `rollback`. Resolves once
   * its watchers have handled every pending notification.
   */
  async startTransaction(): Promise<void> {
    return this.#run(async () => {
      if (this.#tx) throw new LedgerError('TRANSACTION_ALREADY_IN_PROGRESS', 'a transaction is already in progress')
      await Promise.all([...this.#watchers].map((w) => w.idle()))
      this.#tx = new Journal()
    })
  }

  /** Commits the transaction atomically; a transaction that changes nothing makes no commit. */
  async commit(): Promise<void> {
    return this.#run(async () => {
      const tx = this.#takeTx()
      await this.#commit(tx.staged(), tx.blocks, tx.cleared)
      await this.#catchUp()
    })
  }

  /** Drops the transaction's changes. */
  async rollback(): Promise<void> {
    return this.#run(async () => {
      this.#takeTx()
      await this.#catchUp()
    })
  }

  /** An immutable view of this connection's head (or of commit `at` of this page's history). */
  async snapshot(options?: { prefix?: KeyLike; at?: string }): Promise<Snapshot> {
    const o = optionsObject(options, 'snapshot')
    const prefix = optionalKey(o.prefix, 'prefix') ?? new Uint8Array(0)
    const at = o.at === undefined ? undefined : parseCid(o.at, 'at')
    return this.#run(async () => {
      if (!at) return new Snapshot(this.#engine, this.#head, prefix)
      return new Snapshot(this.#engine, await this.#historyCommit(at), prefix)
    })
  }

  /** Calls `listener` for every change that reaches this connection's head after the returned snapshot. */
  async watch(
    listener: (change: PageChange) => void | Promise<void>,
    options?: { prefix?: KeyLike },
  ): Promise<{ snapshot: Snapshot; close(): void }> {
    if (typeof listener !== 'function') throw LedgerError.invalidArgument('listener must be a function')
    const prefix = optionalKey(optionsObject(options, 'watch').prefix, 'prefix') ?? new Uint8Array(0)
    return this.#run(async () => {
      const watcher = new Watcher(this.#engine, listener, prefix, this.#head)
      if (this.#closed) watcher.close()
      else this.#watchers.add(watcher)
      return {
        snapshot: new Snapshot(this.#engine, this.#head, prefix),
        close: () => {
          watcher.close()
          this.#watchers.delete(watcher)
        },
      }
    })
  }

  /**
   * Waits until the page has one head and this connection is on it: 'no-conflicts' when that
   * already held when the call's turn came (after the calls made before it on this connection; up
   * to this connection catching up), else 'conflicts-resolved'. Rejects with CLOSED when the
   * connection, page or ledger closes meanwhile.
   */
  async waitForConflictResolution(): Promise<'no-conflicts' | 'conflicts-resolved'> {
    const settled = await this.#run(async () => {
      const heads = this.#state.heads
      return heads.length === 1 && (await this.#engine.commits.isAncestor(this.#head, heads[0]!))
    })
    for (;;) {
      await this.#state.merger.waitSingleHead(this.#abort.signal)
      // Moves onto the single head unless a transaction pins this connection.
      await this.#run(() => this.#catchUp())
      if (this.#state.heads.length === 1) break
    }
    return settled ? 'no-conflicts' : 'conflicts-resolved'
  }

  /**
   * Keys changed on both sides of the merges in this connection's history, newest merge first:
   * both sides' values, the base's, and which won. Derived from the commit DAG (see
   * docs/merging.md), so it survives restarts and lists merges made on any replica.
   */
  async conflicts(options?: ConflictsOptions): Promise<ConflictRecord[]> {
    const o = optionsObject(options, 'conflicts')
    const key = optionalKey(o.key, 'key')
    const limit = optionalCount(o.limit, 'limit') ?? DEFAULT_CONFLICTS_LIMIT
    const merges = optionalCount(o.merges, 'merges') ?? DEFAULT_CONFLICTS_MERGES
    const head = await this.#run(() => this.#head)
    return listConflicts(this.#engine, head, { limit, key, merges })
  }

  /** Syncs this page with connected peers now; resolves when done. */
  async sync(options?: { mode?: SyncMode; peers?: string[] }): Promise<SyncStats> {
    this.#assertOpen()
    const o = optionsObject(options, 'sync')
    const mode = toSyncMode(o.mode)
    const peers = o.peers
    if (peers !== undefined && (!Array.isArray(peers) || !peers.every((p) => typeof p === 'string'))) {
      throw LedgerError.invalidArgument('peers must be an array of replica ids')
    }
    const network = this.#engine.network
    if (!network) return { ...ZERO_STATS }
    return network.syncPage(this.id, peers === undefined ? { mode } : { mode, peers: peers as string[] })
  }

  /** The page's current sync state in each direction (a copy). */
  syncState(): PageSyncState {
    this.#assertOpen()
    return this.#engine.network?.syncState(this.id) ?? { download: 'idle', upload: 'idle' }
  }

  /** Calls `listener` on every sync state change of the page; returns the unsubscribe function. */
  onSyncState(listener: (s: PageSyncState) => void): () => void {
    this.#assertOpen()
    if (typeof listener !== 'function') throw LedgerError.invalidArgument('listener must be a function')
    return this.#engine.network?.onSyncState(this.id, listener) ?? (() => {})
  }

  /** Closes this connection; an open transaction is rolled back. Its snapshots keep working. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    this.#closed = true
    this.#abort.abort()
    this.#unsubscribe()
    // Watchers first: a queued startTransaction waits for them, and a listener that never
    // settles must not keep the connection (or its ledger) from closing.
    for (const w of this.#watchers) w.close()
    this.#watchers.clear()
    await this.#queue.onIdle()
    this.#tx = undefined
    this.#engine.releasePage(this.#state)
    this.#onClose?.()
  }

  /** @internal the commit this connection is on */
  get head(): Commit {
    return this.#head
  }

  #assertOpen(): void {
    this.#engine.assertOpen()
    if (this.#closed) throw LedgerError.closed('page connection')
  }

  #run<T>(task: () => Promise<T> | T): Promise<T> {
    this.#assertOpen()
    return this.#queue.add(
      async () => {
        this.#engine.assertOpen()
        return task()
      },
    ) as Promise<T>
  }

  #idle(): boolean {
    return this.#queue.size === 0 && this.#queue.pending === 0
  }

  #takeTx(): Journal {
    const tx = this.#tx
    if (!tx) throw new LedgerError('NO_TRANSACTION_IN_PROGRESS', 'no transaction is in progress')
    this.#tx = undefined
    return tx
  }

  async #write(entry: TreeEntry, blocks: Block[]): Promise<void> {
    if (this.#tx) return this.#tx.put(entry, blocks)
    await this.#commit([{ key: entry.key, entry }], blocks, false)
  }

  async #commit(changes: Parameters<PageState['commitChanges']>[1], blocks: Block[], cleared: boolean): Promise<void> {
    const commit = await this.#state.commitChanges(this.#head, changes, blocks, cleared)
    if (commit) this.#moveTo(commit, false)
  }

  #moveTo(commit: Commit, remote: boolean): void {
    this.#head = commit
    for (const w of this.#watchers) w.advance(commit, remote)
  }

  #scheduleCatchUp(): void {
    if (this.#catchUpQueued || this.#closed) return
    this.#catchUpQueued = true
    void this.#queue.add(async () => {
      this.#catchUpQueued = false
      if (!this.#engine.closed) await this.#catchUp()
    })
  }

  /** Moves onto the one head that descends from this connection's head, if there is exactly one. */
  async #catchUp(): Promise<void> {
    if (this.#tx) return
    const commits = this.#engine.commits
    const from = this.#head
    const candidates: Commit[] = []
    for (const h of this.#state.heads) {
      if (h.cid.equals(from.cid)) return
      if (await commits.isAncestor(from, h)) candidates.push(h)
    }
    if (candidates.length !== 1) return
    const to = candidates[0]!
    let remote = false
    for await (const c of commits.walkBack([to.cid], from)) {
      if (c.replica !== undefined && c.replica !== this.#engine.replicaId) {
        remote = true
        break
      }
    }
    this.#moveTo(to, remote)
  }

  /** A commit of this page's history (ancestor-or-self of a head or of this connection's head). */
  async #historyCommit(cid: import('../codec/index.js').CID): Promise<Commit> {
    const commits = this.#engine.commits
    const commit = await commits.tryGet(cid).catch((err: unknown) => {
      // A stored block that is not a commit (a tree node, a value) is not in the history either.
      if (LedgerError.is(err, 'DATA_INTEGRITY_ERROR')) return undefined
      throw err
    })
    if (commit) {
      for (const h of [this.#head, ...this.#state.heads]) if (await commits.isAncestor(commit, h)) return commit
    }
    throw LedgerError.invalidArgument(`commit ${cid.toString()} is not in this page's history`)
  }
}
