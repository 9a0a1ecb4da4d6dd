import fc from 'fast-check'
import { compareBytes, rawBlock, toHex, type CID } from '../../src/codec/index.js'
import { Store } from '../../src/store/index.js'
import { keyLevel, Tree, type ApplyResult, type DiffItem, type TreeChange, type TreeEntry } from '../../src/tree/index.js'

/** fast-check runs: `base` unless DAGKV_NUM_RUNS overrides it. */
export const numRuns = (base: number): number => Number(process.env.DAGKV_NUM_RUNS ?? base)

const enc = new TextEncoder()
export const bytes = (s: string): Uint8Array => enc.encode(s)

/** A few value-block CIDs to link to. */
export const LINKS: CID[] = [0, 1, 2, 3].map((i) => rawBlock(bytes(`value block ${i}`)).cid)

export function inline(key: Uint8Array, value: Uint8Array | string, priority: 'eager' | 'lazy' = 'eager'): TreeEntry {
  return { key, value: { inline: typeof value === 'string' ? bytes(value) : value }, priority }
}

export function put(key: Uint8Array | string, value: string): TreeChange {
  const k = typeof key === 'string' ? bytes(key) : key
  return { key: k, entry: inline(k, value) }
}

export function del(key: Uint8Array | string): TreeChange {
  return { key: typeof key === 'string' ? bytes(key) : key, entry: undefined }
}

/** Sorts by key; the last change of a key wins. */
export function normalize(changes: TreeChange[]): TreeChange[] {
  const byKey = new Map<string, TreeChange>()
  for (const c of changes) byKey.set(toHex(c.key), c)
  return [...byKey.values()].sort((a, b) => compareBytes(a.key, b.key))
}

/** A comparable, printable form of an entry. */
export function show(e: TreeEntry | undefined): string | undefined {
  if (e === undefined) return undefined
  const v = e.value as { inline?: Uint8Array; link: CID; size: number }
  const value = v.inline !== undefined ? `inline:${toHex(v.inline)}` : `link:${v.link.toString()}:${v.size}`
  return `${toHex(e.key)}=${value}/${e.priority}`
}

export function showDiff(d: DiffItem): string {
  return `${toHex(d.key)}: ${show(d.before) ?? '-'} -> ${show(d.after) ?? '-'}`
}

export async function collect<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of gen) out.push(x)
  return out
}

/** Keys from a small alphabet so that batches hit existing keys often. */
export const keyArb: fc.Arbitrary<Uint8Array> = fc
  .array(fc.integer({ min: 0, max: 7 }), { minLength: 0, maxLength: 4 })
  .map((xs) => Uint8Array.from(xs.map((x) => 0x61 + x)))

/**
 * Keys of high level (2-4), mined once: with them small random sets still have tall, sparse
 * trees, where empty levels are skipped and inserts raise the root.
 */
export const HIGH_KEYS: Uint8Array[] = (() => {
  const want = new Map<number, number>([
    [2, 6],
    [3, 4],
    [4, 2],
  ])
  const out: Uint8Array[] = []
  for (let i = 0; out.length < 12 && i < 5_000_000; i++) {
    const k = bytes(`hk${i}`)
    const l = keyLevel(k)
    const left = want.get(l) ?? 0
    if (left > 0) {
      want.set(l, left - 1)
      out.push(k)
    }
  }
  return out
})()

/** Wider keys, for larger sets (multi-level trees), with some high-level keys mixed in. */
export const wideKeyArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 30, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 5, max: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(...HIGH_KEYS) },
)

export const valueArb = (key: Uint8Array): fc.Arbitrary<TreeEntry> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 6 }).map((v) => inline(key, v)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 3 }).map((v) => inline(key, v, 'lazy')) },
    {
      weight: 1,
      arbitrary: fc
        .record({ i: fc.integer({ min: 0, max: LINKS.length - 1 }), size: fc.oneof(fc.nat(30), fc.nat()), lazy: fc.boolean() })
        .map(({ i, size, lazy }): TreeEntry => ({ key, value: { link: LINKS[i]!, size }, priority: lazy ? 'lazy' : 'eager' })),
    },
  )

