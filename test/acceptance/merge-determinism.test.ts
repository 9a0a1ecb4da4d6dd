/** Black-box acceptance tests (package root only). Merging: determinism, waitForConflictResolution, setMergePolicy, timestamps and the clock. */
import { describe, expect, it, onTestFinished } from 'vitest'
import { Ledger, type ConflictResolver, type LedgerOptions, type Page } from 'dagkv'
import { str, utf8 } from '../helpers/bytes.js'
import { diskLedger, memoryLedger, tempDir } from '../helpers/ledgers.js'
import { any, sleep, within, codeOf, fork, contents, same, stepClock, seeded, pieces, link, watchAll, EMPTY } from './merge-api-helpers.js'

describe('determinism', () => {
  /**
   * Two replicas with the same concurrent heads: both stuck (custom, no resolver) until
   * `resolverFor` is installed on each; returns both merged commit ids.
   */
  async function mergeOnBoth(
    resolverFor: (ledger: Ledger, page: Page) => Promise<ConflictResolver>,
    policy: 'custom' | 'automatic-with-fallback' = 'custom',
    backends: [(o?: LedgerOptions) => Promise<Ledger>, (o?: LedgerOptions) => Promise<Ledger>] = [memoryLedger, memoryLedger],
  ): Promise<{ ids: string[]; pages: Page[] }> {
    const a = await backends[0]({ replicaId: 'A', clock: stepClock(1000), mergePolicy: 'custom' })
    const b = await backends[1]({ replicaId: 'B', clock: stepClock(1000), mergePolicy: 'custom' })
    const pa = await a.page('p')
    const pb = await b.page('p')
    await pa.put('k', 'base')
    await pa.put('j', 'base')
    link(a, b)
    await within(pb.sync())
    await pa.put('k', 'A')
    await pa.put('a', seeded(3000, 1))
    await pb.put('k', 'B')
    await pb.put('j', 'B')
    await pb.put('b', '2', { priority: 'lazy' })
    await within(pa.sync())
    await within(pb.sync())
    const ra = await resolverFor(a, pa)
    const rb = await resolverFor(b, pb)
    await a.setMergePolicy('p', policy, ra)
    await b.setMergePolicy('p', policy, rb)
    await within(pa.waitForConflictResolution())
    await within(pb.waitForConflictResolution())
    return { ids: [(await pa.snapshot()).commitId, (await pb.snapshot()).commitId], pages: [pa, pb] }
  }

  it('a resolver writing new values, lazy values and References gives the same merge commit on both replicas', async () => {
    const big = seeded(150_000, 3)
    const { ids, pages } = await mergeOnBoth(async (_ledger, page) => {
      const ref = await page.createReference(pieces(big, 7000))
      return async (m) => {
        await m.mergeNonConflictingEntries()
        await m.merge([
          { key: 'k', source: 'new', value: 'resolved' },
          { key: 'lazy', source: 'new', value: 'lz', priority: 'lazy' },
          { key: 'ref', source: 'new', value: ref },
          { key: 'j', source: 'right' },
        ])
      }
    })
    expect(ids[0]).toBe(ids[1])
    // B's last commit is the newer head (left); j: 'right' takes A's (unchanged) j.
    const got = await contents(pages[1]!)
    expect({ ...got, a: null, ref: null }).toEqual({ a: null, b: '2', j: 'base', k: 'resolved', lazy: 'lz', ref: null })
    expect(same(await (await pages[1]!.snapshot()).get('ref'), big)).toBe(true)
  })

  it('the same decisions reached through different call sequences give the same merge commit', async () => {
    let n = 0
    const { ids } = await mergeOnBoth(async () => {
      const mine = n++
      return async (m) => {
        if (mine === 0) {
          await m.merge([{ key: 'k', source: 'new', value: 'x' }])
          await m.mergeNonConflictingEntries()
          await m.merge([{ key: 'k', source: 'new', value: 'resolved' }])
        } else {
          await m.mergeNonConflictingEntries()
          await m.merge([
            { key: 'zz', source: 'new', value: 'temp' },
            { key: 'k', source: 'new', value: 'resolved' },
            { key: 'zz', source: 'delete' },
          ])
        }
      }
    })
    expect(ids[0]).toBe(ids[1])
  })

  it('automatic-with-fallback on a memory and a disk replica gives the same merge commit', async () => {
    const { ids, pages } = await mergeOnBoth(
      async () => async (m) => {
        for await (const d of m.conflictingDiff()) await m.merge([{ key: d.key, source: 'new', value: `${str(d.left?.value)}+${str(d.right?.value)}` }])
      },
      'automatic-with-fallback',
      [memoryLedger, diskLedger],
    )
    expect(ids[0]).toBe(ids[1])
    expect((await contents(pages[1]!))['k']).toMatch(/^(A\+B|B\+A)$/)
  })
})

