/** Black-box acceptance tests (package root only). Every public method refuses bad arguments with the documented LedgerError code; key limits. */
import { describe, expect, it } from 'vitest'
import { Ledger } from 'dagkv'
import { collect, str, utf8 } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { codeOf, asyncCodeOf, hex, keysOf } from './api-helpers.js'

describe('bad arguments', () => {
  it('page methods refuse wrong-typed arguments by rejecting (not throwing) with INVALID_ARGUMENT, and stay usable', async () => {
    const ledger = await memoryLedger()
    const page = await ledger.page('p')
    await page.put('k', 'v')
    const any = (x: unknown): never => x as never
    const bad: [string, () => unknown][] = [
      ['put number key', () => page.put(any(1), 'v')],
      ['put null key', () => page.put(any(null), 'v')],
      ['put undefined key', () => page.put(any(undefined), 'v')],
      ['put array key', () => page.put(any([1, 2]), 'v')],
      ['put ArrayBuffer key', () => page.put(any(new ArrayBuffer(2)), 'v')],
      ['put Uint16Array key', () => page.put(any(new Uint16Array(2)), 'v')],
      ['put number value', () => page.put('k', any(5))],
      ['put undefined value', () => page.put('k', any(undefined))],
      ['put object value', () => page.put('k', any({}))],
      ['put bad priority', () => page.put('k', 'v', { priority: any('high') })],
      ['put null priority', () => page.put('k', 'v', { priority: any(null) })],
      ['put string options', () => page.put('k', 'v', any('lazy'))],
      ['put number options', () => page.put('k', 'v', any(3))],
      ['delete number key', () => page.delete(any(3))],
      ['delete undefined key', () => page.delete(any(undefined))],
      ['snapshot string options', () => page.snapshot(any('x'))],
      ['snapshot number prefix', () => page.snapshot({ prefix: any(1) })],
      ['snapshot number at', () => page.snapshot({ at: any(1) })],
      ['snapshot object at', () => page.snapshot({ at: any({}) })],
      ['snapshot empty at', () => page.snapshot({ at: '' })],
      ['snapshot garbage at', () => page.snapshot({ at: 'bafy-not-a-cid' })],
      ['watch no listener', () => page.watch(any(undefined))],
      ['watch object listener', () => page.watch(any({}))],
      ['watch number prefix', () => page.watch(() => {}, { prefix: any(7) })],
      ['watch string options', () => page.watch(() => {}, any('x/'))],
    ]
    for (const [name, call] of bad) {
      expect(`${name}: ${await asyncCodeOf(call)}`).toBe(`${name}: INVALID_ARGUMENT`)
    }
    // inside a transaction (the put fast path) too, and the transaction survives
    await page.startTransaction()
    await page.put('t1', '1')
    for (const [name, call] of bad.slice(0, 14)) {
      expect(`tx ${name}: ${await asyncCodeOf(call)}`).toBe(`tx ${name}: INVALID_ARGUMENT`)
    }
    await page.put('t2', '2')
    await page.commit()
    expect(await keysOf(await page.snapshot())).toEqual(['k', 't1', 't2'])
  })

  it('snapshot reads refuse wrong-typed arguments with INVALID_ARGUMENT, and the snapshot stays usable', async () => {
    const page = await (await memoryLedger()).page('p')
    await page.put('a', '1')
    await page.put('b', '2')
    const s = await page.snapshot()
    const any = (x: unknown): never => x as never
    const bad: [string, () => unknown][] = [
      ['get number', () => s.get(any(1))],
      ['get undefined', () => s.get(any(undefined))],
      ['get object', () => s.get(any({}))],
      ['entries string options', () => s.entries(any('a'))],
      ['entries number start', () => s.entries({ start: any(1) })],
      ['entries array end', () => s.entries({ end: any([1]) })],
      ['entries string reverse', () => s.entries({ reverse: any('yes') })],
      ['entries NaN limit', () => s.entries({ limit: NaN })],
      ['entries negative limit', () => s.entries({ limit: -1 })],
      ['entries float limit', () => s.entries({ limit: 1.5 })],
      ['entries Infinity limit', () => s.entries({ limit: Infinity })],
      ['entries string limit', () => s.entries({ limit: any('2') })],
      ['keys number start', () => s.keys({ start: any(2) })],
      ['keys NaN limit', () => s.keys({ limit: NaN })],
      ['keys string reverse', () => s.keys({ reverse: any(1) })],
      ['getEntries string options', () => s.getEntries(any('x'))],
      ['getEntries number start', () => s.getEntries({ start: any(3) })],
      ['getEntries NaN limit', () => s.getEntries({ limit: NaN })],
      ['getEntries negative limit', () => s.getEntries({ limit: -5 })],
      ['getEntries float limit', () => s.getEntries({ limit: 2.5 })],
      ['getEntries Infinity limit', () => s.getEntries({ limit: Infinity })],
      ['getEntries string limit', () => s.getEntries({ limit: any('10') })],
      ['diff null', () => s.diff(any(null))],
      ['diff string', () => s.diff(any('snapshot'))],
      ['diff look-alike', () => s.diff(any({ commitId: s.commitId, contentId: s.contentId }))],
    ]
    for (const [name, call] of bad) {
      expect(`${name}: ${await codeOf(call)}`).toBe(`${name}: INVALID_ARGUMENT`)
    }
    for (const [name, call] of bad.filter(([n]) => n.startsWith('get'))) {
      expect(`${name}: ${await asyncCodeOf(call)}`).toBe(`${name}: INVALID_ARGUMENT`)
    }
    expect(await keysOf(s)).toEqual(['a', 'b'])
    expect(str(await s.get('b'))).toBe('2')
  })

  it('ledger methods and Ledger.open refuse bad arguments with INVALID_ARGUMENT; page ids are 1..128 bytes', async () => {
    const ledger = await memoryLedger()
    const any = (x: unknown): never => x as never
    const badPages: [string, unknown][] = [
      ['empty string', ''],
      ['empty bytes', new Uint8Array(0)],
      ['129 bytes', new Uint8Array(129)],
      ['129 ascii chars', 'x'.repeat(129)],
      ['43 euro signs = 129 bytes', '€'.repeat(43)],
      ['number', 12],
      ['object', {}],
      ['array', [1, 2]],
      ['Uint16Array', new Uint16Array(4)],
    ]
    for (const [name, id] of badPages) {
      expect(`page(${name}): ${await asyncCodeOf(() => ledger.page(any(id)))}`).toBe(`page(${name}): INVALID_ARGUMENT`)
    }
    const badOpens: [string, unknown][] = [
      ['string options', 'path'],
      ['number path', { path: 5 }],
      ['empty replicaId', { replicaId: '' }],
      ['number replicaId', { replicaId: 5 }],
      ['bad mergePolicy', { mergePolicy: 'first-one-wins' }],
      ['string autoSync', { autoSync: 'yes' }],
      ['number resolver', { resolver: 5 }],
      ['string clock', { clock: 'now' }],
    ]
    for (const [name, options] of badOpens) {
      const code = await asyncCodeOf(async () => {
        const l = await Ledger.open(any(options))
        await l.close()
      })
      expect(`open(${name}): ${code}`).toBe(`open(${name}): INVALID_ARGUMENT`)
    }
    // the boundaries that are allowed
    expect((await ledger.page(new Uint8Array(128).fill(1))).id).toHaveLength(128)
    expect((await ledger.page('x'.repeat(128))).id).toHaveLength(128)
    expect((await ledger.page('€'.repeat(42) + 'ab')).id).toHaveLength(128)
    expect((await ledger.page(Uint8Array.of(0))).id).toEqual(Uint8Array.of(0))
    const p = await ledger.page('still-usable')
    await p.put('k', 'v')
    expect((await ledger.pages()).map((x) => str(x))).toEqual(['still-usable'])
  })

  it('null options are ignored or refused with INVALID_ARGUMENT, never a TypeError', async () => {
    const ledger = await memoryLedger()
    const page = await ledger.page('p')
    await page.put('k', 'v')
    const s = await page.snapshot()
    const any = (x: unknown): never => x as never
    const calls: [string, () => unknown][] = [
      ['put', () => page.put('n', 'v', any(null))],
      ['snapshot', () => page.snapshot(any(null))],
      ['watch', () => page.watch(() => {}, any(null))],
      ['entries', () => s.entries(any(null))],
      ['keys', () => s.keys(any(null))],
      ['getEntries', () => s.getEntries(any(null))],
      ['page(null)', () => ledger.page(any(null))],
      ['Ledger.open(null)', async () => (await Ledger.open(any(null))).close()],
      ['sync', () => page.sync(any(null))],
    ]
    for (const [name, call] of calls) {
      expect([`${name}: resolved`, `${name}: INVALID_ARGUMENT`]).toContain(`${name}: ${await codeOf(call)}`)
    }
    expect(str(await (await page.snapshot()).get('k'))).toBe('v')
  })
})

