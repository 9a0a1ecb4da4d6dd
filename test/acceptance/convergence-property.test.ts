/**
 * Black-box acceptance tests (package root only): convergence of 3–4 replicas under random edit
 * scripts, random topologies, manual syncs of every mode, and restarts of disk replicas (fast-check).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Ledger, type ConflictResolver, type MergePolicy, type SyncStats } from 'dagkv'
import { collect, numRuns, str } from '../helpers/bytes.js'
import { within } from '../helpers/timing.js'
import { Links, digest, expectConverged, reopenable, syncUntilQuiet } from './persistence-helpers.js'

const PAGES = ['p0', 'p1', 'p2']
const KEYS = ['a', 'b', 'c', 'd', 'e']

type Op =
  | { t: 'put'; r: number; page: number; key: number; value: number; lazy: boolean }
  | { t: 'del'; r: number; page: number; key: number }
  | { t: 'clear'; r: number; page: number }
  | { t: 'txn'; r: number; page: number; puts: [number, number][]; dels: number[] }
  | { t: 'fork'; r: number; page: number; key: number; value: number }
  | { t: 'link'; i: number; j: number }
  | { t: 'cut'; i: number; j: number }
  | { t: 'sync'; r: number; page: number; mode: 'push' | 'pull' | 'both' }
  | { t: 'restart'; r: number }

const r4 = fc.nat(3)
const pageArb = fc.nat(PAGES.length - 1)
const keyArb = fc.nat(KEYS.length - 1)
const valArb = fc.nat(9)

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('put' as const), r: r4, page: pageArb, key: keyArb, value: valArb, lazy: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), r: r4, page: pageArb, key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('clear' as const), r: r4, page: pageArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('txn' as const), r: r4, page: pageArb, puts: fc.array(fc.tuple(keyArb, valArb), { maxLength: 3 }), dels: fc.array(keyArb, { maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('fork' as const), r: r4, page: pageArb, key: keyArb, value: valArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('link' as const), i: r4, j: r4 }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('cut' as const), i: r4, j: r4 }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('sync' as const), r: r4, page: pageArb, mode: fc.constantFrom('push' as const, 'pull' as const, 'both' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('restart' as const), r: fc.nat(1) }) },
)

/** A deterministic resolver: each conflicting key gets its two sides' values, sorted and joined. */
const joinResolver = (mergeNonConflicting: boolean): ConflictResolver => async (m) => {
  if (mergeNonConflicting) await m.mergeNonConflictingEntries()
  const decided = []
  for await (const d of m.conflictingDiff()) {
    const side = (v: typeof d.left): string => (v === undefined ? '-' : v.value === undefined ? '?' : str(v.value)!)
    decided.push({ key: d.key, source: 'new' as const, value: [side(d.left), side(d.right)].sort().join('|') })
  }
  await m.merge(decided)
}

function checkStats(s: SyncStats, mode: string, linked: boolean, where: string): void {
  const fields = Object.values(s)
  expect(Object.keys(s).sort(), where).toEqual(['blocksReceived', 'blocksSent', 'bytesReceived', 'bytesSent', 'commitsReceived', 'commitsSent', 'roundTrips'])
  for (const v of fields) expect(Number.isInteger(v) && v >= 0, `${where}: ${JSON.stringify(s)}`).toBe(true)
  if (!linked) expect(fields.every((v) => v === 0), `${where}: no peer → zero stats, got ${JSON.stringify(s)}`).toBe(true)
  if (mode === 'push') expect(s.commitsReceived + s.blocksReceived, `${where}: push received ${JSON.stringify(s)}`).toBe(0)
  if (mode === 'pull') expect(s.commitsSent + s.blocksSent, `${where}: pull sent ${JSON.stringify(s)}`).toBe(0)
  expect(s.blocksSent, where).toBeGreaterThanOrEqual(s.commitsSent)
  expect(s.blocksReceived, where).toBeGreaterThanOrEqual(s.commitsReceived)
  if (s.blocksSent > 0) expect(s.bytesSent, where).toBeGreaterThan(0)
  if (s.blocksReceived > 0) expect(s.bytesReceived, where).toBeGreaterThan(0)
  if (s.commitsSent + s.commitsReceived > 0) expect(s.roundTrips, where).toBeGreaterThan(0)
}

