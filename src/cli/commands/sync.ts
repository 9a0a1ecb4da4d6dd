import { compareBytes, toHex } from '../../codec/index.js'
import type { Ledger, Peer, SyncMode, SyncStats } from '../../index.js'
import type { Command } from '../interface.js'
import type { Invocation } from '../invocation.js'
import { connectTo, tokenHelp, tokenOption } from '../network.js'
import { progressBar, type Progress } from '../progress.js'
import { announcedPages } from '../remote-pages.js'

const MODES: readonly SyncMode[] = ['push', 'pull', 'both']

/** How long a store with no pages of its own waits for the server to announce its pages. */
const ANNOUNCE_WAIT_MS = 1000

const STAT_KEYS = ['commitsSent', 'commitsReceived', 'blocksSent', 'blocksReceived', 'bytesSent', 'bytesReceived', 'roundTrips'] as const

interface PageResult {
  id: Uint8Array
  stats: SyncStats
}

function zero(): SyncStats {
  return { commitsSent: 0, commitsReceived: 0, blocksSent: 0, blocksReceived: 0, bytesSent: 0, bytesReceived: 0, roundTrips: 0 }
}

function sum(results: readonly PageResult[]): SyncStats {
  const total = zero()
  for (const r of results) for (const k of STAT_KEYS) total[k] += r.stats[k]
  return total
}

function statsLine(s: SyncStats): string {
  return [
    `sent ${s.commitsSent} commits, ${s.blocksSent} blocks, ${s.bytesSent} bytes`,
    `received ${s.commitsReceived} commits, ${s.blocksReceived} blocks, ${s.bytesReceived} bytes`,
    `${s.roundTrips} round trips`,
  ].join('; ')
}

async function syncOne(ledger: Ledger, id: Uint8Array, mode: SyncMode, peer: Peer): Promise<SyncStats> {
  const page = await ledger.page(id)
  try {
    const stats = await page.sync({ mode, peers: [peer.id] })
    await page.waitForConflictResolution()
    return stats
  } finally {
    await page.close()
  }
}

/**
 * Syncs the named pages, or every page of this store and (unless pushing only) every page the
 * server announces, until no new page turns up.
 */
async function syncPages(inv: Invocation, ledger: Ledger, peer: Peer, mode: SyncMode, bar: Progress, named: Uint8Array[]): Promise<PageResult[]> {
  const done = new Map<string, PageResult>()
  let todo = named.length > 0 ? named : await ledger.pages()
  bar.grow(todo.length)
  for (;;) {
    for (const id of todo) {
      const key = toHex(id)
      if (done.has(key)) continue
      done.set(key, { id, stats: await syncOne(ledger, id, mode, peer) })
      bar.step({ page: inv.showShort(id, 30) })
    }
    if (named.length > 0 || mode === 'push') break
    const announced = await announcedPages(ledger, peer.id, done.size === 0 ? ANNOUNCE_WAIT_MS : 0)
    todo = announced.filter((id) => !done.has(toHex(id)))
    if (todo.length === 0) break
    bar.grow(todo.length)
  }
  return [...done.values()].sort((a, b) => compareBytes(a.id, b.id))
}

async function run(inv: Invocation): Promise<undefined> {
  const url = inv.arg(0)
  const mode = (inv.string('mode') ?? 'both') as SyncMode
  if (!MODES.includes(mode)) throw inv.usage(`--mode must be push, pull or both, got ${mode}`)
  const named = inv.strings('page').map((_, i) => inv.bytesOptionAt('page', i))
  await inv.withLedger(
    async (ledger) => {
      const peer = await connectTo(inv, ledger, url)
      let results: PageResult[]
      try {
        const bar = progressBar(inv.err, 'sync |{bar}| {value}/{total} pages | {page}', { page: '' })
        try {
          results = await syncPages(inv, ledger, peer, mode, bar, named)
        } finally {
          bar.stop()
        }
      } finally {
        await peer.close()
      }
      const total = sum(results)
      if (inv.json) {
        const pages = results.map((r) => ({ page: inv.show(r.id), ...r.stats }))
        return void (await inv.out.json({ url, peer: peer.id, mode, pages, total }))
      }
      for (const r of results) await inv.out.line(`${inv.show(r.id)}: ${statsLine(r.stats)}`)
      await inv.out.line(`total (${results.length} pages with ${peer.id}): ${statsLine(total)}`)
    },
    { autoSync: false },
  )
  return undefined
}

/** `dagkv sync URL`: syncs pages with a served store now, and reports what crossed. */
export const sync: Command = {
  name: 'sync',
  summary: 'sync pages with a store served by `dagkv serve`',
  usage: 'sync [--page P]... [--mode push|pull|both] [--token T] [--json] URL',
  description: [
    'Connects to the store served at URL (ws://host:port), syncs the pages named with --page and',
    "prints each page's SyncStats and their total. Without --page: every page of this store and,",
    'unless pushing only, every page the server has. `push` sends what the peer lacks, `pull`',
    'receives what this store lacks, `both` (the default) does both.',
    'A progress bar shows on standard error when it is a terminal; piped, only the result is printed.',
    'With --json prints {url, peer, mode, pages: [{page, ...SyncStats}], total: SyncStats}.',
  ].join('\n'),
  options: {
    page: { type: 'string', short: 'p', multiple: true },
    mode: { type: 'string', short: 'm' },
    ...tokenOption,
  },
  optionHelp: [
    ['-p, --page P', "sync page P (repeatable; default: this store's pages and the server's)"],
    ['-m, --mode M', 'push, pull or both (default both)'],
    tokenHelp,
  ],
  json: true,
  args: { min: 1, max: 1 },
  run,
}
