/** Black-box acceptance tests (package root only). API.md "Page": call order, commits, no-op writes, clear, transactions, close. */
import { describe, expect, it } from 'vitest'
import { Ledger } from 'dagkv'
import { collect, str, until } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { asyncCodeOf, sleep, keysOf, gate, within, recorder } from './api-helpers.js'

describe('Page', () => {
  it('applies an unawaited mix of transaction calls in call order', async () => {
    const page = await (await memoryLedger()).page('p')
    const calls: Promise<unknown>[] = [
      page.put('old', '0'),
      page.put('gone', '0'),
      page.startTransaction(),
      page.put('a', '1'),
      page.delete('a'),
      page.delete('gone'),
      page.put('b', '2'),
      page.clear(),
      page.put('c', '3'),
      page.put('d', '4'),
      page.delete('d'),
      page.put('c', '33'),
    ]
    const during = page.snapshot()
    calls.push(page.commit())
    const after = page.snapshot()
    calls.push(page.put('e', '5'), page.startTransaction(), page.put('f', '6'), page.rollback())
    const end = page.snapshot()
    await Promise.all(calls)
    expect(await keysOf(await during)).toEqual(['gone', 'old'])
    const s = await after
    expect(await keysOf(s)).toEqual(['c'])
    expect(str(await s.get('c'))).toBe('33')
    expect(await keysOf(await end)).toEqual(['c', 'e'])
  })

  it('inside a transaction, an unawaited delete or clear followed by a put keeps call order', async () => {
    const page = await (await memoryLedger()).page('p')
    await page.put('a', '1')
    await page.put('z', '1')
    await page.startTransaction()
    const calls = [page.delete('a'), page.put('a', '2'), page.clear(), page.put('b', '3'), page.put('c', '4'), page.delete('c')]
    await Promise.all(calls)
    await page.commit()
    const s = await page.snapshot()
    expect(await keysOf(s)).toEqual(['b'])
    // and the other way round: put, then delete
    await page.startTransaction()
    void page.put('x', '1')
    void page.delete('x')
    void page.put('y', '1')
    await page.commit()
    expect(await keysOf(await page.snapshot())).toEqual(['b', 'y'])
  })

  it('a rejected call in an unawaited chain rejects alone; the calls around it apply', async () => {
    const page = await (await memoryLedger()).page('p')
    const results = await Promise.all([
      asyncCodeOf(() => page.put('a', '1')),
      asyncCodeOf(() => page.commit()),
      asyncCodeOf(() => page.rollback()),
      asyncCodeOf(() => page.put(5 as never, '1')),
      asyncCodeOf(() => page.startTransaction()),
      asyncCodeOf(() => page.put('b', '2')),
      asyncCodeOf(() => page.startTransaction()),
      asyncCodeOf(() => page.put('c', '3')),
      asyncCodeOf(() => page.snapshot({ at: 'nonsense' })),
      asyncCodeOf(() => page.commit()),
      asyncCodeOf(() => page.commit()),
    ])
    expect(results).toEqual([
      'resolved',
      'NO_TRANSACTION_IN_PROGRESS',
      'NO_TRANSACTION_IN_PROGRESS',
      'INVALID_ARGUMENT',
      'resolved',
      'resolved',
      'TRANSACTION_ALREADY_IN_PROGRESS',
      'resolved',
      'INVALID_ARGUMENT',
      'resolved',
      'NO_TRANSACTION_IN_PROGRESS',
    ])
    expect(await keysOf(await page.snapshot())).toEqual(['a', 'b', 'c'])
  })

  it('every void method resolves to undefined', async () => {
    const ledger = await Ledger.open({ autoSync: false })
    const page = await ledger.page('p')
    const results = [
      await page.put('a', '1'),
      await page.delete('a'),
      await page.clear(),
      await page.startTransaction(),
      await page.put('b', '2'),
      await page.put('big', new Uint8Array(5000)),
      await page.delete('b'),
      await page.clear(),
      await page.put('c', '3'),
      await page.commit(),
      await page.startTransaction(),
      await page.rollback(),
      await page.close(),
      await page.close(),
      await ledger.close(),
      await ledger.close(),
    ]
    expect(results).toEqual(results.map(() => undefined))
  })

  it('page.close() lets earlier unawaited writes apply; later calls reject with CLOSED; its snapshots keep working', async () => {
    const ledger = await memoryLedger()
    const page = await ledger.page('p')
    await page.put('k0', '0')
    const snap = await page.snapshot()
    const { snapshot: watchSnap } = await page.watch(() => {})
    const w = page.put('k1', '1')
    const c = page.close()
    const after = [
      asyncCodeOf(() => page.put('k2', '2')),
      asyncCodeOf(() => page.delete('k0')),
      asyncCodeOf(() => page.clear()),
      asyncCodeOf(() => page.snapshot()),
      asyncCodeOf(() => page.startTransaction()),
      asyncCodeOf(() => page.watch(() => {})),
    ]
    await w
    await c
    expect(await Promise.all(after)).toEqual(after.map(() => 'CLOSED'))
    expect(await keysOf(await (await ledger.page('p')).snapshot())).toEqual(['k0', 'k1'])
    expect(str(await snap.get('k0'))).toBe('0')
    expect(await keysOf(watchSnap)).toEqual(['k0'])
    expect((await snap.getEntries()).entries).toHaveLength(1)
    expect(await collect(snap.diff(watchSnap))).toEqual([])
  })

  it('closing a page with an open transaction rolls it back silently; a new connection starts afresh', async () => {
    const ledger = await memoryLedger()
    const observer = await ledger.page('p')
    const { seen, listener } = recorder()
    await observer.watch(listener)
    const page = await ledger.page('p')
    await page.put('base', '0')
    await until(() => seen.length === 1)
    await page.startTransaction()
    await page.put('a', '1')
    await page.clear()
    await page.close()
    await sleep(30)
    expect(seen).toHaveLength(1)
    const again = await ledger.page('p')
    await again.startTransaction()
    await again.put('b', '2')
    await again.commit()
    expect(await keysOf(await again.snapshot())).toEqual(['b', 'base'])
  })

  it('writes that change nothing make no commit and no notification', async () => {
    const ledger = await memoryLedger()
    const page = await ledger.page('p')
    const { seen, listener } = recorder()
    await page.watch(listener)
    const empty = await page.snapshot()
    await page.clear() // empty page
    await page.delete('absent')
    await page.startTransaction()
    await page.put('x', '1')
    await page.clear()
    await page.commit() // equals its (empty) base
    expect((await page.snapshot()).commitId).toBe(empty.commitId)
    expect(await ledger.pages()).toEqual([])

    await page.put('a', '1')
    await page.put('b', '2', { priority: 'lazy' })
    await until(() => seen.reduce((n, c) => n + c.changed.length, 0) === 2)
    const n = seen.length
    const base = await page.snapshot()
    await page.put('a', '1')
    await page.put('b', '2', { priority: 'lazy' })
    await page.delete('absent')
    await page.startTransaction()
    await page.clear()
    await page.put('b', '2', { priority: 'lazy' })
    await page.put('a', 'changed')
    await page.put('a', '1')
    await page.commit() // clear + re-put of identical content equals the base
    await page.startTransaction()
    await page.rollback()
    expect((await page.snapshot()).commitId).toBe(base.commitId)
    await sleep(30)
    expect(seen).toHaveLength(n)
    await page.clear()
    const cleared = await page.snapshot()
    await page.clear() // already empty
    expect((await page.snapshot()).commitId).toBe(cleared.commitId)
    expect(cleared.contentId).toBe(empty.contentId)
  })

  it('a clear outside a transaction is one commit and one notification listing every deleted key, sorted', async () => {
    const page = await (await memoryLedger()).page('p')
    await page.startTransaction()
    for (const k of ['m', 'b', 'z', 'a']) await page.put(k, k)
    await page.commit()
    const before = await page.snapshot()
    const { seen, listener } = recorder()
    await page.watch(listener)
    await page.clear()
    await until(() => seen.length === 1)
    expect(seen[0]!.changed).toEqual([])
    expect(seen[0]!.deleted.map((k) => str(k))).toEqual(['a', 'b', 'm', 'z'])
    const after = await page.snapshot()
    expect(after.commitId).not.toBe(before.commitId)
    expect((await collect(before.diff(after))).map((d) => [str(d.key), d.after])).toEqual([
      ['a', undefined],
      ['b', undefined],
      ['m', undefined],
      ['z', undefined],
    ])
  })

  it('clear inside a transaction drops keys at its start and earlier puts, keeps later puts, and may repeat', async () => {
    const page = await (await memoryLedger()).page('p')
    await page.put('old1', '1')
    await page.put('old2', '2')
    await page.startTransaction()
    await page.put('before', 'x')
    await page.delete('old2')
    await page.put('old1', 'changed')
    await page.clear()
    await page.put('after1', 'a')
    await page.put('after2', 'b')
    await page.delete('after2')
    await page.delete('old1') // absent since the clear
    await page.put('mid', 'm')
    await page.clear()
    await page.put('last', 'l')
    await page.put('old2', 'new')
    const pinned = await page.snapshot()
    await page.commit()
    expect(await keysOf(pinned)).toEqual(['old1', 'old2'])
    const s = await page.snapshot()
    expect(await keysOf(s)).toEqual(['last', 'old2'])
    expect(str(await s.get('old2'))).toBe('new')
  })

  it('startTransaction pins the connection against commits of another connection until rollback', async () => {
    const ledger = await memoryLedger()
    const c1 = await ledger.page('p')
    const c2 = await ledger.page('p')
    const { seen, listener } = recorder()
    await c1.watch(listener)
    await c1.startTransaction()
    await c2.put('x', 'from c2')
    await c1.put('y', 'mine')
    await sleep(40)
    expect(seen).toHaveLength(0)
    expect(await keysOf(await c1.snapshot())).toEqual([])
    await c1.rollback()
    await until(() => seen.length === 1)
    expect(seen[0]!.changed.map((e) => str(e.key))).toEqual(['x'])
    expect(await keysOf(await c1.snapshot())).toEqual(['x'])
  })

  it('startTransaction resolves only after this connection\'s watchers handled every pending notification', async () => {
    const page = await (await memoryLedger()).page('p')
    const g = gate()
    const seen: string[][] = []
    let finished = 0
    await page.watch(async (c) => {
      seen.push(c.changed.map((e) => str(e.key)!))
      if (seen.length === 1) await g.wait
      await sleep(5)
      finished++
    })
    await page.put('a', '1')
    await until(() => seen.length === 1)
    await page.put('b', '2')
    await page.put('c', '3')
    let started = false
    const tx = page.startTransaction().then(() => {
      started = true
    })
    await sleep(40)
    expect(started).toBe(false)
    g.open()
    await tx
    expect(finished).toBe(2)
    expect(seen).toEqual([['a'], ['b', 'c']])
    await page.rollback()
  })

  it('startTransaction does not wait for the watchers of another connection', async () => {
    const ledger = await memoryLedger()
    const c1 = await ledger.page('p')
    const c2 = await ledger.page('p')
    const g = gate()
    let called = false
    await c1.watch(async () => {
      called = true
      await g.wait
    })
    await c2.put('k', 'v')
    await until(() => called)
    expect(await within(c2.startTransaction(), 2000)).not.toBe('timeout')
    await c2.rollback()
    g.open()
  })
})

// ---------------------------------------------------------------------------------------------
