import type { CID } from '../codec/index.js'
import { MAJOR_BYTES, TAG_CID } from './node-format.js'

/** Writes CBOR items of the node format into a byte buffer (see node-format.ts). */
export class Writer {
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
