/**
 * Value layer benchmark: `npx tsx bench/values.ts [--size-mib=256] [--stream-mib=1024]`.
 *
 * Prints ONE JSON object on stdout (progress on stderr):
 * - chunking: FastCDC boundaries over seeded random data, MB/s (best of 3);
 * - store: `--size-mib` of data as 4 MiB values, `ValueStore.encode` + `Store.write` on classic-level,
 *   against raw classic-level storing the same bytes as 64 KiB rows (one batch per value); write and
 *   read-back MB/s for both (first pass right after the writes, while LevelDB still compacts;
 *   `readAgain`: a second pass); plus, for context, raw classic-level holding the very blocks `encode`
 *   makes under their CID keys (LevelDB's cost of content-addressed keys, without ours);
 * - stream: peak RSS while `encodeStream` takes a generated `--stream-mib` source into a
 *   classic-level Store (run in a child process so earlier phases do not count).
 * MB = 2^20 bytes. Inputs are AES-128-CTR keystreams from fixed keys (seeded, incompressible).
 */
import { spawn } from 'node:child_process'
import { createCipheriv } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClassicLevel } from 'classic-level'
import { RAW_CODE, type Block } from '../src/codec/index.js'
import { Store } from '../src/store/index.js'
import type { ValueRef } from '../src/tree/interface.js'
import { ValueStore, chunkBoundaries } from '../src/value/index.js'

const MiB = 1024 * 1024
const VALUE = 4 * MiB
const ROW = 64 * 1024

