import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { rawBlock, type Block } from '../../src/codec/index.js'
import { deltaHeader } from '../../src/store/block-delta.js'
import { DeltaBlocks } from '../../src/store/delta-blocks.js'
import { Store } from '../../src/store/index.js'
import { nodeCid } from '../../src/tree/node-cid.js'
import { tempDir } from '../helpers/ledgers.js'
import { rawPut, records, rewrite, version } from './delta-helpers.js'

// Findings of a review of the delta records, each failing before its fix.

function varint(v: number): number[] {
  const out: number[] = []
  while (v >= 0x80) {
    out.push((v % 128) | 0x80)
    v = Math.floor(v / 128)
  }
  out.push(v)
  return out
}

describe('delta records: review findings', () => {
  it('a block written whole and as a delta by two writes in flight: every block built on it reads back', async () => {
    const path = join(tempDir(), 'db')
    const store = await Store.open(path)
    try {
      const vs = [version(0)]
      await store.write({ blocks: [vs[0]!] })
      for (let v = 1; v <= 3; v++) {
        vs.push(version(v))
        await store.write({ blocks: [rewrite(vs[v]!, vs[v - 1]!)] })
      }
      const x = version(10)
      // A: x as a delta 4 deep, with a value chunk, so its batch waits for the value log.
      const a = store.write({ blocks: [rewrite(x, vs[3]!), rawBlock(randomBytes(8 << 20))] })
      // B: the same x whole (received by sync, say): the store knows x as whole, then A lands.
      await store.write({ blocks: [x] })
      const later: Block[] = []
      let prev = x
      for (let v = 11; v <= 14; v++) {
        const next = version(v)
        await store.write({ blocks: [rewrite(next, prev)] })
        later.push(next)
        prev = next
      }
      await a
      for (const b of [...vs, x, ...later]) expect(Buffer.from((await store.getBlock(b.cid))!).equals(b.bytes)).toBe(true)
    } finally {
      await store.close()
    }
  })

  it('a damaged target length is DATA_INTEGRITY_ERROR and allocates nothing', async () => {
    const path = join(tempDir(), 'db')
    let store = await Store.open(path)
    const v0 = version(0)
    const v1 = version(1)
    await store.write({ blocks: [v0] })
    await store.write({ blocks: [rewrite(v1, v0)] })
    await store.close()
    const [record] = await records(path, [v1])
    const body = deltaHeader(record!)!.body
    let end = body
    while (record![end]! >= 0x80) end++
    end++
    // The same record with a target length of 2^40 instead of ~4 KB.
    await rawPut(path, v1, Uint8Array.from([...record!.subarray(0, body), ...varint(2 ** 40), ...record!.subarray(end)]))
    store = await Store.open(path)
    await expect(store.getBlock(v1.cid)).rejects.toMatchObject({ code: 'DATA_INTEGRITY_ERROR' })
    await store.close()
  })

  it('the map of known chains stays small (~330 bytes an entry at depth 2)', () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const used = (): number => {
      for (let i = 0; i < 4; i++) gc()
      const m = process.memoryUsage()
      return m.heapUsed + m.external
    }
    const N = 32_768
    const bases = Array.from({ length: 64 }, (_, i) => nodeCid(Uint8Array.of(i, 1, 2, 3)).bytes)
    const cids = Array.from({ length: N }, (_, i) => nodeCid(Uint8Array.of(i & 255, i >> 8, 7)))
    const deltas = new DeltaBlocks(async () => [], () => undefined, true)
    const before = used()
    for (let i = 0; i < N; i++) deltas.noteStored(cids[i]!, [bases[i & 63]!.slice(), bases[(i + 1) & 63]!.slice()])
    const perEntry = (used() - before) / N
    expect(deltas).toBeDefined() // keeps the map alive until here
    expect(perEntry).toBeLessThan(400)
  })
})
