/** Helpers of the black-box API tests (test/acceptance/api-*.test.ts): error codes, models, gates. */
import { LedgerError, type PageChange, type Snapshot } from 'dagkv'
import { collect, str } from '../helpers/bytes.js'
import { diskLedger, memoryLedger, type LedgerFactory } from '../helpers/ledgers.js'

export const backends: [string, LedgerFactory][] = [
  ['memory', memoryLedger],
  ['disk', diskLedger],
]

/** The LedgerError code a call fails with, 'resolved' if it succeeds, or a description of a wrong failure. */
export async function codeOf(call: () => unknown): Promise<string> {
  try {
    const r = call()
    if (r !== null && typeof r === 'object' && typeof (r as { then?: unknown }).then === 'function') await r
    else if (r !== null && typeof r === 'object' && Symbol.asyncIterator in r) await collect(r as AsyncIterable<unknown>)
  } catch (e) {
    if (e instanceof LedgerError) return e.code
    return `not a LedgerError: ${String(e)}`
  }
  return 'resolved'
}

/** Like codeOf, for methods that return a Promise: a synchronous throw is itself a failure. */
export async function asyncCodeOf(call: () => unknown): Promise<string> {
  let r: unknown
  try {
    r = call()
  } catch (e) {
    return `threw synchronously: ${e instanceof LedgerError ? e.code : String(e)}`
  }
  if (r === null || typeof r !== 'object' || typeof (r as { then?: unknown }).then !== 'function') return 'not a promise'
  try {
    await r
  } catch (e) {
    if (e instanceof LedgerError) return e.code
    return `not a LedgerError: ${String(e)}`
  }
  return 'resolved'
}

export const cmp = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b)
export const hex = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString('hex'))
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
export const keysOf = async (s: Snapshot, o?: object): Promise<string[]> => (await collect(s.keys(o))).map((k) => str(k)!)

/** A deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function randomBytes(next: () => number, len: number): Uint8Array {
  const out = new Uint8Array(len)
  for (let i = 0; i < len; i++) out[i] = Math.floor(next() * 256)
  return out
}

/** A gate a listener can wait on. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void
  const wait = new Promise<void>((r) => (open = r))
  return { wait, open }
}

/** Resolves to 'timeout' when `p` has not settled after `ms`. */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)))
  try {
    return await Promise.race([p, t])
  } finally {
    clearTimeout(timer)
  }
}

export function recorder(): { seen: PageChange[]; listener: (c: PageChange) => void } {
  const seen: PageChange[] = []
  return { seen, listener: (c) => void seen.push(c) }
}
