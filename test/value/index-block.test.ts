import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CID, RAW_CODE, encodeBlock, rawBlock, type Block } from '../../src/codec/index.js'
import { LedgerError } from '../../src/errors/index.js'
import { MAX_FANOUT, ValueStore, decodeIndex } from '../../src/value/index.js'
import { expectCode, expectCodeSync, harness, numRuns, seededBytes } from './helpers.js'

const chunkA = rawBlock(seededBytes(5000, 1))
const chunkB = rawBlock(seededBytes(6000, 2))

/** Stores `node` as an index block and returns a ref claiming `size` bytes. */
async function hostile(node: unknown, size: number, extra: Block[] = [chunkA, chunkB]) {
  const h = await harness()
  const block = encodeBlock(node)
  await h.store.write({ blocks: [block, ...extra] })
  return { ...h, ref: { link: block.cid, size }, block }
}

const malformed: [string, unknown][] = [
  ['not an array', { children: [] }],
  ['wrong arity', [[chunkA.cid], [5000]]],
  ['children not an array', [chunkA.cid, [5000], 5000]],
  ['no children', [[], [], 0]],
  ['lengths differ', [[chunkA.cid, chunkB.cid], [5000], 11000]],
  ['size not a number', [[chunkA.cid], ['5000'], 5000]],
  ['zero size', [[chunkA.cid, chunkB.cid], [0, 11000], 11000]],
  ['negative size', [[chunkA.cid, chunkB.cid], [-1, 11001], 11000]],
  ['fractional size', [[chunkA.cid], [4999.5], 4999.5]],
  ['total wrong', [[chunkA.cid, chunkB.cid], [5000, 6000], 12000]],
  ['child not a CID', [['bafk...', chunkB.cid], [5000, 6000], 11000]],
  ['mixed chunk and index', [[chunkA.cid, encodeBlock([[chunkB.cid], [6000], 6000]).cid], [5000, 6000], 11000]],
  ['unknown child codec', [[CID.createV1(0x71 + 1, chunkA.cid.multihash)], [5000], 5000]],
  ['CIDv0 child', [[CID.createV0(chunkA.cid.multihash as Parameters<typeof CID.createV0>[0])], [5000], 5000]],
  ['too many children', [Array(MAX_FANOUT + 1).fill(chunkA.cid), Array(MAX_FANOUT + 1).fill(5000), 5000 * (MAX_FANOUT + 1)]],
]

describe('index blocks from hostile data', () => {
  for (const [name, node] of malformed) {
    it(`${name} → DATA_INTEGRITY_ERROR on every path`, async () => {
      const { values, ref, block, store } = await hostile(node, 11000)
      await expectCode(values.read(ref), 'DATA_INTEGRITY_ERROR')
      await expectCode(values.readRange(ref, 0, 10), 'DATA_INTEGRITY_ERROR')
      await expectCode(values.blockCids(ref), 'DATA_INTEGRITY_ERROR')
      expect(await values.isComplete(ref)).toBe(false)
      expectCodeSync(() => ValueStore.links(block.bytes, block.cid), 'DATA_INTEGRITY_ERROR')
      await store.close()
    })
  }

  it('chunk length disagreeing with the index → DATA_INTEGRITY_ERROR', async () => {
    const { values, ref } = await hostile([[chunkA.cid, chunkB.cid], [5001, 5999], 11000], 11000)
    await expectCode(values.read(ref), 'DATA_INTEGRITY_ERROR')
  })

  it('ref size disagreeing with the root → DATA_INTEGRITY_ERROR (and isComplete false)', async () => {
    const { values, ref } = await hostile([[chunkA.cid, chunkB.cid], [5000, 6000], 11000], 1 << 40)
    await expectCode(values.read(ref), 'DATA_INTEGRITY_ERROR')
    expect(await values.isComplete(ref)).toBe(false)
    const h = await harness()
    await h.store.write({ blocks: [chunkA] })
    await expectCode(h.values.read({ link: chunkA.cid, size: 4999 }), 'DATA_INTEGRITY_ERROR')
    expect(await h.values.isComplete({ link: chunkA.cid, size: 4999 })).toBe(false)
    expect(await h.values.isComplete({ link: chunkA.cid, size: 5000 })).toBe(true)
  })

  it('a link to a non-value block (e.g. a commit) is not a complete value', async () => {
    const { values, ref } = await hostile({ parents: [], root: chunkA.cid, timestamp: 1 }, 10)
    expect(await values.isComplete(ref)).toBe(false)
  })

  it('deep nesting is refused', async () => {
    const h = await harness()
    let child = chunkA.cid
    const blocks: Block[] = [chunkA]
    for (let i = 0; i < 40; i++) {
      const b = encodeBlock([[child], [5000], 5000])
      blocks.push(b)
      child = b.cid
    }
    await h.store.write({ blocks })
    await expectCode(h.values.read({ link: child, size: 5000 }), 'DATA_INTEGRITY_ERROR')
    await expectCode(h.values.blockCids({ link: child, size: 5000 }), 'DATA_INTEGRITY_ERROR')
  })

  it('random bytes as an index block never throw anything but DATA_INTEGRITY_ERROR', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.jsonValue().map((v) => encodeBlock(v).bytes)), (bytes) => {
        const cid = encodeBlock(bytes).cid
        try {
          decodeIndex(bytes, cid)
        } catch (err) {
          expect(LedgerError.is(err, 'DATA_INTEGRITY_ERROR')).toBe(true)
        }
      }),
      { numRuns: numRuns(200) },
    )
  })

  it('links: raw chunks have none; an index lists its children; other codecs are refused', async () => {
    expect(ValueStore.links(chunkA.bytes, chunkA.cid)).toEqual([])
    const { values, store } = await harness()
    const { ref, blocks } = values.encode(seededBytes(2 * 1024 * 1024, 3), 'lazy')
    await store.write({ blocks })
    const seen = new Set<string>()
    const walk = (cid: CID): void => {
      seen.add(cid.toString())
      const b = blocks.find((x) => x.cid.equals(cid))!
      for (const c of ValueStore.links(b.bytes, b.cid)) walk(c)
    }
    if ('link' in ref) walk(ref.link)
    expect(seen).toEqual(new Set(blocks.map((b) => b.cid.toString())))
    expect(blocks.filter((b) => b.cid.code === RAW_CODE).length).toBeGreaterThan(50)
    const other = CID.createV1(0x70, chunkA.cid.multihash)
    expectCodeSync(() => ValueStore.links(chunkA.bytes, other), 'DATA_INTEGRITY_ERROR')
  })
})
