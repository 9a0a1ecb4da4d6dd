// The common face of every system in the peers benchmark. One adapter per system in
// `bench/peers/adapters/<name>.ts`; `bench/peers/run.ts` drives them all the same way.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export type Bytes = Uint8Array

/** Diff of two versions after a 1 % change. */
export interface DiffResult {
  /** Time to commit the change as a new version (not the diff). */
  applyMs: number
  /** Time to compute the diff between the two versions, the first time (JIT warm-up included). */
  ms: number
  /** Best time of the first diff and `bestOf` more passes of `diffAgain` (added by run.ts). */
  bestMs?: number
  bestOf?: number
  /** Keys the diff reported as changed (must equal the number of distinct changed keys). */
  keys: number
  /** How the diff was computed. */
  method: string
}

/** Bytes a replica holding the old version receives to catch up on the change. */
export interface SyncResult {
  bytes: number
  method: string
  /** Other figures the system reports (blocks, round trips, alternative measures). */
  detail?: Record<string, number | string | boolean>
}

export interface StoredResult {
  bytes: number
  method: string
}

export interface HistoryResult {
  /** `null` when the question does not apply (no content-addressed root). */
  independent: boolean | null
  entries: number
  note: string
}

/** What a system cannot do is recorded as skipped with a reason, never as a number. */
export interface Skipped {
  skipped: string
}

export interface PeerAdapter {
  readonly name: string
  /** Package versions this adapter measures. */
  readonly versions: Record<string, string>
  /** Load every entry as one version, with the system's batch API where it has one. */
  bulkLoad(keys: Bytes[], values: Bytes[]): Promise<void>
  /** Bytes stored for the loaded version (called right after `bulkLoad`). */
  storedBytes(): Promise<StoredResult | Skipped>
  get(key: Bytes): Promise<Bytes | undefined>
  /** Full ordered scan of the loaded version; returns the number of entries seen. */
  scan(): Promise<number>
  /** Apply the change as a new version, then diff the two versions. */
  diffAfterChange(changedKeys: Bytes[], newValues: Bytes[]): Promise<DiffResult>
  /** The same diff of the same two versions again (after `diffAfterChange`); returns its key count. */
  diffAgain(): Promise<number>
  /** Bytes a replica holding the old version must receive to catch up (after `diffAfterChange`). */
  syncBytes(): Promise<SyncResult | Skipped>
  /** Bytes stored once both versions exist, where the system keeps history (after `syncBytes`). */
  storedBytesAfterChange(): Promise<StoredResult | Skipped>
  /**
   * Same entries, two insertion histories (order A in one batch; order B, reversed, in ten
   * batches) → same root? Uses its own small instances.
   */
  historyIndependent(keys: Bytes[], values: Bytes[]): Promise<HistoryResult>
  close(): Promise<void>
}

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..')

/** Installed version of a package, read from its package.json. */
export function versionOf(pkg: string): string {
  const json = JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }
  return json.version
}

/** dagkv's own version. */
export function ownVersion(): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version
}

/** Dataset keys are lowercase ASCII, so latin1 strings keep byte order for string-keyed peers. */
export const keyString = (k: Bytes): string => Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('latin1')

/** The two insertion histories used by `historyIndependent`: A as given, B reversed in ten batches. */
export function twoHistories<T>(items: T[]): { a: T[][]; b: T[][] } {
  const reversed = items.slice().reverse()
  const size = Math.ceil(items.length / 10)
  const b: T[][] = []
  for (let i = 0; i < reversed.length; i += size) b.push(reversed.slice(i, i + size))
  return { a: [items.slice()], b }
}

export const sum = (xs: Iterable<number>): number => {
  let t = 0
  for (const x of xs) t += x
  return t
}
