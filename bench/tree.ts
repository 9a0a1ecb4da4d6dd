// Tree benchmark: `npx tsx bench/tree.ts [--n 100000] [--seed 42] [--store memory|classic]`.
// Seeded inputs (18-byte random keys, 100-byte inline values); prints one JSON object on stdout,
// progress on stderr when it is a TTY. Each timing is repeated and reported as min and median:
// on a shared machine the median moves with the load (reported as `loadAvg`), the min much less.
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { compareBytes, type CID } from '../src/codec/index.js'
import { Store } from '../src/store/index.js'
import { Tree, type TreeChange, type TreeEntry } from '../src/tree/index.js'

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '42' },
    store: { type: 'string', default: 'memory' },
  },
})
const N = Number(args.n)
const KEY = 18
const VALUE = 100

// xorshift32: deterministic inputs.
let state = Number(args.seed) >>> 0 || 1
function rand(): number {
  state ^= state << 13
  state ^= state >>> 17
  state ^= state << 5
  return (state >>> 0) / 0x100000000
}
function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = (rand() * 256) | 0
  return b
}
function entry(key: Uint8Array): TreeEntry {
  return { key, value: { inline: randomBytes(VALUE) }, priority: 'eager' }
}
function progress(msg: string): void {
  if (process.stderr.isTTY) process.stderr.write(`${msg}\n`)
}
const byKey = (a: TreeChange, b: TreeChange): number => compareBytes(a.key, b.key)

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now()
  const r = await fn()
  return [r, performance.now() - t]
}
function stats(xs: number[], digits = 2): { min: number; median: number; p90: number } {
  const s = [...xs].sort((a, b) => a - b)
  const at = (q: number): number => +s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(digits)
  return { min: +s[0]!.toFixed(digits), median: at(0.5), p90: at(0.9) }
}

const dir = args.store === 'classic' ? mkdtempSync(join(tmpdir(), 'dagkv-bench-tree-')) : undefined
const store = await Store.open(dir)
const tree = new Tree(store)

progress(`generating ${N} entries`)
const bulk: TreeChange[] = Array.from({ length: N }, () => randomBytes(KEY))
  .map((key) => ({ key, entry: entry(key) }))
  .sort(byKey)
const sortedKeys = bulk.map((c) => c.key)

/** A batch of random changes: 1/3 inserts of new keys, 1/3 updates, 1/3 deletes. */
function randomBatch(size: number): TreeChange[] {
  const seen = new Set<string>()
  const out: TreeChange[] = []
  while (out.length < size) {
    const kind = rand()
    const key = kind < 1 / 3 ? randomBytes(KEY) : sortedKeys[(rand() * N) | 0]!
    const id = Buffer.from(key).toString('hex')
    if (seen.has(id)) continue
    seen.add(id)
    out.push({ key, entry: kind < 2 / 3 ? entry(key) : undefined })
  }
  return out.sort(byKey)
}

/** Commits in sequence, like a ledger: each batch onto the previous root, blocks stored (untimed). */
async function commitSeries(batches: TreeChange[][], from: CID): Promise<{ root: CID; times: number[]; bytes: number }> {
  let at = from
  const times: number[] = []
  let bytes = 0
  for (const b of batches) {
    const [r, ms] = await time(() => tree.apply(at, b))
    times.push(ms)
    for (const blk of r.blocks) bytes += blk.bytes.length
    await store.write({ blocks: r.blocks })
    tree.markStored(r.blocks)
    at = r.root
  }
  return { root: at, times, bytes: bytes / batches.length }
}

progress('bulk build')
// Warm-up (JIT) on a small prefix, then the full build three times over fresh trees.
for (let r = 0; r < 3; r++) await new Tree(store).apply(Tree.emptyRoot, bulk.slice(0, 5000))
const buildTimes: number[] = []
for (let r = 0; r < 3; r++) buildTimes.push((await time(() => new Tree(store).apply(Tree.emptyRoot, bulk)))[1])
const [built, lastBuildMs] = await time(() => tree.apply(Tree.emptyRoot, bulk))
buildTimes.push(lastBuildMs)
const root = built.root
let storedBytes = 0
for (const b of built.blocks) storedBytes += b.bytes.length
await store.write({ blocks: built.blocks })
tree.markStored(built.blocks)

