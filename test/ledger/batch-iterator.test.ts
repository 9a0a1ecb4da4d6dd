import { describe, expect, it } from 'vitest'
import { Ledger } from 'dagkv'
import { BatchIterator } from '../../src/ledger/batch-iterator.js'

async function* batches(...parts: number[][]): AsyncGenerator<number[]> {
  for (const p of parts) yield p
}

describe('BatchIterator', () => {
  it('flattens batches, skipping empty ones', async () => {
    const out: number[] = []
    for await (const x of new BatchIterator(batches([1, 2], [], [3], [4, 5, 6]))) out.push(x)
    expect(out).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('serves overlapping next() calls in order', async () => {
    const it = new BatchIterator(batches([1], [2, 3], [4]))
    const results = await Promise.all([it.next(), it.next(), it.next(), it.next(), it.next()])
    expect(results.map((r) => r.value)).toEqual([1, 2, 3, 4, undefined])
    expect(results[4]!.done).toBe(true)
  })

  it('stops the source on return()', async () => {
    let finished = false
    async function* source(): AsyncGenerator<number[]> {
      try {
        yield [1, 2]
        yield [3]
      } finally {
        finished = true
      }
    }
    for await (const x of new BatchIterator(source())) if (x === 1) break
    expect(finished).toBe(true)
  })

  it('rejects with the source error, then is done', async () => {
    async function* failing(): AsyncGenerator<number[]> {
      yield [1]
      throw new Error('boom')
    }
    const it = new BatchIterator(failing())
    expect((await it.next()).value).toBe(1)
    await expect(it.next()).rejects.toThrow('boom')
    expect((await it.next()).done).toBe(true)
  })
})

describe('scanned entries own their bytes', () => {
  it('mutating a scanned key or value changes nothing stored or scanned later', async () => {
    const ledger = await Ledger.open()
    const page = await ledger.page('p')
    for (let i = 0; i < 50; i++) await page.put(`k${String(i).padStart(2, '0')}`, `v${i}`)
    const snap = await page.snapshot()
    for await (const e of snap.entries()) {
      e.key.fill(0)
      e.value?.fill(0)
    }
    for await (const k of snap.keys()) k.fill(0)
    const { entries } = await snap.getEntries({ limit: 10 })
    for (const e of entries) e.value?.fill(0)
    const again: string[] = []
    for await (const e of snap.entries({ reverse: true, limit: 3 })) again.push(`${Buffer.from(e.key)}=${Buffer.from(e.value!)}`)
    expect(again).toEqual(['k49=v49', 'k48=v48', 'k47=v47'])
    expect(Buffer.from((await snap.get('k05'))!).toString()).toBe('v5')
    await ledger.close()
  })
})
