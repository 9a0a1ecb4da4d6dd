import PQueue from 'p-queue'
import { toHex, type Block } from '../codec/index.js'
import { compareCommits, EMPTY_COMMIT, makeCommit, type Commit } from '../commit/index.js'
import { Tree, type StagedChanges } from '../tree/index.js'
import type { TreeChange } from '../tree/interface.js'
import { withEarlyWrites } from './early-writes.js'
import type { Engine } from './engine.js'
import { MergeRunner } from './merge-runner.js'

/** What a change of heads brought: the new commits, in the order they were added. */
export interface HeadsEvent {
  added: Commit[]
}

/**
 * State shared by every connection to one page: its heads, and the queue that serialises every
 * head change (local commits, merges, commits received by sync), each one atomic in the store.
 */
export class PageState {
  readonly id: Uint8Array
  readonly hex: string
  readonly engine: Engine
  readonly merger: MergeRunner
  #heads: Commit[]
  readonly #queue = new PQueue({ concurrency: 1 })
  readonly #listeners = new Set<(event: HeadsEvent) => void>()
  #closed = false

  private constructor(engine: Engine, id: Uint8Array, heads: Commit[]) {
    this.engine = engine
    this.id = id
    this.hex = toHex(id)
    this.#heads = heads
    this.merger = new MergeRunner(this)
  }

  static async load(engine: Engine, id: Uint8Array): Promise<PageState> {
    const cids = await engine.store.heads(id)
    const heads = await Promise.all(cids.map((c) => engine.commits.get(c)))
    for (const h of heads) engine.clock.observe(h.timestamp)
    const state = new PageState(engine, id, heads.length > 0 ? heads.sort(compareCommits) : [EMPTY_COMMIT])
    state.merger.schedule()
    return state
  }

  /** Heads, oldest first (by timestamp, then CID). */
  get heads(): readonly Commit[] {
    return this.#heads
  }

  get newestHead(): Commit {
    return this.#heads[this.#heads.length - 1]!
  }

  get closed(): boolean {
    return this.#closed
  }

  /** No commit here and nothing queued: forgetting this state loses nothing (it reloads the same). */
  get blank(): boolean {
    return this.#heads.length === 1 && this.#heads[0] === EMPTY_COMMIT && this.#queue.size === 0 && this.#queue.pending === 0
  }

  onHeads(listener: (event: HeadsEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Runs `task` in the page's write queue. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.#queue.add(task) as Promise<T>
  }

  /**
   * Commits `changes` on top of `base` (a connection's head). Returns the new commit, or
   * undefined when the content would not change (no commit is made then).
   */
  commitChanges(base: Commit, changes: TreeChange[] | StagedChanges, extraBlocks: Block[], cleared = false): Promise<Commit | undefined> {
    return this.exclusive(async () => {
      const engine = this.engine
      engine.assertOpen()
      const from = cleared ? Tree.emptyRoot : base.root
      // A large batch stores its lower nodes while the upper ones are encoded; the rest goes with
      // the commit.
      // On a linear history the base's rewritten nodes are garbage for the cache; at a fork, a
      // merge will want them.
      const evictReplaced = this.#heads.length === 1 && this.#heads[0]!.cid.equals(base.cid)
      const { result: applied, rest } = await withEarlyWrites(engine, (onBlocks) =>
        engine.tree.apply(from, changes, { onBlocks, evictReplaced }),
      )
      if (applied.root.equals(base.root)) return undefined
      const { commit, block } = makeCommit({
        parents: base.generation === 0 ? [] : [base.cid],
        root: applied.root,
        timestamp: engine.clock.next(),
        generation: base.generation + 1,
        replica: engine.replicaId,
      })
      await this.addLocked([commit], [...extraBlocks, ...rest, block])
      return commit
    })
  }

  /**
   * Adds commits whose blocks are all present in `blocks` or the store, as one atomic write.
   * Parents of added commits stop being heads. Must run inside `exclusive`.
   */
  async addLocked(commits: Commit[], blocks: Block[]): Promise<void> {
    const engine = this.engine
    const superseded = new Set<string>()
    for (const c of commits) for (const p of c.parents) superseded.add(p.toString())
    for (const c of commits) engine.clock.observe(c.timestamp)
    const addedKeys = new Set(commits.map((c) => c.cid.toString()))
    // The implicit empty commit is never stored as a head: any real commit supersedes it.
    const kept = this.#heads.filter(
      (h) => h.generation > 0 && !superseded.has(h.cid.toString()) && !addedKeys.has(h.cid.toString()),
    )
    const added = commits.filter((c) => !superseded.has(c.cid.toString()))
    const removed = this.#heads.filter((h) => superseded.has(h.cid.toString()) && h.generation > 0)
    try {
      await engine.store.write({
        blocks,
        heads: [{ pageId: this.id, add: added.map((c) => c.cid), remove: removed.map((c) => c.cid) }],
        meta: engine.clockMeta(),
      })
    } finally {
      // Written or abandoned, the tree need not hold these nodes for the store any longer.
      engine.tree.markStored(blocks)
    }
    for (const c of commits) engine.commits.remember(c)
    const next = [...kept, ...added].sort(compareCommits)
    this.#heads = next.length > 0 ? next : [EMPTY_COMMIT]
    const event: HeadsEvent = { added: commits }
    for (const l of this.#listeners) l(event)
    if (this.#heads.length > 1) this.merger.schedule()
  }

  /**
   * Removes heads that are ancestors of another head (a fast-forward the merger found): no
   * commit is made. Must run inside `exclusive`.
   */
  async dropLocked(stale: Commit[]): Promise<void> {
    const gone = new Set(stale.map((c) => c.cid.toString()))
    const removed = this.#heads.filter((h) => h.generation > 0 && gone.has(h.cid.toString()))
    if (removed.length === 0) return
    await this.engine.store.write({ heads: [{ pageId: this.id, add: [], remove: removed.map((c) => c.cid) }] })
    const next = this.#heads.filter((h) => !gone.has(h.cid.toString()))
    this.#heads = next.length > 0 ? next : [EMPTY_COMMIT]
    const event: HeadsEvent = { added: [] }
    for (const l of this.#listeners) l(event)
  }

  policyChanged(): void {
    this.merger.schedule()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.merger.close()
    await this.#queue.onIdle()
  }
}
