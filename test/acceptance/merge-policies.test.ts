/** Black-box acceptance tests (package root only). Merging: the three policies, resolvers and the page around them, resolver failures. */
import { describe, expect, it } from 'vitest'
import { Ledger } from 'dagkv'
import { collect, str } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { sleep, within, fork, contents, priorities, view, watchAll, EMPTY } from './merge-api-helpers.js'


describe('merge policies', () => {
  it('last-one-wins never calls a resolver, and takes the newer side whole: value and priority', async () => {
    let calls = 0
    const ledger = await memoryLedger({ resolver: () => void calls++ }) // default policy: last-one-wins
    const { a, b } = await fork(
      ledger,
      'p',
      { vp: 'v0', pv: 'p0', del: 'x' },
      { vp: 'v-older', pv: { value: 'p0', priority: 'lazy' }, del: 'changed' },
      { vp: { value: 'v0', priority: 'lazy' }, pv: 'p-newer', del: null },
    )
    await within(a.waitForConflictResolution())
    await within(b.waitForConflictResolution())
    expect(calls).toBe(0)
    expect(await contents(a)).toEqual({ pv: 'p-newer', vp: 'v0' })
    expect(await priorities(a)).toEqual({ pv: 'eager', vp: 'lazy' })
  })

  it("automatic-with-fallback: a priority-only difference is a conflict; the resolver's left/right are the heads and unmentioned keys keep the pre-merged result", async () => {
    const views: Awaited<ReturnType<typeof view>>[] = []
    const ledger = await memoryLedger({ mergePolicy: 'automatic-with-fallback' }) // no resolver: a conflict waits
    const { a, b } = await fork(
      ledger,
      'p',
      { k: 'same', l: 'l0' },
      { k: { value: 'same', priority: 'lazy' }, r: 'right-only' },
      { k: 'same2', l: 'left-only' },
    )
    await sleep(20)
    const olderHead = (await a.snapshot()).commitId
    const newerHead = (await b.snapshot()).commitId
    expect(olderHead).not.toBe(newerHead) // the priority-only difference stopped the automatic merge
    await ledger.setMergePolicy('p', 'automatic-with-fallback', async (m) => {
      views.push(await view(m))
      expect(await contents(m.left)).not.toHaveProperty('r') // left is the head itself, not pre-merged
      await m.merge([{ key: 'l', source: 'right' }]) // a non-conflicting key: back to right's state
    })
    await within(a.waitForConflictResolution())
    expect(views).toHaveLength(1)
    expect(views[0]!.left).toBe(newerHead)
    expect(views[0]!.right).toBe(olderHead)
    expect(views[0]!.conflicting).toEqual([{ key: 'k', base: 'same/eager', left: 'same2/eager', right: 'same/lazy' }])
    expect(views[0]!.full.map((d) => d['key'])).toEqual(['k', 'l', 'r'])
    expect(await contents(a)).toEqual({ k: 'same2', l: 'l0', r: 'right-only' })
  })

  it('automatic-with-fallback: a deletion against a change is a conflict; the resolver sees the deleted side as absent', async () => {
    const views: Awaited<ReturnType<typeof view>>[] = []
    const ledger = await memoryLedger({
      mergePolicy: 'automatic-with-fallback',
      resolver: async (m) => {
        views.push(await view(m))
        await m.merge([{ key: 'k', source: 'delete' }])
      },
    })
    const { a } = await fork(ledger, 'p', { k: 'k0', o: 'o0' }, { k: 'changed', o: null }, { k: null, n: 'n' })
    await within(a.waitForConflictResolution())
    expect(views.map((v) => v.conflicting)).toEqual([[{ key: 'k', base: 'k0/eager', left: undefined, right: 'changed/eager' }]])
    expect(await contents(a)).toEqual({ n: 'n' })
  })

  it('automatic-with-fallback: deletions on both sides and identical changes are no conflict (no resolver call)', async () => {
    let calls = 0
    const ledger = await memoryLedger({ mergePolicy: 'automatic-with-fallback', resolver: () => void calls++ })
    const { a } = await fork(
      ledger,
      'p',
      { d: 'x', s: 's0', p: 'p0' },
      { d: null, s: 's1', p: { value: 'p0', priority: 'lazy' }, o: '1' },
      { d: null, s: 's1', p: { value: 'p0', priority: 'lazy' }, n: '2' },
    )
    await within(a.waitForConflictResolution())
    expect(calls).toBe(0)
    expect(await contents(a)).toEqual({ n: '2', o: '1', p: 'p0', s: 's1' })
    expect((await priorities(a))['p']).toBe('lazy')
  })

  it('custom calls the resolver even when both heads hold the same contents (empty diffs)', async () => {
    const seen: Array<{ full: number; conflicting: number }> = []
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: async (m) => {
        seen.push({ full: (await collect(m.fullDiff())).length, conflicting: (await collect(m.conflictingDiff())).length })
      },
    })
    const { a, b } = await fork(ledger, 'p', { k: 'base' }, { k: 'same', x: '1' }, { k: 'same', x: '1' })
    await within(a.waitForConflictResolution())
    await within(b.waitForConflictResolution())
    expect(seen.length).toBe(1)
    expect(seen[0]!.conflicting).toBe(0)
    expect(seen[0]!.full).toBe(2)
    expect(await contents(a)).toEqual({ k: 'same', x: '1' })
  })

  it('a page with three heads is merged until one head remains', async () => {
    const calls: number[] = []
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: async (m) => {
        calls.push(1)
        await m.mergeNonConflictingEntries()
      },
    })
    const pages = [await ledger.page('p'), await ledger.page('p'), await ledger.page('p')]
    for (const p of pages) await p.startTransaction()
    for (const [i, p] of pages.entries()) await p.put(`k${i}`, String(i))
    for (const p of pages) await p.commit()
    for (const p of pages) await within(p.waitForConflictResolution())
    expect(calls.length).toBe(2)
    const ids = await Promise.all(pages.map(async (p) => (await p.snapshot()).commitId))
    expect(new Set(ids).size).toBe(1)
    expect(await contents(pages[0]!)).toEqual({ k0: '0', k1: '1', k2: '2' })
  })
})


