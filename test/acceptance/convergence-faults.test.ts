/**
 * Black-box acceptance tests (package root only): convergence with autoSync over in-memory links
 * and WebSocket on 127.0.0.1, with links cut and re-made mid-stream, restarts, relays and lazy values.
 */
import fc from 'fast-check'
import { describe, expect, it, onTestFinished } from 'vitest'
import { Ledger, LedgerError, connectInMemory } from 'dagkv'
import { numRuns, str } from '../helpers/bytes.js'
import { within } from '../helpers/timing.js'
import { codeOf, same, seeded, sleep } from './merge-api-helpers.js'
import { digest, expectConverged, reopenable, untilConverged } from './persistence-helpers.js'

type Kind = 'mem' | 'ws'

/** Replicas (0 and 1 on disk) with autoSync, linked in memory or by WebSocket, cut and restarted at will. */
class Net {
  readonly ledgers: Ledger[] = []
  readonly #dirs = [reopenable({ autoSync: true }), reopenable({ autoSync: true })]
  readonly #listeners = new Map<number, { url: string; close(): Promise<void> }>()
  readonly #links = new Map<string, Promise<{ close(): Promise<void> } | undefined>>()

  static async create(n: number): Promise<Net> {
    const net = new Net()
    for (let i = 0; i < n; i++) {
      if (i < 2) net.ledgers.push(await net.#dirs[i]!.open({ replicaId: `R${i}` }))
      else {
        const l = await Ledger.open({ replicaId: `R${i}` })
        onTestFinished(() => l.close())
        net.ledgers.push(l)
      }
    }
    onTestFinished(() => net.cutAll())
    return net
  }

  #key(i: number, j: number): string {
    return i < j ? `${i}-${j}` : `${j}-${i}`
  }

  async #listener(j: number): Promise<string> {
    let l = this.#listeners.get(j)
    if (!l) {
      l = await this.ledgers[j]!.listen({ host: '127.0.0.1', port: 0 })
      this.#listeners.set(j, l)
    }
    return l.url
  }

  /** Links i and j (no-op when linked); a WebSocket link has i connect to j's listener. */
  async link(i: number, j: number, kind: Kind): Promise<void> {
    const k = this.#key(i, j)
    if (i === j || this.#links.has(k)) return
    const made = (async () => {
      if (kind === 'mem') return connectInMemory(this.ledgers[i]!, this.ledgers[j]!)
      return this.ledgers[i]!.connect(await this.#listener(j))
    })()
    this.#links.set(k, made)
    await made
  }

  async cut(i: number, j: number): Promise<void> {
    const k = this.#key(i, j)
    const l = this.#links.get(k)
    this.#links.delete(k)
    await (await l)?.close()
  }

  async restart(r: number): Promise<void> {
    for (let j = 0; j < this.ledgers.length; j++) if (j !== r) await this.cut(r, j)
    await this.#listeners.get(r)?.close()
    this.#listeners.delete(r)
    await this.ledgers[r]!.close()
    this.ledgers[r] = await this.#dirs[r]!.open({ replicaId: `R${r}` })
  }

  async cutAll(): Promise<void> {
    for (const k of [...this.#links.keys()]) {
      const [i, j] = k.split('-').map(Number)
      await this.cut(i!, j!).catch(() => undefined)
    }
  }
}

type FaultOp =
  | { t: 'put'; r: number; page: number; key: number; value: number }
  | { t: 'txn'; r: number; page: number; keys: number[]; value: number }
  | { t: 'del'; r: number; page: number; key: number }
  | { t: 'link'; i: number; j: number; kind: Kind }
  | { t: 'cut'; i: number; j: number }
  | { t: 'restart'; r: number }
  | { t: 'pause'; ms: number }

const r4 = fc.nat(3)
const faultOp: fc.Arbitrary<FaultOp> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('put' as const), r: r4, page: fc.nat(2), key: fc.nat(5), value: fc.nat(99) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('txn' as const), r: r4, page: fc.nat(2), keys: fc.array(fc.nat(5), { minLength: 1, maxLength: 4 }), value: fc.nat(99) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('del' as const), r: r4, page: fc.nat(2), key: fc.nat(5) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('link' as const), i: r4, j: r4, kind: fc.constantFrom('mem' as const, 'ws' as const) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('cut' as const), i: r4, j: r4 }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('restart' as const), r: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('pause' as const), ms: fc.nat(15) }) },
)

