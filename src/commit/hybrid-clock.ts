/**
 * Hybrid timestamps: a new commit's time is max(wall clock, last seen + 1), so a commit is
 * always newer than everything its ledger created or received before it, even when clocks skew.
 */
export class HybridClock {
  readonly #wall: () => number
  #last: number

  constructor(wall: () => number, last = 0) {
    this.#wall = wall
    this.#last = last
  }

  get last(): number {
    return this.#last
  }

  /** The timestamp for a new non-merge commit. */
  next(): number {
    const wall = Math.floor(this.#wall())
    this.#last = Math.max(Number.isSafeInteger(wall) ? wall : 0, this.#last + 1)
    return this.#last
  }

  /** Records a timestamp seen on a received or merged commit. */
  observe(timestamp: number): void {
    if (timestamp > this.#last) this.#last = timestamp
  }
}