progress('apply 1000')
await commitSeries(
  Array.from({ length: 5 }, () => randomBatch(1000)),
  root,
)
const series = await commitSeries(
  Array.from({ length: 25 }, () => randomBatch(1000)),
  root,
)
const diffTarget = await tree.apply(root, randomBatch(1000))
await store.write({ blocks: diffTarget.blocks })
tree.markStored(diffTarget.blocks)

progress('apply 1')
await commitSeries(
  Array.from({ length: 300 }, () => randomBatch(1)),
  root,
)
const singles = await commitSeries(
  Array.from({ length: 3000 }, () => randomBatch(1)),
  root,
)

progress('get')
const probes = Array.from({ length: 20000 }, () => sortedKeys[(rand() * N) | 0]!)
for await (const _ of tree.entries(root)) void _ // warm the cache with the base tree
const getRounds: number[] = []
for (let r = 0; r < 5; r++) {
  const [, ms] = await time(async () => {
    for (const k of probes) if ((await tree.get(root, k)) === undefined) throw new Error('missing key')
  })
  getRounds.push((ms * 1000) / probes.length)
}
const getColdRounds: number[] = []
for (let r = 0; r < 3; r++) {
  const cold = new Tree(store)
  const [, ms] = await time(async () => {
    for (const k of probes.slice(0, 2000)) await cold.get(root, k)
  })
  getColdRounds.push((ms * 1000) / 2000)
}

progress('scan')
const scanRounds: number[] = []
const scanColdRounds: number[] = []
for (let r = 0; r < 3; r++) {
  const [count, ms] = await time(async () => {
    let c = 0
    for await (const _ of tree.entries(root)) c++
    return c
  })
  if (count !== N) throw new Error(`scan returned ${count}`)
  scanRounds.push(N / (ms / 1000))
  const cold = new Tree(store)
  const [, coldMs] = await time(async () => {
    for await (const _ of cold.entries(root)) void _
  })
  scanColdRounds.push(N / (coldMs / 1000))
}

progress('diff')
const diffRounds: number[] = []
let diffItems = 0
for (let r = 0; r < 5; r++) {
  const [n, ms] = await time(async () => {
    let c = 0
    for await (const _ of tree.diff(root, diffTarget.root)) c++
    return c
  })
  diffItems = n
  diffRounds.push(ms)
}

const raw = N * (KEY + VALUE)
const build = stats(buildTimes, 1)
const scan = stats(scanRounds, 0)
const scanCold = stats(scanColdRounds, 0)
const result = {
  store: args.store,
  entries: N,
  keyBytes: KEY,
  valueBytes: VALUE,
  loadAvg: loadavg().map((x) => +x.toFixed(2)),
  nodes: built.blocks.length,
  storedBytes,
  storedOverRaw: +(storedBytes / raw).toFixed(3),
  bulkBuildMs: build,
  bulkBuildEntriesPerSec: { best: Math.round(N / (build.min / 1000)), median: Math.round(N / (build.median / 1000)) },
  apply1000Ms: stats(series.times),
  apply1000NewBytes: Math.round(series.bytes),
  apply1Us: stats(
    singles.times.map((ms) => ms * 1000),
    1,
  ),
  apply1NewBytes: Math.round(singles.bytes),
  getWarmUs: stats(getRounds),
  getColdUs: stats(getColdRounds, 1),
  scanWarmEntriesPerSec: { best: scan.p90, median: scan.median },
  scanColdEntriesPerSec: { best: scanCold.p90, median: scanCold.median },
  diff1000Ms: stats(diffRounds),
  diff1000Items: diffItems,
  cache: tree.cacheStats,
}
process.stdout.write(`${JSON.stringify(result)}\n`)
await store.close()
if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
