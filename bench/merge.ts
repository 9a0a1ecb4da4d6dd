// Merge benchmark: two heads each changing 1 % of a 100k-entry page (100-byte values).
// Usage: NODE_OPTIONS=--expose-gc npx tsx bench/merge.ts [--n 100000] [--memory]   → one JSON object.
// (--expose-gc lets it collect the bulk load's garbage before the first merge; optional.)
//   lww          last-one-wins merge: median of 5 after one warm-up merge (`firstMs`, reported too),
//                the phases of one, and cold (reopened ledger: page load and node reads from disk)
//   automatic    automatic-with-fallback with 100 conflicting keys and a trivial resolver, median of 5
//                after one warm-up merge
//   crissCross   five rounds of two replicas resolving the same heads differently, then the
//                final merge, whose base is folded recursively from the criss-cross
// Times are end to end: from the policy change (or page open) until the connection is on the
// single merged head (`waitForConflictResolution`), store write included. `*CpuMs` is this
// process's CPU time over the same span (all its threads: a fairer figure on a busy machine).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Ledger, type LedgerOptions, type MergeContext, type Page } from '../src/index.js'
import { engineOf } from '../src/ledger/index.js'
import { buildMergeCommit, findCommonAncestors, lastOneWins, planMerge } from '../src/merge/index.js'
import { copyPage as copyPageOf } from '../test/helpers/copy-page.js'
import { dataset, log, prng, time } from './lib/fixtures.js'

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    memory: { type: 'boolean', default: false },
  },
})
const N = Number(args.n)
const CHANGED = Math.max(1, Math.floor(N / 100))
const CONFLICTS = 100
const ROUNDS = 5
const REPS = 5
/** First repetitions kept out of the median (V8 has not optimised the merge path yet); reported as `firstMs`. */
const WARMUP = 1
const PAGE = 'bench'
const root = mkdtempSync(join(tmpdir(), 'dagkv-merge-bench-'))
let dirs = 0
const { keys, values } = dataset(N)

/** A fresh ledger on disk (or in memory with --memory), with a deterministic clock. */
async function open(options: LedgerOptions = {}, path?: string): Promise<Ledger> {
  let t = 1_000_000
  const location = args.memory ? {} : { path: path ?? join(root, `db${dirs++}`) }
  return Ledger.open({ autoSync: false, replicaId: 'bench', clock: () => t++, ...location, ...options })
}

/** Key i's value, changed: bytes 0-1 hold `tag`, so different tags give different values. */
const fresh = (i: number, tag: number): Uint8Array => {
  const v = values[i]!.slice()
  v[0] = tag & 0xff
  v[1] = (tag >> 8) & 0xff
  return v
}

async function bulkLoad(page: Page): Promise<void> {
  await page.startTransaction()
  for (let i = 0; i < N; i++) void page.put(keys[i]!, values[i]!)
  await page.commit()
}

/**
 * Two connections each change CHANGED keys in one transaction from the same base: disjoint key
 * sets except `overlap` keys that both change to different values.
 */
async function fork(ledger: Ledger, overlap: number, seed: number): Promise<{ a: Page; b: Page }> {
  const rnd = prng(seed)
  const picked = new Set<number>()
  while (picked.size < 2 * CHANGED - overlap) picked.add(Math.floor(rnd() * N))
  const all = [...picked]
  const shared = all.slice(0, overlap)
  const sideA = [...shared, ...all.slice(overlap, CHANGED)]
  const sideB = [...shared, ...all.slice(CHANGED)]
  const a = await ledger.page(PAGE)
  const b = await ledger.page(PAGE)
  await a.startTransaction()
  await b.startTransaction()
  for (const i of sideA) void a.put(keys[i]!, fresh(i, 2 * seed))
  for (const i of sideB) void b.put(keys[i]!, fresh(i, 2 * seed + 1))
  await a.commit()
  await b.commit()
  return { a, b }
}

async function headCount(ledger: Ledger): Promise<number> {
  return (await engineOf(ledger).pageState(new TextEncoder().encode(PAGE))).heads.length
}

