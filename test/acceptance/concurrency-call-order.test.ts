/** Black-box acceptance tests (package root only). API.md "Page": calls on one connection apply in call order, even when not awaited. */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Ledger, type Page, type Reference, type Snapshot } from 'dagkv'
import { numRuns, str, utf8 } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { within } from '../helpers/timing.js'
import { ConnectionModel, canon, contentsOf, outcome, turns } from './concurrency-helpers.js'

type Op =
  | { t: 'put'; k: string; v: string }
  | { t: 'delete'; k: string }
  | { t: 'clear' }
  | { t: 'putRef'; k: string; r: number }
  | { t: 'start' }
  | { t: 'commit' }
  | { t: 'rollback' }
  | { t: 'snap' }
  | { t: 'tick' }

const key = fc.constantFrom('a', 'b', 'c', 'd', 'e')
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('put' as const), k: key, v: fc.constantFrom('1', '2', '3') }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('delete' as const), k: key }) },
  { weight: 1, arbitrary: fc.constant({ t: 'clear' as const }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('putRef' as const), k: key, r: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 2, arbitrary: fc.constant({ t: 'start' as const }) },
  { weight: 2, arbitrary: fc.constant({ t: 'commit' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'rollback' as const }) },
  { weight: 3, arbitrary: fc.constant({ t: 'snap' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'tick' as const }) },
)

/** Contents of the two references the model puts: one inline-sized, one chunked. */
const REF_TEXT = ['r0', 'R'.repeat(70_000)]
const refValue = (r: number): string => (r === 0 ? 'r0' : `R*${REF_TEXT[1]!.length}`)
const shown = (v: string): string => (v.length > 100 ? `R*${v.length}` : v)

