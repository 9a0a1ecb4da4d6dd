import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { rawBlock } from '../../src/codec/index.js'
import type { TreeEntry } from '../../src/tree/interface.js'
import { conflicting, sameEntry, threeWayDiff, ThreeWayCache } from '../../src/merge/index.js'
import { collect, numRuns, str, utf8 } from '../helpers/bytes.js'
import { applyModel, commit, editsArb, fixture, readValue, type Contents, type Fixture } from './fixtures.js'

async function show(f: Fixture, e: TreeEntry | undefined): Promise<string | undefined> {
  if (e === undefined) return undefined
  const v = str(await readValue(f, e.value))!
  return e.priority === 'lazy' ? `${v}~lazy` : v
}

describe('three-way diff', () => {
  it('equals the naive three-way diff of the maps, sorted (property)', async () => {
    await fc.assert(
      fc.asyncProperty(editsArb, editsArb, editsArb, async (b, l, r) => {
        const f = await fixture()
        const base = await commit(f, [], b, 1)
        const left = await commit(f, [base], l, 2, 'r1')
        const right = await commit(f, [base], r, 3, 'r2')
        const bm: Contents = applyModel({}, b)
        const lm = applyModel(bm, l)
        const rm = applyModel(bm, r)
        const keys = [...new Set([...Object.keys(bm), ...Object.keys(lm), ...Object.keys(rm)])]
          .filter((k) => lm[k] !== bm[k] || rm[k] !== bm[k])
          .sort()
        const expected = keys.map((k) => ({ key: k, base: bm[k], left: lm[k], right: rm[k] }))
        const items = await collect(threeWayDiff(f.tree, base.root, left.root, right.root))
        const seen = []
        for (const it of items) {
          seen.push({ key: str(it.key), base: await show(f, it.base), left: await show(f, it.left), right: await show(f, it.right) })
        }
        expect(seen).toEqual(expected)
        expect(items.filter(conflicting).map((i) => str(i.key))).toEqual(
          keys.filter((k) => lm[k] !== bm[k] && rm[k] !== bm[k] && lm[k] !== rm[k]),
        )
      }),
      { numRuns: numRuns(40) },
    )
  })

  it('entry equality: same value ref (inline bytes or link) and priority', () => {
    const key = utf8('k')
    const link = rawBlock(utf8('long value'))
    const inline = (s: string, priority: 'eager' | 'lazy' = 'eager'): TreeEntry => ({ key, value: { inline: utf8(s) }, priority })
    const linked = (size: number): TreeEntry => ({ key, value: { link: link.cid, size }, priority: 'eager' })
    expect(sameEntry(inline('a'), inline('a'))).toBe(true)
    expect(sameEntry(inline('a'), inline('b'))).toBe(false)
    expect(sameEntry(inline('a'), inline('a', 'lazy'))).toBe(false)
    expect(sameEntry(linked(10), linked(10))).toBe(true)
    expect(sameEntry(linked(10), inline('long value'))).toBe(false)
    expect(sameEntry(undefined, undefined)).toBe(true)
    expect(sameEntry(undefined, inline('a'))).toBe(false)
    expect(conflicting({ key, base: inline('a'), left: inline('b'), right: inline('b') })).toBe(false)
    expect(conflicting({ key, base: inline('a'), left: undefined, right: inline('c') })).toBe(true)
    expect(conflicting({ key, base: inline('a'), left: inline('a'), right: inline('c') })).toBe(false)
  })

  it('ThreeWayCache replays the same diff, within its bound or walking again above it', async () => {
    await fc.assert(
      fc.asyncProperty(editsArb, editsArb, editsArb, fc.integer({ min: 0, max: 6 }), async (b, l, r, max) => {
        const f = await fixture()
        const base = await commit(f, [], b, 1)
        const left = await commit(f, [base], l, 2, 'r1')
        const right = await commit(f, [base], r, 3, 'r2')
        const roots = { base: base.root, left: left.root, right: right.root }
        const keysOf = (xs: { key: Uint8Array }[]): (string | undefined)[] => xs.map((x) => str(x.key))
        const expected = keysOf(await collect(threeWayDiff(f.tree, roots.base, roots.left, roots.right)))
        const cache = new ThreeWayCache(f.tree, roots, max)
        // A consumer that stops early, then full walks: every walk sees the whole diff.
        for await (const _ of cache.entries()) break
        for (let i = 0; i < 3; i++) expect(keysOf(await collect(cache.entries()))).toEqual(expected)
      }),
      { numRuns: numRuns(30) },
    )
  })
})
