import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { encodeBlock, rawBlock, type Block } from '../../src/codec/index.js'
import { Store, type StoreBlock } from '../../src/store/index.js'
import { tempDir } from '../helpers/ledgers.js'

// Review repro: two writes in flight that hold the same new node, one storing it whole and one as
// a delta, leave the chain map (#chains) saying "whole" while LevelDB holds the delta (or the
// reverse order of notes). Deltas built on it then record a chain that is too short, the real
// chain exceeds MAX_DELTA_DEPTH + 1 and `#build`'s budget refuses it: DATA_INTEGRITY_ERROR for
// blocks that were written fine. (Two pages committing the same node, or a sync write of a node
// a local commit is also writing.) On disk only: memory-level applies a batch synchronously.

/** Version `v` of a 4 KB dag-cbor block (as in test/store/delta-store.test.ts). */
function version(v: number): Block {
  const data = Uint8Array.from({ length: 4000 }, (_, i) => (i * 31 + (i >> 7)) & 0xff)
  data.fill(v & 0xff, (v * 97) % 3900, ((v * 97) % 3900) + 40)
  return encodeBlock({ data, v: 0 })
}

function rewrite(next: Block, base: Block): StoreBlock {
  const a = base.bytes
  const b = next.bytes
  let p = 0
  while (p < a.length && p < b.length && a[p] === b[p]) p++
  let s = 0
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++
  return { ...next, base, copies: [0, 0, p, b.length - s, a.length - s, s] }
}

describe('review: the same block written concurrently, whole and as a delta', () => {
  it('every block written reads back', async () => {
    const path = join(tempDir(), 'db')
    const store = await Store.open(path)
    try {
      // v0 whole, v1..v3 deltas: v3 is 3 deep.
      const vs = [version(0)]
      await store.write({ blocks: [vs[0]!] })
      for (let v = 1; v <= 3; v++) {
        vs.push(version(v))
        await store.write({ blocks: [rewrite(vs[v]!, vs[v - 1]!)] })
      }
      const x = version(10)
      // Write A: x as a delta of v3 (4 deep), with a value chunk, so its batch waits for the value log.
      const a = store.write({ blocks: [rewrite(x, vs[3]!), rawBlock(randomBytes(8 << 20))] })
      // Write B: the same x, whole (no base: e.g. received by sync, or a merge's own node).
      const b = store.write({ blocks: [x] })
      await b
      // x is "whole" in the chain map now; build on it.
      const later: Block[] = []
      let prev = x
      for (let v = 11; v <= 14; v++) {
        const next = version(v)
        await store.write({ blocks: [rewrite(next, prev)] })
        later.push(next)
        prev = next
      }
      await a
      for (const blk of [...vs, x, ...later]) {
        const got = await store.getBlock(blk.cid)
        expect(Buffer.from(got!).equals(blk.bytes)).toBe(true)
      }
    } finally {
      await store.close()
    }
  })
})
