/**
 * Hands out views of larger buffers, not zero-filled (Buffer.allocUnsafeSlow: callers write every
 * byte) unless `zeroed`: views handed to callers expose their whole buffer through `.buffer`, so
 * those buffers must not carry stale memory. A request over half a chunk gets its own buffer.
 * With `first`, buffers start that small and double up to `chunk`, so a slab that serves a few
 * bytes does not take a whole chunk.
 */
export class Slab {
  readonly #chunk: number
  readonly #zeroed: boolean
  #next: number
  #buf: ArrayBuffer = new ArrayBuffer(0)
  #at = 0
  #end = 0

  constructor(chunk: number, first = chunk, zeroed = false) {
    this.#chunk = chunk
    this.#next = Math.min(first, chunk)
    this.#zeroed = zeroed
  }

  take(size: number): Uint8Array {
    if (this.#at + size > this.#end) {
      if (size > this.#chunk >>> 1) return new Uint8Array(size)
      const bytes = Math.max(this.#next, size)
      this.#next = Math.min(this.#chunk, this.#next * 2)
      const b = this.#zeroed ? new Uint8Array(bytes) : Buffer.allocUnsafeSlow(bytes)
      this.#buf = b.buffer
      this.#at = b.byteOffset
      this.#end = this.#at + bytes
    }
    const out = new Uint8Array(this.#buf, this.#at, size)
    this.#at += size
    return out
  }
}