// ---------------------------------------------------------------------------------------------

describe('key limits', () => {
  it('keeps a key of exactly 1024 bytes given as a multi-byte string; 1025 bytes → KEY_TOO_LARGE everywhere a key is taken', async () => {
    const page = await (await memoryLedger()).page('p')
    const max = '€'.repeat(341) + 'a' // 1023 + 1
    const over = max + 'b'
    expect(utf8(max)).toHaveLength(1024)
    await page.put(max, 'v')
    const s = await page.snapshot()
    expect(str(await s.get(max))).toBe('v')
    const calls: [string, () => unknown][] = [
      ['put', () => page.put(over, 'v')],
      ['put bytes', () => page.put(new Uint8Array(1025), 'v')],
      ['delete', () => page.delete(over)],
      ['get', () => s.get(over)],
      ['fetch', () => s.fetch(over)],
    ]
    for (const [name, call] of calls) expect(`${name}: ${await asyncCodeOf(call)}`).toBe(`${name}: KEY_TOO_LARGE`)
    // inside a transaction: refused, and the transaction goes on
    await page.startTransaction()
    await page.put('before', '1')
    expect(await asyncCodeOf(() => page.put(over, 'v'))).toBe('KEY_TOO_LARGE')
    expect(await asyncCodeOf(() => page.delete(over))).toBe('KEY_TOO_LARGE')
    await page.put('after', '2')
    await page.commit()
    const s2 = await page.snapshot()
    expect((await collect(s2.keys())).map((k) => k.length)).toEqual([5, 6, 1024].sort((a, b) => a - b).map((n) => n))
    // the 1024-byte key survives a getEntries token that points at it
    const first = await s2.getEntries({ limit: 2 })
    expect(first.next).toBeDefined()
    const rest = await s2.getEntries({ token: first.next!, limit: 2 })
    expect(rest.entries.map((e) => str(e.key))).toEqual([max])
    expect(rest.next).toBeUndefined()
  })

  it('the empty key sorts first and works with every read', async () => {
    const page = await (await memoryLedger()).page('p')
    await page.put('b', '2')
    await page.put('', 'empty')
    await page.put(Uint8Array.of(0), 'zero')
    const s = await page.snapshot()
    expect((await collect(s.keys())).map(hex)).toEqual(['', '00', hex(utf8('b'))])
    expect((await collect(s.keys({ reverse: true }))).map(hex)).toEqual([hex(utf8('b')), '00', ''])
    expect((await collect(s.keys({ start: '', end: Uint8Array.of(0) }))).map(hex)).toEqual([''])
    expect((await s.getEntries({ start: '' })).entries).toHaveLength(3)
    expect(str(await s.get(new Uint8Array(0)))).toBe('empty')
    await page.delete('')
    expect(await (await page.snapshot()).get('')).toBeUndefined()
  })
})

// ---------------------------------------------------------------------------------------------
