import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Page } from 'dagkv'
import { collect, numRuns, str } from '../helpers/bytes.js'
import { diskLedger, memoryLedger, type LedgerFactory } from '../helpers/ledgers.js'

interface Model {
  committed: Map<string, string>
  tx: Map<string, string | undefined> | undefined
  cleared: boolean
}
interface Real {
  page: Page
}

const sorted = (m: Map<string, string>): [string, string][] => [...m.entries()].sort(([a], [b]) => (Buffer.compare(Buffer.from(a), Buffer.from(b))))

async function checkSnapshot(m: Model, r: Real): Promise<void> {
  const snap = await r.page.snapshot()
  const got = (await collect(snap.entries())).map((e) => [str(e.key), str(e.value)])
  expect(got).toEqual(sorted(m.committed))
}

class Put implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: string, readonly value: string) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    await r.page.put(this.key, this.value)
    if (m.tx) m.tx.set(this.key, this.value)
    else m.committed.set(this.key, this.value)
    await checkSnapshot(m, r)
  }
  toString = (): string => `put(${this.key},${this.value})`
}

class Delete implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: string) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    await r.page.delete(this.key)
    if (m.tx) m.tx.set(this.key, undefined)
    else m.committed.delete(this.key)
    await checkSnapshot(m, r)
  }
  toString = (): string => `delete(${this.key})`
}

class Clear implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    await r.page.clear()
    if (m.tx) {
      m.tx.clear()
      m.cleared = true
    } else m.committed.clear()
    await checkSnapshot(m, r)
  }
  toString = (): string => 'clear'
}

class Start implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>): boolean => m.tx === undefined
  async run(m: Model, r: Real): Promise<void> {
    await r.page.startTransaction()
    m.tx = new Map()
    m.cleared = false
  }
  toString = (): string => 'start'
}

class Commit implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>): boolean => m.tx !== undefined
  async run(m: Model, r: Real): Promise<void> {
    await r.page.commit()
    if (m.cleared) m.committed.clear()
    for (const [k, v] of m.tx!) {
      if (v === undefined) m.committed.delete(k)
      else m.committed.set(k, v)
    }
    m.tx = undefined
    await checkSnapshot(m, r)
  }
  toString = (): string => 'commit'
}

class Rollback implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>): boolean => m.tx !== undefined
  async run(m: Model, r: Real): Promise<void> {
    await r.page.rollback()
    m.tx = undefined
    await checkSnapshot(m, r)
  }
  toString = (): string => 'rollback'
}

// Few keys, so deletes and overwrites mostly hit present keys.
const key = fc.constantFrom('a', 'ab', 'b\u0000', 'b', '\u00ff', 'k10')
const commands = [
  fc.tuple(key, fc.string({ maxLength: 8 })).map(([k, v]) => new Put(k, v)),
  key.map((k) => new Delete(k)),
  fc.constant(new Clear()),
  fc.constant(new Start()),
  fc.constant(new Commit()),
  fc.constant(new Rollback()),
]

function modelTest(name: string, open: LedgerFactory, runs: number): void {
  it(`${name}: a page behaves as a sorted map`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 40, size: 'max' }), async (cmds) => {
        const ledger = await open()
        const page = await ledger.page('model')
        await fc.asyncModelRun(() => ({ model: { committed: new Map(), tx: undefined, cleared: false }, real: { page } }), cmds)
        await ledger.close()
      }),
      { numRuns: numRuns(runs) },
    )
  })
}

describe('model-based: page vs sorted Map', () => {
  modelTest('memory', memoryLedger, 60)
  modelTest('classic-level', diskLedger, 15)

  it('planted bug: a page whose deletes inside transactions are lost fails the model', async () => {
    const result = await fc.check(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 40, size: 'max' }), async (cmds) => {
        const ledger = await memoryLedger()
        const real = await ledger.page('model')
        let inTx = false
        const broken = new Proxy(real, {
          get(target, prop) {
            if (prop === 'startTransaction') return async () => { inTx = true; await target.startTransaction() }
            if (prop === 'commit' || prop === 'rollback') return async () => { inTx = false; await target[prop]() }
            if (prop === 'delete') return async (k: string) => { if (!inTx) await target.delete(k) }
            const v = Reflect.get(target, prop, target) as unknown
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
          },
        })
        await fc.asyncModelRun(() => ({ model: { committed: new Map(), tx: undefined, cleared: false }, real: { page: broken } }), cmds)
        await ledger.close()
      }),
      // Seeded: an unseeded search of 100 runs missed the planted bug now and then (a flaky pass of the suite).
      { numRuns: 300, seed: 20261125 },
    )
    expect(result.failed).toBe(true)
  })
})
