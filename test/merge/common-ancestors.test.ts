import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EMPTY_COMMIT, makeCommit, type Commit } from '../../src/commit/index.js'
import { findCommonAncestors, findMergeBase, planMerge, relation } from '../../src/merge/index.js'
import { numRuns } from '../helpers/bytes.js'
import { commit, fixture, type Fixture } from './fixtures.js'

const ids = (cs: readonly Commit[]): string[] => cs.map((c) => c.cid.toString()).sort()

describe('common ancestors', () => {
  it('finds the fork point of two branches', async () => {
    const f = await fixture()
    const o = await commit(f, [], { a: '1' }, 1)
    const a1 = await commit(f, [o], { a: '2' }, 2)
    const a2 = await commit(f, [a1], { b: '2' }, 3)
    const b1 = await commit(f, [o], { c: '3' }, 4)
    const common = await findCommonAncestors(f.env, a2, b1)
    expect(ids(common.ancestors)).toEqual(ids([o]))
    expect(common).toMatchObject({ aHasChanges: true, bHasChanges: true })
    expect((await findMergeBase(f.env, a2, b1)).cid.equals(o.cid)).toBe(true)
    expect(await relation(f.env, a2, b1)).toBe('diverged')
  })

  it('two first commits share only the empty commit', async () => {
    const f = await fixture()
    const a = await commit(f, [], { a: '1' }, 1, 'r1')
    const b = await commit(f, [], { a: '2' }, 1, 'r2')
    expect((await findMergeBase(f.env, a, b)).cid.equals(EMPTY_COMMIT.cid)).toBe(true)
    // a root commit without parents (not even the empty commit) still merges from the empty commit
    const orphan = makeCommit({ parents: [], root: a.root, timestamp: 3, generation: 1, replica: 'r3' })
    await f.store.write({ blocks: [orphan.block] })
    expect((await findMergeBase(f.env, orphan.commit, b)).cid.equals(EMPTY_COMMIT.cid)).toBe(true)
  })

  it('detects fast-forwards and equality', async () => {
    const f = await fixture()
    const o = await commit(f, [], { a: '1' }, 1)
    const a = await commit(f, [o], { a: '2' }, 2)
    const b = await commit(f, [a], { a: '3' }, 3)
    expect(await relation(f.env, a, a)).toBe('equal')
    expect(await relation(f.env, a, b)).toBe('a-ancestor')
    expect(await relation(f.env, b, o)).toBe('b-ancestor')
    expect(await relation(f.env, EMPTY_COMMIT, b)).toBe('a-ancestor')
    expect((await findMergeBase(f.env, a, b)).cid.equals(a.cid)).toBe(true)
    expect(await planMerge(f.env, a, a)).toMatchObject({ kind: 'same', head: a })
    expect(await planMerge(f.env, a, b)).toMatchObject({ kind: 'fast-forward', head: b })
    expect(await planMerge(f.env, b, o)).toMatchObject({ kind: 'fast-forward', head: b })
  })

  it('plans: merge for diverged heads, take when one side only has merges', async () => {
    const f = await fixture()
    const o = await commit(f, [], {}, 1)
    const a = await commit(f, [o], { a: 'A' }, 2)
    const b = await commit(f, [o], { a: 'B' }, 3)
    const plan = await planMerge(f.env, a, b)
    expect(plan.kind).toBe('merge')
    if (plan.kind !== 'merge') return
    expect([plan.left.cid, plan.right.cid, plan.base.cid].map(String)).toEqual([b.cid, a.cid, o.cid].map(String))
    // two different merges of a and b (say, by non-deterministic resolvers): only merges differ
    const m1 = await commit(f, [a, b], { a: 'm1' }, 3)
    const m2 = await commit(f, [a, b], { a: 'm2' }, 3)
    const equivalent = await planMerge(f.env, m1, m2)
    expect(equivalent.kind).toBe('take')
    if (equivalent.kind === 'take') expect(equivalent.content).toBe(equivalent.left)
    // m1 extended by a real change: m2 only adds a merge, so m3's content is taken
    const m3 = await commit(f, [m1], { c: '1' }, 2)
    const subset = await planMerge(f.env, m2, m3)
    expect(subset).toMatchObject({ kind: 'take', content: m3 })
    expect(await findCommonAncestors(f.env, m2, m3)).toMatchObject({ aHasChanges: false, bHasChanges: true })
  })

  it('finds exactly the lowest common ancestors of random DAGs (vs brute force)', async () => {
    // commit i has 1..3 parents among commits < i (none: the empty commit)
    const dagArb = fc.integer({ min: 2, max: 14 }).chain((n) =>
      fc.tuple(
        fc.tuple(...Array.from({ length: n }, (_, i) => fc.uniqueArray(fc.nat(Math.max(0, i - 1)), { maxLength: i === 0 ? 0 : 3 }))),
        fc.nat(n - 1),
        fc.nat(n - 1),
      ),
    )
    await fc.assert(
      fc.asyncProperty(dagArb, async ([parentLists, ai, bi]) => {
        const f = await fixture()
        const commits = await buildDag(f, parentLists)
        const anc = commits.map((_, i) => ancestorsOf(parentLists, i))
        const a = commits[ai]!
        const b = commits[bi]!
        const common = [...anc[ai]!].filter((x) => anc[bi]!.has(x))
        // lowest: not a strict ancestor of another common ancestor
        const lowest = common.filter((x) => !common.some((y) => y !== x && anc[y]!.has(x)))
        const expected = lowest.length === 0 ? [EMPTY_COMMIT] : lowest.map((i) => commits[i]!)
        const found = await findCommonAncestors(f.env, a, b)
        expect(ids(found.ancestors)).toEqual(ids(expected))
        const onlyIn = (x: Set<number>, y: Set<number>): boolean =>
          [...x].some((i) => !y.has(i) && parentLists[i]!.length < 2)
        expect(found.aHasChanges).toBe(onlyIn(anc[ai]!, anc[bi]!))
        expect(found.bHasChanges).toBe(onlyIn(anc[bi]!, anc[ai]!))
        const rel = await relation(f.env, a, b)
        expect(rel).toBe(ai === bi ? 'equal' : anc[bi]!.has(ai) ? 'a-ancestor' : anc[ai]!.has(bi) ? 'b-ancestor' : 'diverged')
      }),
      { numRuns: numRuns(60) },
    )
  })
})

/** Commits with empty content; commit i has the given parents (none: the empty commit). */
async function buildDag(f: Fixture, parentLists: readonly (readonly number[])[]): Promise<Commit[]> {
  const commits: Commit[] = []
  for (const [i, ps] of parentLists.entries()) {
    commits.push(await commit(f, ps.map((p) => commits[p]!), {}, i + 1, `r${i}`))
  }
  return commits
}

/** Indexes of i and its ancestors (the empty commit left out). */
function ancestorsOf(parentLists: readonly (readonly number[])[], i: number): Set<number> {
  const out = new Set<number>([i])
  const stack = [i]
  while (stack.length > 0) {
    for (const p of parentLists[stack.pop()!]!) {
      if (!out.has(p)) {
        out.add(p)
        stack.push(p)
      }
    }
  }
  return out
}
