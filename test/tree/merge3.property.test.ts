import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Tree, type TreeChange, type TreeEntry } from '../../src/tree/index.js'
import { changeArb, collect, entrySetArb, keyArb, memoryTree, Model, normalize, numRuns, show, wideKeyArb } from './helpers.js'

const same = (a: TreeEntry | undefined, b: TreeEntry | undefined): boolean => show(a) === show(b)

/** The model of a three-way merge, key by key; keys changed on both sides go to `both`. */
function modelMerge(
  base: Model,
  left: Model,
  right: Model,
  both: (b: TreeEntry | undefined, l: TreeEntry | undefined, r: TreeEntry | undefined) => TreeEntry | undefined,
): TreeEntry[] {
  const out = new Model()
  const keys = new Set([...base.map.keys(), ...left.map.keys(), ...right.map.keys()])
  for (const k of keys) {
    const key = Buffer.from(k, 'hex')
    const [b, l, r] = [base.get(key), left.get(key), right.get(key)]
    const e = same(l, b) ? r : same(r, b) ? l : both(b, l, r)
    if (e !== undefined) out.apply([{ key, entry: e }])
  }
  return out.sorted()
}

const policies = {
  // last-one-wins: the left (newer) side, deletions included
  left: (_b: TreeEntry | undefined, l: TreeEntry | undefined) => l,
  // keep the right side's change; a deletion on either side wins
  rightOrDelete: (_b: TreeEntry | undefined, l: TreeEntry | undefined, r: TreeEntry | undefined) => (l === undefined ? undefined : r),
}

describe('three-way tree merge equals the key-by-key model, and its tree is canonical', () => {
  for (const [name, keys, max, edits] of [
    ['small keys', keyArb, 60, 30],
    ['wide keys, multi-level', wideKeyArb, 400, 60],
  ] as const) {
    for (const [policyName, both] of Object.entries(policies)) {
      it(`${name}, ${policyName}`, async () => {
        await fc.assert(
          fc.asyncProperty(
            entrySetArb(keys, max),
            fc.array(changeArb(keys), { maxLength: edits }),
            fc.array(changeArb(keys), { maxLength: edits }),
            fc.array(fc.nat(), { maxLength: 10 }),
            async (entries, leftEdits, rightEdits, shared) => {
              const t = await memoryTree()
              const base = new Model()
              base.apply(entries.map((e) => ({ key: e.key, entry: e })))
              const baseRoot = await t.commit(await t.tree.apply(Tree.emptyRoot, entries.map((e) => ({ key: e.key, entry: e }))))
              // Some keys edited on both sides (same or different results).
              const extra: TreeChange[] = shared.map((i) => leftEdits[i % Math.max(1, leftEdits.length)]).filter((c): c is TreeChange => c !== undefined)
              const sides: Model[] = []
              const roots = []
              for (const edits of [leftEdits, [...rightEdits, ...extra]]) {
                const batch = normalize(edits)
                const m = new Model()
                m.apply(base.sorted().map((e) => ({ key: e.key, entry: e })))
                m.apply(batch)
                sides.push(m)
                roots.push(await t.commit(await t.tree.apply(baseRoot, batch)))
              }
              const merged = await t.tree.merge(baseRoot, roots[0]!, roots[1]!, both)
              const root = await t.commit(merged)
              const expected = modelMerge(base, sides[0]!, sides[1]!, both)
              expect((await collect(t.tree.entries(root))).map(show)).toEqual(expected.map(show))
              // Canonical: the same entries built in one apply give the same root.
              const fresh = await memoryTree()
              const direct = await fresh.tree.apply(Tree.emptyRoot, expected.map((e) => ({ key: e.key, entry: e })))
              expect(root.toString()).toBe(direct.root.toString())
            },
          ),
          { numRuns: numRuns(40) },
        )
      })
    }
  }
})
