import type { PageState } from './page-state.js'

/**
 * Joins a page's heads in the background until one remains. (Placeholder until the merge
 * layer is wired: it only tracks waiters.)
 */
export class MergeRunner {
  readonly #state: PageState
  readonly #waiters: Array<() => void> = []

  constructor(state: PageState) {
    this.#state = state
  }

  schedule(): void {
    if (this.#state.heads.length <= 1) for (const w of this.#waiters.splice(0)) w()
  }

  /** Resolves once the page has a single head; true when merges were needed. */
  async waitSingleHead(): Promise<boolean> {
    if (this.#state.heads.length <= 1) return false
    await new Promise<void>((resolve) => this.#waiters.push(resolve))
    return true
  }

  async close(): Promise<void> {
    for (const w of this.#waiters.splice(0)) w()
  }
}