describe('resolvers and the page around them', () => {
  it('the heads changing while a resolver runs: its result is not committed; it is called again with the new heads', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const rights: Array<Record<string, string | null>> = []
    const ledger = await memoryLedger({ mergePolicy: 'custom' })
    const { a, b } = await fork(ledger, 'p', EMPTY, { k: 'older' }, { k: 'newer' })
    await ledger.setMergePolicy('p', 'custom', async (m) => {
      rights.push(await contents(m.right))
      if (rights.length === 1) await gate
      await m.mergeNonConflictingEntries()
      await m.merge([{ key: 'k', source: 'new', value: `resolution ${rights.length}` }])
    })
    await within((async () => {
      while (rights.length === 0) await sleep(2)
    })())
    await a.put('z', 'written meanwhile') // a's head moves: the running merge is stale
    release()
    expect(await within(b.waitForConflictResolution())).toBe('conflicts-resolved')
    await within(a.waitForConflictResolution())
    // The new commit on a is now the newest head: left; b's head is right.
    expect(rights).toEqual([{ k: 'older' }, { k: 'newer' }])
    expect(await contents(a)).toEqual({ k: 'resolution 2', z: 'written meanwhile' })
    expect((await a.snapshot()).commitId).toBe((await b.snapshot()).commitId)
  })

  it('merge() calls still pending when the resolver returns are part of the merge', async () => {
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: (m) => {
        void m.merge([{ key: 'k', source: 'new', value: 'not awaited' }])
        void m.mergeNonConflictingEntries()
      },
    })
    const { a } = await fork(ledger, 'p', EMPTY, { k: 'older', r: '1' }, { k: 'newer' })
    await within(a.waitForConflictResolution())
    expect(await contents(a)).toEqual({ k: 'not awaited', r: '1' })
  })

  it('the context snapshots can be diffed with each other', async () => {
    const diffs: string[][] = []
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: async (m) => {
        diffs.push((await collect(m.base.diff(m.left))).map((d) => `${str(d.key)}:${str(d.before?.value)}>${str(d.after?.value)}`))
        diffs.push((await collect(m.left.diff(m.right))).map((d) => `${str(d.key)}:${str(d.before?.value)}>${str(d.after?.value)}`))
      },
    })
    const { a } = await fork(ledger, 'p', { k: 'base', d: 'x' }, { k: 'older' }, { k: 'newer', d: null })
    await within(a.waitForConflictResolution())
    expect(diffs).toEqual([
      ['d:x>undefined', 'k:base>newer'],
      ['d:undefined>x', 'k:newer>older'],
    ])
  })

  it('a resolver that changes the policy, or writes to the page it merges, does not hang the page', async () => {
    let ledger!: Ledger
    let wrote = false
    ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: async (m) => {
        await ledger.setMergePolicy('p', 'last-one-wins')
        await m.merge([{ key: 'k', source: 'new', value: 'abandoned' }])
      },
    })
    const p = await fork(ledger, 'p', EMPTY, { k: 'older' }, { k: 'newer' })
    await within(p.a.waitForConflictResolution())
    expect(await contents(p.a)).toEqual({ k: 'newer' })

    const writer = await ledger.page('q')
    await ledger.setMergePolicy('q', 'custom', async (m) => {
      if (!wrote) {
        wrote = true
        await writer.put('w', 'from the resolver')
      }
      await m.mergeNonConflictingEntries()
    })
    const q = await fork(ledger, 'q', EMPTY, { x: '1' }, { y: '2' })
    await within(q.a.waitForConflictResolution())
    await within(writer.waitForConflictResolution())
    expect(await contents(q.a)).toMatchObject({ x: '1', y: '2' })
    expect(await contents(writer)).toEqual(await contents(q.a))
  })

  it('a clear on one side merges as the deletion of every key it dropped', async () => {
    const ledger = await memoryLedger() // last-one-wins
    const a = await ledger.page('p')
    const b = await ledger.page('p')
    await a.put('a', 'a0')
    await a.put('b', 'b0')
    await within(b.waitForConflictResolution())
    await a.startTransaction()
    await b.startTransaction()
    await a.clear()
    await a.put('c', 'c1')
    await b.put('b', 'b2')
    await a.commit()
    await b.commit()
    await within(a.waitForConflictResolution())
    expect(await contents(a)).toEqual({ b: 'b2', c: 'c1' })
  })
})

