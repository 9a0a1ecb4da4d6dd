/** Black-box acceptance tests (package root only). Values: createReference and putReference. */
import { describe, expect, it, onTestFinished } from 'vitest'
import { Ledger, type Reference } from 'dagkv'
import { collect, str, utf8 } from '../helpers/bytes.js'
import { diskLedger, memoryLedger, tempDir } from '../helpers/ledgers.js'
import { any, sleep, within, codeOf, contents, priorities, same, seeded, pieces, watchAll } from './merge-api-helpers.js'


describe('createReference', () => {
  it('from a Uint8Array and from an AsyncIterable (any chunking, empty chunks) gives the same reference; size is the byte count', async () => {
    const page = await (await memoryLedger()).page('p')
    const data = seeded(100_003, 2)
    const whole = await page.createReference(data)
    expect(whole).toEqual({ id: expect.any(String), size: 100_003 })
    async function* uneven(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(0)
      yield data.subarray(0, 1)
      yield data.subarray(1, 65_537)
      yield new Uint8Array(0)
      yield data.subarray(65_537)
    }
    const streamed = await page.createReference(uneven(), { size: data.length })
    expect(streamed).toEqual(whole)
    expect(await page.createReference(pieces(data, 4096))).toEqual(whole)
    // Put under a key, it reads back the same bytes.
    await page.putReference('k', streamed)
    expect(same(await (await page.snapshot()).get('k'), data)).toBe(true)
  })

  it('an empty value, as bytes or as an empty stream, and a tiny one', async () => {
    const page = await (await memoryLedger()).page('p')
    const e1 = await page.createReference(new Uint8Array(0))
    const e2 = await page.createReference(pieces(new Uint8Array(0), 1), { size: 0 })
    expect(e1.size).toBe(0)
    expect(e2).toEqual(e1)
    await page.putReference('empty', e1)
    await page.putReference('emptyLazy', e2, { priority: 'lazy' })
    const tiny = await page.createReference(utf8('t'))
    await page.putReference('tiny', tiny)
    const s = await page.snapshot()
    expect(await s.get('empty')).toEqual(new Uint8Array(0))
    expect(await s.get('emptyLazy')).toEqual(new Uint8Array(0))
    expect(str(await s.get('tiny'))).toBe('t')
    expect(await priorities(s)).toEqual({ empty: 'eager', emptyLazy: 'lazy', tiny: 'eager' })
  })

  it('a size that differs from the bytes delivered → INVALID_ARGUMENT, for bytes and streams, more or fewer; the page stays usable', async () => {
    const page = await (await memoryLedger()).page('p')
    const data = seeded(70_000, 4)
    const cases: Record<string, () => unknown> = {
      'bytes, size too small': () => page.createReference(data, { size: 69_999 }),
      'bytes, size too large': () => page.createReference(data, { size: 70_001 }),
      'bytes, size 0': () => page.createReference(data, { size: 0 }),
      'empty bytes, size 1': () => page.createReference(new Uint8Array(0), { size: 1 }),
      'stream, size too small': () => page.createReference(pieces(data, 10_000), { size: 10 }),
      'stream, size too large': () => page.createReference(pieces(data, 10_000), { size: 1_000_000 }),
      'empty stream, size 5': () => page.createReference(pieces(new Uint8Array(0), 1), { size: 5 }),
    }
    const got: Record<string, string> = {}
    for (const [name, call] of Object.entries(cases)) got[name] = await codeOf(call)
    expect(got).toEqual(Object.fromEntries(Object.keys(cases).map((n) => [n, 'INVALID_ARGUMENT'])))
    const ok = await page.createReference(pieces(data, 10_000), { size: 70_000 })
    await page.putReference('k', ok)
    expect(same(await (await page.snapshot()).get('k'), data)).toBe(true)
  })

  it('bad data, size or options → INVALID_ARGUMENT by rejecting; after close → CLOSED', async () => {
    const ledger = await memoryLedger()
    const page = await ledger.page('p')
    function* syncGen(): Generator<Uint8Array> {
      yield Uint8Array.of(1)
    }
    async function* yieldsString(): AsyncGenerator<unknown> {
      yield Uint8Array.of(1)
      yield 'not bytes'
    }
    async function* yieldsNumber(): AsyncGenerator<unknown> {
      yield 5
    }
    const cases: Record<string, () => unknown> = {
      'no data': () => page.createReference(any(undefined)),
      'null data': () => page.createReference(any(null)),
      'string data': () => page.createReference(any('text')),
      'number data': () => page.createReference(any(12)),
      'array data': () => page.createReference(any([Uint8Array.of(1)])),
      'ArrayBuffer data': () => page.createReference(any(new ArrayBuffer(4))),
      'sync iterable': () => page.createReference(any(syncGen())),
      'stream of strings': () => page.createReference(any(yieldsString())),
      'stream of numbers': () => page.createReference(any(yieldsNumber())),
      'negative size': () => page.createReference(Uint8Array.of(1), { size: -1 }),
      'fractional size': () => page.createReference(Uint8Array.of(1), { size: 1.5 }),
      'NaN size': () => page.createReference(Uint8Array.of(1), { size: NaN }),
      'string size': () => page.createReference(Uint8Array.of(1), { size: any('1') }),
      'Infinity size': () => page.createReference(Uint8Array.of(1), { size: Infinity }),
      'string options': () => page.createReference(Uint8Array.of(1), any('big')),
    }
    const got: Record<string, string> = {}
    for (const [name, call] of Object.entries(cases)) got[name] = await codeOf(call)
    expect(got).toEqual(Object.fromEntries(Object.keys(cases).map((n) => [n, 'INVALID_ARGUMENT'])))
    // A source that fails: the call rejects (with the source's error or a LedgerError), never hangs.
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Uint8Array.of(1)
      throw new Error('disk unplugged')
    }
    expect(await codeOf(() => page.createReference(failing()))).not.toBe('resolved')
    expect(await codeOf(() => page.createReference(failing()))).not.toMatch(/hang|synchronously/)
    // An endless stream with a size: refused once it delivers more, not read forever.
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) yield new Uint8Array(1000)
    }
    expect(await codeOf(() => page.createReference(endless(), { size: 5000 }))).toBe('INVALID_ARGUMENT')
    await page.put('still', 'usable')
    expect(str(await (await page.snapshot()).get('still'))).toBe('usable')
    await page.close()
    expect(await codeOf(() => page.createReference(Uint8Array.of(1)))).toBe('CLOSED')
    expect(await codeOf(() => page.putReference('k', { id: 'x', size: 1 }))).toBe('CLOSED')
  })
})

