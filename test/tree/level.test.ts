import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { keyLevel, MAX_LEVEL } from '../../src/tree/index.js'
import { createHash } from 'node:crypto'
import { keyLevelReference } from '../../src/tree/level.js'
import { sha256, sha256FirstWord, sha256Words, SHORT_MAX } from '../../src/tree/sha256.js'
import { bytes, numRuns } from './helpers.js'

describe('sha256', () => {
  const reference = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
  const words = (b: Uint8Array): string =>
    Array.from(sha256Words(b), (w) => (w >>> 0).toString(16).padStart(8, '0')).join('')

  it('the JS SHA-256 matches node:crypto at every length up to 300 and on random inputs', () => {
    for (let n = 0; n <= 300; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 7 + n * 13) & 0xff)
      expect(words(b)).toBe(reference(b))
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => {
        expect(words(b)).toBe(reference(b))
        expect(Buffer.from(sha256(b)).toString('hex')).toBe(reference(b))
      }),
      { numRuns: numRuns(500) },
    )
  })
})

describe('sha256FirstWord', () => {
  it('is the first word of SHA-256 at every length up to SHORT_MAX', () => {
    const first = (b: Uint8Array): number => createHash('sha256').update(b).digest().readInt32BE(0)
    for (let n = 0; n <= SHORT_MAX; n++) {
      for (let s = 0; s < 8; s++) {
        const b = Uint8Array.from({ length: n }, (_, i) => (i * 7 + n * 13 + s * 101) & 0xff)
        expect(sha256FirstWord(b)).toBe(first(b))
      }
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: SHORT_MAX }), (b) => {
        expect(sha256FirstWord(b)).toBe(first(b))
      }),
      { numRuns: numRuns(500) },
    )
  })
})

describe('keyLevel', () => {
  it('counts leading zero base-32 digits of sha256(key) (checked against node:crypto)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ minLength: 400, maxLength: 1100 })), (key) => {
        expect(keyLevel(key)).toBe(keyLevelReference(key))
      }),
      { numRuns: numRuns(2000) },
    )
  })

  it('is right at every block boundary length', () => {
    for (let n = 0; n <= 600; n++) {
      const key = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff)
      expect(keyLevel(key)).toBe(keyLevelReference(key))
    }
  })

  it('has the expected distribution (fan-out 32)', () => {
    const counts = new Array<number>(MAX_LEVEL + 1).fill(0)
    for (let i = 0; i < 32768; i++) counts[keyLevel(bytes(`key-${i}`))]!++
    // Level 0 with odds 31/32, level 1 with (1/32)(31/32): ~31,744 and ~992 of 32,768.
    expect(counts[0]! / 32768).toBeGreaterThan(0.96)
    expect(counts[0]! / 32768).toBeLessThan(0.975)
    expect(counts[1]).toBeGreaterThan(800)
    expect(counts[1]).toBeLessThan(1200)
    expect(MAX_LEVEL).toBe(51)
  })
})