describe('call order on one connection', () => {
  it('any mix of unawaited put/delete/clear/putReference/transaction calls and snapshots behaves like the sequential model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        const ledger = await Ledger.open({ autoSync: false })
        try {
          const page = await ledger.page('p')
          const refs: Reference[] = await Promise.all(REF_TEXT.map((t) => page.createReference(utf8(t))))
          const model = new ConnectionModel()
          const results: { p: Promise<string>; want: string; i: number }[] = []
          const snaps: { p: Promise<Snapshot>; want: string; version: number; i: number }[] = []
          for (const [i, op] of ops.entries()) {
            switch (op.t) {
              case 'put':
                results.push({ p: outcome(page.put(op.k, op.v)), want: model.put(op.k, op.v), i })
                break
              case 'delete':
                results.push({ p: outcome(page.delete(op.k)), want: model.delete(op.k), i })
                break
              case 'clear':
                results.push({ p: outcome(page.clear()), want: model.clear(), i })
                break
              case 'putRef':
                results.push({ p: outcome(page.putReference(op.k, refs[op.r]!)), want: model.put(op.k, refValue(op.r)), i })
                break
              case 'start':
                results.push({ p: outcome(page.startTransaction()), want: model.start(), i })
                break
              case 'commit':
                results.push({ p: outcome(page.commit()), want: model.commit(), i })
                break
              case 'rollback':
                results.push({ p: outcome(page.rollback()), want: model.rollback(), i })
                break
              case 'snap':
                snaps.push({ p: page.snapshot(), want: canon(model.view()), version: model.version, i })
                break
              case 'tick':
                await turns(2)
                break
            }
          }
          const got = await within(Promise.all(results.map((r) => r.p)), 10_000, 'unawaited calls')
          expect(got.map((g, j) => `${results[j]!.i}:${g}`)).toEqual(results.map((r) => `${r.i}:${r.want}`))
          const byVersion = new Map<number, string>()
          for (const s of snaps) {
            const snap = await s.p
            const c = await contentsOf(snap)
            for (const k of Object.keys(c)) c[k] = shown(c[k]!)
            expect(canon(c), `snapshot after op ${s.i}`).toBe(s.want)
            // Same version ⇔ same commit: no-op writes make no commit, real ones always do.
            const prev = byVersion.get(s.version)
            if (prev !== undefined) expect(snap.commitId, `snapshot after op ${s.i}`).toBe(prev)
            for (const [v, id] of byVersion) if (v !== s.version) expect(snap.commitId).not.toBe(id)
            byVersion.set(s.version, snap.commitId)
          }
          if (model.tx) {
            model.commit()
            await page.commit()
          }
          const end = await contentsOf(page)
          for (const k of Object.keys(end)) end[k] = shown(end[k]!)
          expect(canon(end)).toBe(canon(model.view()))
        } finally {
          await ledger.close()
        }
      }),
      { numRuns: numRuns(15) },
    )
  })

  it('outside transactions: an unawaited mix of put, putReference, delete and clear on one key ends with the last call', async () => {
    const page = await (await memoryLedger()).page('p')
    const big = await page.createReference(new Uint8Array(200_000).fill(7))
    const small = await page.createReference(utf8('small'))
    const calls = [
      page.putReference('k', big),
      page.put('k', 'v1'),
      page.delete('k'),
      page.putReference('k', small),
      page.clear(),
      page.putReference('k', big, { priority: 'lazy' }),
      page.put('other', 'o'),
      page.putReference('k', small),
    ]
    const snap = page.snapshot()
    const tail = [page.delete('other'), page.putReference('k', big)]
    await within(Promise.all([...calls, ...tail]))
    expect(await contentsOf(await snap)).toEqual({ k: 'small', other: 'o' })
    const end = await page.snapshot()
    expect((await end.get('k'))?.length).toBe(200_000)
    expect(await contentsOf(await page.snapshot({ prefix: 'o' }))).toEqual({})
  })

  it('a startTransaction called without awaiting takes effect between the calls around it: earlier writes commit alone, later ones wait for commit', async () => {
    const ledger = await memoryLedger()
    const page = await ledger.page('p')
    const other = await ledger.page('p')
    const ref = await page.createReference(utf8('ref'))
    const calls = [page.put('a', '1'), page.putReference('r', ref), page.delete('a'), page.put('b', '2')]
    calls.push(page.startTransaction())
    const pinned = page.snapshot()
    calls.push(page.put('c', '3'), page.putReference('b', ref), page.clear(), page.put('d', '4'))
    await within(Promise.all(calls))
    // The writes before startTransaction are committed and visible to another connection.
    await within(other.waitForConflictResolution())
    expect(await contentsOf(other)).toEqual({ b: '2', r: 'ref' })
    expect(await contentsOf(await pinned)).toEqual({ b: '2', r: 'ref' })
    expect(await contentsOf(page)).toEqual({ b: '2', r: 'ref' })
    await page.commit()
    expect(await contentsOf(page)).toEqual({ d: '4' })
  })

  it('a putReference rejected inside an unawaited transaction chain rejects alone; a foreign reference is REFERENCE_NOT_FOUND', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    const page = await a.page('p')
    const foreign = await (await b.page('q')).createReference(utf8('foreign'))
    const own = await page.createReference(utf8('own'))
    const results = await within(
      Promise.all([
        outcome(page.startTransaction()),
        outcome(page.put('k', 'before')),
        outcome(page.putReference('k', foreign)),
        outcome(page.putReference('j', { id: 'not a cid', size: 3 } as Reference)),
        outcome(page.putReference('j', own)),
        outcome(page.delete('k')),
        outcome(page.put('k', 'after')),
        outcome(page.commit()),
      ]),
    )
    expect(results.slice(0, 3)).toEqual(['ok', 'ok', 'REFERENCE_NOT_FOUND'])
    expect(['INVALID_ARGUMENT', 'REFERENCE_NOT_FOUND']).toContain(results[3])
    expect(results.slice(4)).toEqual(['ok', 'ok', 'ok', 'ok'])
    expect(await contentsOf(page)).toEqual({ j: 'own', k: 'after' })
  })

  it('bytes passed to an unawaited call are taken at call time: mutating them afterwards changes nothing (queued and transaction paths)', async () => {
    // API.md is silent; a well-made library copies arguments it uses later.
    const page = await (await memoryLedger()).page('p')
    const k = utf8('key1')
    const v = utf8('value-1')
    const big = new Uint8Array(5000).fill(1)
    const blocker = page.put('first', 'x') // keeps the queue busy so the next calls wait in it
    const p1 = page.put(k, v)
    const p2 = page.put('big', big)
    k[3] = 0x32 // 'key2'
    v[6] = 0x39
    big.fill(2)
    await within(Promise.all([blocker, p1, p2]))
    expect(str(await (await page.snapshot()).get('key1'))).toBe('value-1')
    expect(str(await (await page.snapshot()).get('key2'))).toBeUndefined()
    expect((await (await page.snapshot()).get('big'))!.every((b) => b === 1)).toBe(true)

    await page.startTransaction()
    const tk = utf8('tx-a')
    const tv = utf8('tv-1')
    const tbig = new Uint8Array(5000).fill(3)
    const d = utf8('key1')
    const calls = [page.put(tk, tv), page.put('tbig', tbig), page.delete(d), page.put(tk, tv)]
    tk[3] = 0x62 // 'tx-b'
    tv[3] = 0x32
    tbig.fill(4)
    d[3] = 0x39
    calls.push(page.put(tk, tv)) // called after the mutation: 'tx-b' → 'tv-2'
    await within(Promise.all(calls))
    await page.commit()
    const s = await page.snapshot()
    expect(str(await s.get('tx-a'))).toBe('tv-1')
    expect(str(await s.get('tx-b'))).toBe('tv-2')
    expect(await s.get('key1')).toBeUndefined()
    expect((await s.get('tbig'))!.every((b) => b === 3)).toBe(true)
  })

  it('watch() called without awaiting inside a transaction chain gets the pinned state; its first notification is the commit', async () => {
    const page = await (await memoryLedger()).page('p')
    const seen: string[][] = []
    void page.put('base', '0')
    void page.startTransaction()
    void page.put('a', '1')
    const handle = page.watch((c) => void seen.push([...c.changed.map((e) => str(e.key)!), ...c.deleted.map((d) => `-${str(d)}`)]))
    void page.delete('base')
    const committed = page.commit()
    const { snapshot } = await within(handle)
    await within(committed)
    expect(await contentsOf(snapshot)).toEqual({ base: '0' })
    for (let i = 0; i < 50 && seen.length === 0; i++) await turns(2)
    expect(seen).toEqual([['a', '-base']])
  })

  it('many unawaited single-key commits on one connection: every notification arrives in order and the head ends on the last', async () => {
    const page: Page = await (await memoryLedger()).page('p')
    const values: string[] = []
    const handle = await page.watch(async (c) => {
      for (const e of c.changed) values.push(str(e.value)!)
      await turns(1)
    })
    const calls: Promise<void>[] = []
    for (let i = 0; i < 200; i++) calls.push(page.put('counter', String(i)))
    await within(Promise.all(calls), 20_000)
    expect(str(await (await page.snapshot()).get('counter'))).toBe('199')
    for (let i = 0; i < 200 && values[values.length - 1] !== '199'; i++) await turns(2)
    handle.close()
    const nums = values.map(Number)
    expect(nums).toEqual([...nums].sort((x, y) => x - y))
    expect(nums[nums.length - 1]).toBe(199)
  })
})
