import type { Ledger, SyncMode, SyncStats } from '../../index.js'
import type { Command } from '../interface.js'
import type { Invocation } from '../invocation.js'
import { connectTo, tokenHelp, tokenOption } from '../network.js'
import { progressBar } from '../progress.js'

const MODES: readonly SyncMode[] = ['push', 'pull', 'both']

const STAT_KEYS = ['commitsSent', 'commitsReceived', 'blocksSent', 'blocksReceived', 'bytesSent', 'bytesReceived', 'roundTrips'] as const

function zero(): SyncStats {
  return { commitsSent: 0, commitsReceived: 0, blocksSent: 0, blocksReceived: 0, bytesSent: 0, bytesReceived: 0, roundTrips: 0 }
}

function add(total: SyncStats, s: SyncStats): void {
  for (const k of STAT_KEYS) total[k] += s[k]
}

function statsLine(s: SyncStats): string {
  return [
    `sent ${s.commitsSent} commits, ${s.blocksSent} blocks, ${s.bytesSent} bytes`,
    `received ${s.commitsReceived} commits, ${s.blocksReceived} blocks, ${s.bytesReceived} bytes`,
    `${s.roundTrips} round trips`,
  ].join('; ')
}

async function pagesToSync(inv: Invocation, ledger: Ledger): Promise<Uint8Array[]> {
  const named = inv.strings('page')
  if (named.length > 0) return named.map((_, i) => inv.bytesOptionAt('page', i))
  return ledger.pages()
}

async function run(inv: Invocation): Promise<undefined> {
  const url = inv.arg(0)
  const mode = (inv.string('mode') ?? 'both') as SyncMode
  if (!MODES.includes(mode)) throw inv.usage(`--mode must be push, pull or both, got ${mode}`)
  await inv.withLedger(
    async (ledger) => {
      const peer = await connectTo(inv, ledger, url)
      try {
        const ids = await pagesToSync(inv, ledger)
        const bar = progressBar(inv.err, ids.length, 'sync |{bar}| {value}/{total} pages | {page}', { page: '' })
        const results: { page: string; stats: SyncStats }[] = []
        const total = zero()
        try {
          for (const id of ids) {
            const page = await ledger.page(id)
            try {
              const stats = await page.sync({ mode, peers: [peer.id] })
              await page.waitForConflictResolution()
              add(total, stats)
              results.push({ page: inv.show(id), stats })
              bar.step({ page: inv.showShort(id, 30) })
            } finally {
              await page.close()
            }
          }
        } finally {
          bar.stop()
        }
        if (inv.json) {
          await inv.out.json({ url, peer: peer.id, mode, pages: results.map((r) => ({ page: r.page, ...r.stats })), total })
          return
        }
        for (const r of results) await inv.out.line(`${r.page}: ${statsLine(r.stats)}`)
        await inv.out.line(`total (${results.length} pages with ${peer.id}): ${statsLine(total)}`)
      } finally {
        await peer.close()
      }
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
    'Connects to the store served at URL (ws://host:port), syncs the pages named with --page (default:',
    'every page of this store) and prints the SyncStats of each page and their total. `push` sends',
    'what the peer lacks, `pull` receives what this store lacks, `both` (the default) does both.',
    'A progress bar shows on standard error when it is a terminal; piped, only the result is printed.',
    'With --json prints {url, peer, mode, pages: [{page, ...SyncStats}], total: SyncStats}.',
  ].join('\n'),
  options: {
    page: { type: 'string', short: 'p', multiple: true },
    mode: { type: 'string', short: 'm' },
    ...tokenOption,
  },
  optionHelp: [
    ['-p, --page P', 'sync page P (repeatable; default: every page of this store)'],
    ['-m, --mode M', 'push, pull or both (default both)'],
    tokenHelp,
  ],
  json: true,
  args: { min: 1, max: 1 },
  run,
}
