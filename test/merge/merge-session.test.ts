import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { rawBlock } from '../../src/codec/index.js'
import { LedgerError } from '../../src/errors/index.js'
import { automatic, type MergedValue } from '../../src/merge/index.js'
import { collect, numRuns, str, utf8 } from '../helpers/bytes.js'
import {
  applied,
  applyModel,
  commit,
  conflictingKeys,
  contents,
  editsArb,
  fixture,
  lastOneWinsModel,
  session,
  type Edits,
  type Fixture,
} from './fixtures.js'

const BASE: Edits = { a: '1', b: '1', c: '1', k: '1' }
const LEFT: Edits = { a: 'L', d: 'L', k: null }
const RIGHT: Edits = { a: 'R', b: 'R', c: null, e: 'R', k: null }

async function heads(f: Fixture, b = BASE, l = LEFT, r = RIGHT) {
  const base = await commit(f, [], b, 1)
  const right = await commit(f, [base], r, 2, 'r2')
  const left = await commit(f, [base], l, 3, 'r1')
  return { base, left, right }
}

async function finishTo(f: Fixture, s: ReturnType<typeof session>, leftRoot: Parameters<typeof contents>[1]) {
  const result = await s.finish()
  await f.store.write({ blocks: result.blocks })
  return { result, contents: await applied(f, leftRoot, result.changes) }
}

async function rejectsWith(p: Promise<unknown>, code: LedgerError['code']): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(LedgerError.is(err, code), `expected ${code}, got ${String(err)}`).toBe(true)
}

