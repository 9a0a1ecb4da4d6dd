// Usage: npx tsx bench/history.ts [--n 100000] [--puts 5000] [--gets 10000]   → one JSON object on stdout.
// What a history of small commits costs with rewritten nodes stored as deltas (the default) and
// with every node whole (`nodeDeltas: false`): store growth per single put, the single puts'
// rate, and cold random gets in a fresh process afterwards (docs/architecture.md).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Ledger } from '../src/index.js'
import { dataset, dirBytes } from './lib/fixtures.js'

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    puts: { type: 'string', default: '5000' },
    gets: { type: 'string', default: '10000' },
    'cold-gets': { type: 'string' },
  },
})
const n = Number(args.n)
const gets = Number(args.gets)
const { keys, values } = dataset(n)

/** In a child process: cold random gets on the store at `path` (a fresh process: nothing cached). */
async function coldGets(path: string): Promise<void> {
  const ledger = await Ledger.open({ autoSync: false, path })
  const snap = await (await ledger.page('bench')).snapshot()
  const t = performance.now()
  for (let i = 0; i < gets; i++) if ((await snap.get(keys[(i * 104729) % n]!)) === undefined) throw new Error('missing key')
  const perSec = Math.round(gets / ((performance.now() - t) / 1000))
  await ledger.close()
  process.stdout.write(JSON.stringify({ perSec }))
}

async function history(nodeDeltas: boolean): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'dagkv-history-'))
  const path = join(dir, 'db')
  try {
    const ledger = await Ledger.open({ autoSync: false, path, nodeDeltas })
    const page = await ledger.page('bench')
    await page.startTransaction()
    for (let i = 0; i < n; i++) void page.put(keys[i]!, values[i]!)
    await page.commit()
    await ledger.close()
    const loaded = dirBytes(path)
    const again = await Ledger.open({ autoSync: false, path, nodeDeltas })
    const p = await again.page('bench')
    const puts = Number(args.puts)
    const t = performance.now()
    for (let i = 0; i < puts; i++) await p.put(keys[(i * 7919) % n]!, values[(i * 31 + 1) % n]!)
    const putsPerSec = Math.round(puts / ((performance.now() - t) / 1000))
    await again.close()
    const grown = dirBytes(path) - loaded
    const child = execFileSync(process.execPath, ['--import', 'tsx', process.argv[1]!, '--n', String(n), '--gets', String(gets), '--cold-gets', path])
    const cold = JSON.parse(child.toString()) as { perSec: number }
    return { loadedBytes: loaded, grownBytes: grown, bytesPerPut: Math.round(grown / puts), putsPerSec, coldGetsPerSec: cold.perSec }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (args['cold-gets'] !== undefined) {
  await coldGets(args['cold-gets'])
} else {
  const deltas = await history(true)
  const whole = await history(false)
  console.log(JSON.stringify({ node: process.version, entries: n, puts: Number(args.puts), gets, deltas, whole }))
}
