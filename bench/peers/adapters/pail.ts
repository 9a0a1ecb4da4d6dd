// @web3-storage/pail: a sharded DAG (prefix trie of dag-cbor shards) in a MemoryBlockstore.
// Values are CIDs; a 100-byte value goes inline as an identity CID (raw codec), so no extra
// value blocks are stored, hashed or fetched — the cheapest honest mapping for small values.
import { entries, get } from '@web3-storage/pail'
import type { ShardLink, UnknownLink } from '@web3-storage/pail/api'
import * as Batch from '@web3-storage/pail/batch'
import { MemoryBlockstore } from '@web3-storage/pail/block'
import { difference } from '@web3-storage/pail/diff'
import { ShardBlock } from '@web3-storage/pail/shard'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { identity } from 'multiformats/hashes/identity'
import { type Bytes, type DiffResult, type HistoryResult, type PeerAdapter, type Skipped, type StoredResult, type SyncResult, keyString, sum, twoHistories, versionOf } from '../lib/adapter.js'

const toLink = (value: Bytes): UnknownLink => CID.create(1, raw.code, identity.digest(value)) as unknown as UnknownLink
const fromLink = (link: UnknownLink): Bytes => link.multihash.digest

interface Shard { cid: ShardLink; bytes: Uint8Array }

async function build(blocks: MemoryBlockstore, root: ShardLink, keys: string[], values: Bytes[], keepRemoved: boolean): Promise<{ root: ShardLink; additions: Shard[] }> {
  const batch = await Batch.create(blocks, root)
  for (let i = 0; i < keys.length; i++) await batch.put(keys[i]!, toLink(values[i]!))
  const res = await batch.commit()
  for (const b of res.additions) blocks.putSync(b.cid, b.bytes)
  if (!keepRemoved) for (const b of res.removals) blocks.deleteSync(b.cid)
  return { root: res.root, additions: res.additions }
}

async function empty(blocks: MemoryBlockstore): Promise<ShardLink> {
  const init = await ShardBlock.create()
  blocks.putSync(init.cid, init.bytes)
  return init.cid
}

const storeBytes = (blocks: MemoryBlockstore): number => sum(Array.from(blocks.entries(), (e) => e.bytes.length))

export class PailAdapter implements PeerAdapter {
  readonly name = 'pail'
  readonly versions = { '@web3-storage/pail': versionOf('@web3-storage/pail') }
  readonly #blocks = new MemoryBlockstore()
  #root: ShardLink | undefined
  #old: ShardLink | undefined
  #syncBytes = 0
  #syncBlocks = 0

  get #r(): ShardLink {
    if (!this.#root) throw new Error('not loaded')
    return this.#root
  }

  async bulkLoad(keys: Bytes[], values: Bytes[]): Promise<void> {
    const init = await empty(this.#blocks)
    this.#root = (await build(this.#blocks, init, keys.map(keyString), values, false)).root
  }

  async storedBytes(): Promise<StoredResult> {
    return { bytes: storeBytes(this.#blocks), method: 'sum of block bytes in the MemoryBlockstore (one version)' }
  }

  async get(key: Bytes): Promise<Bytes | undefined> {
    const link = await get(this.#blocks, this.#r, keyString(key))
    return link && fromLink(link)
  }

  async scan(): Promise<number> {
    let c = 0
    for await (const _ of entries(this.#blocks, this.#r)) c++
    return c
  }

  async diffAfterChange(changedKeys: Bytes[], newValues: Bytes[]): Promise<DiffResult> {
    const old = this.#r
    const t0 = performance.now()
    const res = await build(this.#blocks, old, changedKeys.map(keyString), newValues, true)
    const applyMs = performance.now() - t0
    this.#old = old
    this.#root = res.root
    const t1 = performance.now()
    const diff = await this.#difference()
    const ms = performance.now() - t1
    // The shards new in the second version are exactly what a replica holding the first lacks.
    this.#syncBytes = sum(diff.shards.additions.map((b) => b.bytes.length))
    this.#syncBlocks = diff.shards.additions.length
    return { applyMs, ms, keys: diff.keys.length, method: 'pail/diff difference(blocks, old, new)' }
  }

  async diffAgain(): Promise<number> {
    return (await this.#difference()).keys.length
  }

  #difference(): ReturnType<typeof difference> {
    if (!this.#old || !this.#root) throw new Error('diffAfterChange first')
    return difference(this.#blocks, this.#old, this.#root)
  }

  async syncBytes(): Promise<SyncResult | Skipped> {
    if (!this.#old) throw new Error('diffAfterChange first')
    return {
      bytes: this.#syncBytes,
      method: 'sum of shard blocks in the new version absent from the old (difference().shards.additions); no wire protocol overhead counted',
      detail: { blocks: this.#syncBlocks },
    }
  }

  async storedBytesAfterChange(): Promise<StoredResult | Skipped> {
    return { bytes: storeBytes(this.#blocks), method: 'sum of block bytes, both versions kept' }
  }

  async historyIndependent(keys: Bytes[], values: Bytes[]): Promise<HistoryResult> {
    const idx = keys.map((_, i) => i)
    const { a, b } = twoHistories(idx)
    const roots: string[] = []
    for (const history of [a, b]) {
      const blocks = new MemoryBlockstore()
      let root = await empty(blocks)
      for (const batch of history) {
        root = (await build(blocks, root, batch.map((i) => keyString(keys[i]!)), batch.map((i) => values[i]!), false)).root
      }
      let count = 0
      for await (const _ of entries(blocks, root)) count++
      if (count !== keys.length) throw new Error(`history kept ${count} of ${keys.length} entries`)
      roots.push(root.toString())
    }
    return { independent: roots[0] === roots[1], entries: keys.length, note: 'root shard CID' }
  }

  async close(): Promise<void> {}
}
