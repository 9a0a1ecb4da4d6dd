import { describe, expect, it } from 'vitest'
import { collect, str, utf8 } from '../helpers/bytes.js'
import { diskLedger, memoryLedger } from '../helpers/ledgers.js'
import { expectCode } from '../suites/ledger-basics.js'

/** Byte equality without vitest's per-element deep compare (slow on megabytes). */
const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && Buffer.compare(a, b) === 0

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

async function* pieces(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size)
}

describe('values through the page API', () => {
  it('puts and reads a 4 MiB value inline, and equal values under two keys share one content', async () => {
    const page = await (await memoryLedger()).page('v')
    const big = bytes(4 * 1024 * 1024)
    await page.put('a', big)
    const snap = await page.snapshot()
    const got = await snap.get('a')
    expect(got?.constructor).toBe(Uint8Array)
    expect(same(got, big)).toBe(true)
    const p2 = await (await memoryLedger()).page('w')
    await p2.put('a', big)
    expect((await p2.snapshot()).contentId).toBe(snap.contentId)
  })

  it('streams a reference, puts it under keys of two pages, and reads slices', async () => {
    const ledger = await diskLedger()
    const page = await ledger.page('v')
    const data = bytes(300_000, 7)
    const ref = await page.createReference(pieces(data, 10_000), { size: data.length })
    expect(ref.size).toBe(data.length)
    await page.putReference('file', ref)
    const other = await ledger.page('other')
    await other.putReference('copy', ref, { priority: 'lazy' })
    const snap = await page.snapshot()
    expect(same(await snap.get('file'), data)).toBe(true)
    expect(await snap.fetchPartial('file', 10, 20)).toEqual(data.slice(10, 30))
    expect(await snap.fetchPartial('file', -5, -1)).toEqual(data.slice(-5))
    expect(await snap.fetchPartial('file', 299_990, 100)).toEqual(data.slice(299_990))
    expect(await snap.fetchPartial('file', 300_000, 10)).toEqual(new Uint8Array(0))
    expect(await snap.fetchPartial('file', -300_001, 10)).toEqual(new Uint8Array(0))
    expect(await snap.fetchPartial('missing', 0, 1)).toBeUndefined()
    const entries = await collect((await other.snapshot()).entries())
    expect(entries[0]?.priority).toBe('lazy')
    expect(same(entries[0]?.value, data)).toBe(true) // stored here, so present
  })

  it('gives a small reference the same content as a put of the same bytes', async () => {
    const ledger = await memoryLedger()
    const a = await ledger.page('a')
    const b = await ledger.page('b')
    await a.put('k', 'tiny')
    await b.putReference('k', await b.createReference(utf8('tiny')))
    expect((await a.snapshot()).contentId).toBe((await b.snapshot()).contentId)
    expect(str(await (await b.snapshot()).get('k'))).toBe('tiny')
  })

  it('refuses a size mismatch and a reference it never issued, and stays usable', async () => {
    const ledger = await memoryLedger()
    const page = await ledger.page('v')
    await expectCode(page.createReference(bytes(100), { size: 99 }), 'INVALID_ARGUMENT')
    await expectCode(page.createReference(pieces(bytes(1000), 100), { size: 2000 }), 'INVALID_ARGUMENT')
    await expectCode(page.putReference('k', { id: 'nonsense', size: 3 }), 'REFERENCE_NOT_FOUND')
    const foreign = await (await memoryLedger()).page('x')
    const ref = await foreign.createReference(bytes(70_000, 3))
    await expectCode(page.putReference('k', ref), 'REFERENCE_NOT_FOUND')
    await expectCode(page.putReference('k', null as never), 'INVALID_ARGUMENT')
    await page.put('k', 'fine')
    expect(str(await (await page.snapshot()).get('k'))).toBe('fine')
  })
})
