import { describe, expect, it } from 'vitest'
import type { Ledger, PageChange, PageSyncState } from 'dagkv'
import { networkOf } from '../../src/sync/index.js'
import { str, until, utf8 } from '../helpers/bytes.js'
import { contents, expectCode, hexOf, replica, same, seeded, ZERO, type Linker } from './helpers.js'

/** Sync behaviour, run over every transport. */
export function syncSuite(name: string, link: Linker): void {
  describe(`sync over ${name}`, () => {
    it('pull brings commits, tree and eager values; a second sync moves nothing', async () => {
      const a = await replica()
      const b = await replica()
      const pa = await a.page('p')
      for (let i = 0; i < 30; i++) await pa.put(`k${i}`, `v${i}`)
      await pa.put('big', seeded(300_000, 1))
      await link(a, b)
      const pb = await b.page('p')
      const stats = await pb.sync({ mode: 'pull' })
      expect(stats.commitsReceived).toBe(31)
      expect(stats.blocksReceived).toBeGreaterThan(31)
      expect(stats.bytesReceived).toBeGreaterThan(300_000)
      expect(stats.commitsSent).toBe(0)
      expect(stats.roundTrips).toBeGreaterThanOrEqual(1)
      expect(await contents(pb)).toEqual(await contents(pa))
      expect(same(await (await pb.snapshot()).get('big'), seeded(300_000, 1))).toBe(true)
      expect((await pb.snapshot()).commitId).toBe((await pa.snapshot()).commitId)
      for (const mode of ['pull', 'push', 'both'] as const) {
        const again = await pb.sync({ mode })
        expect(again.commitsSent + again.commitsReceived + again.blocksSent + again.blocksReceived).toBe(0)
        const back = await pa.sync({ mode })
        expect(back.commitsSent + back.commitsReceived + back.blocksSent + back.blocksReceived).toBe(0)
      }
    })

    it('push resolves when the peer has the commits; both does pull then push', async () => {
      const a = await replica()
      const b = await replica()
      await link(a, b)
      const pa = await a.page('p')
      await pa.put('x', '1')
      await pa.put('y', '2')
      const pushed = await pa.sync({ mode: 'push' })
      expect(pushed).toMatchObject({ commitsSent: 2, blocksSent: 2, commitsReceived: 0, roundTrips: 1 })
      expect(pushed.bytesSent).toBeGreaterThan(0)
      expect(pushed.bytesReceived).toBeGreaterThan(0)
      // The receiver never opened the page: it exists there now.
      expect((await b.pages()).map(hexOf)).toEqual([hexOf(utf8('p'))])
      const pb = await b.page('p')
      expect(await contents(pb)).toEqual({ x: '1', y: '2' })
      await pb.put('z', '3')
      await pa.put('w', '4')
      const both = await pb.sync()
      expect(both.commitsReceived).toBe(1)
      // B's own commit, and the merge of both heads if B merged before pushing.
      expect(both.commitsSent).toBeGreaterThanOrEqual(1)
      expect(both.roundTrips).toBe(2)
      await pa.waitForConflictResolution()
      await pb.sync()
      await pb.waitForConflictResolution()
      expect(await contents(pa)).toEqual({ w: '4', x: '1', y: '2', z: '3' })
      expect(await contents(pb)).toEqual(await contents(pa))
    })

    it('autoSync: pages sync on connect and after each commit, including pages never opened', async () => {
      const a = await replica({ autoSync: true })
      const b = await replica({ autoSync: true })
      const before = await a.page('old')
      await before.put('k', 'before connect')
      await link(a, b)
      await until(async () => (await b.pages()).length === 1)
      const fresh = await a.page('fresh')
      await fresh.put('k', 'after connect')
      await until(async () => (await b.pages()).length === 2)
      const pb = await b.page('fresh')
      await until(async () => (await contents(pb))['k'] === 'after connect')
      expect(await contents(await b.page('old'))).toEqual({ k: 'before connect' })
      // And back: a write on B reaches A.
      await pb.put('from-b', 'yes')
      await until(async () => (await contents(fresh))['from-b'] === 'yes')
    })

    it('watchers on the receiver see remote changes with origin remote', async () => {
      const a = await replica({ autoSync: true })
      const b = await replica({ autoSync: true })
      await link(a, b)
      const pa = await a.page('w')
      const pb = await b.page('w')
      const seen: PageChange[] = []
      await pb.watch((c) => {
        seen.push(c)
      })
      await pa.put('key', 'value')
      await until(() => seen.length > 0)
      expect(seen[0]!.origin).toBe('remote')
      expect(seen[0]!.changed.map((e) => str(e.key))).toEqual(['key'])
      await pb.put('mine', '1')
      await until(() => seen.length > 1)
      expect(seen[1]!.origin).toBe('local')
    })

    it('a chain A–B–C converges (B passes on what it received)', async () => {
      const [a, b, c] = [await replica({ autoSync: true }), await replica({ autoSync: true }), await replica({ autoSync: true })]
      await link(a, b)
      await link(b, c)
      const pa = await a.page('chain')
      const pc = await c.page('chain')
      await pa.put('from-a', '1')
      await until(async () => (await contents(pc))['from-a'] === '1')
      await pc.put('from-c', '2')
      await until(async () => (await contents(pa))['from-c'] === '2')
      const pb = await b.page('chain')
      await until(async () => JSON.stringify(await contents(pb)) === JSON.stringify({ 'from-a': '1', 'from-c': '2' }))
    })

    it('three replicas with concurrent writes and manual syncs end identical', async () => {
      const ledgers = [await replica(), await replica(), await replica()]
      await link(ledgers[0]!, ledgers[1]!)
      await link(ledgers[1]!, ledgers[2]!)
      await link(ledgers[0]!, ledgers[2]!)
      const pages = await Promise.all(ledgers.map((l) => l.page('shared')))
      for (let round = 0; round < 3; round++) {
        for (const [i, p] of pages.entries()) {
          await p.put(`k${round}`, `from ${i}`)
          await p.put(`own${i}-${round}`, 'x')
        }
      }
      await settle(pages)
      const ids = await Promise.all(pages.map(async (p) => (await p.snapshot()).commitId))
      expect(new Set(ids).size).toBe(1)
      const c0 = await contents(pages[0]!)
      expect(Object.keys(c0)).toHaveLength(12)
      for (const p of pages) expect(await contents(p)).toEqual(c0)
    })

    it('peers selects whom to sync with; an unknown id → INVALID_ARGUMENT; none connected → zero stats', async () => {
      const a = await replica()
      const b = await replica()
      const c = await replica()
      const pa = await a.page('p')
      await pa.put('k', 'v')
      expect(await pa.sync()).toEqual(ZERO)
      await link(a, b)
      await link(a, c)
      await expectCode(pa.sync({ peers: ['nobody'] }), 'INVALID_ARGUMENT')
      const stats = await pa.sync({ mode: 'push', peers: [b.replicaId] })
      expect(stats.commitsSent).toBe(1)
      expect(await b.pages()).toHaveLength(1)
      expect(await c.pages()).toHaveLength(0)
      expect((await pa.sync({ mode: 'push', peers: [] })).roundTrips).toBe(0)
    })

    it('sync state: in-progress while syncing, idle after; error once the connection drops', async () => {
      const a = await replica()
      const b = await replica()
      const pa = await a.page('s')
      for (let i = 0; i < 50; i++) await pa.put(`k${i}`, 'v')
      const l = await link(a, b)
      const pb = await b.page('s')
      const states: PageSyncState[] = []
      const off = pb.onSyncState((s) => states.push(s))
      expect(pb.syncState()).toEqual({ download: 'idle', upload: 'idle' })
      await pb.sync({ mode: 'pull' })
      expect(states).toContainEqual({ download: 'in-progress', upload: 'idle' })
      expect(pb.syncState()).toEqual({ download: 'idle', upload: 'idle' })
      await l.close()
      await until(() => pb.syncState().download === 'error')
      off()
      // A new connection and a successful sync clear it.
      await link(a, b)
      await pb.sync({ mode: 'pull' })
      expect(pb.syncState().download).toBe('idle')
    })

    it('lazy values travel only when fetched; fetchPartial fetches only the chunks it needs', async () => {
      const a = await replica()
      const b = await replica()
      const big = seeded(3 * 1024 * 1024, 7)
      const pa = await a.page('lazy')
      await pa.put('v', big, { priority: 'lazy' })
      await pa.put('small', 'tiny', { priority: 'lazy' })
      const l = await link(a, b)
      const pb = await b.page('lazy')
      const stats = await pb.sync({ mode: 'pull' })
      expect(stats.bytesReceived).toBeLessThan(10_000)
      const snap = await pb.snapshot()
      await expectCode(snap.get('v'), 'NEEDS_FETCH')
      const entries = await collectEntries(b)
      expect(entries).toEqual([{ key: 'small', value: null, priority: 'lazy' }, { key: 'v', value: null, priority: 'lazy' }])
      const fetched: string[] = []
      const fetcher = networkOf(b).fetcher
      const original = fetcher.fetchBlocks.bind(fetcher)
      fetcher.fetchBlocks = async (cids) => {
        fetched.push(...cids.map(String))
        return original(cids)
      }
      const part = await snap.fetchPartial('v', 1_000_000, 100)
      expect(part).toEqual(big.subarray(1_000_000, 1_000_100))
      // The index block and the one or two chunks over the slice, not the ~190 chunks of the value.
      expect(fetched.length).toBeLessThanOrEqual(3)
      expect(same(await snap.fetch('v'), big)).toBe(true)
      expect(same(await snap.get('v'), big)).toBe(true)
      expect(str(await snap.fetch('small'))).toBe('tiny')
      await l.close()
      await pa.put('v2', 'x'.repeat(5000), { priority: 'lazy' })
      const c = await replica()
      await link(a, c)
      const pc = await c.page('lazy')
      await pc.sync({ mode: 'pull' })
      await l.close()
      await link(c, b)
      // b does not have v2's commit; c has it but not its value: fetch from a peer without it fails.
      await pb.sync({ mode: 'pull', peers: [c.replicaId] })
      await expectCode((await pb.snapshot()).fetch('v2'), 'NETWORK_ERROR')
    })

    it('a replica 500 commits behind catches up in a handful of round trips', async () => {
      const a = await replica()
      const b = await replica()
      await link(a, b)
      const pa = await a.page('long')
      await pa.put('start', '0')
      const pb = await b.page('long')
      await pb.sync({ mode: 'pull' })
      for (let i = 0; i < 500; i++) await pa.put(`key${i % 97}`, `value ${i}`)
      const stats = await pb.sync({ mode: 'pull' })
      expect(stats.commitsReceived).toBe(500)
      expect(stats.roundTrips).toBeLessThanOrEqual(3)
      expect(await contents(pb)).toEqual(await contents(pa))
    })
  })
}

async function collectEntries(ledger: Ledger): Promise<{ key: string; value: string | null; priority: string }[]> {
  const out: { key: string; value: string | null; priority: string }[] = []
  for await (const e of (await (await ledger.page('lazy')).snapshot()).entries()) {
    out.push({ key: str(e.key)!, value: e.value === undefined ? null : str(e.value)!, priority: e.priority })
  }
  return out
}

/** Syncs every page with every peer and waits for merges, until all pages agree (bounded). */
export async function settle(pages: readonly import('dagkv').Page[]): Promise<void> {
  for (let round = 0; round < 6; round++) {
    for (const p of pages) await p.sync()
    for (const p of pages) await p.waitForConflictResolution()
    const ids = await Promise.all(pages.map(async (p) => (await p.snapshot()).commitId))
    if (new Set(ids).size === 1) return
  }
}
