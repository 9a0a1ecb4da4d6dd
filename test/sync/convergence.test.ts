import * as fc from 'fast-check'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Ledger, connectInMemory, type Page } from 'dagkv'
import { engineOf } from '../../src/ledger/index.js'
import { linkInMemory, networkOf } from '../../src/sync/index.js'
import type { MemoryLinkOptions } from '../../src/sync/transport/index.js'
import { numRuns, utf8 } from '../helpers/bytes.js'
import { tempDir } from '../helpers/ledgers.js'
import { contents } from './helpers.js'

// Convergence under faults (DESIGN.md invariant 4): three replicas on classic-level stores, joined
// by in-memory links that drop, duplicate, reorder and cut frames (seeded), do random writes,
// transactions, syncs, reconnects and restarts (close and reopen from the same directory). Then
// the links heal (fresh fault-free ones), every pair syncs both ways and merges settle: all three
// must hold the same single head (the same commit id) and the same contents.

const PAGE = 'conv'
const RUNS = numRuns(100)
const STATS = { ok: 0, failed: 0, commits: 0, rounds: [] as number[] }

const KEYS = ['a', 'b', 'c', 'd', 'e']
const PAIRS: readonly (readonly [number, number])[] = [
  [0, 1],
  [1, 2],
  [0, 2],
]

interface Faults {
  readonly dropRate: number
  readonly duplicateRate: number
  readonly reorderRate: number
  readonly cutAfter: number | undefined
}

/** Three replicas, their pages and the faulty links between them. */
class World {
  readonly ledgers: Ledger[] = []
  readonly pages: Page[] = []
  readonly #dir: string
  readonly #faults: Faults
  readonly #autoSync: boolean
  readonly #links = new Map<string, { close(): Promise<void> }>()
  #seed: number

  private constructor(dir: string, faults: Faults, autoSync: boolean, seed: number) {
    this.#dir = dir
    this.#faults = faults
    this.#autoSync = autoSync
    this.#seed = seed
  }

  static async create(dir: string, faults: Faults, autoSync: boolean, seed: number): Promise<World> {
    const w = new World(dir, faults, autoSync, seed)
    for (let i = 0; i < 3; i++) await w.#open(i)
    for (const [i, j] of PAIRS) w.relink(i, j)
    return w
  }

