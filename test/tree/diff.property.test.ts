import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareBytes } from '../../src/codec/index.js'
import type { TreeEntry } from '../../src/tree/index.js'
import { build, changeArb, collect, entrySetArb, keyArb, memoryTree, Model, naiveDiff, normalize, numRuns, showDiff, valueArb, wideKeyArb } from './helpers.js'

const inRange = (e: TreeEntry, start: Uint8Array | undefined, end: Uint8Array | undefined): boolean =>
  (start === undefined || compareBytes(e.key, start) >= 0) && (end === undefined || compareBytes(e.key, end) < 0)

describe('diff equals the naive diff of two maps', () => {
  for (const [name, keys, max] of [
    ['small keys', keyArb, 60],
    ['wide keys, multi-level', wideKeyArb, 300],
  ] as const) {
    it(name, async () => {
      await fc.assert(
        fc.asyncProperty(
          entrySetArb(keys, max),
          fc.array(changeArb(keys), { maxLength: 40 }),
          // Re-valued existing entries: priority-only and value-ref changes among them.
          fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 10 }),
          fc.option(keys, { nil: undefined }),
          fc.option(keys, { nil: undefined }),
          async (entries, extra, revalue, start, end) => {
            const t = await memoryTree()
            const a = await build(t, entries)
            const model = new Model()
            model.apply(entries.map((e) => ({ key: e.key, entry: e })))
            const changes = [...extra]
            for (const [i, seed] of revalue) {
              const e = entries[i % Math.max(1, entries.length)]
              if (e === undefined) continue
              const alt = fc.sample(valueArb(e.key), { numRuns: 1, seed })[0]!
              changes.push({ key: e.key, entry: seed % 2 === 0 ? alt : { ...e, priority: e.priority === 'lazy' ? 'eager' : 'lazy' } })
            }
            const batch = normalize(changes)
            const b = await t.commit(await t.tree.apply(a, batch))
            model.apply(batch)
            const after = model.sorted()
            expect((await collect(t.tree.diff(a, b))).map(showDiff)).toEqual(naiveDiff(entries, after))
            expect((await collect(t.tree.diff(b, a))).map(showDiff)).toEqual(naiveDiff(after, entries))
            const ranged = await collect(t.tree.diff(a, b, { start, end }))
            expect(ranged.map(showDiff)).toEqual(
              naiveDiff(
                entries.filter((e) => inRange(e, start, end)),
                after.filter((e) => inRange(e, start, end)),
              ),
            )
          },
        ),
        { numRuns: numRuns(50) },
      )
    })
  }

  it('value-only changes (inner nodes line up key for key), also in batches', async () => {
    await fc.assert(
      fc.asyncProperty(entrySetArb(wideKeyArb, 400), fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 12 }), async (entries, revalue) => {
        const t = await memoryTree()
        const a = await build(t, entries)
        const changes = []
        for (const [i, seed] of revalue) {
          const e = entries[i % Math.max(1, entries.length)]
          if (e !== undefined) changes.push({ key: e.key, entry: fc.sample(valueArb(e.key), { numRuns: 1, seed })[0]! })
        }
        const batch = normalize(changes)
        const b = await t.commit(await t.tree.apply(a, batch))
        const model = new Model()
        model.apply(entries.map((e) => ({ key: e.key, entry: e })))
        model.apply(batch)
        const expected = naiveDiff(entries, model.sorted())
        expect((await collect(t.tree.diff(a, b))).map(showDiff)).toEqual(expected)
        const batches = await collect(t.tree.diffBatches(a, b))
        expect(batches.every((x) => x.length > 0)).toBe(true)
        expect(batches.flat().map(showDiff)).toEqual(expected)
      }),
      { numRuns: numRuns(30) },
    )
  })

  it('between unrelated trees', async () => {
    await fc.assert(
      fc.asyncProperty(entrySetArb(wideKeyArb, 200), entrySetArb(wideKeyArb, 200), async (x, y) => {
        const t = await memoryTree()
        const a = await build(t, x)
        const b = await build(t, y)
        expect((await collect(t.tree.diff(a, b))).map(showDiff)).toEqual(naiveDiff(x, y))
      }),
      { numRuns: numRuns(30) },
    )
  })
})
