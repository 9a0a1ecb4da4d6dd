// Core engine benchmark: dagkv against raw classic-level doing the same work, in one run.
// Usage: npx tsx bench/core.ts [--n 100000] [--scaling] [--quick] [--cache-mb M]   → one JSON object on stdout.
// --quick: bulk, warm gets, scan, diff and stored bytes only; --cache-mb: the node cache of the
// ledger those steps read (Ledger.open cacheBytes; default 32 MiB).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ClassicLevel } from 'classic-level'
import { Ledger } from '../src/index.js'
import { dataset, dirBytes, log, prng, rate, time } from './lib/fixtures.js'

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    scaling: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    'cache-mb': { type: 'string' },
    'cold-child': { type: 'string' },
    'scan-child': { type: 'boolean', default: false },
    path: { type: 'string' },
  },
})

type Raw = ClassicLevel<Uint8Array, Uint8Array>
const openRaw = async (path: string): Promise<Raw> => {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
  await db.open()
  return db
}
const tmp = (): string => mkdtempSync(join(tmpdir(), 'dagkv-bench-'))
const GETS = 10_000
const cacheOption = args['cache-mb'] === undefined ? {} : { cacheBytes: Number(args['cache-mb']) * 1024 * 1024 }

/** Peak resident set of this process in MB (VmHWM: resourceUsage would inherit the parent's). */
function peakRssMB(): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'))
  return line ? Math.round(Number(line.replace(/\D+/g, '')) / 1024) : Math.round(process.memoryUsage().rss / 1e6)
}

async function scanChild(path: string): Promise<void> {
  const ledger = await Ledger.open({ path, autoSync: false })
  const snap = await (await ledger.page('bench')).snapshot()
  const { ms, result } = await time(async () => {
    let c = 0
    for await (const _ of snap.entries()) c++
    return c
  })
  await ledger.close()
  process.stdout.write(JSON.stringify({ entries: result, perSec: rate(result, ms), peakRssMB: peakRssMB() }))
}

async function coldChild(kind: string, path: string, n: number): Promise<void> {
  const { keys } = dataset(n)
  const rnd = prng(7)
  const picks = Array.from({ length: GETS }, () => keys[Math.floor(rnd() * n)]!)
  if (kind === 'raw') {
    const db = await openRaw(path)
    const { ms } = await time(async () => {
      for (const k of picks) await db.get(k)
    })
    await db.close()
    process.stdout.write(JSON.stringify({ opsPerSec: rate(GETS, ms) }))
  } else {
    const ledger = await Ledger.open({ path, autoSync: false })
    const snap = await (await ledger.page('bench')).snapshot()
    const { ms } = await time(async () => {
      for (const k of picks) await snap.get(k)
    })
    await ledger.close()
    process.stdout.write(JSON.stringify({ opsPerSec: rate(GETS, ms) }))
  }
}

function child(args: string[]): unknown {
  const self = fileURLToPath(import.meta.url)
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', self, ...args]).toString())
}

function cold(kind: string, path: string, n: number): number {
  return (child(['--cold-child', kind, '--path', path, '--n', String(n)]) as { opsPerSec: number }).opsPerSec
}