/** Runs one script on `n` replicas (0 and 1 on disk), then links them along `tree` and syncs until quiet. */
async function runScript(n: number, policy: MergePolicy, ops: Op[], tree: number[]): Promise<void> {
  const resolver = policy === 'last-one-wins' ? undefined : joinResolver(policy === 'custom')
  const lazyOk = policy === 'last-one-wins' // resolvers read values: keep them local everywhere
  const dirs = [reopenable(), reopenable()]
  const options = (i: number): { replicaId: string; mergePolicy: MergePolicy; resolver?: ConflictResolver } =>
    ({ replicaId: `R${i}`, mergePolicy: policy, ...(resolver ? { resolver } : {}) })
  const ledgers: Ledger[] = []
  for (let i = 0; i < n; i++) ledgers.push(i < 2 ? await dirs[i]!.open(options(i)) : await Ledger.open({ autoSync: false, ...options(i) }))
  const links = new Links(ledgers)
  try {
    let step = 0
    for (const op of ops) {
      step++
      const where = `step ${step} ${JSON.stringify(op)}`
      if (op.t === 'link' || op.t === 'cut') {
        if (op.i >= n || op.j >= n) continue
        if (op.t === 'link') links.link(op.i, op.j)
        else await links.cut(op.i, op.j)
        continue
      }
      if (op.r >= n) continue
      if (op.t === 'restart') {
        await links.isolate(op.r)
        await ledgers[op.r]!.close()
        ledgers[op.r] = await dirs[op.r]!.open(options(op.r))
        continue
      }
      const ledger = ledgers[op.r]!
      const page = await ledger.page(PAGES[op.page]!)
      switch (op.t) {
        case 'put':
          await page.put(KEYS[op.key]!, `${op.r}:${op.value}`, { priority: op.lazy && lazyOk ? 'lazy' : 'eager' })
          break
        case 'del':
          await page.delete(KEYS[op.key]!)
          break
        case 'clear':
          await page.clear()
          break
        case 'txn':
          await page.startTransaction()
          for (const [k, v] of op.puts) await page.put(KEYS[k]!, `${op.r}:t${v}`)
          for (const k of op.dels) await page.delete(KEYS[k]!)
          await page.commit()
          break
        case 'fork': {
          const other = await ledger.page(PAGES[op.page]!)
          await page.startTransaction()
          await other.startTransaction()
          await page.put(KEYS[op.key]!, `${op.r}:f${op.value}`)
          await other.put(KEYS[(op.key + 1) % KEYS.length]!, `${op.r}:g${op.value}`)
          await page.commit()
          await other.commit()
          await other.close()
          break
        }
        case 'sync': {
          const peers = links.neighbours(op.r)
          const s = await within(page.sync({ mode: op.mode }), 20_000, where)
          checkStats(s, op.mode, peers.length > 0, where)
          break
        }
      }
      await within(page.waitForConflictResolution(), 10_000, `merge after ${where}`)
      await page.close()
    }
    // Final topology: a random spanning tree (tree[i - 1] is i's parent), nothing else.
    await links.closeAll()
    for (let i = 1; i < n; i++) links.link(i, tree[i - 1]! % i)
    await syncUntilQuiet(links)
    const converged = await expectConverged(ledgers)
    // A manual sync of any page now moves nothing on any replica.
    for (let i = 0; i < n; i++) {
      for (const name of PAGES) {
        const s = await (await ledgers[i]!.page(name)).sync()
        expect(s.commitsSent + s.commitsReceived + s.blocksSent + s.blocksReceived, `R${i} ${name} after convergence`).toBe(0)
      }
    }
    // The converged state is what the disk replicas find after a restart.
    for (let i = 0; i < 2; i++) {
      await links.isolate(i)
      await ledgers[i]!.close()
      ledgers[i] = await dirs[i]!.open(options(i))
      expect(await digest(ledgers[i]!), `R${i} after restart`).toEqual(converged)
    }
  } finally {
    await links.closeAll()
    await Promise.allSettled(ledgers.map((l) => l.close()))
  }
}

const scriptArb = fc.record({
  n: fc.integer({ min: 3, max: 4 }),
  ops: fc.array(opArb, { minLength: 4, maxLength: 30 }),
  tree: fc.array(fc.nat(3), { minLength: 3, maxLength: 3 }),
})

