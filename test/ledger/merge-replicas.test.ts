import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { connectInMemory, type MergeContext, type MergePolicy, type Page } from 'dagkv'
import { collect, numRuns, until } from '../helpers/bytes.js'
import { contents, converge, exchange, fork, headsOf, push, replica, type Edits } from './merge-helpers.js'

const KEYS = ['a', 'b', 'c', 'd', 'e']
const arbEdits: fc.Arbitrary<Edits> = fc.dictionary(
  fc.constantFrom(...KEYS),
  fc.option(fc.constantFrom('1', '2', '3', 'a longer value that is stored in its own block'.repeat(2)), { nil: null }),
  { maxKeys: KEYS.length },
)

async function applyEdits(page: Page, edits: Edits): Promise<void> {
  for (const [k, v] of Object.entries(edits)) {
    if (v === null) await page.delete(k)
    else await page.put(k, v)
  }
}

/** The last-one-wins model: a key changed on one side takes that change; on both, the newer side's. */
function lastOneWinsModel(base: Edits, older: Edits, newer: Edits): Record<string, string> {
  const baseMap = new Map(Object.entries(base).filter((e): e is [string, string] => e[1] !== null))
  const side = (edits: Edits): Map<string, string> => {
    const m = new Map(baseMap)
    for (const [k, v] of Object.entries(edits)) {
      if (v === null) m.delete(k)
      else m.set(k, v)
    }
    return m
  }
  const o = side(older)
  const n = side(newer)
  const out: Record<string, string> = {}
  for (const k of KEYS) {
    const changedNewer = n.get(k) !== baseMap.get(k)
    const changedOlder = o.get(k) !== baseMap.get(k)
    const v = changedNewer ? n.get(k) : changedOlder ? o.get(k) : baseMap.get(k)
    if (v !== undefined) out[k] = v
  }
  return out
}

const pickRight = async (m: MergeContext): Promise<void> => {
  await m.mergeNonConflictingEntries()
  for await (const d of m.conflictingDiff()) await m.merge([{ key: d.key, source: 'right' }])
}