async function measure(n: number, full: boolean): Promise<Record<string, unknown>> {
  const { keys, values } = dataset(n)
  const rnd = prng(1)
  const picks = Array.from({ length: GETS }, () => keys[Math.floor(rnd() * n)]!)
  const out: Record<string, unknown> = { entries: n }
  const rawDir = tmp()
  const dagDir = tmp()
  try {
    // Bulk build: one batch / one transaction.
    log(`[${n}] bulk`)
    const raw = await openRaw(join(rawDir, 'bulk'))
    const rawBulk = await time(async () => {
      const b = raw.batch()
      for (let i = 0; i < n; i++) b.put(keys[i]!, values[i]!)
      await b.write()
    })
    const ledger = await Ledger.open({ path: join(dagDir, 'bulk'), autoSync: false, ...cacheOption })
    const page = await ledger.page('bench')
    const dagBulk = await time(async () => {
      await page.startTransaction()
      for (let i = 0; i < n; i++) void page.put(keys[i]!, values[i]!)
      await page.commit()
    })
    out.bulk = { rawPerSec: rate(n, rawBulk.ms), dagkvPerSec: rate(n, dagBulk.ms), ratio: +(rawBulk.ms / dagBulk.ms).toFixed(2) }

    // Random gets, warm cache.
    log(`[${n}] gets`)
    const snap = await page.snapshot()
    for (const k of picks) await snap.get(k)
    const dagGets = await time(async () => {
      for (const k of picks) await snap.get(k)
    })
    const rawGets = await time(async () => {
      for (const k of picks) await raw.get(k)
    })
    out.warmGets = { rawPerSec: rate(GETS, rawGets.ms), dagkvPerSec: rate(GETS, dagGets.ms), ratio: +(rawGets.ms / dagGets.ms).toFixed(2) }

    // Full ordered scan.
    log(`[${n}] scan`)
    const rawScan = await time(async () => {
      let c = 0
      for await (const _ of raw.iterator()) c++
      return c
    })
    const dagScan = await time(async () => {
      let c = 0
      for await (const _ of snap.entries()) c++
      return c
    })
    out.scan = { rawPerSec: rate(n, rawScan.ms), dagkvPerSec: rate(n, dagScan.ms), ratio: +(rawScan.ms / dagScan.ms).toFixed(2) }

    // Diff after changing 1 % of the keys.
    log(`[${n}] diff`)
    const changed = Math.max(1, Math.floor(n / 100))
    await page.startTransaction()
    for (let i = 0; i < changed; i++) void page.put(keys[Math.floor(rnd() * n)]!, values[i]!.slice().reverse())
    await page.commit()
    const after = await page.snapshot()
    const diffRuns = []
    for (let r = 0; r < 3; r++) {
      diffRuns.push(
        await time(async () => {
          let c = 0
          for await (const _ of snap.diff(after)) c++
          return c
        }),
      )
    }
    // The first run includes compiling the diff path; the best of three is the steady state.
    out.diff1pct = {
      firstMs: +diffRuns[0]!.ms.toFixed(1),
      bestMs: +Math.min(...diffRuns.map((d) => d.ms)).toFixed(1),
      keys: diffRuns[0]!.result,
    }
    await ledger.close()
    await raw.close()

    // Stored bytes for one version (reopen once so both logs are flushed to tables).
    for (const d of [join(rawDir, 'bulk')]) await (await openRaw(d)).close()
    const oneVersionDir = join(dagDir, 'one')
    const l1 = await Ledger.open({ path: oneVersionDir, autoSync: false })
    const p1 = await l1.page('bench')
    await p1.startTransaction()
    for (let i = 0; i < n; i++) void p1.put(keys[i]!, values[i]!)
    await p1.commit()
    await l1.close()
    await (await Ledger.open({ path: oneVersionDir, autoSync: false })).close()
    out.scanFreshProcess = child(['--scan-child', '--path', oneVersionDir])
    const rawBytes = dirBytes(join(rawDir, 'bulk'))
    const dagBytes = dirBytes(oneVersionDir)
    out.storedBytes = { raw: rawBytes, dagkv: dagBytes, ratio: +(dagBytes / rawBytes).toFixed(2) }

    if (full) {
      // Cold gets: a fresh process opening each store.
      log(`[${n}] cold gets`)
      const rawCold = cold('raw', join(rawDir, 'bulk'), n)
      const dagCold = cold('dagkv', oneVersionDir, n)
      out.coldGets = { rawPerSec: rawCold, dagkvPerSec: dagCold, ratio: +(dagCold / rawCold).toFixed(2) }

      // Transactions of 1,000 random entries vs raw batches of 1,000.
      log(`[${n}] tx1000`)
      const raw2 = await openRaw(join(rawDir, 'tx'))
      const rawTx = await time(async () => {
        for (let s = 0; s < n; s += 1000) {
          const b = raw2.batch()
          for (let i = s; i < Math.min(n, s + 1000); i++) b.put(keys[i]!, values[i]!)
          await b.write()
        }
      })
      const l2 = await Ledger.open({ path: join(dagDir, 'tx'), autoSync: false })
      const p2 = await l2.page('bench')
      const dagTx = await time(async () => {
        for (let s = 0; s < n; s += 1000) {
          await p2.startTransaction()
          for (let i = s; i < Math.min(n, s + 1000); i++) void p2.put(keys[i]!, values[i]!)
          await p2.commit()
        }
      })
      out.tx1000 = { rawPerSec: rate(n, rawTx.ms), dagkvPerSec: rate(n, dagTx.ms), ratio: +(rawTx.ms / dagTx.ms).toFixed(2) }

      // Single puts, each an awaited durable commit, onto the loaded page.
      log(`[${n}] single puts`)
      const SINGLE = 5000
      const rawSingle = await time(async () => {
        for (let i = 0; i < SINGLE; i++) await raw2.put(keys[i]!, values[(i + 1) % n]!)
      })
      const dagSingle = await time(async () => {
        for (let i = 0; i < SINGLE; i++) await p2.put(keys[i]!, values[(i + 1) % n]!)
      })
      out.singlePuts = { rawPerSec: rate(SINGLE, rawSingle.ms), dagkvPerSec: rate(SINGLE, dagSingle.ms), ratio: +(rawSingle.ms / dagSingle.ms).toFixed(2) }
      await l2.close()
      await raw2.close()
    }
  } finally {
    rmSync(rawDir, { recursive: true, force: true })
    rmSync(dagDir, { recursive: true, force: true })
  }
  return out
}

if (args['scan-child']) {
  await scanChild(args.path!)
} else if (args['cold-child']) {
  await coldChild(args['cold-child'], args.path!, Number(args.n))
} else {
  const n = Number(args.n)
  const result: Record<string, unknown> = { node: process.version, ...cacheOption, main: await measure(n, !args.quick) }
  if (args.scaling) {
    result.scaling = [await measure(10_000, false), await measure(1_000_000, false)]
  }
  result.peakRssMB = peakRssMB()
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
}
