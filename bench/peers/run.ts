// Peers benchmark: the same workloads on raw classic-level (the floor), dagkv, pail, prolly-trees,
// hyperbee and Automerge, one run side by side. Each system runs in its own child process.
// Usage: npx tsx bench/peers/run.ts [--n 100000] [--only dagkv,pail] [--n-for automerge=20000]
//        [--hi-n <n>] [--reps 3] [--runs 1] [--timeout 1800] [--json]
// --runs k: k rounds, every system once per round (so background load hits all alike); timed
// figures keep the best round (all rounds listed beside it), byte counts come from the first.
// stdout: one JSON object. stderr: progress (when a TTY or BENCH_VERBOSE is set) and, unless
// --json, a markdown table of the results.
import { execFile, execFileSync } from 'node:child_process'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { dataset, log, prng, rate, time } from '../lib/fixtures.js'
import { AutomergeAdapter } from './adapters/automerge.js'
import { ClassicLevelAdapter } from './adapters/classic-level.js'
import { DagkvAdapter } from './adapters/dagkv.js'
import { HyperbeeAdapter } from './adapters/hyperbee.js'
import { PailAdapter } from './adapters/pail.js'
import { ProllyTreesAdapter } from './adapters/prolly-trees.js'
import type { Bytes, PeerAdapter } from './lib/adapter.js'
import { bestOfRounds, markdownTable, type RunResult, type SystemResult } from './lib/report.js'

const SYSTEMS: Record<string, () => PeerAdapter> = {
  'classic-level': () => new ClassicLevelAdapter(),
  dagkv: () => new DagkvAdapter(),
  'dagkv-mem': () => new DagkvAdapter({ memory: true }),
  pail: () => new PailAdapter(),
  'prolly-trees': () => new ProllyTreesAdapter(),
  hyperbee: () => new HyperbeeAdapter(),
  automerge: () => new AutomergeAdapter(),
}
const GETS = 10_000

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    only: { type: 'string' },
    'n-for': { type: 'string', default: '' },
    'hi-n': { type: 'string' },
    reps: { type: 'string', default: '3' },
    runs: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '1800' },
    json: { type: 'boolean', default: false },
    child: { type: 'string' },
  },
})

const bytesEqual = (a: Bytes | undefined, b: Bytes): boolean => a !== undefined && Buffer.compare(a, b) === 0

/** Run one step; a failure becomes `{ skipped }` with the error, never a number. */
async function step<T>(name: string, fn: () => Promise<T>): Promise<T | { skipped: string }> {
  try {
    return await fn()
  } catch (e) {
    return { skipped: `${name} failed: ${(e as Error).message}` }
  }
}

async function measure(name: string, n: number, hiN: number, reps: number): Promise<SystemResult> {
  const make = SYSTEMS[name]
  if (!make) throw new Error(`unknown system ${name}`)
  const { keys, values } = dataset(n)
  const rnd = prng(1)
  const picks = Array.from({ length: GETS }, () => Math.floor(rnd() * n))
  // The 1 % change: distinct random keys, fresh random values.
  const changeRnd = prng(2)
  const changed = new Set<number>()
  const changeCount = Math.max(1, Math.floor(n / 100))
  while (changed.size < changeCount) changed.add(Math.floor(changeRnd() * n))
  const changedKeys = [...changed].map((i) => keys[i]!)
  const valueRnd = prng(3)
  const newValues = changedKeys.map(() => Uint8Array.from({ length: 100 }, () => Math.floor(valueRnd() * 256)))
  const changedBytes = changedKeys.reduce((t, k) => t + k.length + 100, 0)

  const adapter = make()
  const out: SystemResult = { versions: adapter.versions, n, changedKeys: changeCount, changedBytes }
  try {
    log(`[${name}] bulk load ${n}`)
    const load = await time(() => adapter.bulkLoad(keys, values))
    out.bulkLoad = { ms: Math.round(load.ms), perSec: rate(n, load.ms) }
    out.storedBytes = await step('storedBytes', () => adapter.storedBytes())

    log(`[${name}] gets`)
    out.gets = await step('gets', async () => {
      let wrong = 0
      for (const i of picks) if (!bytesEqual(await adapter.get(keys[i]!), values[i]!)) wrong++
      if (wrong) throw new Error(`${wrong} of ${GETS} gets returned a wrong value`)
      let best = Infinity
      for (let r = 0; r < reps; r++) {
        const { ms } = await time(async () => {
          for (const i of picks) await adapter.get(keys[i]!)
        })
        best = Math.min(best, ms)
      }
      return { opsPerSec: rate(GETS, best), gets: GETS, bestOf: reps, verified: true }
    })

    log(`[${name}] scan`)
    out.scan = await step('scan', async () => {
      // The warm-up pass the note promises (as for gets): checked, not timed.
      const seen = await adapter.scan()
      if (seen !== n) throw new Error(`scan saw ${seen} of ${n} entries`)
      let best = Infinity
      for (let r = 0; r < reps; r++) {
        const { ms, result } = await time(() => adapter.scan())
        if (result !== n) throw new Error(`scan saw ${result} of ${n} entries`)
        best = Math.min(best, ms)
      }
      return { perSec: rate(n, best), ms: Math.round(best), bestOf: reps }
    })

    log(`[${name}] diff after a 1 % change`)
    out.diff = await step('diff', async () => {
      const d = await adapter.diffAfterChange(changedKeys, newValues)
      if (d.keys !== changeCount) throw new Error(`diff reported ${d.keys} keys, expected ${changeCount}`)
      // The first diff of a process includes compiling its code; `reps` more passes give the steady state.
      let best = d.ms
      for (let r = 0; r < reps; r++) {
        const { ms, result } = await time(() => adapter.diffAgain())
        if (result !== changeCount) throw new Error(`diff pass reported ${result} keys, expected ${changeCount}`)
        best = Math.min(best, ms)
      }
      return { ...d, ms: +d.ms.toFixed(1), bestMs: +best.toFixed(1), bestOf: reps + 1, applyMs: +d.applyMs.toFixed(1) }
    })
    out.workloadRssMB = Math.round(process.resourceUsage().maxRSS / 1024)
    if (!('skipped' in out.diff)) {
      log(`[${name}] sync bytes`)
      const s = await step('sync', () => adapter.syncBytes())
      out.sync = 'skipped' in s ? s : { ...s, xChanged: +(s.bytes / changedBytes).toFixed(2) }
      out.storedBytesAfterChange = await step('storedBytesAfterChange', () => adapter.storedBytesAfterChange())
    }

    log(`[${name}] history independence (${hiN})`)
    out.historyIndependent = await step('historyIndependent', async () => {
      const hi = dataset(hiN, 99)
      const { ms, result } = await time(() => adapter.historyIndependent(hi.keys, hi.values))
      return { ...result, ms: Math.round(ms) }
    })
  } finally {
    await adapter.close()
  }
  out.maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024)
  return out
}

