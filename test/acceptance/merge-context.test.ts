/** Black-box acceptance tests (package root only). Merging: MergeContext left/right/base ordering, fullDiff and conflictingDiff. */
import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import { connectInMemory, type ConflictResolver } from 'dagkv'
import { collect, str } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { sleep, within, fork, contents, hex, plain, stepClock, link, view, EMPTY } from './merge-api-helpers.js'


describe('MergeContext: left, right and base', () => {
  it('left is the newer head (the later commit on one replica), right the older; base is the fork point', async () => {
    const views: Awaited<ReturnType<typeof view>>[] = []
    const ledger = await memoryLedger({ mergePolicy: 'custom' }) // no resolver yet: the heads stay
    const { a, b, forkPoint } = await fork(ledger, 'p', { k: 'base', u: 'u' }, { k: 'older' }, { k: 'newer' })
    // The heads before the merge: a's (older) and b's (newer) snapshots.
    const olderHead = (await a.snapshot()).commitId
    const newerHead = (await b.snapshot()).commitId
    await ledger.setMergePolicy('p', 'custom', async (m) => void views.push(await view(m)))
    expect(await within(a.waitForConflictResolution())).toBe('conflicts-resolved')
    expect(views).toHaveLength(1)
    expect(views[0]!.left).toBe(newerHead)
    expect(views[0]!.right).toBe(olderHead)
    expect(views[0]!.base).toBe(forkPoint)
  })

  it('a clock running backwards does not change that: the later commit is still left', async () => {
    let t = 10_000_000
    const clock = (): number => (t -= 1000) // every reading earlier than the last
    const lefts: string[] = []
    const ledger = await memoryLedger({ clock, mergePolicy: 'custom' })
    const { a, b } = await fork(ledger, 'p', { k: 'base' }, { x: '1' }, { y: '2' })
    const newer = (await b.snapshot()).commitId
    await ledger.setMergePolicy('p', 'custom', (m) => {
      lefts.push(m.left.commitId)
      return m.mergeNonConflictingEntries()
    })
    await within(a.waitForConflictResolution())
    expect(lefts).toEqual([newer])
    expect(await contents(a)).toEqual({ k: 'base', x: '1', y: '2' })
  })

  it('the snapshots are full snapshots of the two heads and the base (get, entries, prefix-free)', async () => {
    const seen: Record<string, unknown>[] = []
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: async (m) => {
        seen.push({
          pageId: str(m.pageId),
          left: await contents(m.left),
          right: await contents(m.right),
          base: await contents(m.base),
          leftK: str(await m.left.get('k')),
          baseMissing: await m.base.get('only-left'),
        })
      },
    })
    const { a } = await fork(ledger, 'page-id', { k: 'base', d: 'x' }, { k: 'older', d: null }, { k: 'newer', 'only-left': 'l' })
    await within(a.waitForConflictResolution())
    expect(seen).toEqual([
      {
        pageId: 'page-id',
        left: { d: 'x', k: 'newer', 'only-left': 'l' },
        right: { k: 'older' },
        base: { d: 'x', k: 'base' },
        leftK: 'newer',
        baseMissing: undefined,
      },
    ])
  })

  it('heads that share no edit: base is the empty snapshot (the implicit empty commit of every page)', async () => {
    const bases: Record<string, unknown>[] = []
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: async (m) => {
        bases.push({
          commitId: m.base.commitId,
          contentId: m.base.contentId,
          entries: await collect(m.base.entries()),
          get: await m.base.get('k'),
          full: (await collect(m.fullDiff())).map(plain),
        })
        await m.mergeNonConflictingEntries()
      },
    })
    const empty = await (await ledger.page('never-written')).snapshot()
    const other = await memoryLedger()
    const emptyElsewhere = await (await other.page('zzz')).snapshot()
    expect(emptyElsewhere.commitId).toBe(empty.commitId) // same implicit empty commit everywhere
    const { a } = await fork(ledger, 'p', EMPTY, { k: 'older', x: '1' }, { k: 'newer' })
    await within(a.waitForConflictResolution())
    expect(bases).toEqual([
      {
        commitId: empty.commitId,
        contentId: empty.contentId,
        entries: [],
        get: undefined,
        full: [
          { key: 'k', base: undefined, left: 'newer/eager', right: 'older/eager' },
          { key: 'x', base: undefined, left: undefined, right: '1/eager' },
        ],
      },
    ])
    expect(await contents(a)).toEqual({ k: 'newer', x: '1' })
  })

  it('two replicas whose first commits were made apart merge from the empty base', async () => {
    const bases: string[] = []
    const resolver: ConflictResolver = async (m) => {
      bases.push(m.base.contentId)
      expect(await collect(m.base.keys())).toEqual([])
      await m.mergeNonConflictingEntries()
      for await (const d of m.conflictingDiff()) await m.merge([{ key: d.key, source: 'right' }])
    }
    const a = await memoryLedger({ replicaId: 'A', clock: stepClock(1000), mergePolicy: 'custom', resolver })
    const b = await memoryLedger({ replicaId: 'B', clock: stepClock(2000), mergePolicy: 'custom', resolver })
    const pa = await a.page('p')
    const pb = await b.page('p')
    await pa.put('k', 'A')
    await pa.put('a', '1')
    await pb.put('k', 'B')
    link(a, b)
    await within(pa.sync())
    await within(pb.sync())
    await within(pa.waitForConflictResolution())
    await within(pb.waitForConflictResolution())
    const emptyId = (await (await a.page('other')).snapshot()).contentId
    expect(bases.length).toBeGreaterThanOrEqual(1)
    expect(bases.every((x) => x === emptyId)).toBe(true)
    expect(await contents(pa)).toEqual({ a: '1', k: 'A' }) // B (clock ahead) is left; 'right' keeps A's k
    expect(await contents(pb)).toEqual(await contents(pa))
  })

  it('equal timestamps on two replicas: the tie goes to the larger commit id (the commitId string, as a string), identically on both', async () => {
    // Both clocks stand still: the two concurrent commits get the same (hybrid) timestamp. The
    // values are varied until the two heads' ids order differently as strings and as bytes, so
    // the test pins which order is used.
    const bytes = (id: string): Uint8Array => CID.parse(id).bytes
    for (let attempt = 0; attempt < 40; attempt++) {
      const orders: Array<{ left: string; right: string }> = []
      const resolver: ConflictResolver = (m) => {
        orders.push({ left: m.left.commitId, right: m.right.commitId })
        return m.merge([{ key: 'k', source: 'right' }])
      }
      const opts = { mergePolicy: 'custom' as const, clock: () => 5000 }
      const a = await memoryLedger({ ...opts, replicaId: 'A' })
      const b = await memoryLedger({ ...opts, replicaId: 'B' })
      const pa = await a.page('p')
      const pb = await b.page('p')
      await pa.put('k', 'base')
      const l = connectInMemory(a, b)
      try {
        await within(pb.sync())
        await within(pb.waitForConflictResolution())
        const stamps: number[] = []
        await pa.watch((c) => void stamps.push(c.timestamp))
        await pb.watch((c) => void stamps.push(c.timestamp))
        await pa.put('k', `from A ${attempt}`)
        await pb.put('k', 'from B')
        const headA = (await pa.snapshot()).commitId
        const headB = (await pb.snapshot()).commitId
        const stringOrder = headA > headB ? headA : headB
        const byteOrder = Buffer.compare(bytes(headA), bytes(headB)) > 0 ? headA : headB
        if (stringOrder === byteOrder && attempt < 39) continue
        await within(pa.sync())
        await within(pb.sync())
        await sleep(20)
        expect(stamps.slice(0, 2)).toEqual([5001, 5001])
        await a.setMergePolicy('p', 'custom', resolver)
        await b.setMergePolicy('p', 'custom', resolver)
        await within(pa.waitForConflictResolution())
        await within(pb.waitForConflictResolution())
        expect(orders).toHaveLength(2)
        expect(orders[0]).toEqual(orders[1])
        expect(orders[0]!.left).toBe(stringOrder)
        expect((await pa.snapshot()).commitId).toBe((await pb.snapshot()).commitId)
        return
      } finally {
        await l.close()
        await a.close()
        await b.close()
      }
    }
  })
})