describe('merge session', () => {
  it('starts from left: keys the resolver does not mention keep left', async () => {
    const f = await fixture()
    const c = await heads(f)
    const s = session(f, c)
    expect(s.left).toBe('left-snapshot')
    expect(str(s.pageId)).toBe('page')
    const { result, contents: out } = await finishTo(f, s, c.left.root)
    expect(result.changes).toEqual([])
    expect(out).toEqual({ a: 'L', b: '1', c: '1', d: 'L' })
    expect(result.conflicts.map((r) => [str(r.key), r.winner])).toEqual([['a', 'left']])
  })

  it('mergeNonConflictingEntries takes every non-conflicting change', async () => {
    const f = await fixture()
    const c = await heads(f)
    const s = session(f, c)
    await s.mergeNonConflictingEntries()
    const { contents: out } = await finishTo(f, s, c.left.root)
    expect(out).toEqual({ a: 'L', b: 'R', d: 'L', e: 'R' })
  })

  it("'right' takes right's state, absence included; 'delete' deletes; 'new' writes", async () => {
    const f = await fixture()
    const c = await heads(f)
    const s = session(f, c)
    await s.merge([
      { key: 'a', source: 'right' },
      { key: 'c', source: 'right' }, // deleted on right
      { key: utf8('zz'), source: 'right' }, // absent everywhere
      { key: 'd', source: 'delete' },
      { key: 'n', source: 'new', value: 'N' },
      { key: 'big', source: 'new', value: utf8('a value too long to be inline') },
      { key: 'lz', source: 'new', value: 'lazy', priority: 'lazy' },
    ])
    const { result, contents: out } = await finishTo(f, s, c.left.root)
    expect(out).toEqual({ a: 'R', b: '1', big: 'a value too long to be inline', lz: 'lazy~lazy', n: 'N' })
    expect(result.blocks.map((b) => str(b.bytes)).sort()).toEqual(['a value too long to be inline', 'lazy'])
    expect(result.changes.map((ch) => str(ch.key))).toEqual(['a', 'big', 'c', 'd', 'lz', 'n', 'zz'])
    expect(result.conflicts.map((r) => [str(r.key), r.winner])).toEqual([['a', 'right']])
  })

  it('the last value for a key wins, across calls, in call order even when not awaited', async () => {
    const f = await fixture()
    const c = await heads(f)
    const s = session(f, c)
    const calls = [
      s.merge([
        { key: 'a', source: 'new', value: 'v1' },
        { key: 'a', source: 'new', value: 'v2' },
        { key: 'b', source: 'new', value: 'mine' },
      ]),
      s.mergeNonConflictingEntries(), // b: right's change overrides 'mine'; a is conflicting, untouched
      s.merge([{ key: 'e', source: 'delete' }]), // overrides right's e
      s.merge([{ key: 'a', source: 'new', value: 'v3', priority: 'lazy' }]),
    ]
    await Promise.all(calls)
    const { result, contents: out } = await finishTo(f, s, c.left.root)
    expect(out).toEqual({ a: 'v3~lazy', b: 'R', d: 'L' })
    expect(result.blocks.map((b) => str(b.bytes))).toEqual(['v3']) // overwritten values' blocks are dropped
    expect(result.conflicts.map((r) => [str(r.key), r.winner])).toEqual([['a', 'merged']])
  })

  it('a later mergeNonConflictingEntries restores left on one-sided keys', async () => {
    const f = await fixture()
    const c = await heads(f)
    const s = session(f, c)
    await s.merge([
      { key: 'd', source: 'delete' },
      { key: 'a', source: 'delete' },
    ])
    await s.mergeNonConflictingEntries()
    const { result, contents: out } = await finishTo(f, s, c.left.root)
    expect(out).toEqual({ b: 'R', d: 'L', e: 'R' })
    expect(result.conflicts.map((r) => [str(r.key), r.winner])).toEqual([['a', 'deleted']])
  })

  it('accepts references, and rejects unknown ones without applying the batch', async () => {
    const f = await fixture()
    const c = await heads(f)
    const bytes = utf8('referenced value bytes')
    const id = rawBlock(bytes).cid.toString()
    const s = session(f, c, { references: new Map([[id, bytes]]) })
    await s.merge([{ key: 'r', source: 'new', value: { id, size: bytes.length } }])
    await rejectsWith(
      s.merge([
        { key: 'b', source: 'delete' },
        { key: 'x', source: 'new', value: { id: 'bafy-unknown', size: 3 } },
      ]),
      'REFERENCE_NOT_FOUND',
    )
    const { contents: out } = await finishTo(f, s, c.left.root)
    expect(out).toEqual({ a: 'L', b: '1', c: '1', d: 'L', r: 'referenced value bytes' })
  })

  it('fullDiff and conflictingDiff give sorted entries with values; absent sides are missing', async () => {
    const f = await fixture()
    const c = await heads(f)
    const s = session(f, c)
    const full = await collect(s.fullDiff())
    const view = (e: (typeof full)[number]) => ({
      key: str(e.key),
      base: str(e.base?.value),
      left: str(e.left?.value),
      right: str(e.right?.value),
    })
    expect(full.map(view)).toEqual([
      { key: 'a', base: '1', left: 'L', right: 'R' },
      { key: 'b', base: '1', left: '1', right: 'R' },
      { key: 'c', base: '1', left: '1', right: undefined },
      { key: 'd', base: undefined, left: 'L', right: undefined },
      { key: 'e', base: undefined, left: undefined, right: 'R' },
      { key: 'k', base: '1', left: undefined, right: undefined },
    ])
    expect('base' in full[3]!).toBe(false)
    expect(full[0]!.left).toEqual({ value: utf8('L'), priority: 'eager' })
    expect((await collect(s.conflictingDiff())).map(view)).toEqual([{ key: 'a', base: '1', left: 'L', right: 'R' }])
  })

  it('rejects bad merged values with INVALID_ARGUMENT or KEY_TOO_LARGE, applying nothing of the batch', async () => {
    const f = await fixture()
    const c = await heads(f)
    const s = session(f, c)
    const bad = (v: unknown): Promise<void> => s.merge([{ key: 'b', source: 'delete' }, v] as MergedValue[])
    await rejectsWith(bad({ key: 'x'.repeat(1025), source: 'delete' }), 'KEY_TOO_LARGE')
    await rejectsWith(bad({ key: 42, source: 'delete' }), 'INVALID_ARGUMENT')
    await rejectsWith(bad({ key: 'x', source: 'left' }), 'INVALID_ARGUMENT')
    await rejectsWith(bad({ key: 'x' }), 'INVALID_ARGUMENT')
    await rejectsWith(bad({ key: 'x', source: 'new' }), 'INVALID_ARGUMENT')
    await rejectsWith(bad({ key: 'x', source: 'new', value: 7 }), 'INVALID_ARGUMENT')
    await rejectsWith(bad({ key: 'x', source: 'new', value: { id: 'q' } }), 'INVALID_ARGUMENT')
    await rejectsWith(bad({ key: 'x', source: 'new', value: 'v', priority: 'high' }), 'INVALID_ARGUMENT')
    await rejectsWith(bad(null), 'INVALID_ARGUMENT')
    await rejectsWith(s.merge('nope' as unknown as MergedValue[]), 'INVALID_ARGUMENT')
    await s.merge([{ key: 'x'.repeat(1024), source: 'new', value: 'max-size key' }])
    const { contents: out } = await finishTo(f, s, c.left.root)
    expect(out).toEqual({ a: 'L', b: '1', c: '1', d: 'L', ['x'.repeat(1024)]: 'max-size key' })
    await rejectsWith(s.merge([]), 'CLOSED')
    await rejectsWith(s.mergeNonConflictingEntries(), 'CLOSED')
    await rejectsWith(s.finish(), 'CLOSED')
  })

  it("'automatic-with-fallback': the session starts with the non-conflicting changes merged", async () => {
    const f = await fixture()
    const c = await heads(f)
    const auto = await automatic(f.tree, c.base.root, c.left.root, c.right.root)
    expect(auto.conflicting).toBe(true)
    const s = session(f, c, { initial: auto.changes })
    await s.merge([{ key: 'a', source: 'new', value: 'LR' }])
    const { result, contents: out } = await finishTo(f, s, c.left.root)
    expect(out).toEqual({ a: 'LR', b: 'R', d: 'L', e: 'R' })
    expect(result.conflicts.map((r) => [str(r.key), r.winner])).toEqual([['a', 'merged']])
  })

  it('automatic merges without a resolver when no key conflicts', async () => {
    const f = await fixture()
    const c = await heads(f, BASE, { a: 'L', d: 'L', k: null }, { a: 'L', b: 'R', k: null })
    const auto = await automatic(f.tree, c.base.root, c.left.root, c.right.root)
    expect(auto.conflicting).toBe(false)
    expect(auto.conflicts).toEqual([])
    expect(await applied(f, c.left.root, auto.changes)).toEqual({ a: 'L', b: 'R', c: '1', d: 'L' })
  })

  it('a resolver that only calls mergeNonConflictingEntries equals the automatic merge (property)', async () => {
    await fc.assert(
      fc.asyncProperty(editsArb, editsArb, editsArb, async (b, l, r) => {
        const f = await fixture()
        const c = await heads(f, b, l, r)
        const s = session(f, c)
        await s.mergeNonConflictingEntries()
        const { result, contents: viaSession } = await finishTo(f, s, c.left.root)
        const auto = await automatic(f.tree, c.base.root, c.left.root, c.right.root)
        expect(viaSession).toEqual(await applied(f, c.left.root, auto.changes))
        // and both are the model: one-sided changes taken, conflicting keys keep left
        const [bm, lm, rm] = [applyModel({}, b), applyModel(applyModel({}, b), l), applyModel(applyModel({}, b), r)]
        expect(viaSession).toEqual(lastOneWinsModel(bm, lm, rm))
        expect(auto.conflicting).toBe(conflictingKeys(bm, lm, rm).length > 0)
        expect(result.conflicts.map((x) => str(x.key))).toEqual(conflictingKeys(bm, lm, rm))
        // the fallback session with nothing decided gives the same result
        const pre = session(f, c, { initial: auto.changes })
        expect((await finishTo(f, pre, c.left.root)).contents).toEqual(viaSession)
      }),
      { numRuns: numRuns(40) },
    )
  })
})
