/** Black-box acceptance tests (package root only). API.md "Ledger": open, close, pages, rootPage, replicaId, LOCKED, races with close. */
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import { describe, expect, it } from 'vitest'
import { Ledger, LedgerError, type Page } from 'dagkv'
import { collect, str, until, utf8 } from '../helpers/bytes.js'
import { memoryLedger, tempDir } from '../helpers/ledgers.js'
import { backends, asyncCodeOf, cmp, hex, keysOf, within } from './api-helpers.js'

describe('Ledger', () => {
  it('has the replicaId asked for, or a generated one distinct per ledger', async () => {
    const named = await memoryLedger({ replicaId: 'alice' })
    expect(named.replicaId).toBe('alice')
    const a = await memoryLedger()
    const b = await memoryLedger()
    expect(typeof a.replicaId).toBe('string')
    expect(a.replicaId.length).toBeGreaterThan(0)
    expect(a.replicaId).not.toBe(b.replicaId)
  })

  for (const [name, open] of backends) {
    it(`${name}: pages() lists only pages with a commit, sorted by unsigned bytes`, async () => {
      const ledger = await open()
      expect(await ledger.pages()).toEqual([])
      const ids: Uint8Array[] = [utf8('b'), utf8('a'), Uint8Array.of(0xff), utf8('B'), Uint8Array.of(0), new Uint8Array(16), utf8('é'), utf8('ab')]
      for (const id of ids) await (await ledger.page(id)).put('k', 'v')
      // pages opened but never committed to: no-op writes, an empty transaction, a rolled-back one
      await ledger.page('opened-only')
      await ledger.page()
      const noop = await ledger.page('noop')
      await noop.delete('absent')
      await noop.clear()
      await noop.startTransaction()
      await noop.commit()
      await noop.startTransaction()
      await noop.put('x', 'y')
      await noop.rollback()
      // a page whose content went back to empty still has commits
      const back = await ledger.page('back-to-empty')
      await back.put('x', 'y')
      await back.delete('x')
      ids.push(utf8('back-to-empty'))
      const listed = await ledger.pages()
      expect(listed.map(hex)).toEqual([...ids].sort(cmp).map(hex))
      for (const id of listed) expect(id.constructor).toBe(Uint8Array)
      listed[0]!.fill(0x77)
      expect((await ledger.pages()).map(hex)).toEqual([...ids].sort(cmp).map(hex))
    })
  }

  it('rootPage() is the page of 16 zero bytes, the same page as page(new Uint8Array(16))', async () => {
    const ledger = await memoryLedger()
    const root = await ledger.rootPage()
    expect(root.id).toEqual(new Uint8Array(16))
    expect(root.id.constructor).toBe(Uint8Array)
    await root.put('k', 'root')
    const same = await ledger.page(new Uint8Array(16))
    expect(str(await (await same.snapshot()).get('k'))).toBe('root')
    expect(str(await (await (await ledger.rootPage()).snapshot()).get('k'))).toBe('root')
    expect((await ledger.pages()).map(hex)).toEqual([hex(new Uint8Array(16))])
  })

  it('a string page id and its UTF-8 bytes name one page; page() without id opens distinct random 16-byte pages', async () => {
    const ledger = await memoryLedger()
    await (await ledger.page('päge')).put('k', 'v')
    expect(str(await (await (await ledger.page(utf8('päge'))).snapshot()).get('k'))).toBe('v')
    const r1 = await ledger.page()
    const r2 = await ledger.page()
    expect(r1.id).toHaveLength(16)
    expect(r2.id).toHaveLength(16)
    expect(hex(r1.id)).not.toBe(hex(r2.id))
    await r1.put('x', '1')
    expect(await (await r2.snapshot()).get('x')).toBeUndefined()
    expect(str(await (await (await ledger.page(r1.id)).snapshot()).get('x'))).toBe('1')
  })

  it('mutating page.id does not redirect the connection', async () => {
    const ledger = await memoryLedger()
    const page = await ledger.page('orig')
    page.id.fill(0x41)
    await page.put('k', 'v')
    expect((await ledger.pages()).map((p) => str(p))).toEqual(['orig'])
    expect(str(await (await (await ledger.page('orig')).snapshot()).get('k'))).toBe('v')
  })

  it('close() may be called many times, also concurrently, with a write pending', async () => {
    const ledger = await Ledger.open({ autoSync: false })
    const page = await ledger.page('p')
    const pending = page.put('k', 'v')
    const pendingCode = asyncCodeOf(() => pending)
    const closes = Promise.all([ledger.close(), ledger.close(), ledger.close()])
    expect(await within(closes, 5000)).not.toBe('timeout')
    expect(['resolved', 'CLOSED']).toContain(await within(pendingCode, 5000))
    expect(await ledger.close()).toBeUndefined()
    expect(await page.close()).toBeUndefined() // closing a page of a closed ledger does nothing
    expect(await asyncCodeOf(() => ledger.page('p'))).toBe('CLOSED')
    expect(await asyncCodeOf(() => page.snapshot())).toBe('CLOSED')
  })

  it('disk: closing the ledger rolls back open transactions and keeps committed writes', async () => {
    const path = join(tempDir(), 'db')
    const first = await Ledger.open({ path, autoSync: false })
    const page = await first.page('p')
    await page.put('committed', '1')
    await page.startTransaction()
    await page.put('uncommitted', '2')
    const other = await first.page('q')
    await other.startTransaction()
    await other.put('never', '3')
    await first.close()
    const second = await Ledger.open({ path, autoSync: false })
    onTestFinished(() => second.close())
    expect(second.replicaId).toBe(first.replicaId)
    expect((await second.pages()).map((p) => str(p))).toEqual(['p'])
    expect(await keysOf(await (await second.page('p')).snapshot())).toEqual(['committed'])
  })

  it('a rejected LOCKED open leaves both the holder and the path usable', async () => {
    const path = join(tempDir(), 'db')
    const first = await Ledger.open({ path, autoSync: false })
    expect(await asyncCodeOf(() => Ledger.open({ path }))).toBe('LOCKED')
    expect(await asyncCodeOf(() => Ledger.open({ path, replicaId: 'other' }))).toBe('LOCKED')
    await (await first.page('p')).put('k', 'v')
    await first.close()
    const second = await Ledger.open({ path, autoSync: false })
    onTestFinished(() => second.close())
    expect(str(await (await (await second.page('p')).snapshot()).get('k'))).toBe('v')
  })

  it('connections opened concurrently to one new page share it', async () => {
    const ledger = await memoryLedger()
    const [c1, c2, c3] = await Promise.all([ledger.page('new'), ledger.page('new'), ledger.page(utf8('new'))])
    await c1.put('k', 'v')
    await until(async () => str(await (await c2.snapshot()).get('k')) === 'v')
    await until(async () => str(await (await c3.snapshot()).get('k')) === 'v')
    expect((await ledger.pages()).map((p) => str(p))).toEqual(['new'])
  })

  it('a page() racing ledger.close() settles, and a page it yields is closed', async () => {
    const ledger = await Ledger.open({ autoSync: false })
    const opening = ledger.page('p').then(
      (page) => page,
      (e: unknown) => e,
    )
    await ledger.close()
    const result = await within(opening, 3000)
    if (result instanceof LedgerError) expect(result.code).toBe('CLOSED')
    else {
      expect(result).not.toBe('timeout')
      expect(await asyncCodeOf(() => (result as Page).put('k', 'v'))).toBe('CLOSED')
    }
  })

  for (const [name, open] of backends) {
    it(`${name}: reads and writes racing ledger.close() settle with their result or CLOSED, never another error`, async () => {
      const ledger = await open()
      const page = await ledger.page('p')
      await page.startTransaction()
      for (let i = 0; i < 3000; i++) await page.put(`k${String(i).padStart(5, '0')}`, `value-${i}`)
      await page.commit()
      const s = await page.snapshot()
      const it = s.keys()[Symbol.asyncIterator]()
      expect((await it.next()).done).toBe(false)
      const racing = [
        asyncCodeOf(() => page.put('x', 'y')),
        asyncCodeOf(() => s.getEntries({ limit: 2000 })),
        asyncCodeOf(() => s.get('k02999')),
        asyncCodeOf(() => collect(s.entries({ reverse: true }))),
        asyncCodeOf(() => page.snapshot()),
      ]
      await ledger.close()
      const rest = asyncCodeOf(async () => {
        for (let r = await it.next(); !r.done; r = await it.next()) {
          /* drain */
        }
      })
      for (const code of await Promise.all([...racing, rest])) expect(['resolved', 'CLOSED']).toContain(code)
      expect(await asyncCodeOf(() => s.getEntries())).toBe('CLOSED')
    })
  }

  it('opening a path that is a regular file fails with a LedgerError', async () => {
    const { writeFileSync } = await import('node:fs')
    const file = join(tempDir(), 'not-a-dir')
    writeFileSync(file, 'x')
    const code = await asyncCodeOf(async () => (await Ledger.open({ path: file })).close())
    expect(['IO_ERROR', 'INVALID_ARGUMENT']).toContain(code)
  })

  it('ledger.close() does not hang on a listener that never settles, even with a startTransaction waiting for it', async () => {
    const ledger = await Ledger.open({ autoSync: false })
    const page = await ledger.page('p')
    let called = false
    await page.watch(() => {
      called = true
      return new Promise<void>(() => {}) // never settles
    })
    await page.put('k', 'v')
    await until(() => called)
    const tx = asyncCodeOf(() => page.startTransaction())
    expect(await within(ledger.close(), 3000)).not.toBe('timeout')
    expect(['resolved', 'CLOSED']).toContain(await within(tx, 3000))
  })
})

// ---------------------------------------------------------------------------------------------
