import { MAX_CHUNK, cutPoint } from './fastcdc.js'

/** Bytes buffered per refill; chunks are views into these buffers (each is replaced, never reused). */
const CAPACITY = 1024 * 1024

/**
 * FastCDC over a byte stream, cutting exactly where `cutPoint` cuts the whole value: a chunk is
 * only cut once `MAX_CHUNK` bytes are buffered (so the cut cannot depend on bytes not yet seen),
 * and the rest at `finish`. Emitted chunks are views into a buffer that is never written again,
 * so they stay valid without copying; memory is bounded by CAPACITY plus what the caller keeps.
 */
export class StreamChunker {
  #buf = new Uint8Array(CAPACITY)
  #start = 0
  #end = 0

  push(piece: Uint8Array, onChunk: (chunk: Uint8Array) => void): void {
    let p = 0
    while (p < piece.length) {
      if (this.#end === this.#buf.length) this.#refill()
      const n = Math.min(this.#buf.length - this.#end, piece.length - p)
      this.#buf.set(piece.subarray(p, p + n), this.#end)
      this.#end += n
      p += n
      while (this.#end - this.#start >= MAX_CHUNK) this.#cut(onChunk)
    }
  }

  /** Cuts what remains: the stream has ended. */
  finish(onChunk: (chunk: Uint8Array) => void): void {
    while (this.#start < this.#end) this.#cut(onChunk)
  }

  #cut(onChunk: (chunk: Uint8Array) => void): void {
    const n = cutPoint(this.#buf, this.#start, this.#end)
    onChunk(this.#buf.subarray(this.#start, this.#start + n))
    this.#start += n
  }

  // The tail left after cutting is shorter than MAX_CHUNK, so a fresh buffer always has room.
  #refill(): void {
    const next = new Uint8Array(CAPACITY)
    next.set(this.#buf.subarray(this.#start, this.#end))
    this.#end -= this.#start
    this.#start = 0
    this.#buf = next
  }
}