describe('resolver failures', () => {
  it('a resolver that throws synchronously, throws a non-Error, or rejects: nothing is committed, the merge is retried with a fresh context', async () => {
    const attempts: Array<Record<string, string | null>> = []
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: (m) => {
        const n = attempts.length
        return (async () => {
          attempts.push(await contents(m.left))
        })().then(async () => {
          if (n === 0) {
            await m.merge([{ key: 'leak', source: 'new', value: 'from a failed attempt' }])
            throw 'a string'
          }
          if (n === 1) {
            await m.merge([{ key: 'leak2', source: 'new', value: 'x' }])
            return Promise.reject(new Error('rejected'))
          }
          await m.merge([{ key: 'k', source: 'new', value: 'final' }])
        })
      },
    })
    const { a, b } = await fork(ledger, 'p', EMPTY, { k: 'older' }, { k: 'newer' })
    const seen = await watchAll(a)
    expect(await within(a.waitForConflictResolution())).toBe('conflicts-resolved')
    expect(attempts).toHaveLength(3)
    expect(await contents(a)).toEqual({ k: 'final' })
    expect((await b.snapshot()).commitId).toBe((await a.snapshot()).commitId)
    await sleep(20)
    expect(seen.map((c) => c.changed.map((e) => `${str(e.key)}=${str(e.value)}`))).toEqual([['k=final']])
  })

  it('a non-async resolver that throws is retried too (no crash of the process, no unhandled rejection)', async () => {
    let n = 0
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: (m) => {
        if (++n < 3) throw new TypeError('sync failure')
        return m.merge([{ key: 'k', source: 'right' }])
      },
    })
    const { a } = await fork(ledger, 'p', EMPTY, { k: 'older' }, { k: 'newer' })
    expect(await within(a.waitForConflictResolution())).toBe('conflicts-resolved')
    expect(n).toBe(3)
    expect(await contents(a)).toEqual({ k: 'older' })
  })
})
