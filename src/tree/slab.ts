/**
 * Hands out views of larger buffers, not zero-filled (Buffer.allocUnsafeSlow: callers write every
 * byte). A request over half a chunk gets its own buffer.
 */
export class Slab {
  readonly #chunk: number
  #buf: ArrayBuffer = new ArrayBuffer(0)
  #at = 0
  #end = 0

  constructor(chunk: number) {
    this.#chunk = chunk
  }

  take(size: number): Uint8Array {
    if (this.#at + size > this.#end) {
      if (size > this.#chunk >>> 1) return new Uint8Array(size)
      const b = Buffer.allocUnsafeSlow(this.#chunk)
      this.#buf = b.buffer
      this.#at = b.byteOffset
      this.#end = this.#at + this.#chunk
    }
    const out = new Uint8Array(this.#buf, this.#at, size)
    this.#at += size
    return out
  }
}
