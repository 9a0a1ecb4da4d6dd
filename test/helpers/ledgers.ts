import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import { Ledger, type LedgerOptions } from 'dagkv'

/** A factory for ledgers on one backend; each is closed (and its directory removed) after the test. */
export type LedgerFactory = (options?: LedgerOptions) => Promise<Ledger>

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dagkv-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export const memoryLedger: LedgerFactory = async (options) => {
  const ledger = await Ledger.open({ autoSync: false, ...options })
  onTestFinished(() => ledger.close())
  return ledger
}

export const diskLedger: LedgerFactory = async (options) => {
  const ledger = await Ledger.open({ autoSync: false, path: join(tempDir(), 'db'), ...options })
  onTestFinished(() => ledger.close())
  return ledger
}
