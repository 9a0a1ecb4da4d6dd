import { describe, expect, it } from 'vitest'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Slab } from '../../src/tree/slab.js'

setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

describe('Slab', () => {
  it('hands out disjoint views of shared buffers, growing from `first` up to `chunk`', () => {
    const slab = new Slab(1024, 128)
    const a = slab.take(100)
    const b = slab.take(20)
    expect(a.buffer).toBe(b.buffer)
    expect(b.byteOffset).toBe(a.byteOffset + 100)
    const c = slab.take(100) // does not fit the first 128-byte buffer: a 256-byte one
    expect(c.buffer).not.toBe(a.buffer)
    expect(c.buffer.byteLength).toBeGreaterThanOrEqual(256)
    a.fill(1)
    b.fill(2)
    c.fill(3)
    expect(a.every((x) => x === 1) && b.every((x) => x === 2) && c.every((x) => x === 3)).toBe(true)
  })

  it('gives a request over half a chunk its own buffer, and a request larger than the next size a buffer of its size', () => {
    const slab = new Slab(1024, 64)
    const big = slab.take(600)
    expect(big.byteOffset).toBe(0)
    expect(big.buffer.byteLength).toBe(600)
    const mid = slab.take(300) // larger than the 64-byte first buffer: one buffer of at least 300
    expect(mid.length).toBe(300)
    expect(mid.buffer.byteLength).toBe(300)
  })
})

describe('Slab, zeroed', () => {
  it('hands out buffers with nothing but zeros beyond the views taken (no stale memory)', () => {
    // Leave stale bytes behind in freed buffers of the same size first (collected, so their
    // memory goes back to the allocator; an unzeroed slab picks it up, as a scan's did).
    for (let i = 0; i < 256; i++) Buffer.allocUnsafeSlow(4096).fill(0xab)
    collectGarbage()
    const slab = new Slab(64 * 1024, 4096, true)
    const v = slab.take(10)
    v.fill(1)
    const whole = new Uint8Array(v.buffer)
    expect(whole.length).toBe(4096)
    expect(whole.subarray(v.byteOffset + 10).every((b) => b === 0)).toBe(true)
    expect(whole.subarray(0, v.byteOffset).every((b) => b === 0)).toBe(true)
  })
})
