import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Ledger } from 'dagkv'
import { engineOf } from '../../src/ledger/index.js'
import { tempDir } from '../helpers/ledgers.js'

// A transaction big enough that the tree hands its lower nodes to the store while it encodes
// the upper ones (tree/apply-finalize.ts), written in slices before the commit.
const N = 30_000
const key = (i: number): string => `key-${(i * 7919) % N}`.padEnd(12, '.')

describe('a commit written in slices', () => {
  it('is whole after the commit and after a reopen, and leaves nothing pending', async () => {
    const path = join(tempDir(), 'db')
    let ledger = await Ledger.open({ path, autoSync: false })
    const page = await ledger.page('big')
    const store = engineOf(ledger).store
    const write = store.write.bind(store)
    let writes = 0
    store.write = (w) => {
      writes++
      return write(w)
    }
    await page.startTransaction()
    for (let i = 0; i < N; i++) void page.put(key(i), `value ${i}`)
    await page.commit()
    expect(writes).toBeGreaterThan(1)
    expect(engineOf(ledger).tree.pendingCount).toBe(0)
    const before = await page.snapshot()
    let count = 0
    for await (const _ of before.keys()) count++
    expect(count).toBe(N)
    await ledger.close()

    ledger = await Ledger.open({ path, autoSync: false })
    const snap = await (await ledger.page('big')).snapshot()
    for (const i of [0, 1, 4_999, 12_345, N - 1]) {
      expect(Buffer.from((await snap.get(key(i)))!).toString()).toBe(`value ${i}`)
    }
    let again = 0
    let prev = ''
    for await (const k of snap.keys()) {
      const s = Buffer.from(k).toString()
      expect(s > prev).toBe(true)
      prev = s
      again++
    }
    expect(again).toBe(N)
    await ledger.close()
  })
})
