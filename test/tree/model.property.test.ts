import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareBytes, type CID } from '../../src/codec/index.js'
import type { Store } from '../../src/store/index.js'
import { Tree, type TreeChange, type TreeEntry } from '../../src/tree/index.js'
import { changeArb, collect, keyArb, memoryTree, Model, naiveDiff, normalize, numRuns, show, showDiff, wideKeyArb } from './helpers.js'

interface Real {
  store: Store
  tree: Tree
  root: CID
  /** Earlier roots and their content, for diffs. */
  history: { root: CID; entries: TreeEntry[] }[]
}

type Cmd = fc.AsyncCommand<Model, Real>

class ApplyBatch implements Cmd {
  constructor(readonly changes: TreeChange[]) {}
  check(): boolean {
    return true
  }
  async run(m: Model, r: Real): Promise<void> {
    const res = await r.tree.apply(r.root, this.changes)
    await r.store.write({ blocks: res.blocks })
    r.tree.markStored(res.blocks)
    m.apply(this.changes)
    r.root = res.root
    r.history.push({ root: res.root, entries: m.sorted() })
    for (const c of this.changes) expect(show(await r.tree.get(r.root, c.key))).toBe(show(m.get(c.key)))
    if (m.map.size === 0) expect(r.root.equals(Tree.emptyRoot)).toBe(true)
  }
  toString(): string {
    return `apply(${this.changes.length})`
  }
}

class Get implements Cmd {
  constructor(readonly key: Uint8Array) {}
  check(): boolean {
    return true
  }
  async run(m: Model, r: Real): Promise<void> {
    expect(show(await r.tree.get(r.root, this.key))).toBe(show(m.get(this.key)))
  }
  toString(): string {
    return `get(${Buffer.from(this.key).toString('hex')})`
  }
}

class Scan implements Cmd {
  check(): boolean {
    return true
  }
  async run(m: Model, r: Real): Promise<void> {
    expect((await collect(r.tree.entries(r.root))).map(show)).toEqual(m.sorted().map(show))
  }
  toString(): string {
    return 'scan'
  }
}

/** A cold reader over the store alone: the stored blocks are complete. */
class ColdScan implements Cmd {
  check(): boolean {
    return true
  }
  async run(m: Model, r: Real): Promise<void> {
    const cold = new Tree(r.store, { cacheBytes: 1 })
    expect((await collect(cold.entries(r.root, { reverse: true }))).map(show)).toEqual(m.sorted().reverse().map(show))
  }
  toString(): string {
    return 'coldScan'
  }
}

class DiffFrom implements Cmd {
  constructor(readonly back: number) {}
  check(): boolean {
    return true
  }
  async run(m: Model, r: Real): Promise<void> {
    const then = r.history[Math.max(0, r.history.length - 1 - this.back)]!
    const got = (await collect(r.tree.diff(then.root, r.root))).map(showDiff)
    expect(got).toEqual(naiveDiff(then.entries, m.sorted()))
  }
  toString(): string {
    return `diffFrom(${this.back})`
  }
}

const batchArb = (keys: fc.Arbitrary<Uint8Array>, max: number): fc.Arbitrary<TreeChange[]> =>
  fc.array(changeArb(keys), { maxLength: max, size: 'max' }).map(normalize)

function commands(keys: fc.Arbitrary<Uint8Array>, maxBatch: number): fc.Arbitrary<Cmd>[] {
  return [
    batchArb(keys, maxBatch).map((c) => new ApplyBatch(c)),
    batchArb(keys, maxBatch).map((c) => new ApplyBatch(c)),
    keys.map((k) => new Get(k)),
    fc.constant(new Scan()),
    fc.constant(new ColdScan()),
    fc.nat(6).map((n) => new DiffFrom(n)),
  ]
}

async function runModel(cmds: Iterable<Cmd>, cacheBytes?: number): Promise<void> {
  const t = await memoryTree(cacheBytes)
  const real: Real = { store: t.store, tree: t.tree, root: Tree.emptyRoot, history: [{ root: Tree.emptyRoot, entries: [] }] }
  await fc.asyncModelRun(() => ({ model: new Model(), real }), cmds)
}

describe('tree vs a sorted Map model', () => {
  it('small key space (frequent updates and deletes)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands(keyArb, 20), { maxCommands: 30, size: 'max' }), (cmds) => runModel(cmds)),
      { numRuns: numRuns(60) },
    )
  })

  it('wider keys and larger batches (multi-level trees), tiny cache', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands(wideKeyArb, 120), { maxCommands: 15, size: 'max' }), (cmds) => runModel(cmds, 1)),
      { numRuns: numRuns(30) },
    )
  })

  it('sanity: the model orders keys by bytes', () => {
    const m = new Model()
    m.apply(normalize([{ key: Uint8Array.of(2), entry: undefined }]))
    expect(m.sorted()).toEqual([])
    expect(compareBytes(Uint8Array.of(1), Uint8Array.of(1, 0))).toBeLessThan(0)
  })
})
