import { describe, expect, it } from 'vitest'
import type { Ledger, Page, Snapshot } from 'dagkv'
import { collect } from '../helpers/bytes.js'
import type { LedgerFactory } from '../helpers/ledgers.js'
import { expectCode } from './ledger-basics.js'

type PageCall = [string, (p: Page) => Promise<unknown> | unknown]
const pageCalls: PageCall[] = [
  ['put', (p) => p.put('k', 'v')],
  ['delete', (p) => p.delete('k')],
  ['clear', (p) => p.clear()],
  ['createReference', (p) => p.createReference(new Uint8Array(3))],
  ['putReference', (p) => p.putReference('k', { id: 'x', size: 1 })],
  ['startTransaction', (p) => p.startTransaction()],
  ['commit', (p) => p.commit()],
  ['rollback', (p) => p.rollback()],
  ['snapshot', (p) => p.snapshot()],
  ['watch', (p) => p.watch(() => {})],
  ['waitForConflictResolution', (p) => p.waitForConflictResolution()],
  ['conflicts', (p) => p.conflicts()],
  ['sync', (p) => p.sync()],
  ['syncState', (p) => p.syncState()],
  ['onSyncState', (p) => p.onSyncState(() => {})],
]
type SnapCall = [string, (s: Snapshot) => Promise<unknown>]
const snapshotCalls: SnapCall[] = [
  ['get', (s) => s.get('k')],
  ['fetch', (s) => s.fetch('k')],
  ['fetchPartial', (s) => s.fetchPartial('k', 0, 1)],
  ['entries', (s) => collect(s.entries())],
  ['keys', (s) => collect(s.keys())],
  ['getEntries', (s) => s.getEntries()],
  ['diff', (s) => collect(s.diff(s))],
]
type LedgerCall = [string, (l: Ledger) => Promise<unknown>]
const ledgerCalls: LedgerCall[] = [
  ['page', (l) => l.page('p')],
  ['rootPage', (l) => l.rootPage()],
  ['pages', (l) => l.pages()],
  ['setMergePolicy', (l) => l.setMergePolicy('p', 'last-one-wins')],
  ['listen', (l) => l.listen()],
  ['connect', (l) => l.connect('ws://127.0.0.1:1')],
]

/** Every method after close → CLOSED; generated from one list per object. */
export function ledgerClosedSuite(name: string, open: LedgerFactory): void {
  describe(`${name}: after close`, () => {
    for (const [method, call] of pageCalls) {
      it(`page.${method} → CLOSED after page.close(); snapshots keep working`, async () => {
        const page = await (await open()).page('p')
        await page.put('k', 'v')
        const snap = await page.snapshot()
        await page.close()
        await page.close()
        await expectCode(async () => call(page), 'CLOSED')
        expect(await snap.get('k')).toBeDefined()
      })
    }
    for (const [method, call] of ledgerCalls) {
      it(`ledger.${method} → CLOSED after ledger.close()`, async () => {
        const ledger = await open()
        await ledger.close()
        await ledger.close()
        await expectCode(call(ledger), 'CLOSED')
      })
    }
    for (const [method, call] of snapshotCalls) {
      it(`snapshot.${method} → CLOSED after ledger.close()`, async () => {
        const ledger = await open()
        const page = await ledger.page('p')
        const snap = await page.snapshot()
        await ledger.close()
        await expectCode(call(snap), 'CLOSED')
        await expectCode(async () => page.put('k', 'v'), 'CLOSED')
      })
    }
  })
}
