import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareCommits, sortCids } from '../../src/commit/index.js'
import {
  automatic,
  buildLastOneWinsMerge,
  buildMergeCommit,
  findMergeBase,
  lastOneWins,
  mergeCommitData,
  orderHeads,
} from '../../src/merge/index.js'
import { numRuns, str } from '../helpers/bytes.js'
import {
  applied,
  applyModel,
  commit,
  conflictingKeys,
  contents,
  editsArb,
  fixture,
  lastOneWinsModel,
  type Edits,
} from './fixtures.js'

/** base → two children with the given edits and timestamps; returns them with their models. */
async function fork(b: Edits, l: Edits, r: Edits, tl: number, tr: number) {
  const f = await fixture()
  const base = await commit(f, [], b, 1)
  const one = await commit(f, [base], l, tl, 'r1')
  const two = await commit(f, [base], r, tr, 'r2')
  const baseModel = applyModel({}, b)
  const models = new Map([
    [one.cid.toString(), applyModel(baseModel, l)],
    [two.cid.toString(), applyModel(baseModel, r)],
  ])
  const [older, newer] = [one, two].sort(compareCommits) as [typeof one, typeof one]
  return {
    f,
    base,
    one,
    two,
    newer,
    older,
    baseModel,
    newerModel: models.get(newer.cid.toString())!,
    olderModel: models.get(older.cid.toString())!,
  }
}

type MergeFn = typeof buildLastOneWinsMerge

/** A last-one-wins merge of two random children of a random base equals the model. */
function lastOneWinsProperty(merge: MergeFn) {
  return fc.asyncProperty(
    editsArb,
    editsArb,
    editsArb,
    fc.integer({ min: 2, max: 4 }),
    fc.integer({ min: 2, max: 4 }),
    async (b, l, r, tl, tr) => {
      const x = await fork(b, l, r, tl, tr)
      const built = await merge(x.f.env, x.older, x.newer)
      await x.f.store.write({ blocks: built.blocks })
      const expected = lastOneWinsModel(x.baseModel, x.newerModel, x.olderModel)
      expect(await contents(x.f, built.commit.root)).toEqual(expected)
      expect(built.base.cid.equals(x.base.cid)).toBe(true)
      expect(built.commit.parents).toEqual(sortCids([x.one.cid, x.two.cid]))
      expect(built.commit.timestamp).toBe(Math.max(tl, tr))
      expect(built.commit.generation).toBe(3)
      expect(built.commit.replica).toBeUndefined()
      expect(built.conflicts.map((c) => str(c.key))).toEqual(conflictingKeys(x.baseModel, x.newerModel, x.olderModel))
      for (const c of built.conflicts) expect(c.winner).toBe(c.left === undefined ? 'deleted' : 'left')
      // automatic's changes are last-one-wins' changes; only the verdict differs
      const auto = await automatic(x.f.tree, x.base.root, x.newer.root, x.older.root)
      expect(auto.conflicting).toBe(built.conflicts.length > 0)
      expect(await applied(x.f, x.newer.root, auto.changes)).toEqual(expected)
    },
  )
}

describe('last-one-wins', () => {
  it('takes one-sided changes and the newer side on both-sided changes, deletions included', async () => {
    const { f, base, newer, older } = await fork(
      { a: '1', b: '1', c: '1', d: '1' },
      { a: 'L', b: null, e: 'L' },
      { a: 'R', b: 'R', c: null, d: 'R', f: 'R' },
      3,
      2,
    )
    expect(newer.replica).toBe('r1')
    const outcome = await lastOneWins(f.tree, base.root, newer.root, older.root)
    expect(await applied(f, newer.root, outcome.changes)).toEqual({ a: 'L', d: 'R', e: 'L', f: 'R' })
    expect(outcome.conflicts.map((c) => [str(c.key), c.winner])).toEqual([
      ['a', 'left'],
      ['b', 'deleted'],
    ])
    const b = outcome.conflicts[1]!
    expect(b.left).toBeUndefined()
    expect(str(b.right && 'inline' in b.right.value ? b.right.value.inline : undefined)).toBe('R')
  })

  it('equals the model over random maps and edits (left = newer, any timestamps)', async () => {
    await fc.assert(lastOneWinsProperty(buildLastOneWinsMerge), { numRuns: numRuns(40) })
  })

  it('planted bug: the property catches a merge where the older side wins', async () => {
    const olderWins: MergeFn = async (env, a, b) => {
      const { left, right } = orderHeads(a, b)
      const { changes } = await lastOneWins(env.tree, (await findMergeBase(env, a, b)).root, right.root, left.root)
      const built = await buildMergeCommit(env.tree, right, left, changes)
      return { ...built, base: await findMergeBase(env, a, b), conflicts: [] }
    }
    const result = await fc.check(lastOneWinsProperty(olderWins), { numRuns: 100 })
    expect(result.failed).toBe(true)
  })

  it('merging the same heads twice, in either order or on another replica, gives the same commit id', async () => {
    const edits: [Edits, Edits, Edits] = [{ a: '1', b: '2' }, { a: 'L', c: 'L' }, { a: 'R', b: null }]
    const x = await fork(...edits, 5, 7)
    const y = await fork(...edits, 5, 7)
    const m1 = await buildLastOneWinsMerge(x.f.env, x.one, x.two)
    const m2 = await buildLastOneWinsMerge(x.f.env, x.two, x.one)
    const m3 = await buildLastOneWinsMerge(y.f.env, y.one, y.two)
    expect(m1.commit.cid.toString()).toBe(m2.commit.cid.toString())
    expect(m1.commit.cid.toString()).toBe(m3.commit.cid.toString())
  })

  it('a tie in timestamps is broken by commit id', async () => {
    const x = await fork({ a: '1' }, { a: 'L' }, { a: 'R' }, 5, 5)
    const built = await buildLastOneWinsMerge(x.f.env, x.one, x.two)
    await x.f.store.write({ blocks: built.blocks })
    expect(await contents(x.f, built.commit.root)).toEqual(x.newerModel)
  })

  it('mergeCommitData: sorted parents, max timestamp, 1 + max generation, no replica', async () => {
    const x = await fork({}, { a: '1' }, { b: '1' }, 9, 4)
    const deeper = await commit(x.f, [x.two], { c: '1' }, 10)
    const data = mergeCommitData(x.one, deeper, x.one.root)
    expect(data).toEqual({
      parents: sortCids([x.one.cid, deeper.cid]),
      root: x.one.root,
      timestamp: 10,
      generation: 4,
    })
    expect('replica' in data).toBe(false)
  })
})