describe('convergence under faults (autoSync, memory and WebSocket links)', () => {
  it('random edits while links are cut and re-made and disk replicas restart: once linked again, all converge', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(faultOp, { minLength: 5, maxLength: 30 }),
        fc.array(fc.tuple(fc.nat(3), fc.constantFrom('mem' as const, 'ws' as const)), { minLength: 3, maxLength: 3 }),
        async (ops, tree) => {
          const net = await Net.create(4)
          try {
            // Edits are not awaited one by one: syncs are in flight when links are cut.
            // A restart does not wait for them: those of the closed replica resolve or fail with CLOSED.
            const inFlight: Promise<unknown>[] = []
            const outcome = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: unknown) => (e instanceof LedgerError ? e.code : String(e)))
            const byReplica: Promise<string>[][] = [[], [], [], []]
            for (const op of ops) {
              if (op.t === 'link') { if (op.i !== op.j) await net.link(op.i, op.j, op.kind); continue }
              if (op.t === 'cut') { await net.cut(op.i, op.j); continue }
              if (op.t === 'pause') { await sleep(op.ms); continue }
              if (op.t === 'restart') {
                await net.restart(op.r)
                for (const o of await Promise.all(byReplica[op.r]!.splice(0))) expect(['ok', 'CLOSED']).toContain(o)
                continue
              }
              const page = await net.ledgers[op.r]!.page(`p${op.page}`)
              let p: Promise<unknown>
              if (op.t === 'put') p = page.put(`k${op.key}`, `R${op.r}:${op.value}`)
              else if (op.t === 'del') p = page.delete(`k${op.key}`)
              else {
                p = (async () => {
                  await page.startTransaction()
                  for (const k of op.keys) await page.put(`k${k}`, `R${op.r}:t${op.value}`)
                  await page.commit()
                })()
              }
              inFlight.push(p)
              byReplica[op.r]!.push(outcome(p))
            }
            for (const r of [2, 3]) for (const o of await Promise.all(byReplica[r]!)) expect(o).toBe('ok')
            for (const r of [0, 1]) for (const o of await Promise.all(byReplica[r]!)) expect(o).toBe('ok') // not restarted since
            await Promise.allSettled(inFlight)
            // A random spanning tree of mixed links; nothing else.
            await net.cutAll()
            for (let i = 1; i < 4; i++) await net.link(i, tree[i - 1]![0] % i, tree[i - 1]![1])
            await untilConverged(net.ledgers, 30_000)
          } finally {
            await net.cutAll()
          }
        },
      ),
      { numRuns: numRuns(8), endOnFailure: true },
    )
  }, 300_000)

  it('a link cut in the middle of a big pull: what shows is a whole commit of the sender; re-linked, it completes', async () => {
    const a = await Ledger.open({ autoSync: false, replicaId: 'A' })
    onTestFinished(() => a.close())
    const pa = await a.page('big')
    const history = new Set<string>([(await pa.snapshot()).commitId])
    for (let i = 0; i < 120; i++) {
      await pa.put(`k${i}`, seeded(20_000, i))
      history.add((await pa.snapshot()).commitId)
    }
    const listener = await a.listen({ host: '127.0.0.1', port: 0 })
    onTestFinished(() => listener.close())
    const dir = reopenable({ replicaId: 'B' })
    for (const delay of [0, 2, 4, 8, 12, 16, 20, 25, 30, 40]) {
      const b = await dir.open()
      const peer = await b.connect(listener.url)
      const pb = await b.page('big')
      const pull = pb.sync({ mode: 'pull' }).then(() => 'done', (e: unknown) => (e instanceof LedgerError ? e.code : String(e)))
      await sleep(delay)
      await peer.close()
      const outcome = await within(pull, 10_000, 'pull cut mid-stream')
      expect(['done', 'NETWORK_ERROR']).toContain(outcome)
      const seen = await pb.snapshot()
      expect(history.has(seen.commitId), `delay ${delay}: ${seen.commitId}`).toBe(true)
      // Every key it shows has its whole value.
      for (let i = 0; i < 120; i++) {
        const v = await seen.get(`k${i}`)
        if (v !== undefined) expect(same(v, seeded(20_000, i)), `k${i}`).toBe(true)
      }
      await b.close() // and the store is fine after a restart
    }
    const b = await dir.open()
    await b.connect(listener.url)
    const pb = await b.page('big')
    await within(pb.sync({ mode: 'pull' }), 20_000)
    expect((await pb.snapshot()).commitId).toBe((await pa.snapshot()).commitId)
    await b.close()
    const again = await dir.open()
    expect((await digest(again))[Buffer.from('big').toString('hex')]!.commitId).toBe((await pa.snapshot()).commitId)
  })

  it('all replicas of a mixed mesh sync one page concurrently, repeatedly: no error, and they converge', async () => {
    const ledgers: Ledger[] = []
    for (let i = 0; i < 4; i++) {
      const l = await Ledger.open({ autoSync: false, replicaId: `M${i}` })
      onTestFinished(() => l.close())
      ledgers.push(l)
    }
    for (let i = 0; i < 4; i++) {
      for (let j = i + 1; j < 4; j++) {
        if ((i + j) % 2 === 0) {
          const l = connectInMemory(ledgers[i]!, ledgers[j]!)
          onTestFinished(() => l.close())
        }
        else {
          const s = await ledgers[j]!.listen({ host: '127.0.0.1', port: 0 })
          onTestFinished(() => s.close())
          const p = await ledgers[i]!.connect(s.url)
          onTestFinished(() => p.close())
        }
      }
    }
    const pages = await Promise.all(ledgers.map((l) => l.page('shared')))
    for (let round = 0; round < 3; round++) {
      await Promise.all(pages.map(async (p, i) => {
        for (let k = 0; k < 5; k++) await p.put(`k${k}`, `M${i}:${round}`)
        await p.put(`own-${i}-${round}`, 'x')
      }))
      await within(Promise.all(pages.map((p) => p.sync())), 20_000, 'concurrent syncs')
    }
    for (let quiet = 0; quiet < 10; quiet++) {
      const stats = await within(Promise.all(pages.map(async (p) => {
        const s = await p.sync()
        await within(p.waitForConflictResolution())
        return s.commitsReceived + s.commitsSent
      })), 20_000, 'concurrent syncs until quiet')
      if (stats.every((n) => n === 0)) break
    }
    const d = await expectConverged(ledgers)
    const only = Object.values(d)[0]!.contents
    expect(Object.keys(only).filter((k) => k.startsWith('own-'))).toHaveLength(12)
  })
})