describe('createReference and close', () => {
  it('closing the ledger while a reference streams in: the call rejects (CLOSED), close does not hang', async () => {
    const ledger = await Ledger.open({ autoSync: false })
    const page = await ledger.page('p')
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let started = false
    async function* slow(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 40; i++) {
        yield seeded(64 * 1024, i + 1)
        started = true
        if (i === 20) await gate
      }
    }
    const creating = codeOf(() => page.createReference(slow()), 10_000)
    await within((async () => {
      while (!started) await sleep(2)
    })())
    const closing = within(ledger.close(), 5000, 'ledger.close')
    await sleep(10)
    release()
    await closing
    expect(await creating).toBe('CLOSED') // the stream could not finish before the close
    expect(await codeOf(() => page.createReference(Uint8Array.of(1)))).toBe('CLOSED')
  })
})

describe('putReference', () => {
  it('a reference this ledger never issued → REFERENCE_NOT_FOUND (foreign, forged id, tampered size); bad arguments → INVALID_ARGUMENT', async () => {
    const ledger = await memoryLedger()
    const page = await ledger.page('p')
    const other = await memoryLedger()
    const foreignSmall = await (await other.page('x')).createReference(utf8('only over there'))
    const foreignBig = await (await other.page('x')).createReference(seeded(80_000, 8))
    const mine = await page.createReference(seeded(80_000, 9))
    const side = await ledger.page('side')
    for (let i = 0; i < 50; i++) await side.put(`key${i}`, `value ${i}`.repeat(10))
    const headId = (await side.snapshot()).commitId
    const rootId = (await side.snapshot()).contentId
    const cases: Record<string, [() => unknown, string]> = {
      'foreign small': [() => page.putReference('k', foreignSmall), 'REFERENCE_NOT_FOUND'],
      'foreign big': [() => page.putReference('k', foreignBig, { priority: 'lazy' }), 'REFERENCE_NOT_FOUND'],
      'garbage id': [() => page.putReference('k', { id: 'garbage', size: 3 }), 'REFERENCE_NOT_FOUND'],
      'empty id': [() => page.putReference('k', { id: '', size: 0 }), 'REFERENCE_NOT_FOUND'],
      'size tampered up': [() => page.putReference('k', { id: mine.id, size: mine.size + 1 }), 'REFERENCE_NOT_FOUND'],
      'size tampered down': [() => page.putReference('k', { id: mine.id, size: 10 }), 'REFERENCE_NOT_FOUND'],
      'null ref': [() => page.putReference('k', any(null)), 'INVALID_ARGUMENT'],
      'string ref': [() => page.putReference('k', any(mine.id)), 'INVALID_ARGUMENT'],
      'empty object ref': [() => page.putReference('k', any({})), 'INVALID_ARGUMENT'],
      'number id': [() => page.putReference('k', any({ id: 5, size: 1 })), 'INVALID_ARGUMENT'],
      'number key': [() => page.putReference(any(5), mine), 'INVALID_ARGUMENT'],
      'bad priority': [() => page.putReference('k', mine, { priority: any('high') }), 'INVALID_ARGUMENT'],
      'string options': [() => page.putReference('k', mine, any('lazy')), 'INVALID_ARGUMENT'],
      'key too large': [() => page.putReference(new Uint8Array(1025), mine), 'KEY_TOO_LARGE'],
      'a commit id as reference': [() => page.putReference('k', { id: headId, size: 10 }), 'REFERENCE_NOT_FOUND'],
      'a content id as reference': [() => page.putReference('k', { id: rootId, size: 10 }), 'REFERENCE_NOT_FOUND'],
    }
    const got: Record<string, string> = {}
    for (const [name, [call]] of Object.entries(cases)) got[name] = await codeOf(call)
    expect(got).toEqual(Object.fromEntries(Object.entries(cases).map(([n, [, code]]) => [n, code])))
    expect(await contents(page)).toEqual({})
    await page.putReference('k', mine)
    expect(same(await (await page.snapshot()).get('k'), seeded(80_000, 9))).toBe(true)
  })

  it('a reference may be put many times, under keys of different pages, eager and lazy, after its page connection closed and its first key was deleted', async () => {
    const ledger = await diskLedger()
    const maker = await ledger.page('maker')
    const data = seeded(120_000, 11)
    const ref = await maker.createReference(pieces(data, 30_000), { size: data.length })
    await maker.putReference('first', ref)
    await maker.delete('first')
    await maker.close()
    const p = await ledger.page('p')
    const q = await ledger.page(new Uint8Array(128).fill(7))
    await p.startTransaction()
    await p.putReference('a', ref)
    await p.putReference('b', ref, { priority: 'lazy' })
    await p.commit()
    await p.putReference('c', ref)
    await q.putReference('x', ref, { priority: 'lazy' })
    await (await ledger.rootPage()).putReference('root', ref)
    const ps = await p.snapshot()
    for (const k of ['a', 'b', 'c']) expect(same(await ps.get(k), data)).toBe(true)
    expect(await priorities(ps)).toEqual({ a: 'eager', b: 'lazy', c: 'eager' })
    const qs = await q.snapshot()
    expect(same(await qs.get('x'), data)).toBe(true)
    const [entry] = await collect(qs.entries())
    expect(entry!.priority).toBe('lazy')
    expect(same(entry!.value, data)).toBe(true) // lazy but local: value present
    expect(same(await (await (await ledger.rootPage()).snapshot()).get('root'), data)).toBe(true)
  })

  it('putting the value and priority a key already has creates no commit, whether by put or putReference', async () => {
    const ledger = await memoryLedger()
    const page = await ledger.page('p')
    const big = seeded(90_000, 12)
    await page.put('big', big)
    await page.put('small', 'tiny')
    const seen = await watchAll(page)
    const head = (await page.snapshot()).commitId
    await page.putReference('big', await page.createReference(pieces(big, 9_000)))
    await page.putReference('small', await page.createReference(utf8('tiny')))
    const ref = await page.createReference(big)
    await page.putReference('r', ref)
    const afterOne = (await page.snapshot()).commitId
    await page.putReference('r', ref)
    await page.put('r', big)
    await sleep(20)
    expect(afterOne).not.toBe(head)
    expect((await page.snapshot()).commitId).toBe(afterOne)
    expect(seen).toHaveLength(1)
  })

  it('a rejected putReference inside a transaction leaves the transaction going', async () => {
    const ledger = await memoryLedger()
    const page = await ledger.page('p')
    const foreign = await (await (await memoryLedger()).page('x')).createReference(seeded(10_000, 1))
    const mine = await page.createReference(seeded(10_000, 2))
    await page.startTransaction()
    await page.put('before', '1')
    expect(await codeOf(() => page.putReference('bad', foreign))).toBe('REFERENCE_NOT_FOUND')
    expect(await codeOf(() => page.putReference('bad', any(null)))).toBe('INVALID_ARGUMENT')
    await page.putReference('good', mine)
    await page.commit()
    expect(Object.keys(await contents(page))).toEqual(['before', 'good'])
  })

  it('a reference is plain data: a JSON round trip of it still works', async () => {
    const page = await (await memoryLedger()).page('p')
    const data = seeded(40_000, 5)
    const ref = await page.createReference(data)
    const copy = JSON.parse(JSON.stringify(ref)) as Reference
    await page.putReference('k', copy)
    expect(same(await (await page.snapshot()).get('k'), data)).toBe(true)
  })

  it('bytes given to put and createReference are copied: reusing the buffer afterwards changes nothing', async () => {
    const page = await (await memoryLedger()).page('p')
    const big = seeded(200_000, 6)
    const keep = big.slice()
    await page.put('put', big)
    const ref = await page.createReference(big)
    big.fill(0)
    await page.putReference('ref', ref)
    // A stream that reuses one buffer for every piece (as stream readers do).
    const buf = new Uint8Array(10_000)
    async function* reusing(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < keep.length; i += buf.length) {
        buf.set(keep.subarray(i, i + buf.length))
        yield buf.subarray(0, Math.min(buf.length, keep.length - i))
      }
    }
    await page.putReference('stream', await page.createReference(reusing()))
    const s = await page.snapshot()
    for (const k of ['put', 'ref', 'stream']) expect(`${k}: ${same(await s.get(k), keep)}`).toBe(`${k}: true`)
  })

  it('a reference stays valid for its ledger across a restart (disk)', async () => {
    const path = `${tempDir()}/db`
    const first = await Ledger.open({ path, autoSync: false })
    const page = await first.page('p')
    const data = seeded(60_000, 13)
    const ref = await page.createReference(data)
    await page.putReference('k', ref)
    const unused = await page.createReference(seeded(50_000, 14)) // created, never put
    await first.close()
    const again = await Ledger.open({ path, autoSync: false })
    onTestFinished(() => again.close())
    const q = await again.page('q')
    await q.putReference('copy', ref)
    expect(same(await (await q.snapshot()).get('copy'), data)).toBe(true)
    expect(await codeOf(() => q.putReference('unused', unused))).toBe('resolved') // same ledger, reopened
  })
})
