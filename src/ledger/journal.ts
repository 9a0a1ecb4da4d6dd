import type { Block } from '../codec/index.js'
import { StagedChangesBuilder, type StagedChanges } from '../tree/index.js'
import type { TreeEntry } from '../tree/interface.js'
import { lastPerKeySorted, type KeyRanges } from './journal-sort.js'

const INLINE = 0
const ENTRY = 1
const DELETE = 2
/** Uint32 slots per change in the meta table: key offset and length, value offset and length, kind. */
const STRIDE = 5

/**
 * The pending writes of one transaction, and whether it cleared. Changes are logged in call
 * order, columnar: key and inline value bytes are copied into one growing arena and their
 * ranges into a Uint32Array, so a put leaves no object behind for the garbage collector to
 * copy and promote (per-put objects were most of a 100k-entry transaction's staging time). A
 * value that is not eager and inline keeps its entry object. The log is reduced to the last
 * change per key, sorted, when staged for the tree; a log that grows well past its distinct
 * keys is compacted, so rewriting a few keys forever stays bounded.
 */
export class Journal implements KeyRanges {
  arena = new Uint8Array(4096)
  #used = 0
  #meta = new Uint32Array(STRIDE * 64)
  #n = 0
  #keyBytes = 0
  #valueBytes = 0
  /** Changes of kind ENTRY, by index. */
  #entries = new Map<number, TreeEntry>()
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

  keyOff(i: number): number {
    return this.#meta[STRIDE * i]!
  }

  keyLen(i: number): number {
    return this.#meta[STRIDE * i + 1]!
  }

  /** Puts an eager inline value; key and value bytes are copied now. */
  putInline(key: Uint8Array, value: Uint8Array): void {
    this.#append(INLINE, key, value)
  }

  put(entry: TreeEntry, blocks: Block[]): void {
    const v = entry.value
    if (entry.priority === 'eager' && 'inline' in v) {
      this.#append(INLINE, entry.key, v.inline)
    } else {
      this.#entries.set(this.#n, entry)
      this.#append(ENTRY, entry.key, undefined)
    }
    for (let i = 0; i < blocks.length; i++) this.#blocks.push(blocks[i]!)
  }

  delete(key: Uint8Array): void {
    // After a clear, deleting a key that is absent from the cleared base is a no-op for the tree.
    this.#append(DELETE, key, undefined)
  }

  /** Drops every key present at the start and every change so far; later puts survive. */
  clear(): void {
    this.arena = new Uint8Array(4096)
    this.#used = 0
    this.#meta = new Uint32Array(STRIDE * 64)
    this.#n = 0
    this.#keyBytes = 0
    this.#valueBytes = 0
    this.#entries = new Map()
    this.#compacted = 0
    this.#cleared = true
  }

  /** The last change per key, sorted by key, staged for the tree's one-pass apply. */
  staged(): StagedChanges {
    const order = lastPerKeySorted(this, this.#n)
    const m = order.length
    const n = Math.max(1, this.#n)
    const b = new StagedChangesBuilder(m, Math.ceil(this.#keyBytes / n), Math.ceil(this.#valueBytes / n))
    const meta = this.#meta
    const arena = this.arena
    for (let j = 0; j < m; j++) {
      const i = order[j]!
      const s = STRIDE * i
      const kind = meta[s + 4]
      if (kind === INLINE) b.inline(j, arena, meta[s]!, meta[s + 1]!, meta[s + 2]!, meta[s + 3]!)
      else if (kind === ENTRY) b.entry(j, this.#entries.get(i)!)
      else b.delete(j, arena.slice(meta[s]!, meta[s]! + meta[s + 1]!))
    }
    return b.finish()
  }

  #append(kind: number, key: Uint8Array, value: Uint8Array | undefined): void {
    const i = this.#n
    const kLen = key.length
    const vLen = value === undefined ? 0 : value.length
    if (this.#used + kLen + vLen > this.arena.length) this.#growArena(kLen + vLen)
    if (STRIDE * (i + 1) > this.#meta.length) this.#growMeta()
    const arena = this.arena
    const meta = this.#meta
    let at = this.#used
    const s = STRIDE * i
    meta[s] = at
    meta[s + 1] = kLen
    arena.set(key, at)
    at += kLen
    meta[s + 2] = at
    meta[s + 3] = vLen
    if (value !== undefined) arena.set(value, at)
    at += vLen
    meta[s + 4] = kind
    this.#used = at
    this.#n = i + 1
    this.#keyBytes += kLen
    this.#valueBytes += vLen
    if (this.#n >= this.#compactAt && this.#n > 2 * this.#compacted) this.#compact()
  }

  #growArena(need: number): void {
    const next = new Uint8Array(Math.max(this.arena.length * 2, this.#used + need))
    next.set(this.arena.subarray(0, this.#used))
    this.arena = next
  }

  #growMeta(): void {
    const next = new Uint32Array(this.#meta.length * 2)
    next.set(this.#meta)
    this.#meta = next
  }

  /** Keeps only the last change per key, in key order. */
  #compact(): void {
    const order = lastPerKeySorted(this, this.#n)
    const old = { arena: this.arena, meta: this.#meta, entries: this.#entries }
    this.arena = new Uint8Array(Math.max(4096, this.#used))
    this.#meta = new Uint32Array(STRIDE * Math.max(64, order.length))
    this.#entries = new Map()
    this.#used = 0
    this.#n = 0
    this.#keyBytes = 0
    this.#valueBytes = 0
    // Set first: the appends below must not trigger another compaction.
    this.#compacted = order.length
    for (const i of order) {
      const s = STRIDE * i
      const kind = old.meta[s + 4]!
      const key = old.arena.subarray(old.meta[s]!, old.meta[s]! + old.meta[s + 1]!)
      if (kind === ENTRY) this.#entries.set(this.#n, old.entries.get(i)!)
      const value = kind === INLINE ? old.arena.subarray(old.meta[s + 2]!, old.meta[s + 2]! + old.meta[s + 3]!) : undefined
      this.#append(kind, key, value)
    }
  }
}

/** Logs shorter than this are never compacted (a bulk load of up to ~1M keys sorts once). */
const COMPACT_MIN = 1 << 20
