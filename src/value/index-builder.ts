import type { Block } from '../codec/index.js'
import { MAX_FANOUT, MIN_FANOUT, encodeIndex, isGroupBoundary, type IndexChild } from './index-block.js'

interface Level {
  pending: IndexChild[]
  closed: boolean
}

/**
 * Builds the index blocks over a value's chunks as they arrive, so streaming and whole-value
 * encoding share one code path (and give the same root).
 *
 * At every level, children are grouped content-defined: a group closes after a child whose CID
 * `isGroupBoundary` once it has at least `MIN_FANOUT` children, and always at `MAX_FANOUT`. Each
 * closed group becomes an index block, a child of the level above. The first level that never
 * closes a group is the top: one child there is the root; several become one last index, the root.
 * So a one-chunk value is just its raw chunk, and an edit rewrites only the groups around it.
 */
export class IndexBuilder {
  readonly #levels: Level[] = []
  readonly #emit: (block: Block) => void

  /** `emit` receives every index block, children before parents. */
  constructor(emit: (block: Block) => void) {
    this.#emit = emit
  }

  /** Appends the next chunk of the value. */
  add(chunk: IndexChild): void {
    this.#push(0, chunk)
  }

  /** The root (a raw chunk or an index block); undefined when no chunk was added. */
  finish(): IndexChild | undefined {
    for (let k = 0; k < this.#levels.length; k++) {
      const level = this.#levels[k]!
      if (k === this.#levels.length - 1) {
        if (level.pending.length <= 1) return level.pending[0]
        this.#close(k)
      } else if (level.pending.length > 0) {
        this.#close(k)
      }
    }
    return undefined
  }

  #push(k: number, child: IndexChild): void {
    let level = this.#levels[k]
    if (level === undefined) {
      level = { pending: [], closed: false }
      this.#levels.push(level)
    }
    level.pending.push(child)
    const n = level.pending.length
    if (n >= MAX_FANOUT || (n >= MIN_FANOUT && isGroupBoundary(child.cid))) this.#close(k)
  }

  #close(k: number): void {
    const level = this.#levels[k]!
    const { block, size } = encodeIndex(level.pending)
    level.pending = []
    level.closed = true
    this.#emit(block)
    this.#push(k + 1, { cid: block.cid, size })
  }
}
