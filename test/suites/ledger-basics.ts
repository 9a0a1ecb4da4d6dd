import { describe, expect, it } from 'vitest'
import { LedgerError, MAX_KEY_SIZE } from 'dagkv'
import { collect, str, utf8 } from '../helpers/bytes.js'
import type { LedgerFactory } from '../helpers/ledgers.js'
import { engineOf } from '../../src/ledger/index.js'

async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  const promise = typeof p === 'function' ? (async () => p())() : p
  await expect(promise).rejects.toSatisfy((e: unknown) => LedgerError.is(e) && e.code === code)
}

export { expectCode }

/** Puts, deletes, clears, snapshots and their options, on any backend. */
export function ledgerBasicsSuite(name: string, open: LedgerFactory): void {
  describe(`${name}: pages and snapshots`, () => {
    it('puts, overwrites and deletes', async () => {
      const page = await (await open()).page('p')
      await page.put('a', '1')
      await page.put(utf8('b'), utf8('2'))
      await page.put('a', '3')
      const s1 = await page.snapshot()
      expect(str(await s1.get('a'))).toBe('3')
      expect(str(await s1.get('b'))).toBe('2')
      expect(await s1.get('zz')).toBeUndefined()
      await page.delete('a')
      expect(await (await page.snapshot()).get('a')).toBeUndefined()
      expect(str(await s1.get('a'))).toBe('3') // snapshots are immutable
    })

    it('returns plain owned Uint8Arrays', async () => {
      const page = await (await open()).page('p')
      await page.put('k', 'v')
      const v = await (await page.snapshot()).get('k')
      expect(v?.constructor).toBe(Uint8Array)
      expect(v).toEqual(utf8('v'))
    })

    it('makes one commit per write and none for a write that changes nothing', async () => {
      const page = await (await open()).page('p')
      const empty = await page.snapshot()
      await page.delete('absent')
      expect((await page.snapshot()).commitId).toBe(empty.commitId)
      await page.put('k', 'v')
      const s1 = await page.snapshot()
      expect(s1.commitId).not.toBe(empty.commitId)
      await page.put('k', 'v')
      expect((await page.snapshot()).commitId).toBe(s1.commitId)
      await page.put('k', 'v', { priority: 'lazy' })
      expect((await page.snapshot()).commitId).not.toBe(s1.commitId)
    })

    it('applies calls in call order even when not awaited', async () => {
      const page = await (await open()).page('p')
      const ops = [page.put('a', '1'), page.put('b', '2'), page.delete('a'), page.put('c', '3')]
      const snap = page.snapshot()
      await Promise.all(ops)
      const keys = (await collect((await snap).keys())).map((k) => str(k))
      expect(keys).toEqual(['b', 'c'])
    })

    it('clears', async () => {
      const page = await (await open()).page('p')
      await page.put('a', '1')
      await page.put('b', '2')
      await page.clear()
      const s = await page.snapshot()
      expect(await collect(s.keys())).toEqual([])
      const other = await (await open()).page('q')
      expect(s.contentId).toBe((await other.snapshot()).contentId)
    })

    it('gives equal contents equal content ids, whatever the history or page', async () => {
      const ledger = await open()
      const p = await ledger.page('p')
      const q = await ledger.page('q')
      await p.put('a', '1')
      await p.put('b', '2')
      await q.put('b', '2')
      await q.put('x', '9')
      await q.put('a', '1')
      await q.delete('x')
      const [sp, sq] = [await p.snapshot(), await q.snapshot()]
      expect(sp.contentId).toBe(sq.contentId)
      expect(sp.commitId).not.toBe(sq.commitId)
    })

    it('iterates with start, end, reverse and limit', async () => {
      const page = await (await open()).page('p')
      await page.startTransaction()
      for (const k of ['a', 'b', 'c', 'd', 'e']) await page.put(k, k.toUpperCase())
      await page.commit()
      const s = await page.snapshot()
      const keys = async (o: object): Promise<string[]> => (await collect(s.keys(o))).map((k) => str(k)!)
      expect(await keys({})).toEqual(['a', 'b', 'c', 'd', 'e'])
      expect(await keys({ start: 'b', end: 'd' })).toEqual(['b', 'c'])
      expect(await keys({ start: 'b', end: 'd', reverse: true })).toEqual(['c', 'b'])
      expect(await keys({ reverse: true, limit: 2 })).toEqual(['e', 'd'])
      expect(await keys({ start: 'bb', limit: 2 })).toEqual(['c', 'd'])
      const entries = await collect(s.entries({ start: 'e' }))
      expect(entries).toEqual([{ key: utf8('e'), value: utf8('E'), priority: 'eager' }])
    })

    it('limits a prefixed snapshot to its prefix', async () => {
      const page = await (await open()).page('p')
      for (const k of ['a1', 'b1', 'b2', 'c1']) await page.put(k, k)
      const s = await page.snapshot({ prefix: 'b' })
      expect(await s.get('a1')).toBeUndefined()
      expect(str(await s.get('b2'))).toBe('b2')
      expect((await collect(s.keys())).map((k) => str(k))).toEqual(['b1', 'b2'])
      expect((await collect(s.keys({ reverse: true }))).map((k) => str(k))).toEqual(['b2', 'b1'])
      expect((await s.getEntries()).entries.map((e) => str(e.key))).toEqual(['b1', 'b2'])
      const full = await page.snapshot()
      await page.put('b3', 'x')
      await page.put('c2', 'x')
      const later = await page.snapshot({ prefix: 'b' })
      expect((await collect(s.diff(later))).map((d) => str(d.key))).toEqual(['b3'])
      expect((await collect(full.diff(await page.snapshot()))).map((d) => str(d.key))).toEqual(['b3', 'c2'])
    })

    it('pages through getEntries with tokens', async () => {
      const page = await (await open()).page('p')
      await page.startTransaction()
      for (let i = 0; i < 25; i++) await page.put(`k${String(i).padStart(2, '0')}`, `${i}`)
      await page.commit()
      const s = await page.snapshot()
      const seen: string[] = []
      let token: string | undefined
      do {
        const res: { entries: { key: Uint8Array }[]; next?: string } = await s.getEntries(token ? { token, limit: 10 } : { limit: 10 })
        seen.push(...res.entries.map((e) => str(e.key)!))
        token = res.next
      } while (token)
      expect(seen).toHaveLength(25)
      expect(seen[24]).toBe('k24')
      const all = await s.getEntries()
      expect(all.entries).toHaveLength(25)
      expect(all.next).toBeUndefined()
      await expectCode(s.getEntries({ token: 'garbage!' }), 'INVALID_TOKEN')
      await expectCode(s.getEntries({ token: '' }), 'INVALID_TOKEN')
    })

    it('diffs two snapshots', async () => {
      const page = await (await open()).page('p')
      await page.put('a', '1')
      await page.put('b', '2')
      const s1 = await page.snapshot()
      await page.put('a', '9')
      await page.delete('b')
      await page.put('c', '3')
      const s2 = await page.snapshot()
      const d = await collect(s1.diff(s2))
      expect(d.map((x) => [str(x.key), str(x.before?.value), str(x.after?.value)])).toEqual([
        ['a', '1', '9'],
        ['b', '2', undefined],
        ['c', undefined, '3'],
      ])
      expect(await collect(s2.diff(s2))).toEqual([])
    })

    it('diffs linked values and priorities, and hands out arrays it does not reuse', async () => {
      const page = await (await open()).page('p')
      const big = new Uint8Array(5000).fill(7)
      await page.put('big', big)
      await page.put('small', 'x')
      const s1 = await page.snapshot()
      await page.put('big', big.map((b) => b + 1))
      await page.put('small', 'x', { priority: 'lazy' })
      const s2 = await page.snapshot()
      const d = await collect(s1.diff(s2))
      expect(d.map((x) => [str(x.key), x.before?.value?.length, x.after?.value?.[0], x.before?.priority, x.after?.priority])).toEqual([
        ['big', 5000, 8, 'eager', 'eager'],
        ['small', 1, 0x78, 'eager', 'lazy'], // a lazy value written here is local
      ])
      d[0]!.key.fill(0)
      d[0]!.after!.value!.fill(0)
      const again = await collect(s1.diff(s2))
      expect(str(again[0]!.key)).toBe('big')
      expect(again[0]!.after!.value![0]).toBe(8)
    })

    it('reads an earlier commit with at, and refuses a commit outside the history', async () => {
      const ledger = await open()
      const page = await ledger.page('p')
      await page.put('a', '1')
      const s1 = await page.snapshot()
      await page.put('a', '2')
      const old = await page.snapshot({ at: s1.commitId })
      expect(str(await old.get('a'))).toBe('1')
      const other = await ledger.page('q')
      await other.put('z', 'z')
      const foreign = (await other.snapshot()).commitId
      await expectCode(page.snapshot({ at: foreign }), 'INVALID_ARGUMENT')
      await expectCode(page.snapshot({ at: 'not-a-cid' }), 'INVALID_ARGUMENT')
      await expectCode(page.snapshot({ at: 42 as unknown as string }), 'INVALID_ARGUMENT')
    })

    it('lists pages with commits and opens the root page', async () => {
      const ledger = await open()
      const root = await ledger.rootPage()
      expect(root.id).toEqual(new Uint8Array(16))
      const b = await ledger.page('b')
      await ledger.page('unused')
      const a = await ledger.page('a')
      await b.put('k', 'v')
      await a.put('k', 'v')
      expect((await ledger.pages()).map((p) => str(p))).toEqual(['a', 'b'])
      const random = await ledger.page()
      expect(random.id).toHaveLength(16)
    })

    it('keeps a key of MAX_KEY_SIZE and refuses a larger one', async () => {
      const page = await (await open()).page('p')
      await page.put(new Uint8Array(MAX_KEY_SIZE).fill(7), 'v')
      await page.put('', 'empty key')
      expect(str(await (await page.snapshot()).get(''))).toBe('empty key')
      await expectCode(page.put(new Uint8Array(MAX_KEY_SIZE + 1), 'v'), 'KEY_TOO_LARGE')
      await expectCode(page.delete(new Uint8Array(MAX_KEY_SIZE + 1)), 'KEY_TOO_LARGE')
      await expectCode((await page.snapshot()).get(new Uint8Array(MAX_KEY_SIZE + 1)), 'KEY_TOO_LARGE')
    })

    it('refuses bad arguments with INVALID_ARGUMENT and stays usable', async () => {
      const ledger = await open()
      const page = await ledger.page('p')
      const bad = [
        () => page.put(1 as unknown as string, 'v'),
        () => page.put('k', null as unknown as string),
        () => page.put('k', 'v', { priority: 'urgent' as 'eager' }),
        () => page.put('k', 'v', 'opts' as unknown as object),
        () => page.delete({} as unknown as string),
        () => page.snapshot({ prefix: 5 as unknown as string }),
        () => page.watch('nope' as unknown as () => void),
        () => ledger.page(''),
        () => ledger.page(new Uint8Array(129)),
        () => ledger.page(12 as unknown as string),
        () => ledger.setMergePolicy('p', 'whatever' as 'custom'),
        () => page.createReference('text' as unknown as Uint8Array),
        () => page.sync({ mode: 'sideways' as 'push' }),
      ]
      for (const call of bad) await expectCode(call, 'INVALID_ARGUMENT')
      const s = await page.snapshot()
      await expectCode(collect(s.entries({ limit: -1 })), 'INVALID_ARGUMENT')
      await expectCode(s.fetchPartial('k', 1.5, 1), 'INVALID_ARGUMENT')
      await expectCode(s.diff({} as never)[Symbol.asyncIterator]().next(), 'INVALID_ARGUMENT')
      await page.put('k', 'still works')
      expect(str(await (await page.snapshot()).get('k'))).toBe('still works')
      expect((await ledger.page(new Uint8Array(128))).id).toHaveLength(128)
    })

    it('refuses bad open options', async () => {
      await expectCode(open({ mergePolicy: 'nope' as 'custom' }), 'INVALID_ARGUMENT')
      await expectCode(open({ clock: 5 as unknown as () => number }), 'INVALID_ARGUMENT')
      await expectCode(open({ replicaId: 7 as unknown as string }), 'INVALID_ARGUMENT')
      for (const cacheBytes of [-1, 1.5, Number.NaN, '1' as unknown as number]) {
        await expectCode(open({ cacheBytes }), 'INVALID_ARGUMENT')
      }
    })

    it('bounds the node cache by cacheBytes', async () => {
      const ledger = await open({ cacheBytes: 64 * 1024 })
      const page = await ledger.page('p')
      await page.startTransaction()
      for (let i = 0; i < 5000; i++) void page.put(`key-${i}`, 'v'.repeat(100))
      await page.commit()
      const snap = await page.snapshot()
      let n = 0
      for await (const _ of snap.entries()) n++
      expect(n).toBe(5000)
      expect(engineOf(ledger).tree.cacheStats.bytes).toBeLessThanOrEqual(64 * 1024)
      expect(engineOf(ledger).tree.cacheStats.nodes).toBeGreaterThan(0)
    })

    it('syncs with zero stats when no peer is connected', async () => {
      const page = await (await open()).page('p')
      const stats = await page.sync()
      expect(stats).toEqual({ commitsSent: 0, commitsReceived: 0, blocksSent: 0, blocksReceived: 0, bytesSent: 0, bytesReceived: 0, roundTrips: 0 })
      expect(page.syncState()).toEqual({ download: 'idle', upload: 'idle' })
    })
  })
}
