// Result shapes of the peers benchmark and their markdown table.
import type { DiffResult, HistoryResult, Skipped, StoredResult, SyncResult } from './adapter.js'

export interface SystemResult {
  versions: Record<string, string>
  n: number
  changedKeys: number
  changedBytes: number
  bulkLoad?: { ms: number; perSec: number }
  storedBytes?: StoredResult | Skipped
  gets?: { opsPerSec: number; gets: number; bestOf: number; verified: boolean } | Skipped
  scan?: { perSec: number; ms: number; bestOf: number } | Skipped
  diff?: DiffResult | Skipped
  sync?: (SyncResult & { xChanged: number }) | Skipped
  storedBytesAfterChange?: StoredResult | Skipped
  historyIndependent?: (HistoryResult & { ms: number }) | Skipped
  /** Peak RSS through load, gets, scan and diff (before the replica used to measure sync). */
  workloadRssMB?: number
  /** Peak RSS of the whole child process. */
  maxRssMB?: number
  /** With several rounds: every round's timed figures, and rounds that failed. */
  rounds?: {
    bulkLoadPerSec: number[]
    getsPerSec: number[]
    scanPerSec: number[]
    diffMs: number[]
    diffBestMs: number[]
    applyMs: number[]
    skipped: string[]
  }
}

export interface RunResult {
  bench: 'peers'
  date: string
  commit: string
  node: string
  nproc: number
  cpu: string
  n: number
  gets: number
  historyEntries: number
  runs: number
  note: string
  systems: Record<string, SystemResult | Skipped>
  dagkvVsRaw?: Record<string, number | null>
}

type Timed<T> = T | Skipped | undefined
function best<T>(xs: Array<Timed<T>>, score: (x: T) => number): Timed<T> {
  let out: Timed<T>
  for (const x of xs) {
    if (x === undefined || isSkipped(x)) {
      out ??= x
      continue
    }
    if (out === undefined || isSkipped(out) || score(x) > score(out)) out = x
  }
  return out
}
const figures = <T>(xs: Array<Timed<T>>, f: (x: T) => number): number[] => xs.flatMap((x) => (x === undefined || isSkipped(x) ? [] : [f(x)]))

/**
 * One system's rounds → one result: timed figures from the best round (rates highest, times
 * lowest; the diff's `ms`, `bestMs` and `applyMs` each their own best), byte counts from the first round.
 */
export function bestOfRounds(rounds: Array<SystemResult | Skipped>): SystemResult | Skipped {
  const ok = rounds.filter((r): r is SystemResult => !isSkipped(r))
  const skipped = rounds.filter(isSkipped).map((r) => r.skipped)
  const first = ok[0]
  if (!first) return rounds[0] ?? { skipped: 'not run' }
  if (rounds.length === 1) return first
  const out: SystemResult = { ...first }
  const loads = ok.map((r) => r.bulkLoad)
  const bulkLoad = best(loads, (x) => x.perSec)
  if (bulkLoad !== undefined && !isSkipped(bulkLoad)) out.bulkLoad = bulkLoad
  const gets = best(ok.map((r) => r.gets), (x) => x.opsPerSec)
  if (gets !== undefined) out.gets = gets
  const scan = best(ok.map((r) => r.scan), (x) => x.perSec)
  if (scan !== undefined) out.scan = scan
  const diffs = ok.map((r) => r.diff)
  const diff = best(diffs, (x) => -x.ms)
  if (diff !== undefined) {
    const bests = figures(diffs, (x) => x.bestMs ?? x.ms)
    out.diff = isSkipped(diff) ? diff : { ...diff, applyMs: Math.min(...figures(diffs, (x) => x.applyMs)), bestMs: Math.min(...bests) }
  }
  out.workloadRssMB = Math.max(...ok.map((r) => r.workloadRssMB ?? 0))
  out.maxRssMB = Math.max(...ok.map((r) => r.maxRssMB ?? 0))
  out.rounds = {
    bulkLoadPerSec: figures(loads, (x) => x.perSec),
    getsPerSec: figures(ok.map((r) => r.gets), (x) => x.opsPerSec),
    scanPerSec: figures(ok.map((r) => r.scan), (x) => x.perSec),
    diffMs: figures(diffs, (x) => x.ms),
    diffBestMs: figures(diffs, (x) => x.bestMs ?? x.ms),
    applyMs: figures(diffs, (x) => x.applyMs),
    skipped,
  }
  return out
}

const fmt = (x: number): string => x.toLocaleString('en-US')
const mb = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} MB` : `${(x / 1e3).toFixed(1)} kB`)
const isSkipped = (x: unknown): x is Skipped => typeof x === 'object' && x !== null && 'skipped' in x

function cell<T>(x: T | Skipped | undefined, f: (v: T) => string): string {
  if (x === undefined) return '—'
  if (isSkipped(x)) return 'n/a'
  return f(x)
}

/** The peers table: one column per system, one row per workload. */
export function markdownTable(r: RunResult): string {
  const names = Object.keys(r.systems)
  const sys = names.map((k) => r.systems[k]!)
  const ok = (s: SystemResult | Skipped): s is SystemResult => !isSkipped(s)
  const row = (label: string, f: (s: SystemResult) => string): string =>
    `| ${label} | ${sys.map((s) => (ok(s) ? f(s) : 'skipped')).join(' | ')} |`
  const lines = [
    `| n = ${fmt(r.n)}${r.runs > 1 ? `, best of ${r.runs} rounds` : ''} | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---:').join('|')}|`,
    row('entries loaded', (s) => (s.n === r.n ? fmt(s.n) : `**${fmt(s.n)}**`)),
    row('bulk load (entries/s)', (s) => cell(s.bulkLoad, (v) => fmt(v.perSec))),
    row(`${fmt(r.gets)} random gets (ops/s)`, (s) => cell(s.gets, (v) => fmt(v.opsPerSec))),
    row('full ordered scan (entries/s)', (s) => cell(s.scan, (v) => fmt(v.perSec))),
    row('commit the 1 % change (ms)', (s) => cell(s.diff, (v) => fmt(Math.round(v.applyMs)))),
    row('diff after a 1 % change, first run (ms)', (s) => cell(s.diff, (v) => v.ms.toFixed(1))),
    row('diff after a 1 % change, best pass (ms)', (s) => cell(s.diff, (v) => (v.bestMs === undefined ? '—' : v.bestMs.toFixed(1)))),
    row('bytes to catch up on a 1 % change', (s) => cell(s.sync, (v) => `${mb(v.bytes)} (${v.xChanged.toFixed(2)} ×)`)),
    row('stored bytes, one version', (s) => cell(s.storedBytes, (v) => mb(v.bytes))),
    row('stored bytes, both versions', (s) => cell(s.storedBytesAfterChange, (v) => mb(v.bytes))),
    row(`history independent (${fmt(r.historyEntries)} entries)`, (s) =>
      cell(s.historyIndependent, (v) => (v.independent === null ? 'n/a' : v.independent ? 'yes' : 'no')),
    ),
    row('peak RSS: load, gets, scan, diff (MB)', (s) => (s.workloadRssMB === undefined ? '—' : fmt(s.workloadRssMB))),
  ]
  const skipped = names.filter((k) => isSkipped(r.systems[k]))
  for (const k of skipped) lines.push('', `${k}: ${(r.systems[k] as Skipped).skipped}`)
  return lines.join('\n')
}
