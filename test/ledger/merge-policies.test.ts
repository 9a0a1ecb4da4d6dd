import { describe, expect, it } from 'vitest'
import type { DiffEntry, MergeContext } from 'dagkv'
import { collect, str } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { contents, fork, headsOf } from './merge-helpers.js'

const text = (d: DiffEntry): Record<string, string | undefined> => ({
  key: str(d.key),
  base: str(d.base?.value),
  left: str(d.left?.value),
  right: str(d.right?.value),
})

describe('merging: last-one-wins', () => {
  it('takes one-sided changes and, for keys changed on both sides, the newer side', async () => {
    const ledger = await memoryLedger()
    const { a, b } = await fork(
      ledger,
      'p',
      { name: 'Alice', city: 'Paris', phone: '0', gone: 'x' },
      { name: 'Alicia', city: 'Lyon', email: 'a@x' },
      { name: 'Ally', phone: '1', gone: null },
    )
    expect(await a.waitForConflictResolution()).toBe('conflicts-resolved')
    await b.waitForConflictResolution()
    const expected = { name: 'Ally', city: 'Lyon', phone: '1', email: 'a@x' }
    expect(await contents(a)).toEqual(expected)
    expect(await contents(b)).toEqual(expected)
    expect((await a.snapshot()).commitId).toBe((await b.snapshot()).commitId)
    expect(await headsOf(ledger, 'p')).toHaveLength(1)
  })

  it('includes deletions: the newer side deleting a key both changed wins', async () => {
    const ledger = await memoryLedger()
    const { a } = await fork(ledger, 'p', { k: 'base', j: 'base' }, { k: 'older', j: null }, { k: null, j: 'newer' })
    await a.waitForConflictResolution()
    expect(await contents(a)).toEqual({ j: 'newer' })
  })

  it('a key changed identically on both sides is not a conflict', async () => {
    const ledger = await memoryLedger()
    const { a } = await fork(ledger, 'p', { k: 'base' }, { k: 'same', x: '1' }, { k: 'same', y: '2' })
    await a.waitForConflictResolution()
    expect(await contents(a)).toEqual({ k: 'same', x: '1', y: '2' })
    expect(await a.conflicts()).toEqual([])
  })

  it('merges two first commits (no shared edit: the base is the empty page)', async () => {
    const ledger = await memoryLedger()
    const { a } = await fork(ledger, 'p', {}, { k: 'older', x: '1' }, { k: 'newer' })
    await a.waitForConflictResolution()
    expect(await contents(a)).toEqual({ k: 'newer', x: '1' })
  })
})

describe('merging: automatic-with-fallback', () => {
  it('merges without calling the resolver when no key conflicts', async () => {
    let calls = 0
    const ledger = await memoryLedger({ mergePolicy: 'automatic-with-fallback', resolver: () => void calls++ })
    const { a, b } = await fork(ledger, 'p', { k: 'base' }, { x: '1', k: 'same' }, { y: '2', k: 'same' })
    await a.waitForConflictResolution()
    await b.waitForConflictResolution()
    expect(await contents(a)).toEqual({ k: 'same', x: '1', y: '2' })
    expect(calls).toBe(0)
  })

  it('calls the resolver on a conflict, with every non-conflicting change already merged', async () => {
    const seen: Array<Record<string, unknown>> = []
    const resolver = async (m: MergeContext): Promise<void> => {
      seen.push({
        conflicting: (await collect(m.conflictingDiff())).map(text),
        full: (await collect(m.fullDiff())).map((d) => str(d.key)),
        leftX: str(await m.left.get('x')),
        rightY: str(await m.right.get('y')),
        base: str(await m.base.get('k')),
        pageId: str(m.pageId),
      })
      await m.merge([{ key: 'k', source: 'new', value: 'resolved' }])
    }
    const ledger = await memoryLedger({ mergePolicy: 'automatic-with-fallback', resolver })
    const { a } = await fork(ledger, 'p', { k: 'base' }, { k: 'older', y: '2' }, { k: 'newer', x: '1' })
    await a.waitForConflictResolution()
    // Unmentioned keys keep the pre-merged state: both x (left) and y (right only) are in.
    expect(await contents(a)).toEqual({ k: 'resolved', x: '1', y: '2' })
    expect(seen).toEqual([
      {
        conflicting: [{ key: 'k', base: 'base', left: 'newer', right: 'older' }],
        full: ['k', 'x', 'y'],
        leftX: '1',
        rightY: '2',
        base: 'base',
        pageId: 'p',
      },
    ])
  })

  it('keeps the heads (and does not spin) when a conflict arises and no resolver is set', async () => {
    const ledger = await memoryLedger({ mergePolicy: 'automatic-with-fallback' })
    const { a, b } = await fork(ledger, 'p', { k: 'base' }, { k: 'older' }, { k: 'newer' })
    await new Promise((r) => setTimeout(r, 50))
    expect(await headsOf(ledger, 'p')).toHaveLength(2)
    expect(await contents(a)).toEqual({ k: 'older' })
    expect(await contents(b)).toEqual({ k: 'newer' })
    await a.put('more', '1') // still writable; the heads change, still no resolver
    expect(await headsOf(ledger, 'p')).toHaveLength(2)
  })
})

