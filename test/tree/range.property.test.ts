import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareBytes } from '../../src/codec/index.js'
import type { RangeOptions, TreeEntry } from '../../src/tree/index.js'
import { build, collect, entrySetArb, keyArb, memoryTree, numRuns, show, wideKeyArb } from './helpers.js'

/** The model's answer: filter, order, limit. */
function slice(entries: TreeEntry[], o: RangeOptions): TreeEntry[] {
  let out = entries.filter(
    (e) => (o.start === undefined || compareBytes(e.key, o.start) >= 0) && (o.end === undefined || compareBytes(e.key, o.end) < 0),
  )
  if (o.reverse === true) out = out.reverse()
  return o.limit === undefined ? out : out.slice(0, Math.max(0, o.limit))
}

const optsArb = (keys: fc.Arbitrary<Uint8Array>): fc.Arbitrary<RangeOptions> =>
  fc.record(
    {
      start: keys,
      end: keys,
      reverse: fc.boolean(),
      limit: fc.oneof(fc.nat(5), fc.nat(300)),
    },
    { requiredKeys: [] },
  )

describe('range iteration equals the model slice', () => {
  for (const [name, keys, max] of [
    ['small keys', keyArb, 60],
    ['wide keys, multi-level', wideKeyArb, 400],
  ] as const) {
    it(name, async () => {
      await fc.assert(
        fc.asyncProperty(entrySetArb(keys, max), fc.array(optsArb(keys), { minLength: 1, maxLength: 8 }), async (entries, optss) => {
          const t = await memoryTree()
          const root = await build(t, entries)
          for (const o of optss) {
            expect((await collect(t.tree.entries(root, o))).map(show)).toEqual(slice(entries, o).map(show))
          }
          // And over a cold cache, straight from the store.
          t.tree.clearCache()
          const o = optss[0]!
          expect((await collect(t.tree.entries(root, o))).map(show)).toEqual(slice(entries, o).map(show))
        }),
        { numRuns: numRuns(40) },
      )
    })
  }
})