describe('MergeContext: fullDiff and conflictingDiff', () => {
  it('fullDiff lists every key changed on either side in unsigned byte order; conflictingDiff only keys changed on both sides to different results', async () => {
    const views: Awaited<ReturnType<typeof view>>[] = []
    const ledger = await memoryLedger({ mergePolicy: 'custom', resolver: async (m) => void views.push(await view(m)) })
    const { a } = await fork(
      ledger,
      'p',
      { both: 'b0', same: 's0', bothDel: 'x', delMod: 'd0', prio: 'p0', untouched: 'u', onlyR: 'r0', onlyL: 'l0', 'é': 'e0' },
      {
        both: 'b-right',
        same: 's1',
        bothDel: null,
        delMod: 'd-right',
        prio: 'p-right',
        onlyR: 'r1',
        addR: 'new-right',
        '\u0000': 'zero',
        'é': null,
      },
      {
        both: 'b-left',
        same: 's1',
        bothDel: null,
        delMod: null,
        prio: { value: 'p0', priority: 'lazy' },
        onlyL: null,
        addL: 'new-left',
        z: 'zz',
      },
    )
    await within(a.waitForConflictResolution())
    const [v] = views
    // unsigned byte order: \0 < A-Z < a-z < é (0xc3 0xa9)
    expect(v!.full).toEqual([
      { key: '\u0000', base: undefined, left: undefined, right: 'zero/eager' },
      { key: 'addL', base: undefined, left: 'new-left/eager', right: undefined },
      { key: 'addR', base: undefined, left: undefined, right: 'new-right/eager' },
      { key: 'both', base: 'b0/eager', left: 'b-left/eager', right: 'b-right/eager' },
      { key: 'bothDel', base: 'x/eager', left: undefined, right: undefined },
      { key: 'delMod', base: 'd0/eager', left: undefined, right: 'd-right/eager' },
      { key: 'onlyL', base: 'l0/eager', left: undefined, right: 'l0/eager' },
      { key: 'onlyR', base: 'r0/eager', left: 'r0/eager', right: 'r1/eager' },
      { key: 'prio', base: 'p0/eager', left: 'p0/lazy', right: 'p-right/eager' },
      { key: 'same', base: 's0/eager', left: 's1/eager', right: 's1/eager' },
      { key: 'z', base: undefined, left: 'zz/eager', right: undefined },
      { key: 'é', base: 'e0/eager', left: 'e0/eager', right: undefined },
    ])
    expect(v!.conflicting.map((d) => d['key'])).toEqual(['both', 'delMod', 'prio'])
    expect(v!.conflicting).toEqual(v!.full.filter((d) => ['both', 'delMod', 'prio'].includes(d['key'] as string)))
  })

  it('the diffs can be iterated again, and their entries are sorted for binary keys too', async () => {
    const runs: string[][] = []
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: async (m) => {
        for (let i = 0; i < 2; i++) runs.push((await collect(m.fullDiff())).map((d) => hex(d.key)!))
        runs.push((await collect(m.conflictingDiff())).map((d) => hex(d.key)!))
      },
    })
    const a = await ledger.page('p')
    const b = await ledger.page('p')
    await a.startTransaction()
    await b.startTransaction()
    await a.put(Uint8Array.of(0xff), '1')
    await a.put(Uint8Array.of(0x80, 0), '1')
    await a.put(new Uint8Array(0), 'empty')
    await b.put(Uint8Array.of(0x7f), '2')
    await b.put(Uint8Array.of(0x80), '2')
    await b.put(new Uint8Array(0), 'other')
    await a.commit()
    await b.commit()
    await within(a.waitForConflictResolution())
    expect(runs).toEqual([
      ['', '7f', '80', '8000', 'ff'],
      ['', '7f', '80', '8000', 'ff'],
      [''],
    ])
  })
})
