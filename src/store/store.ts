import { ClassicLevel } from 'classic-level'
import { LRUCache } from 'lru-cache'
import { MemoryLevel } from 'memory-level'
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import { CID, RAW_CODE, cidKey, compareBytes, fromHex, toHex, type Block } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import { DeltaBlocks, type BlockRecord } from './delta-blocks.js'
import type { BlockReader, StoreBlock, StoreWrite } from './interface.js'
import { acquirePath, releasePath } from './lock-registry.js'
import { decodePointer, encodePointer, ValueLog, type LogPointer } from './value-log.js'

type Bin = Uint8Array
type Db = AbstractLevel<Bin, Bin, Bin>
type Sub = AbstractSublevel<Db, Bin, Bin, Bin>

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()
const EMPTY = new Uint8Array(0)

type BatchOp = { type: 'put'; key: Bin; value: Bin } | { type: 'del'; key: Bin }

/** Value-log pointers kept in memory (~200 bytes each, ~1.2 GiB of chunks): recent ones skip LevelDB. */
const POINTER_CACHE_ENTRIES = 32_768


/** Options of `Store.open` beyond the path (for tests and tools). */
export interface StoreOptions {
  /**
   * Keep raw blocks (value chunks) in append-only files beside the tables. @default true on disk.
   * `false` is for tests of older stores: chunks already in a log are not seen without it.
   */
  valueLog?: boolean
  /** Bytes per value-log segment file. */
  segmentBytes?: number
  /** Store rewritten tree nodes as deltas of the nodes they replace. @default true */
  nodeDeltas?: boolean
}

/** Raw blocks (value chunks) are the ones a disk store keeps in its value log. */
const isRaw = (cid: CID): boolean => cid.code === RAW_CODE

function hasCode(err: unknown, code: string): boolean {
  for (let e: unknown = err; e !== null && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === code) return true
  }
  return false
}

function wrapIo(err: unknown, what: string): LedgerError {
  if (err instanceof LedgerError) return err
  // An iterator the closing database ended is the same: the store closed under the call.
  if ((hasCode(err, 'LEVEL_DATABASE_NOT_OPEN') || hasCode(err, 'LEVEL_ITERATOR_NOT_OPEN')) && !hasCode(err, 'LEVEL_LOCKED')) {
    return LedgerError.closed('store')
  }
  return LedgerError.io(`${what} failed`, err)
}

// Head keys are `<hex page id>.<cid bytes as hex>`; hex keeps byte order within one page.
function headKey(pageId: Bin, cid: CID): Bin {
  return textEncoder.encode(`${toHex(pageId)}.${toHex(cid.bytes)}`)
}

function parseHeadKey(key: Bin): { pageHex: string; cid: CID } {
  const text = textDecoder.decode(key)
  const dot = text.indexOf('.')
  return { pageHex: text.slice(0, dot), cid: CID.decode(fromHex(text.slice(dot + 1))) }
}

/**
 * Blocks, heads and metadata on abstract-level: classic-level on disk, memory-level in memory.
 * Every `write` is one atomic LevelDB batch.
 */
export class Store implements BlockReader {
  readonly path: string | undefined
  readonly #db: Db
  readonly #blocks: Sub
  readonly #heads: Sub
  readonly #meta: Sub
  /** CID → value-log pointer, for the blocks kept in the log. */
  readonly #logged: Sub
  readonly #deltas: DeltaBlocks
  readonly #log: ValueLog | undefined
  readonly #pointerCache = new LRUCache<string, LogPointer>({ max: POINTER_CACHE_ENTRIES })
  #closed = false
  /** This process's claim on the directory (lock-registry). */
  readonly #lockKey: string | undefined

