import { ClassicLevel } from 'classic-level'
import { MemoryLevel } from 'memory-level'
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import { CID, compareBytes, fromHex, toHex, type Block } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import type { BlockReader, StoreWrite } from './interface.js'
import { acquirePath, releasePath } from './lock-registry.js'

type Bin = Uint8Array
type Db = AbstractLevel<Bin, Bin, Bin>
type Sub = AbstractSublevel<Db, Bin, Bin, Bin>

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()
const EMPTY = new Uint8Array(0)

type BatchOp = { type: 'put'; key: Bin; value: Bin } | { type: 'del'; key: Bin }

function hasCode(err: unknown, code: string): boolean {
  for (let e: unknown = err; e !== null && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === code) return true
  }
  return false
}

function wrapIo(err: unknown, what: string): LedgerError {
  if (err instanceof LedgerError) return err
  if (hasCode(err, 'LEVEL_DATABASE_NOT_OPEN') && !hasCode(err, 'LEVEL_LOCKED')) {
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
  #closed = false

  private constructor(db: Db, path: string | undefined) {
    this.path = path
    this.#db = db
    const opts = { keyEncoding: 'view', valueEncoding: 'view' } as const
    this.#blocks = db.sublevel<Bin, Bin>('b', opts)
    this.#heads = db.sublevel<Bin, Bin>('h', opts)
    this.#meta = db.sublevel<Bin, Bin>('m', opts)
  }

  /** Opens a classic-level store at `path`, or an in-memory one. LOCKED if the path is in use. */
  static async open(path?: string): Promise<Store> {
    if (path === undefined) {
      const db = new MemoryLevel<Bin, Bin>({ keyEncoding: 'view', valueEncoding: 'view' })
      await db.open()
      return new Store(db as unknown as Db, undefined)
    }
    if (!acquirePath(path)) throw new LedgerError('LOCKED', `store ${path} is already open in this process`)
    // A larger write buffer than LevelDB's 4 MiB: commits write several KiB of tree nodes each,
    // and fewer memtable flushes halve the cost of a small commit.
    const db = new ClassicLevel<Bin, Bin>(path, { keyEncoding: 'view', valueEncoding: 'view', writeBufferSize: 32 << 20 })
    try {
      await db.open()
    } catch (err) {
      releasePath(path)
      if (hasCode(err, 'LEVEL_LOCKED')) {
        throw new LedgerError('LOCKED', `store ${path} is open in another process`, { cause: err })
      }
      throw LedgerError.io(`cannot open store ${path}`, err)
    }
    return new Store(db as unknown as Db, path)
  }

  get closed(): boolean {
    return this.#closed
  }

  async getBlock(cid: CID): Promise<Uint8Array | undefined> {
    try {
      return await this.#blocks.get(cid.bytes)
    } catch (err) {
      throw wrapIo(err, 'block read')
    }
  }

  async getBlocks(cids: CID[]): Promise<(Uint8Array | undefined)[]> {
    if (cids.length === 0) return []
    try {
      return await this.#blocks.getMany(cids.map((c) => c.bytes))
    } catch (err) {
      throw wrapIo(err, 'block read')
    }
  }

  async hasBlock(cid: CID): Promise<boolean> {
    return (await this.getBlock(cid)) !== undefined
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
    const ops: BatchOp[] = []
    if (w.blocks) for (const b of w.blocks) ops.push({ type: 'put', key: this.#blocks.prefixKey(b.cid.bytes, 'view', true), value: b.bytes })
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
  }

  /** Iterates every stored block (used by export and tests; never on a hot path). */
  async *allBlocks(): AsyncGenerator<Block> {
    for await (const [k, v] of this.#blocks.iterator()) yield { cid: CID.decode(k), bytes: v }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try {
      await this.#db.close()
    } finally {
      if (this.path !== undefined) releasePath(this.path)
    }
  }
}
