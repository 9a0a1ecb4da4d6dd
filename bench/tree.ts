// Tree benchmark: `npx tsx bench/tree.ts [--n 100000]`. Seeded inputs, one memory store; prints
// one JSON object on stdout (progress on stderr). Keys 18 random bytes, values 100 bytes inline.
import { parseArgs } from 'node:util'
import { compareBytes, type CID } from '../src/codec/index.js'
import { Store } from '../src/store/index.js'
import { Tree, type TreeChange, type TreeEntry } from '../src/tree/index.js'

const { values: args } = parseArgs({ options: { n: { type: 'string', default: '100000' }, seed: { type: 'string', default: '42' } } })
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

const store = await Store.open()
const tree = new Tree(store, { cacheBytes: Number(process.env.CACHE ?? 64 * 1024 * 1024) })

progress(`building ${N} entries`)
const keys: Uint8Array[] = []
for (let i = 0; i < N; i++) keys.push(randomBytes(KEY))
const bulk: TreeChange[] = keys.map((key) => ({ key, entry: entry(key) })).sort(byKey)
const sortedKeys = bulk.map((c) => c.key)

// Warm-up on a small tree so JIT does not count against the bulk build.
for (let r = 0; r < 3; r++) {
  const small = bulk.slice(0, 5000)
  const t2 = new Tree(store)
  await t2.apply(Tree.emptyRoot, small)
}

const [built, buildMs] = await time(() => tree.apply(Tree.emptyRoot, bulk))
const root: CID = built.root
let storedBytes = 0
for (const b of built.blocks) storedBytes += b.bytes.length
await store.write({ blocks: built.blocks })
tree.markStored(built.blocks)

// 1,000 random changes: ~1/3 inserts, 1/3 updates, 1/3 deletes.
function randomBatch(size: number): TreeChange[] {
  const seen = new Set<string>()
  const out: TreeChange[] = []
  while (out.length < size) {
    const kind = rand()
    let key: Uint8Array
    if (kind < 1 / 3) key = randomBytes(KEY)
    else key = sortedKeys[(rand() * N) | 0]!
    const id = Buffer.from(key).toString('hex')
    if (seen.has(id)) continue
    seen.add(id)
    out.push({ key, entry: kind < 2 / 3 ? entry(key) : undefined })
  }
  return out.sort(byKey)
}

// Warm the cache with a full scan.
let count = 0
for await (const _ of tree.entries(root)) count++
if (count !== N) throw new Error(`scan returned ${count}`)

progress('apply 1000')
// Commits in sequence: each batch applies to the previous root, its blocks are stored (untimed).
async function commitSeries(batches: TreeChange[][], from: CID): Promise<{ root: CID; times: number[] }> {
  let at = from
  const times: number[] = []
  for (const b of batches) {
    const [r, ms] = await time(() => tree.apply(at, b))
    times.push(ms)
    await store.write({ blocks: r.blocks })
    tree.markStored(r.blocks)
    at = r.root
  }
  return { root: at, times }
}
await commitSeries(Array.from({ length: 5 }, () => randomBatch(1000)), root) // warm-up (JIT), discarded
const series = await commitSeries(Array.from({ length: 20 }, () => randomBatch(1000)), root)
const applyTimes = series.times
// For diff below: one batch of 1,000 on top of the base root.
const lastBatch = await tree.apply(root, randomBatch(1000))
await store.write({ blocks: lastBatch.blocks })
tree.markStored(lastBatch.blocks)

progress('apply 1')
await commitSeries(Array.from({ length: 300 }, () => randomBatch(1)), root)
const singles = await commitSeries(Array.from({ length: 2000 }, () => randomBatch(1)), root)
const singleSorted = [...singles.times].sort((a, b) => a - b)
const singleMs = singles.times.reduce((a, b) => a + b, 0)

progress('get')
const probes = Array.from({ length: 50000 }, () => sortedKeys[(rand() * N) | 0]!)
for (const k of probes.slice(0, 5000)) await tree.get(root, k)
const [, getMs] = await time(async () => {
  for (const k of probes) if ((await tree.get(root, k)) === undefined) throw new Error('missing')
})

progress('scan')
const [, scanWarmMs] = await time(async () => {
  for await (const _ of tree.entries(root)) void _
})
const cold = new Tree(store)
const [, scanColdMs] = await time(async () => {
  for await (const _ of cold.entries(root)) void _
})
const cold2 = new Tree(store)
const [, getColdMs] = await time(async () => {
  for (const k of probes.slice(0, 2000)) await cold2.get(root, k)
})

progress('diff')
const [diffCount, diffMs] = await time(async () => {
  let n = 0
  for await (const _ of tree.diff(root, lastBatch.root)) n++
  return n
})

const sorted = [...applyTimes].sort((a, b) => a - b)
const raw = N * (KEY + VALUE)
const result = {
  entries: N,
  keyBytes: KEY,
  valueBytes: VALUE,
  nodes: built.blocks.length,
  storedBytes,
  storedOverRaw: +(storedBytes / raw).toFixed(3),
  bulkBuildMs: +buildMs.toFixed(1),
  bulkBuildEntriesPerSec: Math.round(N / (buildMs / 1000)),
  apply1000MedianMs: +sorted[sorted.length >> 1]!.toFixed(2),
  apply1000MinMs: +sorted[0]!.toFixed(2),
  apply1000MaxMs: +sorted[sorted.length - 1]!.toFixed(2),
  applySingleMeanUs: +((singleMs * 1000) / singles.times.length).toFixed(1),
  applySingleMedianUs: +(singleSorted[singleSorted.length >> 1]! * 1000).toFixed(1),
  getWarmUs: +((getMs * 1000) / probes.length).toFixed(2),
  getColdUs: +((getColdMs * 1000) / 2000).toFixed(1),
  scanWarmEntriesPerSec: Math.round(N / (scanWarmMs / 1000)),
  scanColdEntriesPerSec: Math.round(N / (scanColdMs / 1000)),
  diff1000Ms: +diffMs.toFixed(2),
  diff1000Items: diffCount,
  cache: tree.cacheStats,
}
process.stdout.write(`${JSON.stringify(result)}\n`)
await store.close()