function arg(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`))
  return hit === undefined ? fallback : Number(hit.slice(name.length + 3))
}

const log = (msg: string): void => {
  process.stderr.write(`${msg}\n`)
}

/** A seeded keystream: successive calls continue it. */
function keystream(seed: number): (size: number) => Uint8Array {
  const key = Buffer.alloc(16)
  key.writeUInt32BE(seed, 0)
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16))
  return (size) => {
    const out = cipher.update(Buffer.alloc(size))
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
  }
}

const mbps = (bytes: number, ms: number): number => Math.round((bytes / MiB / (ms / 1000)) * 10) / 10

function chunking(data: Uint8Array): { mbPerS: number; chunks: number; meanChunk: number } {
  chunkBoundaries(data.subarray(0, 8 * MiB)) // warm up
  let best = Infinity
  let chunks = 0
  for (let i = 0; i < 3; i++) {
    const t = performance.now()
    chunks = chunkBoundaries(data).length
    best = Math.min(best, performance.now() - t)
  }
  return { mbPerS: mbps(data.length, best), chunks, meanChunk: Math.round(data.length / chunks) }
}

async function valueStorePhase(values: Uint8Array[], dir: string): Promise<Record<string, number>> {
  const store = await Store.open(dir)
  const vs = new ValueStore(store, { putBlocks: (b: Block[]) => store.write({ blocks: b }) })
  const total = values.length * VALUE
  const refs: ValueRef[] = []
  let t = performance.now()
  let blocks = 0
  for (const v of values) {
    const { ref, blocks: bs } = vs.encode(v, 'eager')
    await store.write({ blocks: bs })
    refs.push(ref)
    blocks += bs.length
  }
  const writeMs = performance.now() - t
  const readAll = async (): Promise<number> => {
    const start = performance.now()
    let read = 0
    for (const ref of refs) read += (await vs.read(ref)).length
    if (read !== total) throw new Error('read-back size mismatch')
    return performance.now() - start
  }
  const readMs = await readAll()
  const readAgainMs = await readAll()
  t = performance.now()
  let ranged = 0
  for (const ref of refs) ranged += (await vs.readRange(ref, VALUE / 2, ROW)).length
  const rangeMs = performance.now() - t
  await store.close()
  return {
    writeMBps: mbps(total, writeMs),
    readMBps: mbps(total, readMs),
    readAgainMBps: mbps(total, readAgainMs),
    blocks,
    readRange64KiBPerMs: Math.round((refs.length / rangeMs) * 100) / 100,
    rangedBytes: ranged,
  }
}

async function rawLevelPhase(values: Uint8Array[], dir: string): Promise<Record<string, number>> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
  await db.open()
  const total = values.length * VALUE
  const key = (v: number, r: number): Uint8Array => {
    const k = new Uint8Array(8)
    new DataView(k.buffer).setUint32(0, v)
    new DataView(k.buffer).setUint32(4, r)
    return k
  }
  const t = performance.now()
  for (let v = 0; v < values.length; v++) {
    const batch = db.batch()
    for (let r = 0; r * ROW < VALUE; r++) batch.put(key(v, r), values[v]!.subarray(r * ROW, (r + 1) * ROW))
    await batch.write()
  }
  const writeMs = performance.now() - t
  const readAll = async (): Promise<number> => {
    const start = performance.now()
    let read = 0
    for (let v = 0; v < values.length; v++) {
      const keys: Uint8Array[] = []
      for (let r = 0; r * ROW < VALUE; r++) keys.push(key(v, r))
      const rows = await db.getMany(keys)
      const out = new Uint8Array(VALUE)
      rows.forEach((row, r) => out.set(row!, r * ROW))
      read += out.length
    }
    if (read !== total) throw new Error('raw read-back size mismatch')
    return performance.now() - start
  }
  const readMs = await readAll()
  const readAgainMs = await readAll()
  await db.close()
  return { writeMBps: mbps(total, writeMs), readMBps: mbps(total, readMs), readAgainMBps: mbps(total, readAgainMs) }
}

/**
 * Context for the gap: the exact blocks `encode` produces, written with raw classic-level under
 * their CID bytes (no chunking or hashing in the timing, no sublevel), read back with one getMany
 * per value. Isolates LevelDB's cost of random (content-addressed) keys from the value layer's.
 */
async function rawCidKeysPhase(values: Uint8Array[], dir: string): Promise<Record<string, number>> {
  const encoder = new ValueStore({ getBlock: async () => undefined }, { putBlocks: async () => {} })
  const encoded = values.map((v) => encoder.encode(v, 'lazy').blocks)
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
  await db.open()
  const total = values.length * VALUE
  const t = performance.now()
  for (const blocks of encoded) {
    const batch = db.batch()
    for (const b of blocks) batch.put(b.cid.bytes, b.bytes)
    await batch.write()
  }
  const writeMs = performance.now() - t
  const readAll = async (): Promise<number> => {
    const start = performance.now()
    for (const blocks of encoded) {
      // Chunks only (index blocks would be read too by a real reader; they are ~0.2% of the bytes).
      const chunks = blocks.filter((b) => b.cid.code === RAW_CODE)
      const rows = await db.getMany(chunks.map((b) => b.cid.bytes))
      const out = new Uint8Array(VALUE)
      let at = 0
      for (const row of rows) {
        out.set(row!, at)
        at += row!.length
      }
    }
    return performance.now() - start
  }
  const readMs = await readAll()
  const readAgainMs = await readAll()
  await db.close()
  return { writeMBps: mbps(total, writeMs), readMBps: mbps(total, readMs), readAgainMBps: mbps(total, readAgainMs) }
}

/** Resident memory split into anonymous (the process's own) and file-backed (mmapped files), MiB. */
function rssSplit(pid: number | 'self' = 'self'): { anon: number; file: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (field: string): number => Number(/\d+/.exec(status.split(`${field}:`)[1] ?? '')?.[0] ?? Number.NaN)
    return { anon: kb('RssAnon') / 1024, file: kb('RssFile') / 1024, hwm: kb('VmHWM') / 1024 }
  } catch {
    return undefined // not Linux, or the process is gone
  }
}

/** Child process: stream a generated source through encodeStream, sampling RSS. */
async function streamPhase(streamMiB: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dagkv-bench-stream-'))
  try {
    const store = await Store.open(dir)
    const vs = new ValueStore(store, { putBlocks: (b: Block[]) => store.write({ blocks: b }) })
    const next = keystream(7)
    const baseline = process.memoryUsage().rss
    let peak = baseline
    let peakAnon = 0
    let fileAtPeak = 0
    const sample = (): void => {
      const rss = process.memoryUsage().rss
      const split = rssSplit()
      if (split && split.anon > peakAnon) peakAnon = split.anon
      if (rss > peak) {
        peak = rss
        fileAtPeak = split?.file ?? Number.NaN
      }
    }
    const timer = setInterval(sample, 20)
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < streamMiB; i++) {
        sample()
        yield next(MiB)
      }
    }
    const t = performance.now()
    const { link, size } = await vs.encodeStream(source(), streamMiB * MiB)
    const ms = performance.now() - t
    clearInterval(timer)
    sample()
    // VmHWM, not resourceUsage().maxRSS: Linux carries ru_maxrss over fork + exec, so the latter
    // would report the parent's peak.
    const maxRss = rssSplit()?.hwm ?? Number.NaN
    process.stdout.write('encoded\n') // the parent stops sampling here
    const complete = await vs.isComplete({ link, size })
    await store.close()
    const result = {
      streamedMiB: streamMiB,
      MBps: mbps(size, ms),
      baselineRssMiB: Math.round(baseline / MiB),
      peakRssMiB: Math.round(peak / MiB),
      // LevelDB reads its table files through mmap: those pages count in RSS but are page cache.
      fileBackedRssAtPeakMiB: Math.round(fileAtPeak),
      peakAnonRssMiB: Math.round(peakAnon),
      hwmRssMiB: Math.round(maxRss),
      complete,
    }
    process.stdout.write(JSON.stringify(result))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function runChild(streamMiB: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), '--phase=stream', `--stream-mib=${streamMiB}`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let out = ''
    // Sampled from outside every 5 ms too: the child's event loop is busy hashing between its samples.
    let peakAnon = 0
    let peakTotal = 0
    let fileAtPeak = 0
    const timer = setInterval(() => {
      const split = child.pid === undefined || out.includes('encoded\n') ? undefined : rssSplit(child.pid)
      if (!split || Number.isNaN(split.anon + split.file)) return
      peakAnon = Math.max(peakAnon, split.anon)
      if (split.anon + split.file > peakTotal) {
        peakTotal = split.anon + split.file
        fileAtPeak = split.file
      }
    }, 5)
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      clearInterval(timer)
      if (code !== 0) reject(new Error(`stream phase exited with ${code}`))
      else {
        const polled = {
          peakRssMiB: Math.round(peakTotal),
          fileBackedAtPeakMiB: Math.round(fileAtPeak),
          peakAnonRssMiB: Math.round(peakAnon),
        }
        resolve({ ...(JSON.parse(out.split('\n').at(-1)!) as Record<string, unknown>), polledFromParent: polled })
      }
    })
  })
}

async function main(): Promise<void> {
  const streamMiB = arg('stream-mib', 1024)
  if (process.argv.includes('--phase=stream')) return streamPhase(streamMiB)
  const sizeMiB = arg('size-mib', 256)
  const next = keystream(1)
  const values: Uint8Array[] = []
  for (let i = 0; i < sizeMiB / 4; i++) values.push(next(VALUE))
  const all = new Uint8Array(sizeMiB * MiB)
  values.forEach((v, i) => all.set(v, i * VALUE))

  log(`chunking ${sizeMiB} MiB…`)
  const chunk = chunking(all)
  const dirA = await mkdtemp(join(tmpdir(), 'dagkv-bench-values-'))
  const dirB = await mkdtemp(join(tmpdir(), 'dagkv-bench-raw-'))
  const dirC = await mkdtemp(join(tmpdir(), 'dagkv-bench-cid-'))
  try {
    log('ValueStore on classic-level…')
    const valueStore = await valueStorePhase(values, dirA)
    log('raw classic-level, 64 KiB rows…')
    const rawLevel = await rawLevelPhase(values, dirB)
    log('raw classic-level, the same blocks under their CID keys…')
    const rawCidKeys = await rawCidKeysPhase(values, dirC)
    log(`streaming ${streamMiB} MiB in a child process…`)
    const stream = await runChild(streamMiB)
    const result = {
      bench: 'values',
      node: process.version,
      chunking: chunk,
      store: { dataMiB: sizeMiB, valueMiB: 4, valueStore, rawLevel, rawCidKeys },
      stream,
    }
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  } finally {
    await rm(dirA, { recursive: true, force: true })
    await rm(dirB, { recursive: true, force: true })
    await rm(dirC, { recursive: true, force: true })
  }
}

await main()
