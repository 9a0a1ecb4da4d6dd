import { compareBytes, equalBytes, type Block } from '../codec/index.js'
import type { TreeChange, TreeEntry } from '../tree/interface.js'

/** One UTF-16 unit per byte: map keys that sort in unsigned byte order. */
function mapKey(key: Uint8Array): string {
  if (key.length <= 256) return String.fromCharCode.apply(null, key as unknown as number[])
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1')
}

/**
 * The pending writes of one transaction, and whether it cleared. Changes are logged in call
 * order and reduced to the last change per key when sorted (no per-put map key or hash lookup:
 * that was a third of a 100k-entry transaction's put cost); a log that grows well past its
 * distinct keys is compacted, so rewriting a few keys forever stays bounded.
 */
export class Journal {
  #log: TreeChange[] = []
  /** Log length after the last compaction (distinct keys then). */
  #compacted = 0
  readonly #compactAt: number
  readonly #blocks: Block[] = []
  #cleared = false

  /** `compactAt`: shortest log that may be compacted (for tests; default 2^20 changes). */
  constructor(options: { compactAt?: number } = {}) {
    this.#compactAt = options.compactAt ?? COMPACT_MIN
  }

  get cleared(): boolean {
    return this.#cleared
  }

  get blocks(): Block[] {
    return this.#blocks
  }

  put(entry: TreeEntry, blocks: Block[]): void {
    this.#append({ key: entry.key, entry })
    for (let i = 0; i < blocks.length; i++) this.#blocks.push(blocks[i]!)
  }

  delete(key: Uint8Array): void {
    // After a clear, deleting a key that is absent from the cleared base is a no-op for the tree.
    this.#append({ key, entry: undefined })
  }

  /** Drops every key present at the start and every change so far; later puts survive. */
  clear(): void {
    this.#log = []
    this.#compacted = 0
    this.#cleared = true
  }

  /** The last change per key, sorted by key, as the tree's one-pass apply wants them. */
  sortedChanges(): TreeChange[] {
    const log = this.#log
    return log.length <= MAX_PREFIX_SORT ? sortByPrefix(log) : sortByMapKey(log)
  }

  #append(change: TreeChange): void {
    const log = this.#log
    log.push(change)
    if (log.length >= this.#compactAt && log.length > 2 * this.#compacted) {
      this.#log = this.sortedChanges()
      this.#compacted = this.#log.length
    }
  }
}

/** Logs shorter than this are never compacted (a bulk load of up to ~1M keys sorts once). */
const COMPACT_MIN = 1 << 20

/** Keeps the last of each run of equal keys (sorting is stable: later changes come later). */
function lastPerKey(sorted: TreeChange[]): TreeChange[] {
  const out: TreeChange[] = []
  const n = sorted.length
  for (let i = 0; i < n; i++) {
    const c = sorted[i]!
    if (i + 1 < n && equalBytes(c.key, sorted[i + 1]!.key)) continue
    out.push(c)
  }
  return out
}

/** Index bits in a prefix-sort word; the other 43 bits hold the key's first 43 bits. */
const INDEX_BITS = 21
const MAX_PREFIX_SORT = 1 << INDEX_BITS
const INDEX_MASK = MAX_PREFIX_SORT - 1
/** Word halves in a BigUint64Array's Uint32Array view (platform byte order). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
const LO = LITTLE_ENDIAN ? 0 : 1
const HI = 1 - LO

/**
 * The last change per key, sorted by key. Sorts by each key's first 43 bits (zero-padded) packed
 * with its index into one unsigned 64-bit word, written through a Uint32Array view (no BigInt
 * per key) and sorted natively as a BigUint64Array, then orders runs of equal prefixes by full
 * key: ~2x faster than sorting 100k strings, and with 43 bits few keys share a run (a 32-bit
 * prefix of random lowercase keys put a fifth of them in runs). Zero padding keeps prefix order
 * consistent with byte order (a shorter key pads below any longer one that extends it; ties are
 * compared in full).
 */
function sortByPrefix(changes: TreeChange[]): TreeChange[] {
  const n = changes.length
  const words = new BigUint64Array(n)
  const halves = new Uint32Array(words.buffer)
  for (let i = 0; i < n; i++) {
    const k = changes[i]!.key
    const len = k.length
    const hi = ((len > 0 ? k[0]! : 0) << 24) | ((len > 1 ? k[1]! : 0) << 16) | ((len > 2 ? k[2]! : 0) << 8) | (len > 3 ? k[3]! : 0)
    const lo = ((len > 4 ? k[4]! : 0) << 24) | (((len > 5 ? k[5]! : 0) & 0xe0) << 16) | i
    halves[2 * i + HI] = hi >>> 0
    halves[2 * i + LO] = lo >>> 0
  }
  words.sort()
  const byPrefix = new Array<TreeChange>(n)
  for (let i = 0; i < n; i++) byPrefix[i] = changes[halves[2 * i + LO]! & INDEX_MASK]!
  // A run of equal prefixes (short for varied keys) is ordered by full key; equal keys can only
  // meet inside one, where the stable sort keeps them in call order.
  const out: TreeChange[] = []
  let runStart = 0
  for (let i = 1; i <= n; i++) {
    if (i < n && halves[2 * i + HI] === halves[2 * runStart + HI] && (halves[2 * i + LO]! >>> INDEX_BITS) === (halves[2 * runStart + LO]! >>> INDEX_BITS)) continue
    if (i - runStart === 1) out.push(byPrefix[runStart]!)
    else for (const c of lastPerKey(byPrefix.slice(runStart, i).sort(byKey))) out.push(c)
    runStart = i
  }
  return out
}

const byKey = (a: TreeChange, b: TreeChange): number => compareBytes(a.key, b.key)

/** Fallback for very large journals: latin-1 strings sort natively in unsigned byte order. */
function sortByMapKey(changes: TreeChange[]): TreeChange[] {
  const keyed = changes.map((c) => ({ k: mapKey(c.key), c }))
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
  return lastPerKey(keyed.map((x) => x.c))
}
