/** Black-box acceptance tests (package root only). Values: lazy values across replicas, fetch, fetchPartial, big puts. */
import { describe, expect, it } from 'vitest'
import { Ledger, type Page, type Snapshot } from 'dagkv'
import { collect, str, utf8 } from '../helpers/bytes.js'
import { diskLedger, memoryLedger } from '../helpers/ledgers.js'
import { any, within, codeOf, fork, contents, priorities, same, stepClock, seeded, link, view, EMPTY } from './merge-api-helpers.js'


describe('lazy values across replicas', () => {
  /** A has page 'lz' with lazy values of every origin; B has pulled it (lazy bytes stay on A). */
  async function lazyPair(): Promise<{ a: Ledger; b: Ledger; pa: Page; snapB: Snapshot; linkAB: { close(): Promise<void> }; big: Uint8Array }> {
    const a = await memoryLedger({ replicaId: 'A', mergePolicy: 'custom', resolver: async (m) => {
        await m.mergeNonConflictingEntries()
        await m.merge([{ key: 'fromMerge', source: 'new', value: 'm', priority: 'lazy' }])
      } })
    const b = await memoryLedger({ replicaId: 'B' })
    const big = seeded(300_000, 21)
    const { a: pa } = await fork(a, 'lz', EMPTY, { x: '1' }, { y: '2' })
    await within(pa.waitForConflictResolution())
    await pa.put('one', 'x', { priority: 'lazy' })
    await pa.put('empty', '', { priority: 'lazy' })
    await pa.putReference('ref', await pa.createReference(utf8('by ref')), { priority: 'lazy' })
    await pa.put('big', big, { priority: 'lazy' })
    await pa.put('eager', 'e')
    const linkAB = link(a, b)
    const pb = await b.page('lz')
    await within(pb.sync({ mode: 'pull' }))
    await within(pb.waitForConflictResolution())
    const snapB = await pb.snapshot()
    expect(snapB.commitId).toBe((await pa.snapshot()).commitId)
    return { a, b, pa, snapB, linkAB, big }
  }

  it('a lazy value is never inlined, whatever its size: get → NEEDS_FETCH on the other replica; Entry.value undefined only for those', async () => {
    const { b, snapB } = await lazyPair()
    for (const k of ['one', 'empty', 'ref', 'big', 'fromMerge']) expect(`${k}: ${await codeOf(() => snapB.get(k))}`).toBe(`${k}: NEEDS_FETCH`)
    expect(await contents(snapB)).toEqual({ big: null, eager: 'e', empty: null, fromMerge: null, one: null, ref: null, x: '1', y: '2' })
    expect(await priorities(snapB)).toMatchObject({ big: 'lazy', empty: 'lazy', fromMerge: 'lazy', one: 'lazy', ref: 'lazy', eager: 'eager' })
    const page = await snapB.getEntries()
    expect(page.entries.filter((e) => e.value === undefined).map((e) => str(e.key))).toEqual(['big', 'empty', 'fromMerge', 'one', 'ref'])
    const empty = await (await b.page('never-written')).snapshot()
    const diff = await collect(empty.diff(snapB))
    expect(diff.filter((d) => d.after!.value === undefined).map((d) => str(d.key))).toEqual(['big', 'empty', 'fromMerge', 'one', 'ref'])
  })

  it('fetch brings a lazy value from a peer (then get works without one); fetchPartial too', async () => {
    const { snapB, big, linkAB } = await lazyPair()
    expect(str(await within(snapB.fetch('one')))).toBe('x')
    expect(await within(snapB.fetch('empty'))).toEqual(new Uint8Array(0))
    expect(str(await within(snapB.fetch('fromMerge')))).toBe('m')
    expect(same(await within(snapB.fetchPartial('big', -100, -1)), big.subarray(-100))).toBe(true)
    expect(await within(snapB.fetch('missing'))).toBeUndefined()
    expect(str(await within(snapB.fetch('eager')))).toBe('e')
    await linkAB.close()
    expect(str(await snapB.get('one'))).toBe('x')
    expect(await snapB.get('empty')).toEqual(new Uint8Array(0))
    expect(str(await snapB.get('fromMerge'))).toBe('m')
    // Only the chunks of the slice came: the whole value is still not local.
    expect(await codeOf(() => snapB.get('big'))).toBe('NEEDS_FETCH')
  })

  it('fetch when no peer has it → NETWORK_ERROR (no peer at all, or a peer that lacks it); nothing breaks', async () => {
    const { b, snapB, linkAB } = await lazyPair()
    await linkAB.close()
    expect(await codeOf(() => snapB.fetch('one'), 15_000)).toBe('NETWORK_ERROR')
    expect(await codeOf(() => snapB.fetch('big'), 15_000)).toBe('NETWORK_ERROR')
    expect(await codeOf(() => snapB.fetchPartial('big', 10, 10), 15_000)).toBe('NETWORK_ERROR')
    const c = await memoryLedger({ replicaId: 'C' })
    link(b, c)
    expect(await codeOf(() => snapB.fetch('ref'), 15_000)).toBe('NETWORK_ERROR')
    // Out-of-range slices need no bytes at all: empty, even without the value.
    expect(await within(snapB.fetchPartial('big', 300_000, 10))).toEqual(new Uint8Array(0))
    expect(await within(snapB.fetchPartial('big', -300_001, 10))).toEqual(new Uint8Array(0))
    expect(await within(snapB.fetchPartial('big', 5, 0))).toEqual(new Uint8Array(0))
    expect(str(await snapB.get('eager'))).toBe('e')
  })
})