describe('waitForConflictResolution', () => {
  it("every connection waiting on an unresolved page gets 'conflicts-resolved'; a connection opened afterwards gets 'no-conflicts'", async () => {
    const ledger = await memoryLedger({ mergePolicy: 'custom' }) // no resolver yet: the heads stay
    const { a, b } = await fork(ledger, 'p', EMPTY, { x: '1' }, { y: '2' })
    const results: string[] = []
    const wa = a.waitForConflictResolution().then((r) => results.push(`a:${r}`))
    const wb = b.waitForConflictResolution().then((r) => results.push(`b:${r}`))
    await sleep(30)
    expect(results).toEqual([])
    await ledger.setMergePolicy('p', 'custom', (m) => m.mergeNonConflictingEntries())
    await within(Promise.all([wa, wb]))
    expect(results.sort()).toEqual(['a:conflicts-resolved', 'b:conflicts-resolved'])
    expect((await a.snapshot()).commitId).toBe((await b.snapshot()).commitId)
    const c = await ledger.page('p')
    expect(await within(c.waitForConflictResolution())).toBe('no-conflicts')
    expect(await contents(c)).toEqual({ x: '1', y: '2' })
  })

  it("after a merge, a connection that did not wait resolves 'no-conflicts' and is already on the merge", async () => {
    const ledger = await memoryLedger()
    const { a, b } = await fork(ledger, 'p', EMPTY, { x: '1' }, { y: '2' })
    expect(await within(a.waitForConflictResolution())).toBe('conflicts-resolved')
    const head = (await a.snapshot()).commitId
    expect(await within(b.waitForConflictResolution())).toBe('no-conflicts')
    expect((await b.snapshot()).commitId).toBe(head)
  })
})

describe('setMergePolicy', () => {
  it('heads left apart survive a restart and are merged by the policy set after reopening', async () => {
    const path = `${tempDir()}/db`
    const first = await Ledger.open({ path, autoSync: false, mergePolicy: 'custom' }) // no resolver: heads stay
    const { a, b } = await fork(first, 'p', { k: 'base' }, { k: 'older', x: '1' }, { k: 'newer', y: '2' })
    await sleep(20)
    expect((await a.snapshot()).commitId).not.toBe((await b.snapshot()).commitId)
    await first.close()
    const again = await Ledger.open({ path, autoSync: false, mergePolicy: 'custom' })
    onTestFinished(() => again.close())
    await again.setMergePolicy('p', 'custom', async (m) => {
      await m.mergeNonConflictingEntries()
      await m.merge([{ key: 'k', source: 'new', value: 'after restart' }])
    })
    const p = await again.page('p')
    expect(await within(p.waitForConflictResolution())).toBe('conflicts-resolved')
    expect(await contents(p)).toEqual({ k: 'after restart', x: '1', y: '2' })
  })


  it('refuses bad arguments with INVALID_ARGUMENT by rejecting; CLOSED after close', async () => {
    const ledger = await Ledger.open({ autoSync: false })
    const calls: Record<string, () => unknown> = {
      'unknown policy': () => ledger.setMergePolicy('p', any('first-one-wins')),
      'policy in capitals': () => ledger.setMergePolicy('p', any('LAST-ONE-WINS')),
      'no policy': () => ledger.setMergePolicy('p', any(undefined)),
      'number policy': () => ledger.setMergePolicy('p', any(1)),
      'null policy': () => ledger.setMergePolicy('p', any(null)),
      'string resolver': () => ledger.setMergePolicy('p', 'custom', any('resolve')),
      'object resolver': () => ledger.setMergePolicy('p', 'custom', any({ resolve() {} })),
      'null resolver': () => ledger.setMergePolicy('p', 'custom', any(null)),
      'empty page id': () => ledger.setMergePolicy('', 'last-one-wins'),
      '129-byte page id': () => ledger.setMergePolicy(new Uint8Array(129), 'last-one-wins'),
      'number page id': () => ledger.setMergePolicy(any(5), 'last-one-wins'),
      'no page id': () => ledger.setMergePolicy(any(undefined), 'last-one-wins'),
    }
    const got: Record<string, string> = {}
    for (const [name, call] of Object.entries(calls)) got[name] = await codeOf(call)
    const expected = Object.fromEntries(Object.keys(calls).map((n) => [n, 'INVALID_ARGUMENT']))
    expect(got).toEqual(expected)
    expect(await codeOf(() => ledger.setMergePolicy(new Uint8Array(128), 'custom', () => {}))).toBe('resolved')
    await ledger.close()
    expect(await codeOf(() => ledger.setMergePolicy('p', 'last-one-wins'))).toBe('CLOSED')
  })

  it('applies to that page only (string and bytes ids name the same page), also when set before the page is opened', async () => {
    const calls: string[] = []
    const ledger = await memoryLedger()
    await ledger.setMergePolicy(utf8('p'), 'custom', (m) => {
      calls.push(str(m.pageId)!)
      return m.merge([{ key: 'k', source: 'right' }])
    })
    const p = await fork(ledger, 'p', EMPTY, { k: 'older' }, { k: 'newer' })
    const q = await fork(ledger, 'q', EMPTY, { k: 'older' }, { k: 'newer' })
    await within(p.a.waitForConflictResolution())
    await within(q.a.waitForConflictResolution())
    expect(calls).toEqual(['p'])
    expect(await contents(p.a)).toEqual({ k: 'older' })
    expect(await contents(q.a)).toEqual({ k: 'newer' }) // q keeps the ledger default, last-one-wins
  })

  it("Ledger.open's mergePolicy and resolver are every page's default; a bad policy or resolver is refused", async () => {
    let calls = 0
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: (m) => {
        calls++
        return m.merge([{ key: 'k', source: 'new', value: 'custom' }])
      },
    })
    const { a } = await fork(ledger, 'anything', EMPTY, { k: 'older' }, { k: 'newer' })
    await within(a.waitForConflictResolution())
    expect(calls).toBe(1)
    expect(await contents(a)).toEqual({ k: 'custom' })
    for (const options of [{ mergePolicy: 'lww' }, { mergePolicy: 5 }, { mergePolicy: 'custom', resolver: 'fn' }, { resolver: {} }]) {
      expect(await codeOf(async () => (await Ledger.open(any({ autoSync: false, ...options }))).close())).toBe('INVALID_ARGUMENT')
    }
  })
})


