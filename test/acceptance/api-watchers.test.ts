/** Black-box acceptance tests (package root only). API.md "Watchers": delivery one at a time, aggregation, partial parts, prefixes, close. */
import { describe, expect, it } from 'vitest'
import { type PageChange } from 'dagkv'
import { collect, str, until } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { sleep, keysOf, gate, within, recorder } from './api-helpers.js'

describe('Watchers', () => {
  it('a change of exactly 1000 entries is one completed notification; 1001 make two parts in key order, deletes interleaved', async () => {
    const page = await (await memoryLedger()).page('p')
    const key = (i: number): string => `k${String(i).padStart(5, '0')}`
    const { seen, listener } = recorder()
    await page.watch(listener)
    await page.startTransaction()
    for (let i = 0; i < 2000; i += 2) await page.put(key(i), 'v') // 1000 even keys
    await page.commit()
    await until(() => seen.length === 1)
    await sleep(20)
    expect(seen.map((c) => [c.state, c.changed.length, c.deleted.length])).toEqual([['completed', 1000, 0]])
    seen.length = 0
    await page.startTransaction()
    for (let i = 0; i < 1200; i += 2) await page.delete(key(i)) // 600 deletes
    for (let i = 1; i < 802; i += 2) await page.put(key(i), 'w') // 401 puts, interleaved in key order
    await page.commit()
    await until(() => seen.length > 0 && seen[seen.length - 1]!.state === 'partial-completed')
    expect(seen.map((c) => c.state)).toEqual(['partial-started', 'partial-completed'])
    expect(seen.map((c) => c.changed.length + c.deleted.length)).toEqual([1000, 1])
    const partKeys = seen.map((c) => [...c.changed.map((e) => str(e.key)!), ...c.deleted.map((k) => str(k)!)].sort())
    for (const c of seen) {
      expect(c.changed.map((e) => str(e.key))).toEqual(c.changed.map((e) => str(e.key)).sort())
      expect(c.deleted.map((k) => str(k))).toEqual(c.deleted.map((k) => str(k)).sort())
    }
    const flat = partKeys.flat()
    expect(flat).toEqual([...flat].sort())
    expect(new Set(flat).size).toBe(1001)
    expect(flat[flat.length - 1]).toBe(key(1198)) // the highest key of the change is in the last part
    const final = await seen[0]!.snapshot()
    expect((await collect(final.keys())).length).toBe(1000 - 600 + 401)
    expect(seen[1]!.timestamp).toBe(seen[0]!.timestamp)
  })

  it('partial parts count only the keys inside the watcher\'s prefix', async () => {
    const page = await (await memoryLedger()).page('p')
    const { seen, listener } = recorder()
    const { snapshot } = await page.watch(listener, { prefix: 'in/' })
    await page.startTransaction()
    for (let i = 0; i < 1500; i++) {
      await page.put(`in/${String(i).padStart(4, '0')}`, 'v')
      await page.put(`out/${String(i).padStart(4, '0')}`, 'v')
      await page.put(`im/${i}`, 'v')
    }
    await page.commit()
    await until(() => seen.length > 0 && seen[seen.length - 1]!.state !== 'partial-started' && seen[seen.length - 1]!.state !== 'partial-continued')
    expect(seen.map((c) => [c.state, c.changed.length])).toEqual([
      ['partial-started', 1000],
      ['partial-completed', 500],
    ])
    expect(seen.flatMap((c) => c.changed).every((e) => str(e.key)!.startsWith('in/'))).toBe(true)
    expect(await keysOf(snapshot)).toEqual([])
    expect((await keysOf(await seen[1]!.snapshot())).length).toBe(1500)
  })

  it('changes that cancel out while the listener is busy make no notification', async () => {
    const page = await (await memoryLedger()).page('p')
    const g = gate()
    const seen: PageChange[] = []
    await page.watch(async (c) => {
      seen.push(c)
      if (seen.length === 1) await g.wait
    })
    await page.put('a', '1')
    await until(() => seen.length === 1)
    await page.put('b', '2')
    await page.put('a', '9')
    await page.delete('b')
    await page.put('a', '1')
    g.open()
    await sleep(40)
    expect(seen).toHaveLength(1)
    await page.put('c', '3')
    await until(() => seen.length === 2)
    expect(seen[1]!.changed.map((e) => str(e.key))).toEqual(['c'])
    expect(seen[1]!.deleted).toEqual([])
  })

  it('an aggregated change carries the newest commit\'s timestamp, its state, and sorted changed/deleted', async () => {
    let now = 1_000_000
    const page = await (await memoryLedger({ clock: () => now })).page('p')
    const g = gate()
    const seen: PageChange[] = []
    await page.watch(async (c) => {
      seen.push(c)
      if (seen.length === 1) await g.wait
    })
    await page.put('m', '0')
    await page.put('z', '0')
    await until(() => seen.length >= 1)
    await until(async () => (await keysOf(await page.snapshot())).length === 2)
    now = 2_000_000
    await page.put('q', '1')
    now = 3_000_000
    await page.delete('z')
    await page.put('b', '1')
    await page.delete('m')
    const newest = await page.snapshot()
    g.open()
    await until(async () => {
      const last = seen[seen.length - 1]!
      return (await last.snapshot()).commitId === newest.commitId
    })
    const last = seen[seen.length - 1]!
    expect(last.state).toBe('completed')
    expect(last.origin).toBe('local')
    expect(last.timestamp).toBeGreaterThanOrEqual(3_000_000)
    expect(last.timestamp).toBeGreaterThan(seen[0]!.timestamp)
    expect(seen[0]!.timestamp).toBeGreaterThanOrEqual(1_000_000)
    expect(seen[0]!.timestamp).toBeLessThan(2_000_000)
    if (seen.length === 2) {
      expect(last.changed.map((e) => str(e.key))).toEqual(['b', 'q'])
      expect(last.deleted.map((k) => str(k))).toEqual(['m', 'z'].filter((k) => seen[0]!.changed.some((e) => str(e.key) === k)))
    }
    expect(seen.length).toBeLessThanOrEqual(3)
  })

  it('a listener that never settles blocks only its own watcher: writes resolve and other watchers go on', async () => {
    const page = await (await memoryLedger()).page('p')
    const g = gate()
    let stuckCalls = 0
    await page.watch(async () => {
      stuckCalls++
      await g.wait
    })
    const { seen, listener } = recorder()
    await page.watch(listener)
    for (let i = 0; i < 5; i++) expect(await within(page.put(`k${i}`, 'v'), 2000)).not.toBe('timeout')
    await until(() => seen.reduce((n, c) => n + c.changed.length, 0) === 5)
    expect(stuckCalls).toBe(1)
    g.open()
  })

  it('closing a watch handle drops a notification aggregated while its listener was busy', async () => {
    const page = await (await memoryLedger()).page('p')
    const g = gate()
    const seen: PageChange[] = []
    const handle = await page.watch(async (c) => {
      seen.push(c)
      if (seen.length === 1) await g.wait
    })
    await page.put('a', '1')
    await until(() => seen.length === 1)
    await page.put('b', '2')
    handle.close()
    handle.close() // twice is fine
    g.open()
    await sleep(40)
    expect(seen).toHaveLength(1)
  })

  it('no notification reaches a closed page\'s watchers from other connections', async () => {
    const ledger = await memoryLedger()
    const c1 = await ledger.page('p')
    const c2 = await ledger.page('p')
    const { seen, listener } = recorder()
    const handle = await c1.watch(listener)
    await c1.close()
    await c2.put('k', 'v')
    await sleep(40)
    expect(seen).toHaveLength(0)
    expect(() => handle.close()).not.toThrow()
  })

  it('a watch started inside a transaction gets the pinned state and hears of the commit', async () => {
    const page = await (await memoryLedger()).page('p')
    await page.put('base', '0')
    await page.startTransaction()
    await page.put('a', '1')
    const { seen, listener } = recorder()
    const { snapshot } = await page.watch(listener)
    expect(await keysOf(snapshot)).toEqual(['base'])
    await sleep(20)
    expect(seen).toHaveLength(0)
    await page.commit()
    await until(() => seen.length === 1)
    expect(seen[0]!.changed.map((e) => str(e.key))).toEqual(['a'])
    expect((await seen[0]!.snapshot()).commitId).toBe((await page.snapshot()).commitId)
  })

  it('watch() and writes called without awaiting follow call order', async () => {
    const page = await (await memoryLedger()).page('p')
    const { seen, listener } = recorder()
    const w1 = page.put('before', '1')
    const handle = page.watch(listener)
    const w2 = page.put('after', '2')
    await Promise.all([w1, w2])
    const { snapshot } = await handle
    expect(await keysOf(snapshot)).toEqual(['before'])
    await until(() => seen.length >= 1)
    await sleep(20)
    expect(seen.flatMap((c) => c.changed.map((e) => str(e.key)))).toEqual(['after'])
  })

  it('a listener that throws or rejects does not stop later notifications', async () => {
    const page = await (await memoryLedger()).page('p')
    let calls = 0
    await page.watch((c) => {
      calls++
      if (str(c.changed[0]?.key) === 'a') throw new Error('boom')
      if (str(c.changed[0]?.key) === 'b') return Promise.reject(new Error('boom'))
    })
    await page.put('a', '1')
    await until(() => calls === 1)
    await page.put('b', '1')
    await until(() => calls === 2)
    await page.put('c', '1')
    await until(() => calls === 3)
  })
})