export const changeArb = (keys: fc.Arbitrary<Uint8Array> = keyArb): fc.Arbitrary<TreeChange> =>
  keys.chain((key) =>
    fc.oneof(
      { weight: 3, arbitrary: valueArb(key).map((entry): TreeChange => ({ key, entry })) },
      { weight: 1, arbitrary: fc.constant<TreeChange>({ key, entry: undefined }) },
    ),
  )

/** Entry sets: unique keys, sorted. */
export const entrySetArb = (keys: fc.Arbitrary<Uint8Array>, maxLength: number): fc.Arbitrary<TreeEntry[]> =>
  fc
    .uniqueArray(keys, { maxLength, size: 'max', selector: (k) => toHex(k) })
    .chain((ks): fc.Arbitrary<TreeEntry[]> => (ks.length === 0 ? fc.constant<TreeEntry[]>([]) : fc.tuple(...ks.map((k) => valueArb(k)))))
    .map((es) => [...es].sort((a, b) => compareBytes(a.key, b.key)))

/** A sorted Map model of a tree. */
export class Model {
  readonly map = new Map<string, TreeEntry>()

  apply(changes: TreeChange[]): void {
    for (const c of changes) {
      if (c.entry === undefined) this.map.delete(toHex(c.key))
      else this.map.set(toHex(c.key), c.entry)
    }
  }

  sorted(): TreeEntry[] {
    return [...this.map.values()].sort((a, b) => compareBytes(a.key, b.key))
  }

  get(key: Uint8Array): TreeEntry | undefined {
    return this.map.get(toHex(key))
  }
}

/** Naive diff of two entry lists (sorted by key). */
export function naiveDiff(a: TreeEntry[], b: TreeEntry[]): string[] {
  const A = new Map(a.map((e) => [toHex(e.key), e]))
  const B = new Map(b.map((e) => [toHex(e.key), e]))
  const keys = [...new Set([...A.keys(), ...B.keys()])].sort((x, y) => compareBytes(Buffer.from(x, 'hex'), Buffer.from(y, 'hex')))
  const out: string[] = []
  for (const k of keys) {
    const before = A.get(k)
    const after = B.get(k)
    if (show(before) !== show(after)) out.push(showDiff({ key: Buffer.from(k, 'hex'), before, after }))
  }
  return out
}

/** A tree over a fresh memory store; `commit` stores an apply's blocks like the ledger would. */
export async function memoryTree(cacheBytes?: number): Promise<{ store: Store; tree: Tree; commit: (r: ApplyResult) => Promise<CID> }> {
  const store = await Store.open()
  const tree = new Tree(store, cacheBytes === undefined ? {} : { cacheBytes })
  const commit = async (r: ApplyResult): Promise<CID> => {
    await store.write({ blocks: r.blocks })
    tree.markStored(r.blocks)
    return r.root
  }
  return { store, tree, commit }
}

/** Builds a tree of `entries` in one apply and stores it. */
export async function build(t: { tree: Tree; commit: (r: ApplyResult) => Promise<CID> }, entries: TreeEntry[]): Promise<CID> {
  return t.commit(await t.tree.apply(Tree.emptyRoot, entries.map((e) => ({ key: e.key, entry: e }))))
}

/** Splits `xs` into consecutive batches at the given cut points. */
export function batches<T>(xs: T[], cuts: number[]): T[][] {
  const points = [...new Set(cuts.map((c) => c % (xs.length + 1)))].sort((a, b) => a - b)
  const out: T[][] = []
  let at = 0
  for (const p of points) {
    out.push(xs.slice(at, p))
    at = p
  }
  out.push(xs.slice(at))
  return out
}