describe('timestamps and the injected clock', () => {
  it('a commit takes the injected clock when it is ahead; a merge carries its parents’ largest timestamp; the next commit is newer still', async () => {
    let now = 1_700_000_000_000
    const ledger = await memoryLedger({ clock: () => now })
    const a = await ledger.page('p')
    const b = await ledger.page('p')
    const seen = await watchAll(a)
    await a.startTransaction()
    await b.startTransaction()
    await a.put('x', '1')
    await b.put('y', '2')
    await a.commit()
    now = 1_700_000_000_500
    await b.commit()
    now = 5 // the clock jumps back
    await within(a.waitForConflictResolution())
    await a.put('z', '3') // the clock went back: still newer than everything before
    await a.put('w', '4')
    await sleep(20)
    const stamps = seen.map((c) => c.timestamp)
    expect(stamps.slice(0, 2)).toEqual([1_700_000_000_000, 1_700_000_000_500]) // own commit, then the merge
    expect(stamps[2]!).toBeGreaterThan(1_700_000_000_500)
    expect(stamps[3]!).toBeGreaterThan(stamps[2]!)
  })

  it('a new commit is newer than every commit the ledger received, whatever its clock says (other pages included)', async () => {
    const ahead = await memoryLedger({ replicaId: 'A', clock: () => 9_000_000_000_000 })
    const behind = await memoryLedger({ replicaId: 'B', clock: () => 1000 })
    const pa = await ahead.page('shared')
    await pa.put('k', 'v')
    link(ahead, behind)
    const pb = await behind.page('shared')
    await within(pb.sync())
    await within(pb.waitForConflictResolution())
    expect(await contents(pb)).toEqual({ k: 'v' })
    const other = await behind.page('other')
    const seen = await watchAll(other)
    await other.put('x', '1')
    await sleep(10)
    expect(seen).toHaveLength(1)
    expect(seen[0]!.timestamp).toBeGreaterThan(9_000_000_000_000)
  })

  it('timestamps keep growing across a restart with a clock that went back', async () => {
    const path = `${tempDir()}/db`
    const first = await Ledger.open({ path, autoSync: false, clock: () => 5_000_000 })
    await (await first.page('p')).put('k', 'v')
    await first.close()
    const second = await Ledger.open({ path, autoSync: false, clock: () => 10 })
    onTestFinished(() => second.close())
    const q = await second.page('q')
    const seen = await watchAll(q)
    await q.put('k', 'v')
    await sleep(10)
    expect(seen[0]!.timestamp).toBeGreaterThan(5_000_000)
  })

  it('a clock returning garbage (NaN, Infinity, a string, negative) does not break commits or their order', async () => {
    const readings: unknown[] = [NaN, Infinity, '12', -50, 1.5, undefined]
    let i = 0
    const ledger = await memoryLedger({ clock: () => readings[i++ % readings.length] as number })
    const page = await ledger.page('p')
    const seen = await watchAll(page)
    for (let k = 0; k < 6; k++) expect(await codeOf(() => page.put(`k${k}`, 'v'))).toBe('resolved')
    await sleep(20)
    const stamps = seen.map((c) => c.timestamp)
    expect(stamps.length).toBeGreaterThanOrEqual(1)
    expect(stamps.every((t) => Number.isFinite(t))).toBe(true)
    for (let k = 1; k < stamps.length; k++) expect(stamps[k]!).toBeGreaterThan(stamps[k - 1]!)
    expect(Object.keys(await contents(page))).toHaveLength(6)
  })
})
