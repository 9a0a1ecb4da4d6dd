import type { Commit } from '../commit/index.js'

/** A max-heap of commits by generation: a DAG walk pops every child before its parents. */
export class GenerationQueue {
  readonly #heap: Commit[] = []

  get size(): number {
    return this.#heap.length
  }

  push(commit: Commit): void {
    const heap = this.#heap
    heap.push(commit)
    let i = heap.length - 1
    while (i > 0) {
      const up = (i - 1) >> 1
      if (heap[up]!.generation >= commit.generation) break
      heap[i] = heap[up]!
      i = up
    }
    heap[i] = commit
  }

  /** The commit of highest generation; undefined when empty. */
  pop(): Commit | undefined {
    const heap = this.#heap
    const top = heap[0]
    const last = heap.pop()
    if (top === undefined || last === undefined || heap.length === 0) return top
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= heap.length) break
      const r = l + 1
      const c = r < heap.length && heap[r]!.generation > heap[l]!.generation ? r : l
      if (heap[c]!.generation <= last.generation) break
      heap[i] = heap[c]!
      i = c
    }
    heap[i] = last
    return top
  }
}
