import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareRanges, equalRanges } from '../../src/codec/index.js'
import { numRuns } from '../helpers/bytes.js'

/** Two buffers holding the same `len` bytes at different offsets, optionally one byte changed. */
const rangesArb = fc
  .record({
    bytes: fc.uint8Array({ minLength: 0, maxLength: 300 }),
    padA: fc.nat(40),
    padB: fc.nat(40),
    flip: fc.option(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { nil: undefined }),
  })
  .map(({ bytes, padA, padB, flip }) => {
    const a = new Uint8Array(padA + bytes.length + 5).fill(7)
    const b = new Uint8Array(padB + bytes.length + 5).fill(9)
    a.set(bytes, padA)
    b.set(bytes, padB)
    if (flip !== undefined && bytes.length > 0) {
      const at = padB + (flip[0] % bytes.length)
      b[at] = b[at]! ^ flip[1]
    }
    return { a, as: padA, b, bs: padB, len: bytes.length }
  })

const naiveEqual = (a: Uint8Array, as: number, b: Uint8Array, bs: number, len: number): boolean => {
  for (let k = 0; k < len; k++) if (a[as + k] !== b[bs + k]) return false
  return true
}

describe('byte range helpers', () => {
  it('equalRanges agrees with a byte loop, below and above the native threshold', () => {
    fc.assert(
      fc.property(rangesArb, ({ a, as, b, bs, len }) => {
        expect(equalRanges(a, as, b, bs, len)).toBe(naiveEqual(a, as, b, bs, len))
        expect(compareRanges(a, as, len, b, bs, len) === 0).toBe(naiveEqual(a, as, b, bs, len))
      }),
      { numRuns: numRuns(300) },
    )
  })

  it('equalRanges sees a difference in the last byte of a long range and ignores bytes outside it', () => {
    const a = new Uint8Array(1000).fill(1)
    const b = new Uint8Array(1000).fill(1)
    b[999] = 2
    expect(equalRanges(a, 0, b, 0, 999)).toBe(true)
    expect(equalRanges(a, 0, b, 0, 1000)).toBe(false)
    expect(equalRanges(a, 1, b, 0, 999)).toBe(true)
    expect(equalRanges(a, 0, b, 1, 999)).toBe(false)
  })
})
