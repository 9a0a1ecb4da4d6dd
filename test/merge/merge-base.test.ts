import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { sortCids, type Commit } from '../../src/commit/index.js'
import { buildLastOneWinsMerge, findCommonAncestors, findMergeBase } from '../../src/merge/index.js'
import { numRuns } from '../helpers/bytes.js'
import { commit, contents, editsArb, fixture, type Edits, type Fixture } from './fixtures.js'

const cidsOf = (cs: readonly Commit[]): string[] => cs.map((c) => c.cid.toString())

describe('merge base of a criss-cross', () => {
  /**
   * o ─ a ─┬─ x (merge a,b: custom content) ─ x2
   *   └ b ─┴─ y (merge a,b: other content) ── y2
   */
  async function crissCross(f: Fixture) {
    const o = await commit(f, [], { k: 'o', j: 'o' }, 1)
    const a = await commit(f, [o], { k: 'a', p: 'a' }, 2, 'ra')
    const b = await commit(f, [o], { k: 'b', j: null }, 3, 'rb')
    const x = await commit(f, [a, b], { k: 'x' }, 3)
    const y = await commit(f, [a, b], { k: 'y' }, 3)
    const x2 = await commit(f, [x], { q: 'x2' }, 4, 'rx')
    const y2 = await commit(f, [y], { q: 'y2' }, 5, 'ry')
    return { o, a, b, x, y, x2, y2 }
  }

  it('folds several lowest common ancestors into a stored virtual merge commit', async () => {
    const f = await fixture()
    const h = await crissCross(f)
    const common = await findCommonAncestors(f.env, h.x2, h.y2)
    expect(cidsOf(common.ancestors)).toEqual(cidsOf([h.a, h.b]))
    const base = await findMergeBase(f.env, h.x2, h.y2)
    expect(base.parents).toEqual(sortCids([h.a.cid, h.b.cid]))
    expect(base.replica).toBeUndefined()
    expect(base.timestamp).toBe(3)
    // last-one-wins of a and b from o: b is newer
    expect(await contents(f, base.root)).toEqual({ k: 'b', p: 'a' })
    expect(f.writes.count).toBe(1)
    // stored, but nobody's head: readable by id
    expect(await f.store.getBlock(base.cid)).toBeDefined()
    expect((await buildLastOneWinsMerge(f.env, h.a, h.b)).commit.cid.equals(base.cid)).toBe(true)
  })

  it('reuses an existing intermediate merge (same inputs → same id, not written again)', async () => {
    const f = await fixture()
    const h = await crissCross(f)
    const first = await findMergeBase(f.env, h.x2, h.y2)
    const again = await findMergeBase(f.env, h.y2, h.x2)
    expect(again.cid.equals(first.cid)).toBe(true)
    expect(f.writes.count).toBe(1)
    // another replica with the same history, where the intermediate merge already came in by
    // sync: it finds the same base and writes nothing
    const g = await fixture()
    const k = await crissCross(g)
    const built = await buildLastOneWinsMerge(g.env, k.a, k.b)
    await g.store.write({ blocks: built.blocks })
    const there = await findMergeBase(g.env, k.x2, k.y2)
    expect(there.cid.equals(first.cid)).toBe(true)
    expect(g.writes.count).toBe(0)
  })

  it('folds three ancestors oldest first, and recurses when the ancestors criss-cross too', async () => {
    const f = await fixture()
    const o = await commit(f, [], { k: 'o', a: '0' }, 1)
    const a = await commit(f, [o], { k: 'a', a: '1' }, 2, 'ra')
    const b = await commit(f, [o], { k: 'b', b: '1' }, 3, 'rb')
    const c = await commit(f, [o], { k: 'c', c: '1', a: null }, 4, 'rc')
    const x = await commit(f, [a, b, c], { k: 'x' }, 4)
    const y = await commit(f, [a, b, c], { k: 'y' }, 4)
    const base = await findMergeBase(f.env, x, y)
    expect(await contents(f, base.root)).toEqual({ k: 'c', b: '1', c: '1' })
    const ab = await buildLastOneWinsMerge(f.env, a, b)
    expect(base.parents).toEqual(sortCids([ab.commit.cid, c.cid]))
    expect(f.writes.count).toBe(2)

    // now two criss-crossed heads whose lowest common ancestors (x, y) criss-cross themselves
    const x2 = await commit(f, [x, y], { z: 'x2' }, 5)
    const y2 = await commit(f, [x, y], { z: 'y2' }, 5)
    const deep = await findMergeBase(f.env, x2, y2)
    expect(deep.parents).toEqual(sortCids([x.cid, y.cid]))
    // merge(x, y) from base(a, b, c): k changed on both, the newer (by id at equal time) wins
    const newer = (await buildLastOneWinsMerge(f.env, x, y)).commit
    expect(newer.cid.equals(deep.cid)).toBe(true)
    expect((await contents(f, deep.root)).k).toMatch(/^[xy]$/)
  })

  it('is deterministic on random histories: two replicas find the same base', async () => {
    const historyArb = fc.array(
      fc.record({ parents: fc.uniqueArray(fc.nat(20), { maxLength: 3 }), edits: editsArb }),
      { minLength: 2, maxLength: 9 },
    )
    await fc.assert(
      fc.asyncProperty(historyArb, fc.nat(), fc.nat(), async (history, ai, bi) => {
        const bases: string[] = []
        for (let replica = 0; replica < 2; replica++) {
          const f = await fixture()
          const commits = await build(f, history)
          const a = commits[ai % commits.length]!
          const b = commits[bi % commits.length]!
          const base = await findMergeBase(f.env, a, b)
          const again = await findMergeBase(f.env, b, a)
          expect(again.cid.equals(base.cid)).toBe(true)
          bases.push(base.cid.toString())
        }
        expect(bases[0]).toBe(bases[1])
      }),
      { numRuns: numRuns(30) },
    )
  })
})

async function build(f: Fixture, history: readonly { parents: number[]; edits: Edits }[]): Promise<Commit[]> {
  const commits: Commit[] = []
  for (const [i, step] of history.entries()) {
    const parents = [...new Set(step.parents.filter((p) => p < i))].map((p) => commits[p]!)
    const replica = parents.length > 1 ? undefined : `r${i}`
    commits.push(await commit(f, parents, step.edits, i + 1, replica))
  }
  return commits
}
