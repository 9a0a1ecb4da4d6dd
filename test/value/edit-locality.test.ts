import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RAW_CODE, type Block, type CID } from '../../src/codec/index.js'
import { decodeIndex } from '../../src/value/index.js'
import { encodeWhole } from '../../src/value/encode.js'
import { fixedSeed, numRuns, seededBytes } from './helpers.js'

const MiB = 1024 * 1024

function insert(base: Uint8Array, at: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(base.length + bytes.length)
  out.set(base.subarray(0, at))
  out.set(bytes, at)
  out.set(base.subarray(at), at + bytes.length)
  return out
}

/** Index levels above the chunks. */
function depth(link: CID, blocks: Block[]): number {
  const byId = new Map(blocks.map((b) => [b.cid.toString(), b.bytes]))
  let d = 0
  for (let c = link; c.code !== RAW_CODE; d++) c = decodeIndex(byId.get(c.toString())!, c).children[0]!
  return d
}

function changed(before: Block[], after: Block[]): { chunks: number; indexes: number } {
  const old = new Set(before.map((b) => b.cid.toString()))
  let chunks = 0
  let indexes = 0
  for (const b of after) {
    if (old.has(b.cid.toString())) continue
    if (b.cid.code === RAW_CODE) chunks++
    else indexes++
  }
  return { chunks, indexes }
}

describe('edit locality', () => {
  const base = seededBytes(10 * MiB, 42)
  const before = encodeWhole(base)

  // FastCDC's min-size skipping and normalized masks make a cut depend on where its chunk starts,
  // so very rarely (about 0.15% of random edits, measured; see docs/values.md) an edit cascades
  // into a third chunk or more. The property therefore runs on a fixed seed (DAGKV_SEED overrides);
  // the statistical bound is the next test.
  it('inserting a few bytes in the middle of a 10 MiB value changes at most 2 chunks plus the index path', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: base.length }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        (at, bytes) => {
          const after = encodeWhole(insert(base, at, bytes))
          const { chunks, indexes } = changed(before.blocks, after.blocks)
          expect(chunks).toBeGreaterThanOrEqual(1)
          expect(chunks).toBeLessThanOrEqual(2)
          // One path of index blocks, occasionally a group split or merge beside it.
          expect(indexes).toBeLessThanOrEqual(2 * depth(after.link, after.blocks))
        },
      ),
      { numRuns: numRuns(20), seed: fixedSeed() },
    )
  })

  it('over many random edits, more than 2 changed chunks is rare and bounded', () => {
    const small = seededBytes(MiB, 7)
    const prior = encodeWhole(small).blocks
    const runs = Math.max(200, numRuns(200))
    let over = 0
    let worst = 0
    fc.assert(
      fc.property(fc.integer({ min: 0, max: small.length }), fc.uint8Array({ minLength: 1, maxLength: 16 }), (at, bytes) => {
        const { chunks } = changed(prior, encodeWhole(insert(small, at, bytes)).blocks)
        if (chunks > 2) over++
        worst = Math.max(worst, chunks)
      }),
      { numRuns: runs },
    )
    expect(over).toBeLessThanOrEqual(Math.max(2, runs * 0.01))
    expect(worst).toBeLessThanOrEqual(16)
  })
})
