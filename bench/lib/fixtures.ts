import { seededRandom } from '../../src/sync/transport/prng.js'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Deterministic PRNG (mulberry32) so every run measures the same data. */
export const prng = seededRandom

/** `n` distinct random keys of 16–20 bytes and 100-byte values, in random order. */
export function dataset(n: number, seed = 42): { keys: Uint8Array[]; values: Uint8Array[] } {
  const rnd = prng(seed)
  const seen = new Set<string>()
  const keys: Uint8Array[] = []
  const values: Uint8Array[] = []
  while (keys.length < n) {
    const len = 16 + Math.floor(rnd() * 5)
    const k = new Uint8Array(len)
    for (let i = 0; i < len; i++) k[i] = 97 + Math.floor(rnd() * 26)
    const s = Buffer.from(k).toString('latin1')
    if (seen.has(s)) continue
    seen.add(s)
    keys.push(k)
    const v = new Uint8Array(100)
    for (let i = 0; i < 100; i++) v[i] = Math.floor(rnd() * 256)
    values.push(v)
  }
  return { keys, values }
}

export function dirBytes(dir: string): number {
  let total = 0
  for (const name of readdirSync(dir)) {
    const st = statSync(join(dir, name))
    total += st.isDirectory() ? dirBytes(join(dir, name)) : st.size
  }
  return total
}

export async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const t0 = performance.now()
  const result = await fn()
  return { ms: performance.now() - t0, result }
}

export const rate = (n: number, ms: number): number => Math.round((n / ms) * 1000)

export function log(msg: string): void {
  if (process.stderr.isTTY || process.env.BENCH_VERBOSE) process.stderr.write(`${msg}\n`)
}
