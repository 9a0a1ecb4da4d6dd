// Sync benchmark: a 100k-entry page (100 B values) synced between two replicas, over an in-memory
// link and over WebSocket on 127.0.0.1: the initial full sync, a 1 % change (1,000 keys) in one
// commit and in 1,000 single-put commits (bytes on the wire against the changed keys + values,
// round trips), and a replica 1,001 commits behind catching up (round trips, time). For
// comparison, the same syncs with every commit sent as tree nodes (node mode 'always').
// Usage: npx tsx bench/sync.ts [--n 100000] [--changes 1000] [--disk]  → one JSON object on stdout.
// (node --expose-gc --import tsx bench/sync.ts collects garbage before each timed sync: steadier times.)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Ledger, connectInMemory, type Page, type SyncStats } from '../src/index.js'
import { networkOf } from '../src/sync/index.js'
import { dataset, log, prng, time } from './lib/fixtures.js'

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    changes: { type: 'string', default: '1000' },
    disk: { type: 'boolean', default: false },
  },
})
const N = Number(args.n)
const CHANGES = Number(args.changes)
const dir = mkdtempSync(join(tmpdir(), 'dagkv-bench-sync-'))
let opened = 0

async function open(name: string): Promise<Ledger> {
  const options = args.disk ? { path: join(dir, `${name}-${opened++}`) } : {}
  return Ledger.open({ autoSync: false, replicaId: name, ...options })
}

type Transport = 'memory' | 'websocket'

/** Joins `from` (the pulling side) to `to`; returns a closer. */
async function link(kind: Transport, from: Ledger, to: Ledger): Promise<() => Promise<void>> {
  if (kind === 'memory') {
    const l = connectInMemory(from, to)
    return () => l.close()
  }
  const server = await to.listen({ host: '127.0.0.1', port: 0 })
  const peer = await from.connect(server.url)
  return async () => {
    await peer.close()
    await server.close()
  }
}

function summary(stats: SyncStats, ms: number, payload?: number): Record<string, number> {
  const out: Record<string, number> = {
    ms: Math.round(ms),
    commits: stats.commitsReceived,
    blocks: stats.blocksReceived,
    bytesReceived: stats.bytesReceived,
    bytesSent: stats.bytesSent,
    roundTrips: stats.roundTrips,
  }
  if (payload !== undefined) {
    out['payloadBytes'] = payload
    out['ratio'] = Math.round((stats.bytesReceived / payload) * 100) / 100
  }
  return out
}

async function pull(page: Page, payload?: number): Promise<Record<string, number>> {
  ;(globalThis as { gc?: () => void }).gc?.()
  const { ms, result } = await time(() => page.sync({ mode: 'pull' }))
  return summary(result, ms, payload)
}

/** Changes `count` random existing keys to new 100-byte values; returns the bytes of keys + values. */
function changeSet(keys: Uint8Array[], count: number, seed: number): { keys: Uint8Array[]; values: Uint8Array[]; bytes: number } {
  const rnd = prng(seed)
  const picked = new Set<number>()
  while (picked.size < count) picked.add(Math.floor(rnd() * keys.length))
  const out = { keys: [] as Uint8Array[], values: [] as Uint8Array[], bytes: 0 }
  for (const i of picked) {
    const v = new Uint8Array(100)
    for (let j = 0; j < 100; j++) v[j] = Math.floor(rnd() * 256)
    out.keys.push(keys[i]!)
    out.values.push(v)
    out.bytes += keys[i]!.length + 100
  }
  return out
}

async function scenario(kind: Transport): Promise<Record<string, unknown>> {
  const { keys, values } = dataset(N)
  const raw = keys.reduce((s, k) => s + k.length, 0) + values.reduce((s, v) => s + v.length, 0)
  const a = await open('a')
  const pa = await a.page('bench')
  log(`[${kind}] building ${N} entries`)
  await pa.startTransaction()
  for (let i = 0; i < N; i++) void pa.put(keys[i]!, values[i]!)
  await pa.commit()
  const out: Record<string, unknown> = { rawBytes: raw }
  const closers: (() => Promise<void>)[] = []
  const replica = async (name: string): Promise<Page> => {
    const l = await open(name)
    closers.push(() => l.close())
    closers.push(await link(kind, l, a))
    return l.page('bench')
  }

  log(`[${kind}] initial sync (a big first commit travels as tree nodes)`)
  const b = await replica('b')
  out['initial'] = await pull(b, raw)
  log(`[${kind}] initial sync as one diff from the empty tree`)
  networkOf(a).tune({ nodeMode: 'never' })
  const behind = await replica('c')
  out['initialAsDiff'] = await pull(behind, raw)
  networkOf(a).tune({ nodeMode: 'auto' })
  const nodes = await replica('d')
  await nodes.sync({ mode: 'pull' })

  log(`[${kind}] 1 % change in one commit`)
  const one = changeSet(keys, CHANGES, 11)
  await pa.startTransaction()
  for (let i = 0; i < one.keys.length; i++) void pa.put(one.keys[i]!, one.values[i]!)
  await pa.commit()
  out['oneCommit'] = await pull(b, one.bytes)
  networkOf(a).tune({ nodeMode: 'always' })
  out['oneCommitAsNodes'] = await pull(nodes, one.bytes)
  networkOf(a).tune({ nodeMode: 'auto' })

  log(`[${kind}] 1 % change in ${CHANGES} single-put commits`)
  const many = changeSet(keys, CHANGES, 12)
  for (let i = 0; i < many.keys.length; i++) await pa.put(many.keys[i]!, many.values[i]!)
  out['singlePutCommits'] = await pull(b, many.bytes)
  networkOf(a).tune({ nodeMode: 'always' })
  out['singlePutCommitsAsNodes'] = await pull(nodes, many.bytes)
  networkOf(a).tune({ nodeMode: 'auto' })

  log(`[${kind}] a replica ${CHANGES + 1} commits behind`)
  out[`behind${CHANGES + 1}Commits`] = await pull(behind, many.bytes + one.bytes)

  log(`[${kind}] nothing new`)
  out['nothingNew'] = summary(await b.sync(), 0)
  for (const close of closers.reverse()) await close()
  await a.close()
  return out
}

try {
  const result: Record<string, unknown> = { entries: N, valueBytes: 100, changes: CHANGES, store: args.disk ? 'classic-level' : 'memory' }
  result['memory'] = await scenario('memory')
  result['websocket'] = await scenario('websocket')
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