  private constructor(db: Db, path: string | undefined, log: ValueLog | undefined, nodeDeltas: boolean, lockKey?: string) {
    this.path = path
    this.#lockKey = lockKey
    this.#db = db
    this.#log = log
    const opts = { keyEncoding: 'view', valueEncoding: 'view' } as const
    this.#blocks = db.sublevel<Bin, Bin>('b', opts)
    this.#heads = db.sublevel<Bin, Bin>('h', opts)
    this.#meta = db.sublevel<Bin, Bin>('m', opts)
    this.#logged = db.sublevel<Bin, Bin>('v', opts)
    this.#deltas = new DeltaBlocks(
      (cids) => this.#blocks.getMany(cids.map((c) => c.bytes)),
      (cid) => this.#blocks.getSync(cid.bytes),
      nodeDeltas,
    )
  }

  /** Opens a classic-level store at `path`, or an in-memory one. LOCKED if the path is in use. */
  static async open(path?: string, options: StoreOptions = {}): Promise<Store> {
    if (path === undefined) {
      const db = new MemoryLevel<Bin, Bin>({ keyEncoding: 'view', valueEncoding: 'view' })
      await db.open()
      return new Store(db as unknown as Db, undefined, undefined, options.nodeDeltas ?? true)
    }
    const lockKey = acquirePath(path)
    if (lockKey === undefined) throw new LedgerError('LOCKED', `store ${path} is already open in this process`)
    // A larger write buffer than LevelDB's 4 MiB: commits write several KiB of tree nodes each,
    // and fewer memtable flushes halve the cost of a small commit. 16 KiB table blocks instead of
    // 4 KiB: nodes average ~4 KiB, and fewer index entries and trailers store ~0.4 % less.
    const db = new ClassicLevel<Bin, Bin>(path, { keyEncoding: 'view', valueEncoding: 'view', writeBufferSize: 32 << 20, blockSize: 16384 })
    try {
      await db.open()
    } catch (err) {
      releasePath(lockKey)
      if (hasCode(err, 'LEVEL_LOCKED')) {
        throw new LedgerError('LOCKED', `store ${path} is open in another process`, { cause: err })
      }
      throw LedgerError.io(`cannot open store ${path}`, err)
    }
    let log: ValueLog | undefined
    if (options.valueLog !== false) {
      try {
        log = await ValueLog.open(path, options.segmentBytes)
      } catch (err) {
        await db.close().catch(() => undefined)
        releasePath(lockKey)
        throw LedgerError.io(`cannot open the value log of ${path}`, err)
      }
    }
    return new Store(db as unknown as Db, path, log, options.nodeDeltas ?? true, lockKey)
  }

  get closed(): boolean {
    return this.#closed
  }

  async getBlock(cid: CID): Promise<Uint8Array | undefined> {
    return (await this.getBlocks([cid]))[0]
  }

  /** Blocks by CID (undefined where missing); raw blocks near each other in the log in one read. */
  async getBlocks(cids: CID[]): Promise<(Uint8Array | undefined)[]> {
    if (cids.length === 0) return []
    try {
      const log = this.#log
      if (log === undefined || !cids.some(isRaw)) {
        const records = cids.length === 1 ? [await this.#blocks.get(cids[0]!.bytes)] : await this.#blocks.getMany(cids.map((c) => c.bytes))
        return await this.#deltas.resolve(cids, records)
      }
      const out = new Array<Uint8Array | undefined>(cids.length)
      const pointers = await this.#pointers(cids)
      const inLog: number[] = []
      const inDb: number[] = []
      for (let i = 0; i < cids.length; i++) (pointers[i] !== undefined ? inLog : inDb).push(i)
      const [fromLog, fromDb] = await Promise.all([
        inLog.length === 0 ? [] : log.read(inLog.map((i) => pointers[i]!)),
        inDb.length === 0 ? [] : this.#blocks.getMany(inDb.map((i) => cids[i]!.bytes)),
      ])
      const resolved = await this.#deltas.resolve(inDb.map((i) => cids[i]!), fromDb)
      inLog.forEach((i, j) => (out[i] = fromLog[j]))
      inDb.forEach((i, j) => (out[i] = resolved[j]))
      return out
    } catch (err) {
      throw wrapIo(err, 'block read')
    }
  }

  /**
   * Reads blocks kept in the value log straight into `targets` (one per CID, each as long as its
   * block), sparing a copy. True where done; false where the block is not in the log or its length
   * differs from the target's (the caller then reads it the usual way).
   */
  async readBlocksInto(cids: CID[], targets: Uint8Array[]): Promise<boolean[]> {
    const done = cids.map(() => false)
    if (this.#log === undefined || cids.length === 0) return done
    try {
      const pointers = await this.#pointers(cids)
      const ps: LogPointer[] = []
      const ts: Uint8Array[] = []
      for (let i = 0; i < cids.length; i++) {
        const p = pointers[i]
        if (p === undefined || p.length !== targets[i]!.length) continue
        ps.push(p)
        ts.push(targets[i]!)
        done[i] = true
      }
      if (ps.length > 0) await this.#log.readInto(ps, ts)
      return done
    } catch (err) {
      throw wrapIo(err, 'block read')
    }
  }

  /** Which blocks are stored, without reading the bytes of those in the value log. */
  async hasBlocks(cids: CID[]): Promise<boolean[]> {
    if (cids.length === 0) return []
    try {
      const pointers = this.#log === undefined ? cids.map(() => undefined) : await this.#pointers(cids)
      const rest = cids.filter((_, i) => pointers[i] === undefined)
      const got = rest.length === 0 ? [] : await this.#blocks.getMany(rest.map((c) => c.bytes))
      let j = 0
      return pointers.map((p) => p !== undefined || got[j++] !== undefined)
    } catch (err) {
      throw wrapIo(err, 'block read')
    }
  }

  async hasBlock(cid: CID): Promise<boolean> {
    return (await this.hasBlocks([cid]))[0]!
  }

  /** Value-log pointers of the raw blocks among `cids` (undefined for the others and the absent). */
  async #pointers(cids: CID[]): Promise<(LogPointer | undefined)[]> {
    const out = new Array<LogPointer | undefined>(cids.length).fill(undefined)
    const ask: number[] = []
    for (let i = 0; i < cids.length; i++) {
      const cid = cids[i]!
      if (!isRaw(cid)) continue
      const hit = this.#pointerCache.get(cidKey(cid))
      if (hit !== undefined) out[i] = hit
      else ask.push(i)
    }
    if (ask.length === 0) return out
    const got = await this.#logged.getMany(ask.map((i) => cids[i]!.bytes))
    ask.forEach((i, j) => {
      const bytes = got[j]
      if (bytes === undefined) return
      const p = decodePointer(bytes)
      this.#pointerCache.set(cidKey(cids[i]!), p)
      out[i] = p
    })
    return out
  }

  async getMeta(key: string): Promise<Uint8Array | undefined> {
    try {
      return await this.#meta.get(textEncoder.encode(key))
    } catch (err) {
      throw wrapIo(err, 'metadata read')
    }
  }

  /** The stored heads of one page (empty for a page with no commit here). */
  async heads(pageId: Uint8Array): Promise<CID[]> {
    const prefix = textEncoder.encode(`${toHex(pageId)}.`)
    const end = textEncoder.encode(`${toHex(pageId)}/`)
    const out: CID[] = []
    try {
      for await (const key of this.#heads.keys({ gte: prefix, lt: end })) out.push(parseHeadKey(key).cid)
    } catch (err) {
      throw wrapIo(err, 'heads read')
    }
    return out
  }

  /** Ids of every page with a stored head, sorted by bytes. */
  async pageIds(): Promise<Uint8Array[]> {
    const seen = new Set<string>()
    try {
      for await (const key of this.#heads.keys()) seen.add(parseHeadKey(key).pageHex)
    } catch (err) {
      throw wrapIo(err, 'pages read')
    }
    return [...seen].map(fromHex).sort(compareBytes)
  }

  /**
   * Applies blocks, head moves and metadata in one atomic batch. Keys are prefixed here and the
   * batch goes to the root database as one array: per-operation `sublevel` options cost more than
   * the LevelDB write itself for a small commit (~150 µs of ~320 µs).
   */
  async write(w: StoreWrite): Promise<void> {
    const blocks: readonly StoreBlock[] = w.blocks === undefined ? [] : Array.isArray(w.blocks) ? w.blocks : [...w.blocks]
    const candidates: { block: StoreBlock; chain: readonly Uint8Array[] }[] = []
    for (const b of blocks) {
      const chain = this.#deltas.deltaChain(b)
      if (chain !== undefined) candidates.push({ block: b, chain })
    }
    if (candidates.length === 0) return this.#write(w, blocks, [])
    let records: BlockRecord[]
    try {
      records = this.#deltas.records(candidates)
    } catch (err) {
      throw wrapIo(err, 'block read')
    }
    return this.#write(w, blocks, records, new Set(candidates.map((c) => c.block)))
  }

  /** The batch of `write`: `records` stand for the blocks in `replaced` (left out of the rest). */
  async #write(w: StoreWrite, blocks: readonly StoreBlock[], records: BlockRecord[], replaced?: Set<StoreBlock>): Promise<void> {
    const ops: BatchOp[] = []
    const toLog: Block[] = []
    const written = [...records]
    for (const r of records) ops.push({ type: 'put', key: this.#blocks.prefixKey(r.cid.bytes, 'view', true), value: r.value })
    for (const b of blocks) {
      if (replaced?.has(b)) continue
      if (this.#log !== undefined && isRaw(b.cid)) toLog.push(b)
      else {
        ops.push({ type: 'put', key: this.#blocks.prefixKey(b.cid.bytes, 'view', true), value: b.bytes })
        written.push({ cid: b.cid, value: b.bytes, chain: [] })
      }
    }
    const logged = toLog.length > 0 ? await this.#appendToLog(toLog, ops) : undefined
    for (const h of w.heads ?? []) {
      for (const cid of h.remove) ops.push({ type: 'del', key: this.#heads.prefixKey(headKey(h.pageId, cid), 'view', true) })
      for (const cid of h.add) ops.push({ type: 'put', key: this.#heads.prefixKey(headKey(h.pageId, cid), 'view', true), value: EMPTY })
    }
    for (const [k, v] of Object.entries(w.meta ?? {})) ops.push({ type: 'put', key: this.#meta.prefixKey(textEncoder.encode(k), 'view', true), value: v })
    if (ops.length === 0) return
    try {
      await this.#db.batch(ops)
    } catch (err) {
      throw wrapIo(err, 'store write')
    }
    for (const r of written) this.#deltas.noteStored(r.cid, r.chain)
    logged?.()
  }

  /**
   * Appends the raw blocks not already in the log (it dedups like the keyed tables do) and adds
   * their pointers to `ops`. The bytes are in the file before the batch that points at them.
   */
  async #appendToLog(blocks: Block[], ops: BatchOp[]): Promise<(() => void) | undefined> {
    try {
      const have = await this.#pointers(blocks.map((b) => b.cid))
      const seen = new Set<string>()
      const fresh = blocks.filter((b, i) => {
        const key = cidKey(b.cid)
        if (have[i] !== undefined || seen.has(key)) return false
        seen.add(key)
        return true
      })
      if (fresh.length === 0) return undefined
      const pointers = await this.#log!.append(fresh.map((b) => b.bytes))
      fresh.forEach((b, i) => {
        ops.push({ type: 'put', key: this.#logged.prefixKey(b.cid.bytes, 'view', true), value: encodePointer(pointers[i]!) })
      })
      // Cached only once the batch holding the pointers is written (see `write`).
      return () => fresh.forEach((b, i) => this.#pointerCache.set(cidKey(b.cid), pointers[i]!))
    } catch (err) {
      throw wrapIo(err, 'value log write')
    }
  }

  /**
   * Bytes of the records in the block table as stored (delta records at their own size), plus
   * the value log's raw blocks: what an in-memory store holds (benchmarks; never on a hot path).
   */
  async recordBytes(): Promise<number> {
    let bytes = 0
    for await (const v of this.#blocks.values()) bytes += v.length
    if (this.#log !== undefined) for await (const v of this.#logged.values()) bytes += decodePointer(v).length
    return bytes
  }

  /** Iterates every stored block (used by export and tests; never on a hot path). */
  async *allBlocks(): AsyncGenerator<Block> {
    for await (const [k, v] of this.#blocks.iterator()) {
      const cid = CID.decode(k)
      yield { cid, bytes: (await this.#deltas.resolve([cid], [v]))[0]! }
    }
    if (this.#log === undefined) return
    for await (const [k, v] of this.#logged.iterator()) {
      const [bytes] = await this.#log.read([decodePointer(v)])
      yield { cid: CID.decode(k), bytes: bytes! }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try {
      await this.#db.close()
    } finally {
      try {
        await this.#log?.close()
      } finally {
        if (this.#lockKey !== undefined) releasePath(this.#lockKey)
      }
    }
  }
}
