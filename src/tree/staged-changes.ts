import { ChangeStager } from './change-stager.js'
import type { TreeChange, TreeEntry } from './interface.js'
import { keyLevel, keyLevelAt } from './level.js'
import type { Node } from './node.js'

/**
 * A batch of changes, sorted by key with unique keys, staged by a trusted writer (the ledger's
 * transaction journal) straight from its own buffers: `apply` takes it without a change object
 * per entry and without re-checking order. Change objects (views of the staged bytes) are made
 * only when the apply walks an existing tree; a build from the empty tree never needs them.
 */
export class StagedChanges {
  readonly length: number
  /** Key level of each change; -1 for a delete. */
  readonly levels: Int8Array
  /** The new entries, encoded (see `ChangeStager`): entry i is change i's. */
  readonly staged: Node
  readonly #deleted: ReadonlyMap<number, Uint8Array>
  #changes: TreeChange[] | undefined

  /** @internal use `StagedChangesBuilder` */
  constructor(levels: Int8Array, staged: Node, deleted: ReadonlyMap<number, Uint8Array>) {
    this.length = levels.length
    this.levels = levels
    this.staged = staged
    this.#deleted = deleted
  }

  /** The changes as objects; their byte arrays are views of the staged bytes (do not mutate). */
  changes(): TreeChange[] {
    if (this.#changes !== undefined) return this.#changes
    const n = this.length
    const out = new Array<TreeChange>(n)
    for (let i = 0; i < n; i++) {
      if (this.levels[i]! < 0) {
        out[i] = { key: this.#deleted.get(i)!, entry: undefined }
      } else {
        const entry = this.staged.entryAt(i)
        out[i] = { key: entry.key, entry }
      }
    }
    this.#changes = out
    return out
  }
}

/**
 * Builds a `StagedChanges` of `n` changes: call exactly one of `inline`, `entry` or `delete` for
 * each index 0..n-1, in ascending key order (the caller guarantees order and uniqueness).
 */
export class StagedChangesBuilder {
  readonly #levels: Int8Array
  readonly #stager: ChangeStager
  readonly #deleted = new Map<number, Uint8Array>()

  /** `keyLength`/`valueLength`: typical sizes, to size the buffers (they grow as needed). */
  constructor(n: number, keyLength: number, valueLength: number) {
    this.#levels = new Int8Array(n)
    this.#stager = new ChangeStager(n, keyLength, valueLength)
  }

  /** Change i puts an eager inline value; key and value are byte ranges of `src` (copied). */
  inline(i: number, src: Uint8Array, kOff: number, kLen: number, vOff: number, vLen: number): void {
    this.#levels[i] = keyLevelAt(src, kOff, kLen)
    this.#stager.addBytes(i, src, kOff, kLen, vOff, vLen)
  }

  /** Change i puts `entry` (a validated entry: any value reference, any priority). */
  entry(i: number, entry: TreeEntry): void {
    this.#levels[i] = keyLevel(entry.key)
    this.#stager.add(i, entry.key, entry.value, entry.priority === 'lazy')
  }

  /** Change i deletes `key` (kept as given). */
  delete(i: number, key: Uint8Array): void {
    this.#levels[i] = -1
    this.#stager.skip(i)
    this.#deleted.set(i, key)
  }

  finish(): StagedChanges {
    return new StagedChanges(this.#levels, this.#stager.finish(), this.#deleted)
  }
}
