import { compareBytes, type Block } from '../codec/index.js'
import type { TreeChange, TreeEntry } from '../tree/interface.js'

function mapKey(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1')
}

/** The pending writes of one transaction: the last change per key, and whether it cleared. */
export class Journal {
  readonly #changes = new Map<string, TreeChange>()
  readonly #blocks: Block[] = []
  #cleared = false

  get cleared(): boolean {
    return this.#cleared
  }

  get blocks(): Block[] {
    return this.#blocks
  }

  put(entry: TreeEntry, blocks: Block[]): void {
    this.#changes.set(mapKey(entry.key), { key: entry.key, entry })
    for (const b of blocks) this.#blocks.push(b)
  }

  delete(key: Uint8Array): void {
    if (this.#cleared) this.#changes.delete(mapKey(key))
    else this.#changes.set(mapKey(key), { key, entry: undefined })
  }

  /** Drops every key present at the start and every change so far; later puts survive. */
  clear(): void {
    this.#changes.clear()
    this.#cleared = true
  }

  /** The changes sorted by key, as the tree's one-pass apply wants them. */
  sortedChanges(): TreeChange[] {
    return [...this.#changes.values()].sort((a, b) => compareBytes(a.key, b.key))
  }
}
