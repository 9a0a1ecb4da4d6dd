import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyDelta, deltaHeader, encodeDelta, isDelta, MAX_DELTA_DEPTH } from '../../src/store/block-delta.js'
import { numRuns } from '../tree/helpers.js'

const baseCid = Uint8Array.from({ length: 36 }, (_, i) => i + 1)
/** A chain of `depth` base CIDs starting with baseCid. */
const chainOf = (depth: number): Uint8Array[] => Array.from({ length: depth }, (_, k) => (k === 0 ? baseCid : baseCid.map((b) => b + k)))

/** A block made of pieces of `base` and new bytes, with the copy ranges that describe it. */
const edited = fc
  .uint8Array({ minLength: 64, maxLength: 3000 })
  .chain((base) =>
    fc
      .array(
        fc.oneof(
          fc.record({ from: fc.nat(base.length - 1), len: fc.integer({ min: 1, max: 400 }) }),
          fc.uint8Array({ minLength: 1, maxLength: 60 }),
        ),
        { minLength: 1, maxLength: 12 },
      )
      .map((pieces) => {
        const parts: Uint8Array[] = []
        const copies: number[] = []
        let at = 0
        for (const p of pieces) {
          if (p instanceof Uint8Array) {
            parts.push(p)
            at += p.length
          } else {
            const len = Math.min(p.len, base.length - p.from)
            parts.push(base.subarray(p.from, p.from + len))
            copies.push(at, p.from, len)
            at += len
          }
        }
        return { base, next: new Uint8Array(Buffer.concat(parts)), copies }
      }),
  )

describe('block deltas', () => {
  it('rebuild exactly the block they were made from, or decline', () => {
    fc.assert(
      fc.property(edited, fc.integer({ min: 1, max: MAX_DELTA_DEPTH }), ({ base, next, copies }, depth) => {
        const record = encodeDelta(base, next, copies, chainOf(depth))
        if (record === undefined) return
        expect(isDelta(record)).toBe(true)
        expect(record.length).toBeLessThanOrEqual(Math.floor(next.length / 2))
        expect(deltaHeader(record)!.chain).toEqual(chainOf(depth))
        expect(applyDelta(record, base)).toEqual(next)
      }),
      { numRuns: numRuns(300) },
    )
  })

  it('pay for a small change of a big block', () => {
    const base = Uint8Array.from({ length: 4000 }, (_, i) => (i * 7) & 0xff)
    const next = base.slice()
    next.fill(9, 2000, 2100)
    const record = encodeDelta(base, next, [0, 0, 2000, 2100, 2100, 1900], chainOf(1))!
    expect(record.length).toBeLessThan(160)
    expect(applyDelta(record, base)).toEqual(next)
  })

  it('decline a block mostly new, copies out of bounds or overlapping, and depths out of range', () => {
    const base = new Uint8Array(1000).fill(1)
    const next = new Uint8Array(1000).fill(2)
    expect(encodeDelta(base, next, [0, 0, 10], chainOf(1))).toBeUndefined()
    const same = base.slice()
    expect(encodeDelta(base, same, [0, 0, 1000], chainOf(1))).toBeDefined()
    expect(encodeDelta(base, same, [0, 1, 1000], chainOf(1))).toBeUndefined()
    expect(encodeDelta(base, same, [0, 0, 600, 500, 500, 500], chainOf(1))).toBeUndefined()
    expect(encodeDelta(base, same, [0, 0, 1000], chainOf(0))).toBeUndefined()
    expect(encodeDelta(base, same, [0, 0, 1000], chainOf(MAX_DELTA_DEPTH + 1))).toBeUndefined()
  })

  it('a truncated or extended record, or a short base, gives undefined; a damaged one never throws', () => {
    const base = Uint8Array.from({ length: 2000 }, (_, i) => i & 0xff)
    const next = Buffer.concat([base.subarray(0, 1000), Buffer.from('changed'), base.subarray(1000)])
    const record = encodeDelta(base, new Uint8Array(next), [0, 0, 1000, 1007, 1000, 1000], chainOf(2))!
    expect(applyDelta(record, base.subarray(0, 1500))).toBeUndefined()
    expect(applyDelta(record.subarray(0, record.length - 1), base)).toBeUndefined()
    expect(applyDelta(Buffer.concat([record, Buffer.from([0])]), base)).toBeUndefined()
    fc.assert(
      fc.property(fc.nat(record.length - 1), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const bad = record.slice()
        bad[at]! ^= flip
        expect(() => applyDelta(bad, base)).not.toThrow()
      }),
      { numRuns: numRuns(200) },
    )
  })
})
