import { expect } from 'vitest'
import type { Block, CID } from '../../src/codec/index.js'
import { LedgerError, type ErrorCode } from '../../src/errors/index.js'
import { Store, type BlockReader } from '../../src/store/index.js'
import { ValueStore, type BlockFetcher, type BlockWriter } from '../../src/value/index.js'

/** fast-check runs: `base` unless DAGKV_NUM_RUNS overrides it. */
export const numRuns = (base: number): number => Number(process.env.DAGKV_NUM_RUNS ?? base)

/** fast-check seed for properties that hold with overwhelming but not total probability. */
export { seededBytes } from './seeded.js'

export const fixedSeed = (): number => Number(process.env.DAGKV_SEED ?? 20240611)

/** A reader that counts reads per CID and can hide blocks. */
export class CountingReader implements BlockReader {
  readonly reads = new Map<string, number>()
  readonly hidden = new Set<string>()
  readonly #inner: BlockReader

  constructor(inner: BlockReader) {
    this.#inner = inner
  }

  get total(): number {
    let n = 0
    for (const v of this.reads.values()) n += v
    return n
  }

  reset(): void {
    this.reads.clear()
  }

  async getBlock(cid: CID): Promise<Uint8Array | undefined> {
    const key = cid.toString()
    this.reads.set(key, (this.reads.get(key) ?? 0) + 1)
    if (this.hidden.has(key)) return undefined
    return this.#inner.getBlock(cid)
  }
}

export interface Harness {
  store: Store
  reader: CountingReader
  writer: BlockWriter & { batches: Block[][] }
  values: ValueStore
}

/** An in-memory store with a counting reader and a recording writer. */
export async function harness(fetcher?: BlockFetcher): Promise<Harness> {
  const store = await Store.open()
  const reader = new CountingReader(store)
  const batches: Block[][] = []
  const writer = {
    batches,
    putBlocks: async (blocks: Block[]): Promise<void> => {
      batches.push(blocks)
      await store.write({ blocks })
    },
  }
  const values = new ValueStore(reader, writer, fetcher === undefined ? {} : { fetcher })
  return { store, reader, writer, values }
}

/** A fetcher answering from a map of blocks (what a peer has), recording each request. */
export class FakeFetcher implements BlockFetcher {
  readonly blocks = new Map<string, Uint8Array>()
  readonly requests: string[][] = []

  constructor(blocks: Iterable<Block> = []) {
    for (const b of blocks) this.blocks.set(b.cid.toString(), b.bytes)
  }

  async fetchBlocks(cids: CID[]): Promise<Map<string, Uint8Array>> {
    const keys = cids.map((c) => c.toString())
    this.requests.push(keys)
    const out = new Map<string, Uint8Array>()
    for (const k of keys) {
      const bytes = this.blocks.get(k)
      if (bytes !== undefined) out.set(k, bytes)
    }
    return out
  }
}

/** Splits `bytes` into pieces at the given cut fractions (each in [0, 1)). */
export function splitAt(bytes: Uint8Array, fractions: number[]): Uint8Array[] {
  const cuts = fractions.map((f) => Math.floor(f * bytes.length)).sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let at = 0
  for (const c of cuts) {
    out.push(bytes.subarray(at, c))
    at = c
  }
  out.push(bytes.subarray(at))
  return out
}

export async function* asyncPieces(pieces: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of pieces) yield p
}

export async function countBlocks(store: Store): Promise<{ blocks: number; bytes: number }> {
  let blocks = 0
  let bytes = 0
  for await (const b of store.allBlocks()) {
    blocks++
    bytes += b.bytes.length
  }
  return { blocks, bytes }
}

export async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<LedgerError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err, `expected ${code}`).toBeInstanceOf(LedgerError)
  expect((err as LedgerError).code).toBe(code)
  return err as LedgerError
}

export function expectCodeSync(fn: () => unknown, code: ErrorCode): void {
  let err: unknown
  try {
    fn()
  } catch (e) {
    err = e
  }
  expect(err, `expected ${code}`).toBeInstanceOf(LedgerError)
  expect((err as LedgerError).code).toBe(code)
}

export const cidStrings = (cids: CID[]): string[] => cids.map((c) => c.toString())
