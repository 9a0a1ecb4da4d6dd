import { describe, expect, it } from 'vitest'
import type { PageChange } from 'dagkv'
import { collect, str, until } from '../helpers/bytes.js'
import type { LedgerFactory } from '../helpers/ledgers.js'
import { expectCode } from './ledger-basics.js'

const keysOf = async (s: { keys(): AsyncIterable<Uint8Array> }): Promise<string[]> =>
  (await collect(s.keys())).map((k) => str(k)!)

/** Transactions and watchers, on any backend. */
export function ledgerTransactionsSuite(name: string, open: LedgerFactory): void {
  describe(`${name}: transactions`, () => {
    it('commits atomically and pins the connection meanwhile', async () => {
      const page = await (await open()).page('p')
      await page.put('a', '1')
      await page.startTransaction()
      await page.put('b', '2')
      await page.delete('a')
      const during = await page.snapshot()
      expect(await keysOf(during)).toEqual(['a'])
      await page.commit()
      expect(await keysOf(await page.snapshot())).toEqual(['b'])
    })

    it('copies keys and values at put time: later changes to the caller\'s arrays do not reach the commit', async () => {
      const page = await (await open()).page('p')
      await page.startTransaction()
      const small = { key: Uint8Array.of(1, 2), value: Uint8Array.of(3, 4) }
      const big = { key: Uint8Array.of(5), value: new Uint8Array(5000).fill(6) }
      const lazy = { key: Uint8Array.of(7), value: Uint8Array.of(8) }
      void page.put(small.key, small.value) // applied at once (nothing queued)
      void page.put(big.key, big.value)
      void page.put(lazy.key, lazy.value, { priority: 'lazy' })
      const queued = { key: Uint8Array.of(9), value: Uint8Array.of(10) }
      const busy = page.snapshot() // queues a task: the next put waits behind it
      void page.put(queued.key, queued.value)
      for (const a of [small, big, lazy, queued]) {
        a.key.fill(0xee)
        a.value.fill(0xee)
      }
      await busy
      await page.commit()
      const snap = await page.snapshot()
      expect(await snap.get(Uint8Array.of(1, 2))).toEqual(Uint8Array.of(3, 4))
      expect(await snap.get(Uint8Array.of(5))).toEqual(new Uint8Array(5000).fill(6))
      expect(await snap.get(Uint8Array.of(7))).toEqual(Uint8Array.of(8))
      expect(await snap.get(Uint8Array.of(9))).toEqual(Uint8Array.of(10))
      expect((await collect(snap.keys())).length).toBe(4)
    })

    it('rolls back', async () => {
      const page = await (await open()).page('p')
      await page.put('a', '1')
      const before = await page.snapshot()
      await page.startTransaction()
      await page.put('b', '2')
      await page.rollback()
      expect((await page.snapshot()).commitId).toBe(before.commitId)
    })

    it('reports the two transaction errors and stays usable', async () => {
      const page = await (await open()).page('p')
      await expectCode(page.commit(), 'NO_TRANSACTION_IN_PROGRESS')
      await expectCode(page.rollback(), 'NO_TRANSACTION_IN_PROGRESS')
      await page.startTransaction()
      await expectCode(page.startTransaction(), 'TRANSACTION_ALREADY_IN_PROGRESS')
      await page.put('k', 'v')
      await page.commit()
      expect(str(await (await page.snapshot()).get('k'))).toBe('v')
    })

    it('clears inside a transaction: keys at the start and puts before it go, later puts stay', async () => {
      const page = await (await open()).page('p')
      await page.put('old', '1')
      await page.startTransaction()
      await page.put('before', '2')
      await page.clear()
      await page.put('after', '3')
      await page.commit()
      expect(await keysOf(await page.snapshot())).toEqual(['after'])
    })

    it('makes no commit for a transaction that changes nothing', async () => {
      const page = await (await open()).page('p')
      await page.put('a', '1')
      const before = await page.snapshot()
      const seen: PageChange[] = []
      await page.watch((c) => {
        seen.push(c)
      })
      await page.startTransaction()
      await page.put('a', '2')
      await page.put('a', '1')
      await page.put('tmp', 'x')
      await page.delete('tmp')
      await page.commit()
      expect((await page.snapshot()).commitId).toBe(before.commitId)
      await page.put('z', 'z')
      await until(() => seen.length === 1)
      expect(seen[0]!.changed.map((e) => str(e.key))).toEqual(['z'])
    })

    it('rolls back an open transaction when the connection closes', async () => {
      const ledger = await open()
      const page = await ledger.page('p')
      await page.startTransaction()
      await page.put('a', '1')
      await page.close()
      await expectCode(page.put('b', '2'), 'CLOSED')
      expect(await keysOf(await (await ledger.page('p')).snapshot())).toEqual([])
    })

    it('keeps two connections that commit from the same base on their own heads', async () => {
      const ledger = await open({ mergePolicy: 'custom' }) // no resolver: the heads stay apart
      const c1 = await ledger.page('p')
      const c2 = await ledger.page('p')
      await c1.startTransaction()
      await c2.startTransaction()
      await c1.put('k', 'one')
      await c2.put('k', 'two')
      await c1.commit()
      await c2.commit()
      expect(str(await (await c1.snapshot()).get('k'))).toBe('one')
      expect(str(await (await c2.snapshot()).get('k'))).toBe('two')
    })

    it('moves a connection forward onto a descendant commit made by another', async () => {
      const ledger = await open()
      const c1 = await ledger.page('p')
      const c2 = await ledger.page('p')
      await c1.put('k', 'v')
      await until(async () => str(await (await c2.snapshot()).get('k')) === 'v')
    })
  })

  describe(`${name}: watchers`, () => {
    it('notifies local changes with the snapshot that includes them', async () => {
      const page = await (await open()).page('p')
      await page.put('a', '0')
      const seen: PageChange[] = []
      const { snapshot, close } = await page.watch((c) => {
        seen.push(c)
      })
      expect(str(await snapshot.get('a'))).toBe('0')
      await page.put('b', '1')
      await page.delete('a')
      await until(() => seen.reduce((n, c) => n + c.changed.length + c.deleted.length, 0) === 2)
      const all = seen.flatMap((c) => [...c.changed.map((e) => `+${str(e.key)}`), ...c.deleted.map((k) => `-${str(k)}`)])
      expect(all).toEqual(['+b', '-a'])
      expect(seen.every((c) => c.origin === 'local' && c.state === 'completed')).toBe(true)
      const last = seen[seen.length - 1]!
      expect(await keysOf(await last.snapshot())).toEqual(['b'])
      expect(last.timestamp).toBeGreaterThan(0)
      close()
      await page.put('c', '2')
      await new Promise((r) => setTimeout(r, 20))
      expect(seen.flatMap((c) => c.changed).map((e) => str(e.key))).not.toContain('c')
    })

    it('delivers one at a time and aggregates what arrives meanwhile', async () => {
      const page = await (await open()).page('p')
      const seen: PageChange[] = []
      let release!: () => void
      const gate = new Promise<void>((r) => (release = r))
      let active = 0
      let maxActive = 0
      await page.watch(async (c) => {
        active++
        maxActive = Math.max(maxActive, active)
        seen.push(c)
        if (seen.length === 1) await gate
        active--
      })
      await page.put('a', '1')
      await until(() => seen.length === 1)
      await page.put('b', '2')
      await page.put('c', '3')
      await page.put('a', '4')
      release()
      await until(() => seen.length === 2)
      await new Promise((r) => setTimeout(r, 20))
      expect(seen).toHaveLength(2)
      expect(maxActive).toBe(1)
      expect(seen[1]!.changed.map((e) => `${str(e.key)}=${str(e.value)}`)).toEqual(['a=4', 'b=2', 'c=3'])
    })

    it('limits changes to the prefix', async () => {
      const page = await (await open()).page('p')
      const seen: PageChange[] = []
      const { snapshot } = await page.watch((c) => {
        seen.push(c)
      }, { prefix: 'x/' })
      await page.put('y/1', '1')
      await page.put('x/1', '1')
      await until(() => seen.length === 1)
      expect(seen[0]!.changed.map((e) => str(e.key))).toEqual(['x/1'])
      expect(await keysOf(snapshot)).toEqual([])
    })

    it('delivers a change of more than 1000 entries in parts, in key order', async () => {
      const page = await (await open()).page('p')
      const seen: PageChange[] = []
      await page.watch((c) => {
        seen.push(c)
      })
      await page.startTransaction()
      for (let i = 0; i < 2500; i++) await page.put(`k${String(i).padStart(5, '0')}`, 'v')
      await page.commit()
      await until(() => seen.length > 0 && seen[seen.length - 1]!.state === 'partial-completed')
      expect(seen.map((c) => c.state)).toEqual(['partial-started', 'partial-continued', 'partial-completed'])
      expect(seen.map((c) => c.changed.length)).toEqual([1000, 1000, 500])
      const keys = seen.flatMap((c) => c.changed.map((e) => str(e.key)!))
      expect(keys).toEqual([...keys].sort())
    })

    it('stays silent during a transaction and reports the commit once', async () => {
      const page = await (await open()).page('p')
      const seen: PageChange[] = []
      await page.watch((c) => {
        seen.push(c)
      })
      await page.startTransaction()
      await page.put('a', '1')
      await page.put('b', '2')
      await new Promise((r) => setTimeout(r, 20))
      expect(seen).toHaveLength(0)
      await page.commit()
      await until(() => seen.length === 1)
      expect(seen[0]!.changed).toHaveLength(2)
    })

    it('sees changes made through another connection', async () => {
      const ledger = await open()
      const watcherConn = await ledger.page('p')
      const writer = await ledger.page('p')
      const seen: PageChange[] = []
      await watcherConn.watch((c) => {
        seen.push(c)
      })
      await writer.put('k', 'v')
      await until(() => seen.length === 1)
      expect(seen[0]!.origin).toBe('local')
    })

    it('waits for pending notifications before a transaction starts', async () => {
      const page = await (await open()).page('p')
      let done = false
      await page.watch(async () => {
        await new Promise((r) => setTimeout(r, 30))
        done = true
      })
      await page.put('a', '1')
      await page.startTransaction()
      expect(done).toBe(true)
      await page.rollback()
    })
  })
}
