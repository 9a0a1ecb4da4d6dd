// hyperbee on hypercore 10 with random-access-memory storage: an append-only B-tree whose
// nodes are log entries. Bulk load and change through `batch()`.
import { PassThrough } from 'node:stream'
import Hyperbee from 'hyperbee'
import Hypercore from 'hypercore'
import RAM from 'random-access-memory'
import { type Bytes, type DiffResult, type HistoryResult, type PeerAdapter, type Skipped, type StoredResult, type SyncResult, sum, twoHistories, versionOf } from '../lib/adapter.js'

interface Bee {
  core: Hypercore
  bee: Hyperbee
  files: RAM[]
}

async function openBee(): Promise<Bee> {
  const files: RAM[] = []
  const core = new Hypercore((_name: string) => {
    const f = new RAM()
    files.push(f)
    return f
  })
  await core.ready()
  const bee = new Hyperbee(core, { keyEncoding: 'binary', valueEncoding: 'binary' })
  await bee.ready()
  return { core, bee, files }
}

async function load(bee: Hyperbee, keys: Bytes[], values: Bytes[]): Promise<void> {
  const b = bee.batch()
  for (let i = 0; i < keys.length; i++) await b.put(keys[i]!, values[i]!)
  await b.flush()
}

const storage = (b: Bee): number => sum(b.files.map((f) => f.length))

/** A sparse clone of `core` replicating over an in-process stream; counts the bytes it receives. */
interface Replica {
  clone: Hypercore
  received: number
  close(): Promise<void>
}

async function replicate(core: Hypercore): Promise<Replica> {
  const clone = new Hypercore(() => new RAM(), core.key)
  await clone.ready()
  const a = core.replicate(true)
  const b = clone.replicate(false)
  const counter = new PassThrough()
  const replica: Replica = {
    clone,
    received: 0,
    async close() {
      a.destroy()
      b.destroy()
      await clone.close()
    },
  }
  counter.on('data', (d: Buffer) => {
    replica.received += d.length
  })
  a.pipe(counter).pipe(b).pipe(a)
  return replica
}

/** Let the replica learn the source's length and download blocks `start` to `end`. */
async function download(r: Replica, start: number, end: number): Promise<void> {
  await r.clone.update({ wait: true })
  await r.clone.download({ start, end }).done()
}

export class HyperbeeAdapter implements PeerAdapter {
  readonly name = 'hyperbee'
  readonly versions = { hyperbee: versionOf('hyperbee'), hypercore: versionOf('hypercore'), 'random-access-memory': versionOf('random-access-memory') }
  #b: Bee | undefined
  #oldByteLength = 0
  #oldLength = 0
  #oldVersion: number | undefined
  #replica: Replica | undefined
  #cloneBytes = 0

  get #bee(): Bee {
    if (!this.#b) throw new Error('not loaded')
    return this.#b
  }

  async bulkLoad(keys: Bytes[], values: Bytes[]): Promise<void> {
    this.#b = await openBee()
    await load(this.#b.bee, keys, values)
  }

  async storedBytes(): Promise<StoredResult> {
    return { bytes: storage(this.#bee), method: 'sum of random-access-memory file lengths (data, tree, bitfield, oplog)' }
  }

  async get(key: Bytes): Promise<Bytes | undefined> {
    return (await this.#bee.bee.get(key))?.value
  }

  async scan(): Promise<number> {
    let c = 0
    for await (const _ of this.#bee.bee.createReadStream()) c++
    return c
  }

  async diffAfterChange(changedKeys: Bytes[], newValues: Bytes[]): Promise<DiffResult> {
    const { bee, core } = this.#bee
    // Untimed: a sparse clone downloads the old version, to measure catching up later.
    const replica = await replicate(core)
    await download(replica, 0, core.length)
    this.#replica = replica
    this.#cloneBytes = replica.received
    replica.received = 0
    this.#oldVersion = bee.version
    this.#oldByteLength = core.byteLength
    this.#oldLength = core.length
    const t0 = performance.now()
    await load(bee, changedKeys, newValues)
    const applyMs = performance.now() - t0
    const t1 = performance.now()
    const keys = await this.diffAgain()
    return { applyMs, ms: performance.now() - t1, keys, method: 'Hyperbee createDiffStream(oldVersion)' }
  }

  async diffAgain(): Promise<number> {
    if (this.#oldVersion === undefined) throw new Error('diffAfterChange first')
    let keys = 0
    for await (const _ of this.#bee.bee.createDiffStream(this.#oldVersion)) keys++
    return keys
  }

  async syncBytes(): Promise<SyncResult | Skipped> {
    const { core } = this.#bee
    const r = this.#replica
    if (!r) throw new Error('diffAfterChange first')
    await download(r, this.#oldLength, core.length)
    return {
      bytes: core.byteLength - this.#oldByteLength,
      method: 'hypercore byteLength difference: data of the appended blocks (Merkle proofs and wire framing in detail.wireBytes)',
      detail: {
        blocks: core.length - this.#oldLength,
        wireBytes: r.received,
        wireCaughtUp: r.clone.length === core.length,
        fullCloneWireBytes: this.#cloneBytes,
      },
    }
  }

  async storedBytesAfterChange(): Promise<StoredResult | Skipped> {
    return { bytes: storage(this.#bee), method: 'sum of random-access-memory file lengths, both versions (the whole log)' }
  }

  async historyIndependent(keys: Bytes[], values: Bytes[]): Promise<HistoryResult> {
    const idx = keys.map((_, i) => i)
    const { a, b } = twoHistories(idx)
    const hashes: string[] = []
    for (const history of [a, b]) {
      const bee = await openBee()
      for (const batch of history) await load(bee.bee, batch.map((i) => keys[i]!), batch.map((i) => values[i]!))
      let count = 0
      for await (const _ of bee.bee.createReadStream()) count++
      if (count !== keys.length) throw new Error(`history kept ${count} of ${keys.length} entries`)
      hashes.push(Buffer.from(await bee.core.treeHash()).toString('hex'))
      await bee.bee.close()
      await bee.core.close()
    }
    return { independent: hashes[0] === hashes[1], entries: keys.length, note: 'no (log): compared hypercore treeHash(), which hashes the log, i.e. the history' }
  }

  async close(): Promise<void> {
    await this.#replica?.close()
    await this.#b?.bee.close()
    await this.#b?.core.close()
  }
}
