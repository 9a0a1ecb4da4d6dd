import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RAW_CODE, equalBytes, type Block } from '../../src/codec/index.js'
import { decodeIndex } from '../../src/value/index.js'
import { expectCode, harness, numRuns, seededBytes, type Harness } from './helpers.js'

const MiB = 1024 * 1024

/** fetchPartial semantics, written naively. */
function expected(bytes: Uint8Array, offset: number, maxSize: number): Uint8Array {
  const n = bytes.length
  const from = offset < 0 ? n + offset : offset
  if (from < 0 || from >= n) return new Uint8Array(0)
  return bytes.slice(from, maxSize < 0 ? n : Math.min(n, from + maxSize))
}

/** The chunk CIDs whose byte ranges overlap [from, to), found by walking every index block. */
function overlappingChunks(ref: { link: Block['cid']; size: number }, blocks: Block[], from: number, to: number): Set<string> {
  const byId = new Map(blocks.map((b) => [b.cid.toString(), b]))
  const out = new Set<string>()
  const visit = (cid: Block['cid'], start: number, size: number): void => {
    if (start + size <= from || start >= to) return
    if (cid.code === RAW_CODE) {
      out.add(cid.toString())
      return
    }
    const idx = decodeIndex(byId.get(cid.toString())!.bytes, cid)
    let at = start
    idx.children.forEach((c, i) => {
      visit(c, at, idx.sizes[i]!)
      at += idx.sizes[i]!
    })
  }
  visit(ref.link, 0, ref.size)
  return out
}

describe('readRange', () => {
  let h: Harness
  let bytes: Uint8Array
  let ref: { link: Block['cid']; size: number }
  let blocks: Block[]

  beforeAll(async () => {
    h = await harness()
    bytes = seededBytes(6 * MiB + 12345, 11)
    const enc = h.values.encode(bytes, 'lazy')
    if (!('link' in enc.ref)) throw new Error('expected a link')
    ref = enc.ref
    blocks = enc.blocks
    await h.store.write({ blocks })
  })
  afterAll(async () => {
    await h.store.close()
  })

  const n = 6 * MiB + 12345
  const offsetArb = fc.oneof(
    fc.integer({ min: -n - 10, max: n + 10 }),
    fc.constantFrom(0, -1, n - 1, n, -n, -n - 1, 1 - n),
  )
  const sizeArb = fc.oneof(fc.integer({ min: -3, max: 300_000 }), fc.constantFrom(-1, 0, 1, n, 2 * n))

  it('equals the slice of the whole value and reads only the overlapping chunks', async () => {
    await fc.assert(
      fc.asyncProperty(offsetArb, sizeArb, async (offset, maxSize) => {
        const want = expected(bytes, offset, maxSize)
        h.reader.reset()
        const got = await h.values.readRange(ref, offset, maxSize)
        expect(got.length).toBe(want.length)
        expect(equalBytes(got, want)).toBe(true)
        expect(got.constructor).toBe(Uint8Array)
        const isChunk = (k: string): boolean => blocks.find((b) => b.cid.toString() === k)!.cid.code === RAW_CODE
        const readChunks = [...h.reader.reads.keys()].filter(isChunk)
        if (want.length === 0) {
          expect(h.reader.total).toBe(0)
          return
        }
        const from = offset < 0 ? n + offset : offset
        const needed = overlappingChunks(ref, blocks, from, from + want.length)
        expect(new Set(readChunks)).toEqual(needed)
        for (const count of h.reader.reads.values()) expect(count).toBe(1)
      }),
      { numRuns: numRuns(60) },
    )
  })

  it('works on inline, single-chunk and empty values', async () => {
    const cases: [Uint8Array, 'eager' | 'lazy'][] = [
      [seededBytes(100, 1), 'eager'],
      [seededBytes(5000, 2), 'lazy'],
      [new Uint8Array(0), 'lazy'],
      [new Uint8Array(0), 'eager'],
    ]
    for (const [value, priority] of cases) {
      const enc = h.values.encode(value, priority)
      await h.store.write({ blocks: enc.blocks })
      for (const [o, m] of [
        [0, -1],
        [-1, 1],
        [-value.length, 10],
        [value.length, 1],
        [-value.length - 1, 5],
        [3, 0],
        [10, 20],
      ] as const) {
        expect(equalBytes(await h.values.readRange(enc.ref, o, m), expected(value, o, m))).toBe(true)
      }
    }
  })

  it('rejects non-integer offsets and sizes with INVALID_ARGUMENT', async () => {
    await expectCode(h.values.readRange(ref, 1.5, 10), 'INVALID_ARGUMENT')
    await expectCode(h.values.readRange(ref, 0, Number.NaN), 'INVALID_ARGUMENT')
  })
})
