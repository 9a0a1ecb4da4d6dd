import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { describe, expect, it } from 'vitest'
import { encodeBlock, type Block } from '../../src/codec/index.js'
import { deltaHeader } from '../../src/store/block-delta.js'
import { Store, type StoreBlock } from '../../src/store/index.js'
import { tempDir } from '../helpers/ledgers.js'

// Review repro: a delta record whose target length is damaged makes `applyDelta` allocate that
// many bytes before checking anything: a huge length throws a RangeError, reported as IO_ERROR
// ("block read failed") instead of DATA_INTEGRITY_ERROR (and a length of a few GiB is allocated).

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

function varint(v: number): number[] {
  const out: number[] = []
  while (v >= 0x80) {
    out.push((v % 128) | 0x80)
    v = Math.floor(v / 128)
  }
  out.push(v)
  return out
}

describe('review: a delta record with a damaged target length', () => {
  it('is DATA_INTEGRITY_ERROR', async () => {
    const path = join(tempDir(), 'db')
    let store = await Store.open(path)
    const v0 = version(0)
    const v1 = version(1)
    await store.write({ blocks: [v0] })
    await store.write({ blocks: [rewrite(v1, v0)] })
    await store.close()

    const db = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
    const b = db.sublevel<Uint8Array, Uint8Array>('b', { keyEncoding: 'view', valueEncoding: 'view' })
    const record = (await b.get(v1.cid.bytes))!
    expect(record[0]).toBe(0xff)
    const body = deltaHeader(record)!.body
    let end = body
    while (record[end]! >= 0x80) end++
    end++
    // Same record, but the target length is 2^40 instead of ~4 KB.
    const damaged = Uint8Array.from([...record.subarray(0, body), ...varint(2 ** 40), ...record.subarray(end)])
    await b.put(v1.cid.bytes, damaged)
    await db.close()

    store = await Store.open(path)
    try {
      await expect(store.getBlock(v1.cid)).rejects.toMatchObject({ code: 'DATA_INTEGRITY_ERROR' })
    } finally {
      await store.close()
    }
  })
})