describe('lazy values along a chain A–B–C', () => {
  it('C fetches a lazy value only a non-neighbour has: it comes once B has it; after C restarts it is local', async () => {
    const a = await Ledger.open({ replicaId: 'A' })
    onTestFinished(() => a.close())
    const b = await Ledger.open({ replicaId: 'B' })
    onTestFinished(() => b.close())
    const cdir = reopenable({ autoSync: true, replicaId: 'C' })
    const c = await cdir.open()
    const server = await b.listen({ host: '127.0.0.1', port: 0 })
    onTestFinished(() => server.close())
    const peerA = await a.connect(server.url)
    onTestFinished(() => peerA.close())
    const bc = connectInMemory(b, c)
    const big = seeded(300_000, 77)
    const pa = await a.page('lazy')
    await pa.put('big', big, { priority: 'lazy' })
    await pa.put('small', 's', { priority: 'lazy' })
    await pa.put('eager', 'e')
    const pc = await c.page('lazy')
    const head = (await pa.snapshot()).commitId
    await within((async () => { while ((await pc.snapshot()).commitId !== head) await sleep(10) })(), 10_000, 'commit reaching C')
    const sc = await pc.snapshot()
    expect(str(await sc.get('eager'))).toBe('e')
    expect(await codeOf(() => sc.get('big'))).toBe('NEEDS_FETCH')
    // API.md: fetch asks "peers"; B has not got the bytes. Whether B relays the request is not
    // specified: accept the bytes or NETWORK_ERROR, nothing else.
    const direct = await sc.fetch('small').then((v) => str(v), (e: unknown) => (e instanceof LedgerError ? e.code : String(e)))
    expect(['s', 'NETWORK_ERROR']).toContain(direct)
    const sb = await (await b.page('lazy')).snapshot()
    expect(same(await within(sb.fetch('big'), 10_000), big)).toBe(true)
    expect(str(await within(sb.fetch('small'), 10_000))).toBe('s')
    expect(same(await within(sc.fetchPartial('big', -1000, 500), 10_000), big.subarray(-1000, -500))).toBe(true)
    expect(same(await within(sc.fetch('big'), 10_000), big)).toBe(true)
    expect(str(await within(sc.fetch('small'), 10_000))).toBe('s')
    await bc.close()
    await c.close()
    const c2 = await cdir.open()
    const s2 = await (await c2.page('lazy')).snapshot()
    expect(same(await s2.get('big'), big)).toBe(true)
    expect(str(await s2.get('small'))).toBe('s')
  })
})
