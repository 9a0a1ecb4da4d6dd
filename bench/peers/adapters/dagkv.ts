// dagkv, one transaction per version; sync over connectInMemory. On disk (classic-level) by
// default; `memory: true` runs the same on its in-memory store, to compare like with like
// against the peers that keep their blocks in memory.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectInMemory, Ledger, type MemoryLink, type Page, type Snapshot } from '../../../src/index.js'
import { engineOf } from '../../../src/ledger/index.js'
import { dirBytes } from '../../lib/fixtures.js'
import { type Bytes, type DiffResult, type HistoryResult, type PeerAdapter, type Skipped, type StoredResult, type SyncResult, ownVersion, twoHistories } from '../lib/adapter.js'

const PAGE = 'bench'

export class DagkvAdapter implements PeerAdapter {
  readonly name: string
  readonly versions = { dagkv: ownVersion() }
  readonly #memory: boolean
  readonly #dir: string | undefined
  #ledger: Ledger | undefined
  #page: Page | undefined
  #snap: Snapshot | undefined
  #after: Snapshot | undefined
  #replica: { ledger: Ledger; page: Page; link: MemoryLink; cloneBytes: number } | undefined

  constructor(options: { memory?: boolean } = {}) {
    this.#memory = options.memory ?? false
    this.name = this.#memory ? 'dagkv-mem' : 'dagkv'
    this.#dir = this.#memory ? undefined : mkdtempSync(join(tmpdir(), 'peers-dagkv-'))
  }

  get #path(): string {
    if (!this.#dir) throw new Error('in memory')
    return join(this.#dir, 'db')
  }

  async #open(): Promise<void> {
    this.#ledger = await Ledger.open(this.#memory ? { autoSync: false } : { path: this.#path, autoSync: false })
    this.#page = await this.#ledger.page(PAGE)
    this.#snap = undefined
  }

  get #p(): Page {
    if (!this.#page) throw new Error('not loaded')
    return this.#page
  }

  async #snapshot(): Promise<Snapshot> {
    this.#snap ??= await this.#p.snapshot()
    return this.#snap
  }

  async bulkLoad(keys: Bytes[], values: Bytes[]): Promise<void> {
    await this.#open()
    const page = this.#p
    await page.startTransaction()
    for (let i = 0; i < keys.length; i++) void page.put(keys[i]!, values[i]!)
    await page.commit()
  }

  /**
   * Bytes the in-memory store holds for its blocks: whole blocks, and rewritten nodes as delta
   * records (what pail and prolly-trees report is their block bytes, all whole).
   */
  async #blockBytes(): Promise<number> {
    return engineOf(this.#ledger!).store.recordBytes()
  }

  async storedBytes(): Promise<StoredResult | Skipped> {
    if (this.#memory) return { bytes: await this.#blockBytes(), method: 'sum of stored block records in the in-memory store (one version)' }
    await this.#ledger?.close()
    await this.#open()
    return { bytes: dirBytes(this.#path), method: 'LevelDB directory after reopen (dirBytes)' }
  }

  async get(key: Bytes): Promise<Bytes | undefined> {
    return (await this.#snapshot()).get(key)
  }

  async scan(): Promise<number> {
    let c = 0
    for await (const _ of (await this.#snapshot()).entries()) c++
    return c
  }

  async diffAfterChange(changedKeys: Bytes[], newValues: Bytes[]): Promise<DiffResult> {
    // Untimed: a second ledger (in memory) pulls the old version, to measure catching up later.
    const replica = await Ledger.open({ autoSync: false })
    const link = connectInMemory(this.#ledger!, replica)
    const rpage = await replica.page(PAGE)
    const clone = await rpage.sync({ mode: 'pull' })
    this.#replica = { ledger: replica, page: rpage, link, cloneBytes: clone.bytesReceived }

    await this.#snapshot() // the old version, diffed against below
    const page = this.#p
    const t0 = performance.now()
    await page.startTransaction()
    for (let i = 0; i < changedKeys.length; i++) void page.put(changedKeys[i]!, newValues[i]!)
    await page.commit()
    const applyMs = performance.now() - t0
    const t1 = performance.now()
    this.#after = await page.snapshot()
    const keys = await this.diffAgain()
    return { applyMs, ms: performance.now() - t1, keys, method: 'Snapshot.diff (Merkle tree diff, skips equal subtrees)' }
  }

  async diffAgain(): Promise<number> {
    if (!this.#snap || !this.#after) throw new Error('diffAfterChange first')
    let keys = 0
    for await (const _ of this.#snap.diff(this.#after)) keys++
    return keys
  }

  async syncBytes(): Promise<SyncResult | Skipped> {
    const r = this.#replica
    if (!r || !this.#after) throw new Error('diffAfterChange first')
    const stats = await r.page.sync({ mode: 'pull' })
    const caughtUp = (await r.page.snapshot()).contentId === this.#after.contentId
    return {
      bytes: stats.bytesReceived,
      method: 'connectInMemory, replica page.sync({ mode: "pull" }) → SyncStats.bytesReceived',
      detail: {
        blocksReceived: stats.blocksReceived,
        commitsReceived: stats.commitsReceived,
        bytesSent: stats.bytesSent,
        roundTrips: stats.roundTrips,
        caughtUp,
        fullCloneBytes: r.cloneBytes,
      },
    }
  }

  async storedBytesAfterChange(): Promise<StoredResult | Skipped> {
    if (this.#memory) return { bytes: await this.#blockBytes(), method: 'sum of stored block records in the in-memory store (rewritten nodes as deltas), both versions kept' }
    await this.#replica?.link.close()
    await this.#replica?.ledger.close()
    this.#replica = undefined
    await this.#ledger?.close()
    await this.#open()
    return { bytes: dirBytes(this.#path), method: 'LevelDB directory after reopen, both versions kept' }
  }

  async historyIndependent(keys: Bytes[], values: Bytes[]): Promise<HistoryResult> {
    const idx = keys.map((_, i) => i)
    const { a, b } = twoHistories(idx)
    const ids: string[] = []
    for (const history of [a, b]) {
      const ledger = await Ledger.open({ autoSync: false })
      const page = await ledger.page(PAGE)
      for (const batch of history) {
        await page.startTransaction()
        for (const i of batch) void page.put(keys[i]!, values[i]!)
        await page.commit()
      }
      const snap = await page.snapshot()
      let count = 0
      for await (const _ of snap.keys()) count++
      if (count !== keys.length) throw new Error(`history kept ${count} of ${keys.length} entries`)
      ids.push(snap.contentId)
      await ledger.close()
    }
    return { independent: ids[0] === ids[1], entries: keys.length, note: 'Snapshot.contentId (tree root CID)' }
  }

  async close(): Promise<void> {
    await this.#replica?.link.close()
    await this.#replica?.ledger.close()
    await this.#ledger?.close()
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true })
  }
}