const median = (xs: number[]): number => +[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(1)
const gc = (): void => (globalThis as { gc?: () => void }).gc?.()

/**
 * WARMUP + REPS times: two connections fork from the current head (merging held off: custom
 * policy, no resolver), then `policy` is set and the merge timed until the connection is on the
 * merged head. The warm-up repetitions are returned apart (`first`), not in `ms`.
 */
async function repeatedMerges(
  ledger: Ledger,
  overlap: number,
  set: () => Promise<void>,
): Promise<{ ms: number[]; cpu: number[]; first: number[]; page: Page }> {
  const ms: number[] = []
  const cpu: number[] = []
  let page: Page | undefined
  for (let rep = 0; rep < WARMUP + REPS; rep++) {
    await ledger.setMergePolicy(PAGE, 'custom')
    // The previous repetition's connections are closed: each rep measures one merge of two heads,
    // not the catch-up of every connection opened so far.
    await page?.close()
    const forked = await fork(ledger, overlap, 100 + rep)
    page = forked.a
    if ((await headCount(ledger)) !== 2) throw new Error('expected two heads')
    // The bulk load's garbage goes before the warm-up only: a forced full collection right before
    // a timed merge made it 2–3× slower here (the heap then regrows into fresh, page-faulting memory).
    if (rep === 0) gc()
    const before = process.cpuUsage()
    ms.push((await time(async () => {
      await set()
      await forked.a.waitForConflictResolution()
    })).ms)
    const used = process.cpuUsage(before)
    cpu.push((used.user + used.system) / 1000)
    await forked.b.close()
  }
  log(`  reps: ${ms.map((x) => x.toFixed(0)).join(' ')} ms, cpu ${cpu.map((x) => x.toFixed(0)).join(' ')} ms`)
  const first = ms.splice(0, WARMUP).map((x) => +x.toFixed(1))
  cpu.splice(0, WARMUP)
  return { ms, cpu, first, page: page! }
}

/** Where a last-one-wins merge spends its time, by phase (nothing stored but the write). */
async function phases(ledger: Ledger): Promise<Record<string, number>> {
  await ledger.setMergePolicy(PAGE, 'custom')
  await fork(ledger, 0, 999)
  const engine = engineOf(ledger)
  const [h1, h2] = (await engine.pageState(new TextEncoder().encode(PAGE))).heads
  const env = { commits: engine.commits, tree: engine.tree, writeBlocks: async () => {} }
  const plan = await time(() => planMerge(env, h1!, h2!))
  if (plan.result.kind !== 'merge') throw new Error('expected a three-way merge')
  const { left, right, base } = plan.result
  // What the merge runner does for last-one-wins: the structural three-way merge (Tree.merge).
  const merge = await time(() => engine.tree.merge(base.root, left.root, right.root, (_b, l) => l))
  const write = await time(() => engine.store.write({ blocks: merge.result.blocks }))
  engine.tree.markStored(merge.result.blocks)
  // For comparison: the same merge as a three-way diff applied to the left tree (the general path).
  const policy = await time(() => lastOneWins(engine.tree, base.root, left.root, right.root))
  const apply = await time(() => buildMergeCommit(engine.tree, left, right, policy.result.changes))
  engine.tree.markStored(apply.result.blocks)
  if (!apply.result.commit.root.equals(merge.result.root)) throw new Error('structural and diff-based merges differ')
  return {
    planMs: +plan.ms.toFixed(1),
    structuralMergeMs: +merge.ms.toFixed(1),
    writeMs: +write.ms.toFixed(1),
    blocks: merge.result.blocks.length,
    viaDiffThreeWayDiffMs: +policy.ms.toFixed(1),
    viaDiffApplyMs: +apply.ms.toFixed(1),
    viaDiffBlocks: apply.result.blocks.length,
  }
}

async function lww(): Promise<Record<string, unknown>> {
  log('lww: warm')
  const ledger = await open({ mergePolicy: 'custom' })
  await bulkLoad(await ledger.page(PAGE))
  const { ms, cpu, first } = await repeatedMerges(ledger, 0, () => ledger.setMergePolicy(PAGE, 'last-one-wins'))
  const out: Record<string, unknown> = {
    firstMs: first,
    medianMs: median(ms),
    minMs: +Math.min(...ms).toFixed(1),
    medianCpuMs: median(cpu),
    phases: await phases(ledger),
  }
  await ledger.close()
  if (!args.memory) {
    log('lww: cold')
    const path = join(root, `db${dirs++}`)
    const build = await open({ mergePolicy: 'custom' }, path)
    await bulkLoad(await build.page(PAGE))
    await fork(build, 0, 7)
    await build.close()
    const reopened = await Ledger.open({ path, autoSync: false, mergePolicy: 'last-one-wins' })
    const c = await time(async () => (await reopened.page(PAGE)).waitForConflictResolution())
    await reopened.close()
    out.coldMs = +c.ms.toFixed(1)
  }
  return out
}

async function automatic(): Promise<Record<string, number | number[]>> {
  log('automatic-with-fallback')
  const ledger = await open({ mergePolicy: 'custom' })
  await bulkLoad(await ledger.page(PAGE))
  let conflicts = 0
  const resolver = async (m: MergeContext): Promise<void> => {
    const take: { key: Uint8Array; source: 'right' }[] = []
    for await (const d of m.conflictingDiff()) take.push({ key: d.key, source: 'right' })
    conflicts = take.length
    await m.merge(take)
  }
  const { ms, cpu, first } = await repeatedMerges(ledger, CONFLICTS, () =>
    ledger.setMergePolicy(PAGE, 'automatic-with-fallback', resolver),
  )
  await ledger.close()
  return { conflicts, firstMs: first, medianMs: median(ms), minMs: +Math.min(...ms).toFixed(1), medianCpuMs: median(cpu) }
}

/** Copies every block and the page's heads from `from` into `to` (what sync will do). */
function copyPage(from: Ledger, to: Ledger): Promise<void> {
  return copyPageOf(from, to, PAGE)
}

async function crissCross(): Promise<Record<string, number>> {
  log('criss-cross')
  const takeRight = async (m: MergeContext): Promise<void> => {
    await m.mergeNonConflictingEntries()
    const take: { key: Uint8Array; source: 'right' }[] = []
    for await (const d of m.conflictingDiff()) take.push({ key: d.key, source: 'right' })
    await m.merge(take)
  }
  // A merges by last-one-wins, B keeps the older side: every round they merge differently.
  const a = await open({ replicaId: 'A' })
  const b = await open({ replicaId: 'B', mergePolicy: 'custom', resolver: takeRight })
  const [pa, pb] = [await a.page(PAGE), await b.page(PAGE)]
  await bulkLoad(pa)
  await copyPage(a, b)
  await pb.waitForConflictResolution()
  const rnd = prng(11)
  for (let round = 0; round < ROUNDS; round++) {
    log(`  round ${round + 1}`)
    for (const [page, tag] of [[pa, 10 + round], [pb, 20 + round]] as const) {
      await page.startTransaction()
      for (let j = 0; j < CHANGED; j++) {
        const i = j < 10 ? j : Math.floor(rnd() * N) // keys 0..9 conflict every round
        void page.put(keys[i]!, fresh(i, tag))
      }
      await page.commit()
    }
    if (round === ROUNDS - 1) break
    await copyPage(a, b)
    await copyPage(b, a)
    await Promise.all([pa.waitForConflictResolution(), pb.waitForConflictResolution()])
  }
  // The final merge, on a third replica that receives both sides' histories.
  const c = await open({ replicaId: 'C', mergePolicy: 'custom' })
  await copyPage(a, c)
  await copyPage(b, c)
  const heads = (await engineOf(c).pageState(new TextEncoder().encode(PAGE))).heads
  const env = { commits: engineOf(c).commits, tree: engineOf(c).tree, writeBlocks: async () => {} }
  const lcas = (await findCommonAncestors(env, heads[0]!, heads[1]!)).ancestors.length
  const pc = await c.page(PAGE)
  gc()
  const t = await time(async () => {
    await c.setMergePolicy(PAGE, 'last-one-wins')
    await pc.waitForConflictResolution()
  })
  await Promise.all([a.close(), b.close(), c.close()])
  return { rounds: ROUNDS, lowestCommonAncestors: lcas, mergeMs: +t.ms.toFixed(1) }
}

try {
  const out = {
    entries: N,
    valueBytes: 100,
    changedPerSide: CHANGED,
    store: args.memory ? 'memory' : 'classic-level',
    lastOneWins: await lww(),
    automaticWithFallback: await automatic(),
    crissCross: await crissCross(),
    targets: { lastOneWinsMs: 50, automaticWithFallbackMs: 100 },
  }
  process.stdout.write(`${JSON.stringify(out)}\n`)
} finally {
  rmSync(root, { recursive: true, force: true })
}