describe('merging values that are not local', () => {
  it('a replica merges lazy values it does not have: DiffEntry values undefined with their priority; right, left and non-conflicting picks need no fetch', async () => {
    const views: Awaited<ReturnType<typeof view>>[] = []
    const a = await memoryLedger({ replicaId: 'A', clock: stepClock(1000), mergePolicy: 'custom' })
    const b = await memoryLedger({ replicaId: 'B', clock: stepClock(5000) }) // B's edits are newer: left
    const pa = await a.page('p')
    const pb = await b.page('p')
    await pa.put('k', 'base')
    await pa.put('j', 'base')
    link(a, b)
    await within(pb.sync())
    await pa.put('k', 'from A')
    await pb.put('k', 'lazy from B', { priority: 'lazy' })
    await pb.put('j', 'lazy j from B', { priority: 'lazy' })
    await pb.put('n', seeded(100_000, 3), { priority: 'lazy' })
    await within(pa.sync({ mode: 'pull' }))
    await a.setMergePolicy('p', 'custom', async (m) => {
      views.push(await view(m))
      expect(await codeOf(() => m.left.get('k'))).toBe('NEEDS_FETCH')
      await m.mergeNonConflictingEntries()
    })
    await within(pa.waitForConflictResolution())
    expect(views[0]!.conflicting).toEqual([{ key: 'k', base: 'base/eager', left: '<not local>/lazy', right: 'from A/eager' }])
    expect(views[0]!.full.map((d) => d['key'])).toEqual(['j', 'k', 'n'])
    expect(await contents(pa)).toEqual({ j: null, k: null, n: null })
    // B gets the merge (A made it) and has every value.
    await within(pb.sync())
    await within(pb.waitForConflictResolution())
    expect((await pb.snapshot()).commitId).toBe((await pa.snapshot()).commitId)
    expect(await contents(pb)).toMatchObject({ j: 'lazy j from B', k: 'lazy from B' })
  })
})

