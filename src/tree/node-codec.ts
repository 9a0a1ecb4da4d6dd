import { sha256 } from './sha256.js'
import { Digest } from 'multiformats/hashes/digest'
import { CID, DAG_CBOR_CODE, type Block } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import type { TreeEntry } from './interface.js'
import { keyLevel, MAX_LEVEL } from './level.js'
import { Draft, FLAG_LAZY, FLAG_LINK, Node, Run } from './node.js'

// The node format (docs/tree.md), written and read by hand for speed and strictness; the bytes
// are exactly what @ipld/dag-cbor writes for the same data (test/tree/node-codec.test.ts):
//
//   { "c"?: [CID | null, …n+1], "k": [bytes, …n], "l": uint, "v": [value, …n], "z"?: [uint, …] }
//   value = bytes (inline) | [CID, uint size] (link)
//
// "c" is absent in a leaf (every child slot empty), "z" lists the indexes of lazy entries and is
// absent when there are none. Map keys in dag-cbor order: c, k, l, v, z. Decoding accepts only the
// canonical encoding of a valid node, so one entry set has exactly one node block.

const SHA256_CODE = 0x12
const TAG_CID = 42

const MAJOR_UINT = 0
const MAJOR_BYTES = 2
const MAJOR_ARRAY = 4
const MAJOR_MAP = 5
const NULL = 0xf6

const KEY_C = 0x63
const KEY_K = 0x6b
const KEY_L = 0x6c
const KEY_V = 0x76
const KEY_Z = 0x7a

/** Bytes of a node CID: CIDv1, dag-cbor, sha2-256, 32-byte digest. */
export const NODE_CID_BYTES = 36
const NODE_CID_PREFIX = [0x01, DAG_CBOR_CODE, SHA256_CODE, 32] as const
/** Encoded size of a child link: tag, byte-string head, 0x00 and a 36-byte CID. */
const NODE_LINK_SIZE = 2 + 2 + 1 + NODE_CID_BYTES

function headSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9
}

function cidItemSize(cid: CID): number {
  const n = cid.bytes.length + 1
  return 2 + headSize(n) + n
}

function entrySize(e: TreeEntry): number {
  let size = headSize(e.key.length) + e.key.length
  const v = e.value as { inline?: Uint8Array; link: CID; size: number }
  if (v.inline !== undefined) size += headSize(v.inline.length) + v.inline.length
  else size += 1 + cidItemSize(v.link) + headSize(v.size)
  return size
}

class Writer {
  out: Uint8Array
  pos = 0

  constructor(out: Uint8Array) {
    this.out = out
  }

