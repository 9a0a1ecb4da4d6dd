import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Ledger, type ConflictRecord } from 'dagkv'
import { str } from '../helpers/bytes.js'
import { memoryLedger, tempDir } from '../helpers/ledgers.js'
import { expectCode } from '../suites/ledger-basics.js'
import { converge, exchange, fork, headsOf, replica } from './merge-helpers.js'

/** A record with strings for bytes, for readable expectations. */
const plain = (r: ConflictRecord): Record<string, unknown> => ({
  key: str(r.key),
  base: str(r.base?.value),
  left: str(r.left?.value),
  right: str(r.right?.value),
  winner: r.winner,
})

describe('page.conflicts()', () => {
  it('lists each key changed on both sides, with both values and the winner', async () => {
    const ledger = await memoryLedger()
    const { a, b } = await fork(
      ledger,
      'p',
      { k: 'base', d: 'base', same: 'base' },
      { k: 'older', d: 'older', only: '1', same: 'same', fresh: 'o' },
      { k: 'newer', d: null, same: 'same', fresh: 'n' },
    )
    await a.waitForConflictResolution()
    const records = await a.conflicts()
    expect(records.map(plain)).toEqual([
      { key: 'd', base: 'base', left: undefined, right: 'older', winner: 'deleted' },
      { key: 'fresh', base: undefined, left: 'n', right: 'o', winner: 'left' },
      { key: 'k', base: 'base', left: 'newer', right: 'older', winner: 'left' },
    ])
    const head = (await headsOf(ledger, 'p'))[0]!
    const [r] = records
    expect(r!.mergeCommit).toBe(head.cid.toString())
    expect(r!.timestamp).toBe(head.timestamp)
    expect(r!.leftCommit).not.toBe(r!.rightCommit)
    expect(r!.base?.priority).toBe('eager')
    expect('base' in records[1]!).toBe(false) // absent side: a missing property
    // The losing side is recoverable through its parent commit, too.
    expect(str(await (await a.snapshot({ at: r!.rightCommit })).get('k'))).toBe('older')
    expect(await b.conflicts()).toEqual(records)
  })

  it("reports 'right' and 'merged' winners chosen by a resolver", async () => {
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: (m) =>
        m.merge([
          { key: 'r', source: 'right' },
          { key: 'm', source: 'new', value: 'both' },
        ]),
    })
    const { a } = await fork(ledger, 'p', {}, { r: 'older', m: 'older' }, { r: 'newer', m: 'newer' })
    await a.waitForConflictResolution()
    expect((await a.conflicts()).map((r) => [str(r.key), r.winner])).toEqual([
      ['m', 'merged'],
      ['r', 'right'],
    ])
  })

  it('lists merges newest first, honours limit and key, and validates options', async () => {
    const ledger = await memoryLedger()
    const { a } = await fork(ledger, 'p', {}, { k: '1', j: '1' }, { k: '2', j: '2' })
    await a.waitForConflictResolution()
    const first = (await headsOf(ledger, 'p'))[0]!.cid.toString()
    const again = await fork(ledger, 'p', {}, { k: '3' }, { k: '4' })
    await again.a.waitForConflictResolution()
    await a.waitForConflictResolution()
    const second = (await headsOf(ledger, 'p'))[0]!.cid.toString()
    const all = await a.conflicts()
    expect(all.map((r) => [str(r.key), r.mergeCommit])).toEqual([
      ['k', second],
      ['j', first],
      ['k', first],
    ])
    expect(await a.conflicts({ limit: 2 })).toEqual(all.slice(0, 2))
    expect((await a.conflicts({ key: 'k' })).map((r) => r.mergeCommit)).toEqual([second, first])
    expect(await a.conflicts({ key: new TextEncoder().encode('j') })).toEqual([all[1]])
    expect(await a.conflicts({ merges: 1 })).toEqual([all[0]])
    expect(await a.conflicts({ limit: 0 })).toEqual([])
    await expectCode(a.conflicts({ limit: -1 }), 'INVALID_ARGUMENT')
    await expectCode(a.conflicts({ key: 3 as unknown as string }), 'INVALID_ARGUMENT')
    await expectCode(a.conflicts('x' as never), 'INVALID_ARGUMENT')
  })

  it('is empty for a page without conflicting merges', async () => {
    const ledger = await memoryLedger()
    const page = await ledger.page('p')
    expect(await page.conflicts()).toEqual([])
    const { a } = await fork(ledger, 'q', {}, { x: '1' }, { y: '2' })
    await a.waitForConflictResolution()
    expect(await a.conflicts()).toEqual([])
  })

  it('survives a restart (derived from the stored DAG)', async () => {
    const path = join(tempDir(), 'db')
    const ledger = await Ledger.open({ path, autoSync: false })
    const { a } = await fork(ledger, 'p', { k: 'base' }, { k: 'older' }, { k: 'newer' })
    await a.waitForConflictResolution()
    const before = await a.conflicts()
    expect(before).toHaveLength(1)
    await ledger.close()
    await expectCode(a.conflicts(), 'CLOSED')
    const reopened = await Ledger.open({ path, autoSync: false })
    try {
      expect(await (await reopened.page('p')).conflicts()).toEqual(before)
    } finally {
      await reopened.close()
    }
  })

  it('lists the same records on every replica, whichever replica merged', async () => {
    const a = await replica('A')
    const b = await replica('B', { clock: () => 2000 })
    const [pa, pb] = [await a.page('p'), await b.page('p')]
    await pa.put('k', 'base')
    await converge([a, b], 'p', [pa, pb])
    await pa.put('k', 'A')
    await pb.put('k', 'B')
    await exchange([a, b], 'p')
    await converge([a, b], 'p', [pa, pb])
    const records = await pa.conflicts()
    expect(records.map(plain)).toEqual([{ key: 'k', base: 'base', left: 'B', right: 'A', winner: 'left' }])
    expect(await pb.conflicts()).toEqual(records)
  })
})
