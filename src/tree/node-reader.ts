import { CID } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import { nodeCidFromBytes } from './node-cid.js'
import { MAJOR_BYTES, NODE_CID_BYTES, NODE_CID_PREFIX, NODE_LINK_SIZE, TAG_CID } from './node-format.js'

export function bad(message: string): LedgerError {
  return LedgerError.integrity(`malformed tree node: ${message}`)
}

export class Reader {
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
