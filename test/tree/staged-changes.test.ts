import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { StagedChangesBuilder, type TreeChange } from '../../src/tree/index.js'
import { build, changeArb, collect, entrySetArb, memoryTree, normalize, numRuns, show, wideKeyArb } from './helpers.js'

/** The same changes as a staged batch: eager inline values as byte ranges of one buffer. */
function stage(changes: TreeChange[]) {
  const b = new StagedChangesBuilder(changes.length, 8, 8)
  changes.forEach((c, i) => {
    const e = c.entry
    if (e === undefined) return b.delete(i, c.key)
    if (e.priority === 'eager' && 'inline' in e.value) {
      const src = new Uint8Array(3 + c.key.length + e.value.inline.length)
      src.set(c.key, 1)
      src.set(e.value.inline, 2 + c.key.length)
      return b.inline(i, src, 1, c.key.length, 2 + c.key.length, e.value.inline.length)
    }
    b.entry(i, e)
  })
  return b.finish()
}

describe('StagedChanges', () => {
  it('applies to the same tree as the change objects, onto an empty or a built tree', async () => {
    await fc.assert(
      fc.asyncProperty(entrySetArb(wideKeyArb, 200), fc.array(changeArb(wideKeyArb), { maxLength: 80 }), async (entries, raw) => {
        const t = await memoryTree()
        const changes = normalize(raw)
        for (const base of [await build(t, []), await build(t, entries)]) {
          const staged = stage(changes)
          expect(staged.changes().map((c) => [c.key.join(), show(c.entry)])).toEqual(changes.map((c) => [c.key.join(), show(c.entry)]))
          const viaObjects = await t.tree.apply(base, changes)
          const viaStaged = await t.tree.apply(base, stage(changes))
          expect(viaStaged.root.toString()).toBe(viaObjects.root.toString())
          const root = await t.commit(viaStaged)
          expect((await collect(t.tree.entries(root))).length).toBe((await collect(t.tree.entries(viaObjects.root))).length)
        }
      }),
      { numRuns: numRuns(40) },
    )
  })
})
