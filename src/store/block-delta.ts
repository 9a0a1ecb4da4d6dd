// A delta record stores a dag-cbor block as edits of an older stored block (its base): the copies
// of the base's byte ranges it reuses and the new bytes between them. A tree node rewritten by a
// change differs from the node it replaces in a few entries, so its record is a few hundred bytes
// instead of the whole node (docs/architecture.md, "Rewritten nodes as deltas").
//
// Record: 0xff, depth d (1..MAX_DELTA_DEPTH), then the chain of d bases, each as CID length and
// CID bytes, from the base itself to the whole block the chain starts from (so a cold read asks
// for all of them at once), target length (varint), then ops until the target is full: varint
// (len << 1 | 1) + varint base offset for a copy of base[offset, offset + len), varint
// (len << 1) + len bytes for literal bytes. A dag-cbor block never starts with 0xff (a CBOR
// break), so records and whole blocks cannot be confused.

/** First byte of a delta record. */
export const DELTA_TAG = 0xff

/** Longest chain of deltas before a block is stored whole again (each record lists its chain). */
export const MAX_DELTA_DEPTH = 4

/** A delta must be at most this fraction of the block, or the block is stored whole. */
const MAX_DELTA_RATIO = 0.5

/** Copies shorter than this are kept as literal bytes: a copy op costs up to ~6 bytes. */
const MIN_COPY = 8

/**
 * A delta record of `next` against `base` from the ranges `next` copies from it (triples: offset
 * in next, offset in base, length; ascending, disjoint), or undefined when the ranges are out of
 * bounds or the delta would not pay. `chain` is the base's CID, then the base's own chain.
 */
export function encodeDelta(base: Uint8Array, next: Uint8Array, copies: readonly number[], chain: readonly Uint8Array[]): Uint8Array | undefined {
  const depth = chain.length
  if (depth < 1 || depth > MAX_DELTA_DEPTH || copies.length % 3 !== 0) return undefined
  const out = new Writer(Math.floor(next.length * MAX_DELTA_RATIO))
  if (!(out.byte(DELTA_TAG) && out.byte(depth))) return undefined
  for (const cid of chain) if (!(cid.length < 256 && out.byte(cid.length) && out.bytes(cid, 0, cid.length))) return undefined
  if (!out.varint(next.length)) return undefined
  let lit = 0
  for (let k = 0; k < copies.length; k += 3) {
    const to = copies[k]!
    const from = copies[k + 1]!
    const len = copies[k + 2]!
    if (to < lit || to + len > next.length || from < 0 || from + len > base.length) return undefined
    if (len < MIN_COPY) continue
    if (to > lit && !out.literal(next, lit, to)) return undefined
    if (!out.copy(from, len)) return undefined
    lit = to + len
  }
  if (next.length > lit && !out.literal(next, lit, next.length)) return undefined
  return out.finish()
}

/** True when `record` is a delta record rather than a whole block. */
export function isDelta(record: Uint8Array): boolean {
  return record.length > 0 && record[0] === DELTA_TAG
}

/** The chain of base CIDs of a delta record (nearest first), and where its ops start; undefined if malformed. */
export function deltaHeader(record: Uint8Array): { chain: Uint8Array[]; body: number } | undefined {
  const depth = record[1] ?? 0
  if (depth < 1 || depth > MAX_DELTA_DEPTH) return undefined
  const chain: Uint8Array[] = []
  let pos = 2
  for (let k = 0; k < depth; k++) {
    const len = record[pos]
    if (len === undefined || pos + 1 + len > record.length) return undefined
    chain.push(record.subarray(pos + 1, pos + 1 + len))
    pos += 1 + len
  }
  return { chain, body: pos }
}

/** The block a delta record stands for, given its base's bytes; undefined if the record is malformed. */
export function applyDelta(record: Uint8Array, base: Uint8Array): Uint8Array | undefined {
  const header = deltaHeader(record)
  if (header === undefined) return undefined
  const r = new Reader(record, header.body)
  const size = r.varint()
  // The ops are checked before anything is allocated: a damaged length must not allocate it.
  if (size < 0 || !walkOps(record, r.pos, size, base.length)) return undefined
  const out = new Uint8Array(size)
  walkOps(record, r.pos, size, base.length, (o, from, len, literal) => {
    out.set(literal ? record.subarray(from, from + len) : base.subarray(from, from + len), o)
  })
  return out
}

/**
 * Walks the ops of a record from `pos`; true when they fill exactly `size` bytes within the
 * base and the record and end with it. `each` gets every op: target offset, source offset (in
 * the record for literal bytes, in the base for copies), length, whether literal.
 */
function walkOps(record: Uint8Array, pos: number, size: number, baseLength: number, each?: (o: number, from: number, len: number, literal: boolean) => void): boolean {
  const r = new Reader(record, pos)
  let o = 0
  while (o < size) {
    const head = r.varint()
    if (head < 0) return false
    const len = Math.floor(head / 2)
    if (len === 0 || o + len > size) return false
    if (head % 2 === 1) {
      const from = r.varint()
      if (from < 0 || from + len > baseLength) return false
      each?.(o, from, len, false)
    } else {
      if (r.pos + len > record.length) return false
      each?.(o, r.pos, len, true)
      r.pos += len
    }
    o += len
  }
  return r.pos === record.length
}


/** A bounded output buffer: every append reports false once the record would exceed the limit. */
/** Scratch space the records are built in (one Writer at a time; `finish` copies out). */
let scratch = new Uint8Array(1 << 16)

class Writer {
  readonly #buf: Uint8Array
  #pos = 0

  constructor(limit: number) {
    if (scratch.length < limit) scratch = new Uint8Array(limit)
    this.#buf = scratch.subarray(0, limit)
  }

  byte(v: number): boolean {
    if (this.#pos >= this.#buf.length) return false
    this.#buf[this.#pos++] = v
    return true
  }

  bytes(src: Uint8Array, from: number, to: number): boolean {
    if (this.#pos + to - from > this.#buf.length) return false
    this.#buf.set(src.subarray(from, to), this.#pos)
    this.#pos += to - from
    return true
  }

  varint(v: number): boolean {
    while (v >= 0x80) {
      if (!this.byte((v & 0x7f) | 0x80)) return false
      v = Math.floor(v / 128)
    }
    return this.byte(v)
  }

  copy(from: number, len: number): boolean {
    return this.varint(len * 2 + 1) && this.varint(from)
  }

  literal(src: Uint8Array, from: number, to: number): boolean {
    return this.varint((to - from) * 2) && this.bytes(src, from, to)
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#pos)
  }
}

class Reader {
  readonly #buf: Uint8Array
  pos: number

  constructor(buf: Uint8Array, pos: number) {
    this.#buf = buf
    this.pos = pos
  }

  /** The next varint, or -1 past the end or when over 2^42. */
  varint(): number {
    let v = 0
    let scale = 1
    for (let k = 0; k < 6; k++) {
      if (this.pos >= this.#buf.length) return -1
      const b = this.#buf[this.pos++]!
      v += (b & 0x7f) * scale
      if (b < 0x80) return v
      scale *= 128
    }
    return -1
  }
}