function runChild(name: string, n: number, hiN: number, reps: number, timeoutS: number): Promise<SystemResult | { skipped: string }> {
  const self = fileURLToPath(import.meta.url)
  const argv = ['--import', 'tsx', self, '--child', name, '--n', String(n), '--hi-n', String(hiN), '--reps', String(reps)]
  return new Promise((resolve) => {
    const child = execFile(process.execPath, argv, { maxBuffer: 64 << 20, timeout: timeoutS * 1000, killSignal: 'SIGKILL' }, (err, stdout) => {
      if (err) {
        const reason = err.killed ? `timed out after ${timeoutS} s` : err.message.split('\n').slice(0, 3).join(' ')
        resolve({ skipped: `could not run: ${reason}` })
        return
      }
      try {
        resolve(JSON.parse(stdout) as SystemResult)
      } catch {
        resolve({ skipped: 'could not run: no JSON from the child process' })
      }
    })
    child.stderr?.pipe(process.stderr)
  })
}

if (args.child) {
  const result = await measure(args.child, Number(args.n), Number(args['hi-n']), Number(args.reps))
  process.stdout.write(JSON.stringify(result))
  process.exit(0)
}

const n = Number(args.n)
const hiN = Number(args['hi-n'] ?? n)
const reps = Number(args.reps)
const nFor = new Map(
  args['n-for']
    .split(',')
    .filter(Boolean)
    .map((kv) => {
      const [k, v] = kv.split('=')
      return [k!, Number(v)] as const
    }),
)
const names = args.only ? args.only.split(',').map((s) => s.trim()) : Object.keys(SYSTEMS)
for (const name of names) if (!SYSTEMS[name]) throw new Error(`unknown system ${name}; known: ${Object.keys(SYSTEMS).join(', ')}`)

let commit = 'unknown'
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim()
} catch {}

const result: RunResult = {
  bench: 'peers',
  date: new Date().toISOString(),
  commit,
  node: process.version,
  nproc: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  n,
  gets: GETS,
  historyEntries: hiN,
  runs: Number(args.runs),
  note: 'Each system in its own process, one after another, once per round; gets and scans best of --reps passes after a verified warm-up pass; the diff: its first run, and the best of it and --reps more passes; timed figures keep the best round. Figures on a shared machine are noisy.',
  systems: {},
}
const runs = Number(args.runs)
const rounds = new Map<string, Array<SystemResult | { skipped: string }>>(names.map((name) => [name, []]))
for (let round = 1; round <= runs; round++) {
  for (const name of names) {
    const size = nFor.get(name) ?? n
    log(`== ${name} (n = ${size}, round ${round} of ${runs})`)
    rounds.get(name)!.push(await runChild(name, size, hiN, reps, Number(args.timeout)))
  }
}
for (const name of names) result.systems[name] = bestOfRounds(rounds.get(name)!)
const raw = result.systems['classic-level']
const dag = result.systems.dagkv
if (raw && dag && !('skipped' in raw) && !('skipped' in dag) && raw.n === dag.n) {
  const r = (a: number | undefined, b: number | undefined): number | null => (a && b ? +(a / b).toFixed(2) : null)
  const num = (x: unknown, k: string): number | undefined => (x && typeof x === 'object' && k in x ? (x as Record<string, number>)[k] : undefined)
  result.dagkvVsRaw = {
    bulkLoad: r(dag.bulkLoad?.perSec, raw.bulkLoad?.perSec),
    gets: r(num(dag.gets, 'opsPerSec'), num(raw.gets, 'opsPerSec')),
    scan: r(num(dag.scan, 'perSec'), num(raw.scan, 'perSec')),
    storedBytes: r(num(dag.storedBytes, 'bytes'), num(raw.storedBytes, 'bytes')),
    diffMs: r(num(dag.diff, 'ms'), num(raw.diff, 'ms')),
    diffBestMs: r(num(dag.diff, 'bestMs'), num(raw.diff, 'bestMs')),
  }
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
if (!args.json) process.stderr.write(`\n${markdownTable(result)}\n`)
