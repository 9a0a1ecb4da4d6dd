import type { CID } from '../codec/index.js'
import type { TreeEntry } from './interface.js'
import { Writer } from './cbor-writer.js'
import { FLAG_LAZY, FLAG_LINK, Node } from './node.js'
import { cidItemSize, MAJOR_ARRAY, MAJOR_BYTES, MAJOR_UINT } from './node-format.js'

/**
 * The inserts of a batch of changes encoded once, as the key and value items of one node-like
 * buffer: every key item, then every value item, in change order, so a new entry is a `Run` of
 * the resulting `Node` and nodes are written by copying byte ranges. A delete takes zero bytes
 * (a run never spans one). Reading each caller-owned entry once, in order, and afterwards only
 * this contiguous buffer keeps the encode passes off scattered heap objects.
 */
export class ChangeStager {
  readonly #n: number
  readonly #off: number[]
  #flags: Uint8Array | null = null
  readonly #k: Writer
  readonly #v: Writer

  /** `n` changes; `key`/`value` of a typical one, to size the buffers. */
  constructor(n: number, keyLength: number, valueLength: number) {
    this.#n = n
    // Preallocated and filled in order: four times faster than push for 400k slots, and (unlike
    // `fill`, which leaves a big array in slow dictionary mode) it ends with fast elements.
    const len = 4 * n + 2
    const off: number[] = new Array<number>(len)
    for (let i = 0; i < len; i++) off[i] = 0
    this.#off = off
    this.#k = new Writer(new Uint8Array(n * (keyLength + 2) + 16))
    this.#v = new Writer(new Uint8Array(n * (valueLength + 3) + 16))
  }

  /** Change i deletes. */
  skip(i: number): void {
    const n = this.#n
    const off = this.#off
    off[i] = off[n + 1 + i] = this.#k.pos
    off[2 * n + 1 + i] = off[3 * n + 2 + i] = this.#v.pos
  }

  /** Change i inserts (or updates) `key` with a validated value. */
  add(i: number, key: Uint8Array, value: TreeEntry['value'], lazy: boolean): void {
    this.#key(i, key, 0, key.length)
    const v = value as { inline?: Uint8Array; link: CID; size: number }
    if (v.inline !== undefined) {
      this.#inline(i, v.inline, 0, v.inline.length)
      if (lazy) (this.#flags ??= new Uint8Array(this.#n))[i] = FLAG_LAZY
      return
    }
    const n = this.#n
    const off = this.#off
    const vw = this.#v
    off[2 * n + 1 + i] = vw.pos
    vw.reserve(1 + cidItemSize(v.link) + 9)
    vw.head(MAJOR_ARRAY, 2)
    off[3 * n + 2 + i] = vw.pos
    vw.cid(v.link)
    vw.head(MAJOR_UINT, v.size)
    ;(this.#flags ??= new Uint8Array(n))[i] = FLAG_LINK | (lazy ? FLAG_LAZY : 0)
  }

  /** Change i inserts (or updates) an eager inline value, key and value given as byte ranges of `src`. */
  addBytes(i: number, src: Uint8Array, kOff: number, kLen: number, vOff: number, vLen: number): void {
    this.#key(i, src, kOff, kLen)
    this.#inline(i, src, vOff, vLen)
  }

  /** Writes change i's inline value item (src[from, from + len)) and its offsets. */
  #inline(i: number, src: Uint8Array, from: number, len: number): void {
    const n = this.#n
    const vw = this.#v
    this.#off[2 * n + 1 + i] = vw.pos
    vw.reserve(9 + len)
    vw.head(MAJOR_BYTES, len)
    this.#off[3 * n + 2 + i] = vw.pos
    vw.raw(src, from, from + len)
  }

  /** Writes change i's key item (src[from, from + len)) and its offsets. */
  #key(i: number, src: Uint8Array, from: number, len: number): void {
    const kw = this.#k
    const off = this.#off
    off[i] = kw.pos
    kw.reserve(9 + len)
    kw.head(MAJOR_BYTES, len)
    off[this.#n + 1 + i] = kw.pos
    kw.raw(src, from, from + len)
  }

  /** The staged entries as a Node (level and children meaningless; never stored). */
  finish(): Node {
    const n = this.#n
    const off = this.#off
    const kLen = this.#k.pos
    const vLen = this.#v.pos
    off[n] = kLen
    off[2 * n + 1 + n] = vLen
    const bytes = new Uint8Array(kLen + vLen)
    bytes.set(this.#k.out.subarray(0, kLen))
    bytes.set(this.#v.out.subarray(0, vLen), kLen)
    for (let i = 2 * n + 1; i < 4 * n + 2; i++) off[i] = off[i]! + kLen
    return new Node(0, bytes, n, off, this.#flags, null, undefined)
  }
}
