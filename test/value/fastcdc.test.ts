import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { GEAR_TABLE } from '../../src/value/gear-table.js'
import { AVG_CHUNK, MAX_CHUNK, MIN_CHUNK, chunkBoundaries, cutPoint } from '../../src/value/index.js'
import { numRuns, seededBytes } from './helpers.js'

const vectors = JSON.parse(readFileSync(new URL('./vectors/format.json', import.meta.url), 'utf8')) as {
  boundaries: { size: number; seed: number; ends: number[] }
}

function sizesOf(ends: number[]): number[] {
  return ends.map((e, i) => e - (i === 0 ? 0 : ends[i - 1]!))
}

describe('FastCDC', () => {
  it('gear table is the documented procedure (sha256 of "dagkv-fastcdc-gear-v1:<i>", first 4 bytes BE)', () => {
    expect(GEAR_TABLE.length).toBe(256)
    for (let i = 0; i < 256; i++) {
      const word = createHash('sha256').update(`dagkv-fastcdc-gear-v1:${i}`).digest().readUInt32BE(0)
      expect(GEAR_TABLE[i], `GEAR[${i}]`).toBe(word)
    }
  })

  it('matches the checked-in boundaries of a seeded input (storage format)', () => {
    const { size, seed, ends } = vectors.boundaries
    expect(chunkBoundaries(seededBytes(size, seed))).toEqual(ends)
  })

  it('chunk sizes stay within [MIN, MAX] (the last one may be shorter) and cover the input', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 * 1024 * 1024 }), fc.integer(), (size, seed) => {
        const data = seededBytes(size, seed)
        const ends = chunkBoundaries(data)
        expect(ends.at(-1) ?? 0).toBe(size)
        const sizes = sizesOf(ends)
        sizes.forEach((s, i) => {
          expect(s).toBeLessThanOrEqual(MAX_CHUNK)
          if (i < sizes.length - 1) expect(s).toBeGreaterThanOrEqual(MIN_CHUNK)
          else expect(s).toBeGreaterThan(0)
        })
      }),
      { numRuns: numRuns(20) },
    )
  })

  it('low-entropy inputs also respect the bounds (all zeros: MAX-sized chunks)', () => {
    const zeros = new Uint8Array(1024 * 1024)
    const sizes = sizesOf(chunkBoundaries(zeros))
    for (const s of sizes.slice(0, -1)) expect(s).toBeGreaterThanOrEqual(MIN_CHUNK)
    for (const s of sizes) expect(s).toBeLessThanOrEqual(MAX_CHUNK)
    const pattern = new Uint8Array(1024 * 1024).map((_, i) => (i % 251) ^ (i >> 12))
    for (const s of sizesOf(chunkBoundaries(pattern)).slice(0, -1)) {
      expect(s).toBeGreaterThanOrEqual(MIN_CHUNK)
      expect(s).toBeLessThanOrEqual(MAX_CHUNK)
    }
  })

  it('is deterministic and depends only on the bytes from the chunk start', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 512 * 1024 }), fc.integer(), fc.integer({ min: 0, max: 1000 }), (size, seed, pad) => {
        const data = seededBytes(size, seed)
        expect(chunkBoundaries(data)).toEqual(chunkBoundaries(data.slice()))
        // The same bytes behind a prefix: cutPoint from the offset gives the same first cut.
        const shifted = new Uint8Array(pad + size)
        shifted.set(data, pad)
        expect(cutPoint(shifted, pad, pad + size)).toBe(cutPoint(data, 0, size))
      }),
      { numRuns: numRuns(20) },
    )
  })

  it('averages near the target on random data', () => {
    const size = 16 * 1024 * 1024
    const n = chunkBoundaries(seededBytes(size, 99)).length
    const mean = size / n
    expect(mean).toBeGreaterThan(AVG_CHUNK * 0.9)
    expect(mean).toBeLessThan(AVG_CHUNK * 1.4)
  })

  it('chunks 16 MiB of random data quickly', () => {
    const data = seededBytes(16 * 1024 * 1024, 5)
    chunkBoundaries(data.subarray(0, 1024 * 1024)) // warm up
    let best = Infinity
    for (let i = 0; i < 3; i++) {
      const t = performance.now()
      chunkBoundaries(data)
      best = Math.min(best, performance.now() - t)
    }
    const mbPerS = 16 / (best / 1000)
    // Target is >= 300 MB/s (bench/values.ts measures it); the bound here is loose for CI noise.
    expect(mbPerS).toBeGreaterThan(100)
  })
})