  async #open(i: number): Promise<void> {
    const ledger = await Ledger.open({ path: join(this.#dir, `r${i}`), replicaId: `r${i}`, autoSync: this.#autoSync })
    networkOf(ledger).tune({ timeoutMs: 100 })
    this.ledgers[i] = ledger
    this.pages[i] = await ledger.page(PAGE)
  }

  relink(i: number, j: number): void {
    const key = `${i}-${j}`
    void this.#links.get(key)?.close()
    const options: MemoryLinkOptions = { ...this.#faults, seed: this.#seed++, faultsAfter: 2 }
    this.#links.set(key, linkInMemory(this.ledgers[i]!, this.ledgers[j]!, options))
  }

  async restart(i: number): Promise<void> {
    await this.ledgers[i]!.close()
    await this.#open(i)
    for (const [a, b] of PAIRS) if (a === i || b === i) this.relink(a, b)
  }

  /** Fresh fault-free links; every replica syncs with every peer, merges settle; until all agree. */
  async heal(): Promise<number> {
    for (const link of this.#links.values()) await link.close()
    this.#links.clear()
    for (const l of this.ledgers) networkOf(l).tune({ timeoutMs: 30_000 })
    for (const [i, j] of PAIRS) this.#links.set(`${i}-${j}`, connectInMemory(this.ledgers[i]!, this.ledgers[j]!))
    for (let round = 1; round <= 8; round++) {
      for (const p of this.pages) await p.sync()
      for (const p of this.pages) await p.waitForConflictResolution()
      if (new Set(await this.heads()).size === 1) return round
    }
    return -1
  }

  async heads(): Promise<string[]> {
    return Promise.all(
      this.ledgers.map(async (l) => {
        const state = await engineOf(l).pageState(utf8(PAGE))
        return state.heads.map((h) => h.cid.toString()).join(',')
      }),
    )
  }

  async close(): Promise<void> {
    for (const link of this.#links.values()) await link.close()
    for (const l of this.ledgers) await l.close()
  }
}

type Cmd = fc.AsyncCommand<object, World>

class Put implements Cmd {
  constructor(
    readonly r: number,
    readonly key: string,
    readonly value: string,
  ) {}
  check = (): boolean => true
  run = async (_: object, w: World): Promise<void> => w.pages[this.r]!.put(this.key, this.value)
  toString = (): string => `put(r${this.r}, ${this.key}=${this.value})`
}

class Delete implements Cmd {
  constructor(
    readonly r: number,
    readonly key: string,
  ) {}
  check = (): boolean => true
  run = async (_: object, w: World): Promise<void> => w.pages[this.r]!.delete(this.key)
  toString = (): string => `delete(r${this.r}, ${this.key})`
}

class Transaction implements Cmd {
  constructor(
    readonly r: number,
    readonly puts: [string, string][],
    readonly clear: boolean,
  ) {}
  check = (): boolean => true
  run = async (_: object, w: World): Promise<void> => {
    const page = w.pages[this.r]!
    await page.startTransaction()
    if (this.clear) await page.clear()
    for (const [k, v] of this.puts) await page.put(k, v)
    await page.commit()
  }
  toString = (): string => `tx(r${this.r}, ${this.clear ? 'clear, ' : ''}${this.puts.map(([k, v]) => `${k}=${v}`).join(' ')})`
}

class Sync implements Cmd {
  constructor(
    readonly r: number,
    readonly mode: 'push' | 'pull' | 'both',
  ) {}
  check = (): boolean => true
  run = async (_: object, w: World): Promise<void> => {
    // Over faulty links a sync may fail (the link drops); that is allowed here.
    await w.pages[this.r]!.sync({ mode: this.mode }).then(
      (st) => void (STATS.ok++, STATS.commits += st.commitsReceived + st.commitsSent),
      () => void STATS.failed++,
    )
  }
  toString = (): string => `sync(r${this.r}, ${this.mode})`
}

class Relink implements Cmd {
  constructor(readonly pair: number) {}
  check = (): boolean => true
  run = async (_: object, w: World): Promise<void> => {
    const [i, j] = PAIRS[this.pair]!
    w.relink(i, j)
  }
  toString = (): string => `relink(${PAIRS[this.pair]!.join('-')})`
}

class Restart implements Cmd {
  constructor(readonly r: number) {}
  check = (): boolean => true
  run = async (_: object, w: World): Promise<void> => w.restart(this.r)
  toString = (): string => `restart(r${this.r})`
}

const replicaArb = fc.integer({ min: 0, max: 2 })
const keyArb = fc.constantFrom(...KEYS)
const valueArb = fc.string({ minLength: 1, maxLength: 4 })
const syncArb = fc.tuple(replicaArb, fc.constantFrom('push' as const, 'pull' as const, 'both' as const)).map(([r, m]) => new Sync(r, m))
const commands = [
  fc.tuple(replicaArb, keyArb, valueArb).map(([r, k, v]) => new Put(r, k, v)),
  fc.tuple(replicaArb, keyArb).map(([r, k]) => new Delete(r, k)),
  fc
    .tuple(replicaArb, fc.array(fc.tuple(keyArb, valueArb), { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([r, puts, clear]) => new Transaction(r, puts, clear)),
  syncArb,
  syncArb,
  syncArb,
  fc.integer({ min: 0, max: 2 }).map((p) => new Relink(p)),
  replicaArb.map((r) => new Restart(r)),
]

const faultsArb: fc.Arbitrary<Faults> = fc.record({
  dropRate: fc.constantFrom(0, 0, 0.01, 0.05),
  duplicateRate: fc.constantFrom(0, 0, 0.01, 0.05),
  reorderRate: fc.constantFrom(0, 0, 0.01, 0.05),
  cutAfter: fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.integer({ min: 3, max: 300 }) },
  ),
})

async function run(dir: string, faults: Faults, autoSync: boolean, seed: number, cmds: Iterable<Cmd>): Promise<{ world: World; rounds: number }> {
  const world = await World.create(dir, faults, autoSync, seed)
  try {
    await fc.asyncModelRun(() => ({ model: {}, real: world }), cmds)
    const rounds = await world.heal()
    return { world, rounds }
  } catch (err) {
    await world.close()
    throw err
  }
}

async function expectConverged(world: World): Promise<void> {
  const heads = await world.heads()
  expect(new Set(heads).size, `heads: ${heads.join(' | ')}`).toBe(1)
  expect(heads[0]!.includes(',')).toBe(false)
  const ids = await Promise.all(world.pages.map(async (p) => (await p.snapshot()).commitId))
  expect(new Set(ids).size).toBe(1)
  const c0 = await contents(world.pages[0]!)
  for (const p of world.pages) expect(await contents(p)).toEqual(c0)
}

describe('convergence under faults (property)', () => {
  it('3 replicas converge after random writes, faulty syncs and restarts, once links heal', async () => {
    const dir = tempDir()
    let n = 0
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 24, size: 'medium' }), faultsArb, fc.boolean(), fc.integer({ min: 1, max: 1 << 30 }), async (cmds, faults, autoSync, seed) => {
        const { world, rounds } = await run(join(dir, `run${n++}`), faults, autoSync, seed, cmds)
        try {
          STATS.rounds.push(rounds)
          expect(rounds).toBeGreaterThan(0)
          await expectConverged(world)
        } finally {
          await world.close()
        }
      }),
      { numRuns: RUNS },
    )
    // The faults bite: some syncs over faulty links fail, others move commits.
    if (RUNS >= 50) {
      expect(STATS.failed).toBeGreaterThan(0)
      expect(STATS.commits).toBeGreaterThan(0)
    }
    if (process.env['DAGKV_VERBOSE']) console.log(JSON.stringify(STATS))
  }, RUNS * 2000)

  it('planted bug: a replica left out of healing does not converge, and the check sees it', async () => {
    const dir = tempDir()
    const world = await World.create(dir, { dropRate: 0, duplicateRate: 0, reorderRate: 0, cutAfter: undefined }, false, 1)
    try {
      await world.pages[0]!.put('a', '1')
      await world.pages[2]!.put('a', '2')
      await world.pages[0]!.sync()
      await world.ledgers[2]!.close() // r2 never syncs: its write stays its own
      world.ledgers.pop()
      world.pages.pop()
      const other = await Ledger.open({ path: join(dir, 'lonely'), replicaId: 'lonely', autoSync: false })
      world.ledgers.push(other)
      world.pages.push(await other.page(PAGE))
      await world.pages[2]!.put('a', '3')
      await expect(expectConverged(world)).rejects.toThrow()
    } finally {
      await world.close()
    }
  })
})