  /** Grows `out` (doubling) to take `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.out.length) return
    const next = new Uint8Array(Math.max(this.out.length * 2, this.pos + n))
    next.set(this.out.subarray(0, this.pos))
    this.out = next
  }

  head(major: number, n: number): void {
    const out = this.out
    const m = major << 5
    if (n < 24) {
      out[this.pos++] = m | n
    } else if (n < 0x100) {
      out[this.pos++] = m | 24
      out[this.pos++] = n
    } else if (n < 0x10000) {
      out[this.pos++] = m | 25
      out[this.pos++] = n >>> 8
      out[this.pos++] = n & 0xff
    } else if (n < 0x100000000) {
      out[this.pos++] = m | 26
      out[this.pos++] = n >>> 24
      out[this.pos++] = (n >>> 16) & 0xff
      out[this.pos++] = (n >>> 8) & 0xff
      out[this.pos++] = n & 0xff
    } else {
      out[this.pos++] = m | 27
      const hi = Math.floor(n / 0x100000000)
      const lo = n >>> 0
      out[this.pos++] = hi >>> 24
      out[this.pos++] = (hi >>> 16) & 0xff
      out[this.pos++] = (hi >>> 8) & 0xff
      out[this.pos++] = hi & 0xff
      out[this.pos++] = lo >>> 24
      out[this.pos++] = (lo >>> 16) & 0xff
      out[this.pos++] = (lo >>> 8) & 0xff
      out[this.pos++] = lo & 0xff
    }
  }

  raw(b: Uint8Array, from: number, to: number): void {
    const n = to - from
    if (n >= 32 && from === 0 && to === b.length) {
      this.out.set(b, this.pos)
    } else if (n < 48) {
      const out = this.out
      let p = this.pos
      for (let i = from; i < to; i++) out[p++] = b[i]!
    } else {
      this.out.set(b.subarray(from, to), this.pos)
    }
    this.pos += n
  }

  key(k: number): void {
    this.out[this.pos++] = 0x61
    this.out[this.pos++] = k
  }

  cid(cid: CID): void {
    this.out[this.pos++] = 0xd8
    this.out[this.pos++] = TAG_CID
    const b = cid.bytes
    this.head(MAJOR_BYTES, b.length + 1)
    this.out[this.pos++] = 0
    this.raw(b, 0, b.length)
  }
}

/**
 * Encoded size of a draft. Child slots only need to be non-null for a child: every child link
 * is a node CID of fixed size, so sizes are known before the children are encoded.
 */
export function draftSize(d: Draft): number {
  const n = d.n
  let size = 1 + 2 + headSize(d.level) + 2 + headSize(n) + 2 + headSize(n)
  const children = d.children
  if (children !== null) {
    size += 2 + headSize(n + 1)
    for (let i = 0; i <= n; i++) size += children[i] ? NODE_LINK_SIZE : 1
  }
  let at = 0
  let z = 0
  for (const seg of d.segs) {
    if (seg instanceof Run) {
      const node = seg.node
      size += node.kItem(seg.to) - node.kItem(seg.from) + node.vItem(seg.to) - node.vItem(seg.from)
      const f = node.flags
      if (f !== null) {
        for (let i = seg.from; i < seg.to; i++) {
          if ((f[i]! & FLAG_LAZY) !== 0) {
            z++
            size += headSize(at + i - seg.from)
          }
        }
      }
      at += seg.to - seg.from
    } else {
      size += entrySize(seg)
      if (seg.priority === 'lazy') {
        z++
        size += headSize(at)
      }
      at++
    }
  }
  if (z > 0) size += 2 + headSize(z)
  return size
}

/** Offset table and flags of a written draft, as `Node` keeps them. */
export interface Layout {
  readonly off: number[]
  readonly flags: Uint8Array | null
}

/**
 * Writes the canonical bytes of a draft (exactly `draftSize` bytes) with resolved child CIDs,
 * and returns the offset table of the result (so the new node needs no parsing).
 */
export function writeDraft(out: Uint8Array, d: Draft, children: readonly (CID | null)[] | null): Layout {
  const n = d.n
  const off = new Array<number>(4 * n + 2)
  let flags: Uint8Array | null = null
  let z = 0
  for (const seg of d.segs) {
    if (seg instanceof Run) {
      if (seg.node.flags !== null) {
        flags ??= new Uint8Array(n)
        break
      }
    } else if (seg.priority === 'lazy' || (seg.value as { inline?: unknown }).inline === undefined) {
      flags ??= new Uint8Array(n)
      break
    }
  }
  if (flags !== null) {
    let at = 0
    for (const seg of d.segs) {
      if (seg instanceof Run) {
        const f = seg.node.flags
        if (f !== null) for (let i = seg.from; i < seg.to; i++) flags[at + i - seg.from] = f[i]!
        at += seg.to - seg.from
      } else {
        flags[at++] =
          ((seg.value as { inline?: unknown }).inline === undefined ? FLAG_LINK : 0) | (seg.priority === 'lazy' ? FLAG_LAZY : 0)
      }
    }
    for (let i = 0; i < n; i++) if ((flags[i]! & FLAG_LAZY) !== 0) z++
  }
  const w = new Writer(out)
  w.head(MAJOR_MAP, 3 + (children !== null ? 1 : 0) + (z > 0 ? 1 : 0))
  if (children !== null) {
    w.key(KEY_C)
    w.head(MAJOR_ARRAY, n + 1)
    for (let i = 0; i <= n; i++) {
      const c = children[i]
      if (c) w.cid(c)
      else out[w.pos++] = NULL
    }
  }
  w.key(KEY_K)
  w.head(MAJOR_ARRAY, n)
  let at = 0
  for (const seg of d.segs) {
    if (seg instanceof Run) {
      const src = seg.node
      const base = src.kItem(seg.from)
      const shift = w.pos - base
      for (let i = seg.from; i < seg.to; i++, at++) {
        off[at] = src.kItem(i) + shift
        off[n + 1 + at] = src.kData(i) + shift
      }
      w.raw(src.bytes, base, src.kItem(seg.to))
    } else {
      off[at] = w.pos
      w.head(MAJOR_BYTES, seg.key.length)
      off[n + 1 + at] = w.pos
      w.raw(seg.key, 0, seg.key.length)
      at++
    }
  }
  off[n] = w.pos
  w.key(KEY_L)
  w.head(MAJOR_UINT, d.level)
  w.key(KEY_V)
  w.head(MAJOR_ARRAY, n)
  const vItem = 2 * n + 1
  const vData = 3 * n + 2
  at = 0
  for (const seg of d.segs) {
    if (seg instanceof Run) {
      const src = seg.node
      const base = src.vItem(seg.from)
      const shift = w.pos - base
      for (let i = seg.from; i < seg.to; i++, at++) {
        off[vItem + at] = src.vItem(i) + shift
        off[vData + at] = src.vData(i) + shift
      }
      w.raw(src.bytes, base, src.vItem(seg.to))
    } else {
      off[vItem + at] = w.pos
      const v = seg.value as { inline?: Uint8Array; link: CID; size: number }
      if (v.inline !== undefined) {
        w.head(MAJOR_BYTES, v.inline.length)
        off[vData + at] = w.pos
        w.raw(v.inline, 0, v.inline.length)
      } else {
        w.head(MAJOR_ARRAY, 2)
        off[vData + at] = w.pos
        w.cid(v.link)
        w.head(MAJOR_UINT, v.size)
      }
      at++
    }
  }
  off[vItem + n] = w.pos
  if (z > 0) {
    w.key(KEY_Z)
    w.head(MAJOR_ARRAY, z)
    const f = flags as Uint8Array
    for (let i = 0; i < n; i++) if ((f[i]! & FLAG_LAZY) !== 0) w.head(MAJOR_UINT, i)
  }
  if (w.pos !== out.length) throw new Error(`node encoder size mismatch: ${w.pos} != ${out.length}`)
  return { off, flags }
}

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
    // Filled by push: `new Array(len)` beyond ~100k slots makes a slow dictionary-mode array.
    const off: number[] = []
    for (let i = 0; i < 4 * n + 2; i++) off.push(0)
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
    const n = this.#n
    const off = this.#off
    const kw = this.#k
    const vw = this.#v
    off[i] = kw.pos
    kw.reserve(9 + key.length)
    kw.head(MAJOR_BYTES, key.length)
    off[n + 1 + i] = kw.pos
    kw.raw(key, 0, key.length)
    off[2 * n + 1 + i] = vw.pos
    const v = value as { inline?: Uint8Array; link: CID; size: number }
    if (v.inline !== undefined) {
      const b = v.inline
      vw.reserve(9 + b.length)
      vw.head(MAJOR_BYTES, b.length)
      off[3 * n + 2 + i] = vw.pos
      vw.raw(b, 0, b.length)
      if (lazy) (this.#flags ??= new Uint8Array(n))[i] = FLAG_LAZY
    } else {
      vw.reserve(1 + cidItemSize(v.link) + 9)
      vw.head(MAJOR_ARRAY, 2)
      off[3 * n + 2 + i] = vw.pos
      vw.cid(v.link)
      vw.head(MAJOR_UINT, v.size)
      ;(this.#flags ??= new Uint8Array(n))[i] = FLAG_LINK | (lazy ? FLAG_LAZY : 0)
    }
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

/** Canonical bytes of a node given as entries (sorted) and child CIDs (null: leaf). */
export function encodeNode(level: number, entries: readonly TreeEntry[], children: readonly (CID | null)[] | null): Uint8Array {
  const slots = children ?? new Array<null>(entries.length + 1).fill(null)
  const d = new Draft(level, entries, slots)
  const out = new Uint8Array(draftSize(d))
  writeDraft(out, d, d.children === null ? null : (slots as (CID | null)[]))
  return out
}

/** The node CID whose 36 bytes are `bytes`, built on views of them (no parsing, no copies). */
function nodeCidFromBytes(bytes: Uint8Array): CID {
  const mh = bytes.subarray(2)
  return new CID(1, DAG_CBOR_CODE, new Digest(SHA256_CODE, 32, mh.subarray(2), mh), bytes)
}

/** Hashes `block` and writes its node CID into `out` (36 bytes), returning the CID. */
export function writeNodeCid(block: Uint8Array, out: Uint8Array): CID {
  const d = sha256(block)
  out[0] = NODE_CID_PREFIX[0]
  out[1] = NODE_CID_PREFIX[1]
  out[2] = NODE_CID_PREFIX[2]
  out[3] = NODE_CID_PREFIX[3]
  out.set(d, 4)
  return nodeCidFromBytes(out)
}

/** The CIDv1 (dag-cbor, sha2-256) of encoded node bytes. */
export function nodeCid(bytes: Uint8Array): CID {
  return writeNodeCid(bytes, new Uint8Array(NODE_CID_BYTES))
}

export function nodeBlock(bytes: Uint8Array): Block {
  return { cid: nodeCid(bytes), bytes }
}

function bad(message: string): LedgerError {
  return LedgerError.integrity(`malformed tree node: ${message}`)
}

class Reader {
  readonly bytes: Uint8Array
  pos = 0

  constructor(bytes: Uint8Array) {
    this.bytes = bytes
  }

  /** Reads a head of the given major type with its minimal-length argument. */
  head(major: number, what: string): number {
    const b = this.bytes
    if (this.pos >= b.length) throw bad(`truncated at ${what}`)
    const first = b[this.pos++]!
    if (first >>> 5 !== major) throw bad(`unexpected type at ${what}`)
    const ai = first & 31
    if (ai < 24) return ai
    let n: number
    let min: number
    if (ai === 24) {
      if (this.pos + 1 > b.length) throw bad(`truncated at ${what}`)
      n = b[this.pos]!
      min = 24
      this.pos += 1
    } else if (ai === 25) {
      if (this.pos + 2 > b.length) throw bad(`truncated at ${what}`)
      n = (b[this.pos]! << 8) | b[this.pos + 1]!
      min = 0x100
      this.pos += 2
    } else if (ai === 26) {
      if (this.pos + 4 > b.length) throw bad(`truncated at ${what}`)
      n = ((b[this.pos]! << 24) | (b[this.pos + 1]! << 16) | (b[this.pos + 2]! << 8) | b[this.pos + 3]!) >>> 0
      min = 0x10000
      this.pos += 4
    } else if (ai === 27) {
      if (this.pos + 8 > b.length) throw bad(`truncated at ${what}`)
      const p = this.pos
      const hi = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0
      const lo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0
      if (hi > 0x1fffff) throw bad(`integer too large at ${what}`)
      n = hi * 0x100000000 + lo
      min = 0x100000000
      this.pos += 8
    } else {
      throw bad(`indefinite or reserved length at ${what}`)
    }
    if (n < min) throw bad(`non-minimal integer at ${what}`)
    return n
  }

  /** An array or byte-string count; bounded by the bytes left so hostile counts cannot allocate. */
  count(major: number, what: string): number {
    const n = this.head(major, what)
    if (n > this.bytes.length - this.pos) throw bad(`length beyond the end at ${what}`)
    return n
  }

  /** Skips a byte string; returns where its bytes start (they end at `pos`). */
  byteString(what: string): number {
    const n = this.count(MAJOR_BYTES, what)
    const start = this.pos
    this.pos += n
    return start
  }

  peek(): number {
    if (this.pos >= this.bytes.length) throw bad('truncated')
    return this.bytes[this.pos]!
  }

  /** A CID item (any CID); returns it decoded when `parse`, else undefined. */
  cid(what: string, parse: boolean): CID | undefined {
    const b = this.bytes
    if (this.pos + 2 > b.length || b[this.pos] !== 0xd8 || b[this.pos + 1] !== TAG_CID) throw bad(`expected a CID at ${what}`)
    this.pos += 2
    const start = this.byteString(what)
    const len = this.pos - start
    if (len < 2 || len >= 0x10000 || b[start] !== 0) throw bad(`bad CID bytes at ${what}`)
    if (!parse) return undefined
    try {
      return CID.decode(b.subarray(start + 1, this.pos))
    } catch (err) {
      throw new LedgerError('DATA_INTEGRITY_ERROR', `malformed tree node: bad CID at ${what}`, { cause: err })
    }
  }

  /** A child link: must be a CIDv1 dag-cbor sha2-256; built on views of the block. */
  nodeCid(): CID {
    const b = this.bytes
    const p = this.pos
    if (
      p + NODE_LINK_SIZE > b.length ||
      b[p] !== 0xd8 ||
      b[p + 1] !== TAG_CID ||
      b[p + 2] !== 0x58 ||
      b[p + 3] !== NODE_CID_BYTES + 1 ||
      b[p + 4] !== 0 ||
      b[p + 5] !== NODE_CID_PREFIX[0] ||
      b[p + 6] !== NODE_CID_PREFIX[1] ||
      b[p + 7] !== NODE_CID_PREFIX[2] ||
      b[p + 8] !== NODE_CID_PREFIX[3]
    ) {
      throw bad('child link is not a dag-cbor sha2-256 CIDv1')
    }
    this.pos = p + NODE_LINK_SIZE
    return nodeCidFromBytes(b.subarray(p + 5, p + NODE_LINK_SIZE))
  }

  mapKey(): number {
    const b = this.bytes
    if (this.pos + 2 > b.length || b[this.pos] !== 0x61) throw bad('expected a one-letter map key')
    this.pos += 2
    return b[this.pos - 1]!
  }
}

export interface DecodeOptions {
  /** Hash every key and check it has the node's level (~0.5 µs a key). @default true */
  checkLevels?: boolean
  /**
   * Bytes this process just encoded: skip the key-order and value-link checks, and take the
   * child CIDs as given instead of rebuilding them.
   */
  trusted?: { children: readonly (CID | null)[] | null }
}

/**
 * Decodes and validates a node block: canonical encoding, known fields only, strictly ascending
 * keys, well-formed values, links and lazy indexes, and (with `checkLevels`) every key at the
 * node's level. Anything else is DATA_INTEGRITY_ERROR, never another exception. The node keeps
 * `bytes` (a plain Uint8Array view when given a Buffer). Parent/child constraints are checked
 * by the readers that descend (`checkChild`).
 */
export function decodeNode(input: Uint8Array, cid: CID | undefined, opts: DecodeOptions = {}): Node {
  const bytes = input.constructor === Uint8Array ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
  const trusted = opts.trusted
  const r = new Reader(bytes)
  const fields = r.head(MAJOR_MAP, 'node')
  if (fields < 3 || fields > 5) throw bad('wrong number of fields')
  let children: (CID | null)[] | null = null
  let n = -1
  let off: number[] | undefined
  let flags: Uint8Array | null = null
  let level = -1
  let sawV = false
  let last = 0
  for (let f = 0; f < fields; f++) {
    const k = r.mapKey()
    if (k <= last) throw bad('map keys out of order')
    last = k
    if (k === KEY_C) {
      const m = r.count(MAJOR_ARRAY, 'c')
      let any = false
      if (trusted === undefined) {
        children = new Array<CID | null>(m)
        for (let i = 0; i < m; i++) {
          if (r.peek() === NULL) {
            r.pos++
            children[i] = null
          } else {
            children[i] = r.nodeCid()
            any = true
          }
        }
      } else {
        for (let i = 0; i < m; i++) {
          if (r.peek() === NULL) r.pos++
          else r.pos += NODE_LINK_SIZE
        }
        children = trusted.children as (CID | null)[]
        any = true
      }
      if (!any) throw bad('"c" present in a leaf')
      if (children === null || children.length !== m) throw bad('"c" has the wrong length')
    } else if (k === KEY_K) {
      n = r.count(MAJOR_ARRAY, 'k')
      off = new Array<number>(4 * n + 2)
      for (let i = 0; i < n; i++) {
        off[i] = r.pos
        off[n + 1 + i] = r.byteString('k')
      }
      off[n] = r.pos
    } else if (k === KEY_L) {
      level = r.head(MAJOR_UINT, 'l')
      if (level > MAX_LEVEL) throw bad('level out of range')
    } else if (k === KEY_V) {
      if (off === undefined) throw bad('missing "k"')
      sawV = true
      if (r.count(MAJOR_ARRAY, 'v') !== n) throw bad('"k" and "v" differ in length')
      const vItem = 2 * n + 1
      const vData = 3 * n + 2
      for (let i = 0; i < n; i++) {
        off[vItem + i] = r.pos
        const t = r.peek() >>> 5
        if (t === MAJOR_BYTES) {
          off[vData + i] = r.byteString('v')
        } else {
          if (r.head(MAJOR_ARRAY, 'v') !== 2) throw bad('link value is not [CID, size]')
          off[vData + i] = r.pos
          r.cid('v', trusted === undefined)
          if (r.head(MAJOR_UINT, 'v size') > Number.MAX_SAFE_INTEGER) throw bad('value size too large')
          flags ??= new Uint8Array(n)
          flags[i] = FLAG_LINK
        }
      }
      off[vItem + n] = r.pos
    } else if (k === KEY_Z) {
      const m = r.count(MAJOR_ARRAY, 'z')
      if (m === 0) throw bad('empty "z"')
      if (off === undefined) throw bad('missing "k"')
      flags ??= new Uint8Array(n)
      let prev = -1
      for (let i = 0; i < m; i++) {
        const idx = r.head(MAJOR_UINT, 'z')
        if (idx >= n || idx <= prev) throw bad('bad lazy index')
        flags[idx] = flags[idx]! | FLAG_LAZY
        prev = idx
      }
    } else {
      throw bad('unknown field')
    }
  }
  if (r.pos !== bytes.length) throw bad('trailing bytes')
  if (off === undefined || !sawV || level < 0) throw bad('missing field')
  if (children !== null && children.length !== n + 1) throw bad('"c" has the wrong length')
  if (n === 0 && level !== 0) throw bad('empty node above level 0')
  const node = new Node(level, bytes, n, off, flags, children, cid)
  if (trusted === undefined) {
    for (let i = 1; i < n; i++) if (node.compareKeys(i - 1, node, i) >= 0) throw bad('keys not strictly ascending')
  }
  if (opts.checkLevels !== false) {
    for (let i = 0; i < n; i++) if (keyLevel(node.keyAt(i)) !== level) throw bad('key in a node of the wrong level')
  }
  return node
}

/**
 * The CIDs a node block references: child nodes, and value blocks with their laziness. Fully
 * validates the block (including key levels): the sync layer calls it on every node it
 * receives, before storing it.
 */
export function nodeLinks(bytes: Uint8Array): { children: CID[]; values: { cid: CID; lazy: boolean }[] } {
  const node = decodeNode(bytes, undefined)
  const children: CID[] = []
  for (const c of node.children ?? []) if (c !== null) children.push(c)
  const values: { cid: CID; lazy: boolean }[] = []
  const f = node.flags
  if (f !== null) {
    for (let i = 0; i < node.n; i++) {
      if ((f[i]! & FLAG_LINK) !== 0) values.push({ cid: (node.valueAt(i) as { link: CID }).link, lazy: (f[i]! & FLAG_LAZY) !== 0 })
    }
  }
  return { children, values }
}