describe('convergence property (manual sync, in-memory links, restarts)', () => {
  for (const policy of ['last-one-wins', 'automatic-with-fallback', 'custom'] as MergePolicy[]) {
    it(`${policy}: any script of edits, forks, links, cuts, syncs and restarts ends with identical heads and contents`, async () => {
      await fc.assert(
        fc.asyncProperty(scriptArb, async ({ n, ops, tree }) => runScript(n, policy, ops, tree)),
        { numRuns: numRuns(policy === 'last-one-wins' ? 10 : 6), endOnFailure: true },
      )
    }, 240_000)
  }

  it('a chain R0–R1–R2–R3 where only the ends write, the middle never opened the pages: everything reaches everyone', async () => {
    const dirs = [reopenable(), reopenable()]
    const ledgers = [await dirs[0]!.open({ replicaId: 'R0', clock: () => 1000 }), await dirs[1]!.open({ replicaId: 'R1' }),
      await Ledger.open({ autoSync: false, replicaId: 'R2' }), await Ledger.open({ autoSync: false, replicaId: 'R3', clock: () => 9e12 })]
    const links = new Links(ledgers)
    try {
      for (let i = 0; i < 3; i++) links.link(i, i + 1)
      for (const name of PAGES) {
        await (await ledgers[0]!.page(name)).put('from', 'R0')
        await (await ledgers[3]!.page(name)).put('from', 'R3')
        await (await ledgers[3]!.page(name)).put(`only-${name}`, 'R3')
      }
      const rounds = await syncUntilQuiet(links)
      expect(rounds).toBeGreaterThan(1)
      const d = await expectConverged(ledgers)
      expect(Object.keys(d)).toHaveLength(PAGES.length)
      for (const page of Object.values(d)) expect(page.contents['from']).toBe('R3') // the later write
      const middle = await ledgers[1]!.page('p1')
      expect(await collect((await middle.snapshot()).keys())).toHaveLength(2)
    } finally {
      await links.closeAll()
      await Promise.allSettled(ledgers.map((l) => l.close()))
    }
  })
})

describe('unmerged heads across replicas and restarts', () => {
  it('custom without resolver on two disk replicas: heads stay apart through sync and restart; the same resolver set on both then makes the same merge', async () => {
    const dirs = [reopenable({ mergePolicy: 'custom' }), reopenable({ mergePolicy: 'custom' })]
    let ledgers = [await dirs[0]!.open({ replicaId: 'A', clock: () => 5000 }), await dirs[1]!.open({ replicaId: 'B', clock: () => 7000 })]
    await (await ledgers[0]!.page('u')).put('shared', 'base')
    let links = new Links(ledgers)
    links.link(0, 1)
    await syncUntilQuiet(links)
    await (await ledgers[0]!.page('u')).put('shared', 'from A')
    await (await ledgers[0]!.page('u')).put('a', '1')
    await (await ledgers[1]!.page('u')).put('shared', 'from B')
    await (await ledgers[1]!.page('u')).put('b', '1')
    const a1 = await ledgers[0]!.page('u')
    expect((await within(a1.sync(), 10_000)).commitsReceived).toBe(2)
    const b1 = await ledgers[1]!.page('u')
    await within(b1.sync(), 10_000)
    await links.closeAll()
    for (let i = 0; i < 2; i++) await ledgers[i]!.close()
    ledgers = [await dirs[0]!.open({ replicaId: 'A' }), await dirs[1]!.open({ replicaId: 'B' })]
    const seen: string[][] = []
    const resolver: ConflictResolver = async (m) => {
      seen.push([m.left.commitId, m.right.commitId])
      await m.mergeNonConflictingEntries()
      await m.merge([{ key: 'shared', source: 'new', value: `${str(await m.left.get('shared'))} + ${str(await m.right.get('shared'))}` }])
    }
    const merged: string[] = []
    for (const l of ledgers) {
      await l.setMergePolicy('u', 'custom', resolver)
      const p = await l.page('u')
      expect(await within(p.waitForConflictResolution(), 10_000)).toBe('conflicts-resolved')
      merged.push((await p.snapshot()).commitId)
      expect(await digest(l)).toMatchObject({ [Buffer.from('u').toString('hex')]: { contents: { a: '1', b: '1', shared: 'from B + from A' } } })
    }
    expect(seen).toHaveLength(2)
    expect(seen[0]).toEqual(seen[1]) // the same two heads came back on both replicas
    expect(merged[0]).toBe(merged[1])
    links = new Links(ledgers)
    links.link(0, 1)
    const s = await within((await ledgers[0]!.page('u')).sync(), 10_000)
    expect(s.commitsSent + s.commitsReceived).toBe(0) // the merge is the same commit: nothing to exchange
    await expectConverged(ledgers)
  })
})
