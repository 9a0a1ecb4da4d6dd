import type { Block } from '../codec/index.js'
import type { TreeChange, TreeEntry } from '../tree/interface.js'

/** One UTF-16 unit per byte: map keys that sort in unsigned byte order. */
function mapKey(key: Uint8Array): string {
  if (key.length <= 256) return String.fromCharCode.apply(null, key as unknown as number[])
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
    // Latin-1 map keys have one UTF-16 unit per byte, so the default string sort is unsigned
    // byte order, done natively (a byte comparator costs ~4x more on a 100k-entry commit).
    const keys = [...this.#changes.keys()].sort()
    const out: TreeChange[] = new Array(keys.length)
    for (let i = 0; i < keys.length; i++) out[i] = this.#changes.get(keys[i]!)!
    return out
  }
}
