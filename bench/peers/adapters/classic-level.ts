// Raw classic-level (LevelDB): the floor. No versions, no content addressing, no replication.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { dirBytes } from '../../lib/fixtures.js'
import { type Bytes, type DiffResult, type HistoryResult, type PeerAdapter, type Skipped, type StoredResult, type SyncResult, versionOf } from '../lib/adapter.js'

type Raw = ClassicLevel<Uint8Array, Uint8Array>

const compare = (a: Bytes, b: Bytes): number => Buffer.compare(a, b)

export class ClassicLevelAdapter implements PeerAdapter {
  readonly name = 'classic-level'
  readonly versions = { 'classic-level': versionOf('classic-level') }
  readonly #dir = mkdtempSync(join(tmpdir(), 'peers-raw-'))
  #db: Raw | undefined
  /** The old version, kept for the diff. */
  #snapshot: ReturnType<Raw['snapshot']> | undefined

  async #open(): Promise<Raw> {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(join(this.#dir, 'db'), { keyEncoding: 'view', valueEncoding: 'view' })
    await db.open()
    return db
  }

  get #handle(): Raw {
    if (!this.#db) throw new Error('not loaded')
    return this.#db
  }

  async bulkLoad(keys: Bytes[], values: Bytes[]): Promise<void> {
    this.#db = await this.#open()
    const b = this.#db.batch()
    for (let i = 0; i < keys.length; i++) b.put(keys[i]!, values[i]!)
    await b.write()
  }

  async storedBytes(): Promise<StoredResult> {
    // Reopen once so the write-ahead log is flushed to a table, as bench/core.ts does.
    await this.#handle.close()
    this.#db = await this.#open()
    return { bytes: dirBytes(join(this.#dir, 'db')), method: 'LevelDB directory after reopen (dirBytes)' }
  }

  async get(key: Bytes): Promise<Bytes | undefined> {
    return this.#handle.get(key)
  }

  async scan(): Promise<number> {
    let c = 0
    for await (const _ of this.#handle.iterator()) c++
    return c
  }

  async diffAfterChange(changedKeys: Bytes[], newValues: Bytes[]): Promise<DiffResult> {
    // No versions: keep the old one as a LevelDB snapshot, then merge-scan old against new.
    const db = this.#handle
    this.#snapshot = db.snapshot()
    const t0 = performance.now()
    const b = db.batch()
    for (let i = 0; i < changedKeys.length; i++) b.put(changedKeys[i]!, newValues[i]!)
    await b.write()
    const applyMs = performance.now() - t0
    const t1 = performance.now()
    const keys = await this.diffAgain()
    return { applyMs, ms: performance.now() - t1, keys, method: 'merge-scan of a LevelDB snapshot against the current state (no structural diff)' }
  }

  async diffAgain(): Promise<number> {
    const snapshot = this.#snapshot
    if (!snapshot) throw new Error('diffAfterChange first')
    const db = this.#handle
    let keys = 0
    const before = db.iterator({ snapshot })
    const after = db.iterator()
    try {
      let x = await before.next()
      let y = await after.next()
      while (x !== undefined || y !== undefined) {
        const c = x === undefined ? 1 : y === undefined ? -1 : compare(x[0], y[0])
        if (c < 0) {
          keys++
          x = await before.next()
        } else if (c > 0) {
          keys++
          y = await after.next()
        } else {
          if (compare(x![1], y![1]) !== 0) keys++
          x = await before.next()
          y = await after.next()
        }
      }
    } finally {
      await before.close()
      await after.close()
    }
    return keys
  }

  async syncBytes(): Promise<SyncResult | Skipped> {
    return { skipped: 'no replication: LevelDB has no versions or sync protocol' }
  }

  async storedBytesAfterChange(): Promise<StoredResult | Skipped> {
    return { skipped: 'keeps one version only (the change overwrote values in place)' }
  }

  async historyIndependent(_keys: Bytes[], _values: Bytes[]): Promise<HistoryResult> {
    return { independent: null, entries: 0, note: 'n/a: no content-addressed root' }
  }

  async close(): Promise<void> {
    await this.#snapshot?.close()
    await this.#db?.close()
    rmSync(this.#dir, { recursive: true, force: true })
  }
}
