import type { Engine } from '../ledger/index.js'
import { Tree } from '../tree/index.js'
import { Overlay } from './overlay.js'
import type { Session } from './session.js'
import type { SyncStates } from './sync-states.js'
import type { Tally } from './tally.js'

/** Cache of the sync layer's own tree (it applies received diffs). */
const SYNC_TREE_CACHE_BYTES = 16 * 1024 * 1024

/** Tuning knobs, internal (tests and benchmarks set them; the defaults are what users get). */
export interface SyncTuning {
  /**
   * 'auto': send a commit as a diff from a parent, or as its root alone when the receiver holds
   * that tree already (see `chooseBody`). 'never': always diffs (up to MAX_DIFF_ENTRIES).
   * 'always': always node mode (for measurements).
   * @default 'auto'
   */
  nodeMode?: 'auto' | 'never' | 'always' | undefined
  /**
   * Inactivity timeout of requests, in ms.
   * @default 30000
   */
  timeoutMs?: number | undefined
}

/** What the sync layer's parts share: the engine, its own tree over pending blocks, state. */
export class SyncContext {
  readonly engine: Engine
  readonly overlay: Overlay
  /** A tree over the store and every exchange's pending blocks, for applying received diffs. */
  readonly tree: Tree
  readonly states: SyncStates
  nodeMode: 'auto' | 'never' | 'always'
  /** Pulls `pageId` from `session` (serialised per page); `forId`: a push of the peer it serves. */
  readonly pull: (session: Session, pageId: Uint8Array, tally: Tally, forId?: number) => Promise<void>

  constructor(
    engine: Engine,
    states: SyncStates,
    tuning: SyncTuning,
    pull: (session: Session, pageId: Uint8Array, tally: Tally, forId?: number) => Promise<void>,
  ) {
    this.engine = engine
    this.states = states
    this.overlay = new Overlay(engine.store)
    this.tree = new Tree(this.overlay, { cacheBytes: SYNC_TREE_CACHE_BYTES })
    this.nodeMode = tuning.nodeMode ?? 'auto'
    this.pull = pull
  }
}