describe('merging: custom', () => {
  it('always calls the resolver; keys it does not mention keep left', async () => {
    let calls = 0
    const resolver = async (m: MergeContext): Promise<void> => {
      calls++
      await m.merge([
        { key: 'fromRight', source: 'right' },
        { key: 'dropped', source: 'delete' },
        { key: 'lazy', source: 'new', value: 'big', priority: 'lazy' },
      ])
    }
    const ledger = await memoryLedger({ mergePolicy: 'custom', resolver })
    const { a } = await fork(
      ledger,
      'p',
      { fromRight: 'base', dropped: 'base' },
      { fromRight: 'right', onlyRight: 'r', dropped: 'r' },
      { fromRight: 'left', onlyLeft: 'l' },
    )
    await a.waitForConflictResolution()
    expect(calls).toBe(1)
    expect(await contents(a)).toEqual({ fromRight: 'right', onlyLeft: 'l', lazy: 'big' })
    const lazy = (await collect((await a.snapshot()).entries())).find((e) => str(e.key) === 'lazy')
    expect(lazy?.priority).toBe('lazy')
  })

  it('calls the resolver even without conflicts; mergeNonConflictingEntries takes both sides', async () => {
    let calls = 0
    const resolver = async (m: MergeContext): Promise<void> => {
      calls++
      await m.mergeNonConflictingEntries()
    }
    const ledger = await memoryLedger({ mergePolicy: 'custom', resolver })
    const { a } = await fork(ledger, 'p', { k: 'base', d: 'x' }, { y: '2', d: null }, { x: '1' })
    await a.waitForConflictResolution()
    expect(calls).toBe(1)
    expect(await contents(a)).toEqual({ k: 'base', x: '1', y: '2' })
  })

  it("'right' takes right's state of a key, absence included", async () => {
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: (m) => m.merge([{ key: 'k', source: 'right' }]),
    })
    const { a } = await fork(ledger, 'p', { k: 'base' }, { k: null }, { k: 'newer' })
    await a.waitForConflictResolution()
    expect(await contents(a)).toEqual({})
  })

  it('keeps the heads when no resolver is set, until one is', async () => {
    const ledger = await memoryLedger({ mergePolicy: 'custom' })
    const { a } = await fork(ledger, 'p', {}, { x: '1' }, { y: '2' })
    await new Promise((r) => setTimeout(r, 30))
    expect(await headsOf(ledger, 'p')).toHaveLength(2)
    await ledger.setMergePolicy('p', 'custom', (m) => m.mergeNonConflictingEntries())
    expect(await a.waitForConflictResolution()).toBe('conflicts-resolved')
    expect(await contents(a)).toEqual({ x: '1', y: '2' })
  })

  it('takes a resolver value given as a Reference (small eager values inline, like put)', async () => {
    const ledger = await memoryLedger({ mergePolicy: 'custom' })
    const { a } = await fork(ledger, 'p', {}, { k: 'older' }, { k: 'newer' })
    const ref = await a.createReference(new TextEncoder().encode('by reference'))
    await ledger.setMergePolicy('p', 'custom', (m) => m.merge([{ key: 'k', source: 'new', value: ref }]))
    await a.waitForConflictResolution()
    expect(await contents(a)).toEqual({ k: 'by reference' })
    const other = await ledger.page('q')
    await other.put('k', 'by reference')
    expect((await a.snapshot()).contentId).toBe((await other.snapshot()).contentId)
  })
})