describe('merging across replicas', () => {
  for (const [policy, resolver] of [
    ['last-one-wins', undefined],
    ['automatic-with-fallback', pickRight],
    ['custom', pickRight],
  ] as const) {
    it(`two ledgers merging the same heads make the same merge commit (${policy})`, async () => {
      const options = { mergePolicy: policy as MergePolicy, ...(resolver ? { resolver } : {}) }
      const a = await replica('A', options)
      const b = await replica('B', { ...options, clock: () => 5000 })
      const pa = await a.page('p')
      const pb = await b.page('p')
      await pa.put('k', 'base')
      await converge([a, b], 'p', [pa, pb])
      await pa.put('k', 'from A')
      await pa.put('x', '1')
      await pb.put('k', 'from B')
      await pb.put('y', '2')
      await exchange([a, b], 'p')
      await Promise.all([pa.waitForConflictResolution(), pb.waitForConflictResolution()])
      const [ha, hb] = [await headsOf(a, 'p'), await headsOf(b, 'p')]
      expect(ha).toHaveLength(1)
      expect(ha[0]!.cid.toString()).toBe(hb[0]!.cid.toString())
      expect(ha[0]!.parents).toHaveLength(2)
      // B's clock is ahead: its side is newer (left); pickRight keeps A's value.
      expect((await contents(pa)).k).toBe(policy === 'last-one-wins' ? 'from B' : 'from A')
      expect(await contents(pa)).toEqual(await contents(pb))
    })
  }

  it('random histories with random fork points converge to the same commit and contents', async () => {
    type Op = { kind: 'write'; r: 0 | 1; edits: Edits } | { kind: 'push'; from: 0 | 1 } | { kind: 'sync' }
    const arbOp: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('write' as const), r: fc.constantFrom(0 as const, 1 as const), edits: arbEdits }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('push' as const), from: fc.constantFrom(0 as const, 1 as const) }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'sync' as const }) },
    )
    await fc.assert(
      fc.asyncProperty(fc.array(arbOp, { maxLength: 12 }), fc.integer({ min: 0, max: 3 }), async (ops, skew) => {
        const ledgers = [await replica('A'), await replica('B', { clock: () => 1000 + skew })]
        const pages = await Promise.all(ledgers.map((l) => l.page('p')))
        for (const op of ops) {
          if (op.kind === 'write') await applyEdits(pages[op.r]!, op.edits)
          else if (op.kind === 'push') await push(ledgers[op.from]!, ledgers[1 - op.from]!, 'p', pages[1 - op.from]!)
          else await converge(ledgers, 'p', pages)
        }
        await converge(ledgers, 'p', pages)
        expect(await contents(pages[0]!)).toEqual(await contents(pages[1]!))
        expect((await pages[0]!.snapshot()).commitId).toBe((await pages[1]!.snapshot()).commitId)
        await Promise.all(ledgers.map((l) => l.close()))
      }),
      { numRuns: numRuns(25) },
    )
  })

  it('last-one-wins equals the model (one fork, two connections)', async () => {
    await fc.assert(
      fc.asyncProperty(arbEdits, arbEdits, arbEdits, async (base, older, newer) => {
        const ledger = await replica('A')
        const { a, b } = await fork(ledger, 'p', base, older, newer)
        await a.waitForConflictResolution()
        await b.waitForConflictResolution()
        const expected = lastOneWinsModel(base, older, newer)
        expect(await contents(a)).toEqual(expected)
        expect(await contents(b)).toEqual(expected)
        await ledger.close()
      }),
      { numRuns: numRuns(30) },
    )
  })

  it('planted bug: the model property catches a merge where the older side wins', async () => {
    const olderWins = fc.asyncProperty(arbEdits, arbEdits, arbEdits, async (base, older, newer) => {
      const ledger = await replica('A')
      const { a } = await fork(ledger, 'p', base, older, newer)
      await a.waitForConflictResolution()
      const got = await contents(a)
      await ledger.close()
      return JSON.stringify(got) === JSON.stringify(lastOneWinsModel(base, newer, older))
    })
    const result = await fc.check(olderWins, { numRuns: 100 })
    expect(result.failed).toBe(true)
  })

  it('a custom resolver that only calls mergeNonConflictingEntries equals the automatic merge', async () => {
    await fc.assert(
      fc.asyncProperty(arbEdits, arbEdits, arbEdits, async (base, older, newer) => {
        const variants: Array<{ mergePolicy: MergePolicy; resolver?: (m: MergeContext) => Promise<void> | void }> = [
          { mergePolicy: 'last-one-wins' },
          { mergePolicy: 'automatic-with-fallback', resolver: () => {} },
          { mergePolicy: 'custom', resolver: (m) => m.mergeNonConflictingEntries() },
        ]
        const ids: string[] = []
        for (const v of variants) {
          const ledger = await replica('R', v)
          const { a } = await fork(ledger, 'p', base, older, newer)
          await a.waitForConflictResolution()
          ids.push((await a.snapshot()).commitId)
          await ledger.close()
        }
        expect(new Set(ids).size).toBe(1)
      }),
      { numRuns: numRuns(20) },
    )
  })

  it('criss-cross histories converge (two replicas resolved the same heads differently)', async () => {
    await fc.assert(
      fc.asyncProperty(arbEdits, arbEdits, arbEdits, arbEdits, arbEdits, async (base, x, y, afterA, afterB) => {
        const a = await replica('A')
        const b = await replica('B', { mergePolicy: 'custom', resolver: pickRight, clock: () => 1000 })
        const [pa, pb] = [await a.page('p'), await b.page('p')]
        await applyEdits(pa, base)
        await converge([a, b], 'p', [pa, pb])
        await applyEdits(pa, { ...x, ca: 'x' })
        await applyEdits(pb, { ...y, ca: 'y' }) // always one conflict: the merges differ
        await exchange([a, b], 'p')
        await Promise.all([pa.waitForConflictResolution(), pb.waitForConflictResolution()])
        expect((await pa.snapshot()).commitId).not.toBe((await pb.snapshot()).commitId)
        await applyEdits(pa, afterA)
        await applyEdits(pb, afterB)
        await b.setMergePolicy('p', 'last-one-wins')
        await converge([a, b], 'p', [pa, pb])
        expect(await contents(pa)).toEqual(await contents(pb))
        await Promise.all([a.close(), b.close()])
      }),
      { numRuns: numRuns(20) },
    )
  })

  it('a criss-cross merge keeps both sides’ later edits (virtual base)', async () => {
    const a = await replica('A')
    const b = await replica('B', { mergePolicy: 'custom', resolver: pickRight, clock: () => 1000 })
    const [pa, pb] = [await a.page('p'), await b.page('p')]
    await pa.put('k', 'base')
    await converge([a, b], 'p', [pa, pb])
    await pa.put('k', 'A')
    await pb.put('k', 'B')
    await exchange([a, b], 'p')
    await Promise.all([pa.waitForConflictResolution(), pb.waitForConflictResolution()])
    expect((await contents(pa)).k).not.toBe((await contents(pb)).k) // two different merges
    await pa.put('onlyA', '1')
    await pb.put('onlyB', '2')
    await b.setMergePolicy('p', 'last-one-wins')
    await converge([a, b], 'p', [pa, pb])
    const merged = await contents(pa)
    expect(merged).toEqual(await contents(pb))
    expect(merged).toMatchObject({ onlyA: '1', onlyB: '2' })
    // The two competing resolutions of k are both recorded on both replicas.
    const records = await pa.conflicts({ key: 'k' })
    expect(records.length).toBeGreaterThanOrEqual(2)
    expect(await pb.conflicts({ key: 'k' })).toEqual(records)
    expect((await collect((await pa.snapshot()).keys())).length).toBe(3)
  })

  it('two ledgers linked by sync merge concurrent edits into the same commit', async () => {
    const options = { mergePolicy: 'automatic-with-fallback' as const, resolver: pickRight }
    const a = await replica('A', { ...options, autoSync: true })
    const b = await replica('B', { ...options, autoSync: true, clock: () => 3000 })
    const link = connectInMemory(a, b)
    try {
      const [pa, pb] = [await a.page('p'), await b.page('p')]
      await pa.put('k', 'base')
      await until(async () => (await contents(pb)).k === 'base')
      await link.close()
      await pa.put('k', 'from A')
      await pa.put('x', '1')
      await pb.put('k', 'from B')
      await pb.put('y', '2')
      const relink = connectInMemory(a, b)
      try {
        await until(async () => {
          await Promise.all([pa.sync(), pb.sync()])
          const [ha, hb] = [await headsOf(a, 'p'), await headsOf(b, 'p')]
          return ha.length === 1 && hb.length === 1 && ha[0]!.cid.equals(hb[0]!.cid)
        })
        await Promise.all([pa.waitForConflictResolution(), pb.waitForConflictResolution()])
        expect(await contents(pa)).toEqual({ k: 'from A', x: '1', y: '2' }) // B is newer: right is A
        expect(await contents(pb)).toEqual(await contents(pa))
        expect((await pa.conflicts()).map((c) => c.winner)).toEqual(['right'])
        expect(await pb.conflicts()).toEqual(await pa.conflicts())
      } finally {
        await relink.close()
      }
    } finally {
      await link.close()
    }
  })
})
