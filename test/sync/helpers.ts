import { expect, onTestFinished } from 'vitest'
import { Ledger, LedgerError, connectInMemory, type LedgerOptions, type Page, type SyncStats } from 'dagkv'
import { collect, str } from '../helpers/bytes.js'

/** Joins two ledgers (`a` connects to `b`); closed after the test. */
export type Linker = (a: Ledger, b: Ledger) => Promise<{ close(): Promise<void> }>

export const memoryLinker: Linker = async (a, b) => {
  const link = connectInMemory(a, b)
  onTestFinished(() => link.close())
  return link
}

export const websocketLinker: Linker = async (a, b) => {
  const server = await b.listen({ host: '127.0.0.1', port: 0 })
  onTestFinished(() => server.close())
  const peer = await a.connect(server.url)
  onTestFinished(() => peer.close())
  return {
    close: async () => {
      await peer.close()
      await server.close()
    },
  }
}

/** An in-memory ledger (autoSync off unless asked), closed after the test. */
export async function replica(options: LedgerOptions = {}): Promise<Ledger> {
  const ledger = await Ledger.open({ autoSync: false, ...options })
  onTestFinished(() => ledger.close())
  return ledger
}

/** A page's contents as a plain object (values as strings, lazy ones not here as null). */
export async function contents(page: Page): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {}
  for (const e of await collect((await page.snapshot()).entries())) out[str(e.key)!] = e.value === undefined ? null : str(e.value)!
  return out
}

export async function expectCode(p: Promise<unknown>, code: string): Promise<LedgerError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(LedgerError.is(err), `expected ${code}, got ${String(err)}`).toBe(true)
  expect((err as LedgerError).code).toBe(code)
  return err as LedgerError
}

export const ZERO: SyncStats = { commitsSent: 0, commitsReceived: 0, blocksSent: 0, blocksReceived: 0, bytesSent: 0, bytesReceived: 0, roundTrips: 0 }

export const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** A deterministic pseudo-random byte string. */
export function seeded(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size)
  let x = seed >>> 0 || 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/** Byte equality without vitest's element-by-element diffing (slow on megabytes). */
export function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
}