describe('fetchPartial', () => {
  const N = 250_000
  for (const [what, priority, size] of [
    ['a small inline value', 'eager', 10],
    ['a chunked eager value', 'eager', N],
    ['a local lazy value', 'lazy', 10],
  ] as const) {
    it(`offsets and sizes on ${what}: negative from the end, out of range → empty, maxSize < 0 → to the end`, async () => {
      const page = await (await memoryLedger()).page('p')
      const data = seeded(size, 30)
      await page.put('k', data, { priority })
      const s = await page.snapshot()
      const n = size
      const cases: Array<[number, number, Uint8Array]> = [
        [0, -1, data],
        [0, n, data],
        [0, n + 1000, data],
        [0, 0, new Uint8Array(0)],
        [1, 2, data.subarray(1, 3)],
        [n - 1, 5, data.subarray(n - 1)],
        [n, 1, new Uint8Array(0)],
        [n + 7, -1, new Uint8Array(0)],
        [-1, -1, data.subarray(n - 1)],
        [-1, 100, data.subarray(n - 1)],
        [-n, -1, data],
        [-n, 3, data.subarray(0, 3)],
        [-n - 1, -1, new Uint8Array(0)],
        [-n - 1, 5, new Uint8Array(0)],
        [-3, -7, data.subarray(n - 3)],
        [2, -100, data.subarray(2)],
        [-Number.MAX_SAFE_INTEGER, 1, new Uint8Array(0)],
        [Number.MAX_SAFE_INTEGER, -1, new Uint8Array(0)],
      ]
      for (const [offset, maxSize, want] of cases) {
        const got = await s.fetchPartial('k', offset, maxSize)
        expect(`${offset},${maxSize}: ${got === undefined ? 'undefined' : same(got, want) ? 'ok' : `${got.length} bytes`}`).toBe(`${offset},${maxSize}: ok`)
      }
      expect(await s.fetchPartial('missing', 0, 1)).toBeUndefined()
    })
  }

  it('an empty value gives empty bytes for any slice; bad offsets or sizes → INVALID_ARGUMENT', async () => {
    const page = await (await memoryLedger()).page('p')
    await page.put('e', '')
    await page.put('k', 'value')
    const s = await page.snapshot()
    for (const [o, m] of [
      [0, 0],
      [0, -1],
      [0, 10],
      [-1, 1],
    ] as const) {
      expect(await s.fetchPartial('e', o, m)).toEqual(new Uint8Array(0))
    }
    const bad: Record<string, () => unknown> = {
      'NaN offset': () => s.fetchPartial('k', NaN, 1),
      'fractional offset': () => s.fetchPartial('k', 0.5, 1),
      'string offset': () => s.fetchPartial('k', any('1'), 1),
      'Infinity offset': () => s.fetchPartial('k', Infinity, 1),
      'no offset': () => s.fetchPartial('k', any(undefined), 1),
      'NaN maxSize': () => s.fetchPartial('k', 0, NaN),
      'fractional maxSize': () => s.fetchPartial('k', 0, 2.5),
      'string maxSize': () => s.fetchPartial('k', 0, any('2')),
      '-Infinity maxSize': () => s.fetchPartial('k', 0, -Infinity),
      'no maxSize': () => s.fetchPartial('k', 0, any(undefined)),
      'number key': () => s.fetchPartial(any(1), 0, 1),
    }
    const got: Record<string, string> = {}
    for (const [name, call] of Object.entries(bad)) got[name] = await codeOf(call)
    expect(got).toEqual(Object.fromEntries(Object.keys(bad).map((n) => [n, 'INVALID_ARGUMENT'])))
    expect(str(await s.fetchPartial('k', 1, 3))).toBe('alu')
  })
})

describe('big values through put', () => {
  it('put accepts 4 MiB (and a bit more) inline on disk, as bytes and as a string, eager and lazy, in a transaction', async () => {
    const ledger = await diskLedger()
    const page = await ledger.page('p')
    const big = seeded(4 * 1024 * 1024 + 1, 40)
    const text = 'é'.repeat(2 * 1024 * 1024) // 4 MiB of UTF-8
    await page.put('bytes', big)
    await page.startTransaction()
    await page.put('text', text)
    await page.put('lazy', big, { priority: 'lazy' })
    await page.commit()
    const s = await page.snapshot()
    expect(same(await s.get('bytes'), big)).toBe(true)
    expect(same(await s.get('lazy'), big)).toBe(true)
    const t = await s.get('text')
    expect(t!.length).toBe(4 * 1024 * 1024)
    expect(str(t) === text).toBe(true)
    expect(same(await s.fetchPartial('bytes', -1, 1), big.subarray(-1))).toBe(true)
  }, 30_000)
})
