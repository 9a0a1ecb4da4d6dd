import type { Commit } from '../commit/index.js'
import { LedgerError } from '../errors/index.js'
import type { PolicyChoice } from './engine.js'
import { attemptMerge } from './merge-attempt.js'
import type { PageState } from './page-state.js'

/** First wait before retrying a failed merge (a resolver that threw); doubles up to the max. */
export const FIRST_RETRY_MS = 10
export const MAX_RETRY_MS = 1000

/** The merge under way: the heads it joins, the policy it runs, and how to abandon it. */
interface Attempt {
  readonly left: Commit
  readonly right: Commit
  readonly choice: PolicyChoice
  readonly interrupt: () => void
}

interface Waiter {
  resolve(): void
  reject(err: Error): void
}

/**
 * Joins a page's heads in the background, two at a time (the two newest), until one remains:
 * each join is computed outside the page's write queue (a resolver may take any time, and never
 * blocks writes, reads or other pages), then committed inside it, only if both joined commits
 * are still heads. Re-runs whenever the heads or the page's policy change.
 *
 * - A resolver that throws (or a `merge` call that rejects): nothing is committed; retried after
 *   10 ms, doubling up to 1 s; a policy change retries at once.
 * - A resolver that never settles: the heads stay; the attempt is abandoned when the policy
 *   changes, when one of its two heads stops being a head, or when the page closes.
 * - A policy that needs a resolver and has none: the heads stay until the policy or heads change.
 */
export class MergeRunner {
  readonly #state: PageState
  readonly #waiters = new Set<Waiter>()
  #active = false
  #done: Promise<void> = Promise.resolve()
  #again = false
  #closed = false
  #attempt: Attempt | undefined
  #wake: { choice: PolicyChoice; now: () => void } | undefined
  #retryMs = FIRST_RETRY_MS
  #lastError: unknown

  constructor(state: PageState) {
    this.#state = state
    state.onHeads(() => this.schedule())
  }

  /** The last error a merge attempt failed with (a resolver's, usually); for diagnostics. */
  get lastError(): unknown {
    return this.#lastError
  }

  /** Re-examines the page: starts merging when it has several heads; wakes waiters when one. */
  schedule(): void {
    if (this.#closed) return
    const heads = this.#state.heads
    if (heads.length <= 1) for (const w of [...this.#waiters]) w.resolve()
    const choice = this.#choice()
    const attempt = this.#attempt
    if (attempt && (attempt.choice !== choice || !this.#isHead(attempt.left) || !this.#isHead(attempt.right))) {
      attempt.interrupt()
    }
    if (this.#wake && this.#wake.choice !== choice) this.#wake.now()
    if (heads.length <= 1) return
    if (this.#active) {
      this.#again = true
      return
    }
    this.#active = true
    this.#done = this.#loop()
  }

  /**
   * Resolves once the page has a single head. Rejects with CLOSED when the page closes or
   * `signal` aborts.
   */
  waitSingleHead(signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted === true) return Promise.reject(LedgerError.closed('page'))
    if (this.#state.heads.length <= 1) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => waiter.reject(LedgerError.closed('page connection'))
      const done = (): void => {
        this.#waiters.delete(waiter)
        signal?.removeEventListener('abort', onAbort)
      }
      const waiter: Waiter = {
        resolve: () => {
          done()
          resolve()
        },
        reject: (err) => {
          done()
          reject(err)
        },
      }
      this.#waiters.add(waiter)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Stops merging (abandoning a running resolver) and rejects waiters with CLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#attempt?.interrupt()
    this.#wake?.now()
    for (const w of [...this.#waiters]) w.reject(LedgerError.closed('page'))
    await this.#done
  }

  async #loop(): Promise<void> {
    try {
      while (!this.#stopped() && this.#state.heads.length > 1) {
        this.#again = false
        const progress = await this.#step()
        if (!progress && !this.#again) break
      }
    } finally {
      this.#active = false
    }
  }

  /** One attempt at joining the two newest heads; false when nothing more can be done now. */
  async #step(): Promise<boolean> {
    const state = this.#state
    const engine = state.engine
    const heads = state.heads
    const a = heads[heads.length - 1]!
    const b = heads[heads.length - 2]!
    const choice = this.#choice()
    let interrupt!: () => void
    const interrupted = new Promise<void>((resolve) => (interrupt = resolve))
    this.#attempt = { left: a, right: b, choice, interrupt }
    try {
      const result = await attemptMerge(engine, state.id, a, b, choice, interrupted)
      this.#attempt = undefined
      if (result.kind === 'stuck') return false
      if (result.kind === 'interrupted') return true
      if (result.kind === 'fast-forward') {
        await state.exclusive(async () => {
          if (!this.#stopped() && this.#isHead(result.stale)) await state.dropLocked([result.stale])
        })
        return true
      }
      const added = await state.exclusive(async () => {
        if (this.#stopped() || !this.#isHead(result.left) || !this.#isHead(result.right)) return false
        await state.addLocked([result.commit], result.blocks)
        return true
      })
      // A discarded merge keeps its new nodes pending in the tree: another writer may share them.
      if (added) engine.tree.markStored(result.blocks)
      this.#retryMs = FIRST_RETRY_MS
      return true
    } catch (err) {
      this.#attempt = undefined
      if (this.#stopped()) return false
      this.#lastError = err
      await this.#sleep(this.#retryMs, choice)
      this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS)
      return true
    }
  }

  /** Waits `ms`, or less when the policy changes or the page closes. */
  #sleep(ms: number, choice: PolicyChoice): Promise<void> {
    return new Promise<void>((resolve) => {
      const now = (): void => {
        clearTimeout(timer)
        this.#wake = undefined
        resolve()
      }
      const timer = setTimeout(now, ms)
      timer.unref()
      this.#wake = { choice, now }
    })
  }

  #stopped(): boolean {
    return this.#closed || this.#state.engine.closed
  }

  #choice(): PolicyChoice {
    return this.#state.engine.policyFor(this.#state.id)
  }

  #isHead(commit: Commit): boolean {
    return this.#state.heads.some((h) => h.cid.equals(commit.cid))
  }
}
