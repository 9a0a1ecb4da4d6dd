import fc from 'fast-check'
import { compareBytes, rawBlock, type Block } from '../../src/codec/index.js'
import { CommitReader, EMPTY_COMMIT, makeCommit, type Commit } from '../../src/commit/index.js'
import { LedgerError } from '../../src/errors/index.js'
import type { MergeEnv, MergeSessionOptions } from '../../src/merge/index.js'
import { MergeSession } from '../../src/merge/index.js'
import { Store } from '../../src/store/index.js'
import type { Priority, TreeChange, TreeEntry, ValueRef } from '../../src/tree/interface.js'
import { Tree } from '../../src/tree/index.js'
import type { Reference } from '../../src/value/interface.js'
import { str, utf8 } from '../helpers/bytes.js'

/** Values longer than this become link values (a raw block), to cover both ValueRef kinds. */
const INLINE = 8

/** A page's content as a plain object: key → value, or `value~lazy` for lazy entries. */
export type Contents = Record<string, string>

/** A key's edit: a value (eager), `[value, priority]`, or null to delete. */
export type Edit = string | readonly [string, Priority] | null
export type Edits = Record<string, Edit>

export interface Fixture {
  readonly store: Store
  readonly tree: Tree
  readonly env: MergeEnv
  /** How many `writeBlocks` calls the merge layer made. */
  readonly writes: { count: number }
}

export async function fixture(): Promise<Fixture> {
  const store = await Store.open()
  const tree = new Tree(store)
  const writes = { count: 0 }
  const env: MergeEnv = {
    commits: new CommitReader(store),
    tree,
    async writeBlocks(blocks: Block[]): Promise<void> {
      writes.count++
      await store.write({ blocks })
    },
  }
  return { store, tree, env, writes }
}

/** A tree entry (and the value block for a link value). */
export function entry(key: string, value: string, priority: Priority = 'eager'): { entry: TreeEntry; blocks: Block[] } {
  const bytes = utf8(value)
  if (bytes.length <= INLINE && priority === 'eager') return { entry: { key: utf8(key), value: { inline: bytes }, priority }, blocks: [] }
  const block = rawBlock(bytes)
  return { entry: { key: utf8(key), value: { link: block.cid, size: bytes.length }, priority }, blocks: [block] }
}

export function toChanges(edits: Edits): { changes: TreeChange[]; blocks: Block[] } {
  const blocks: Block[] = []
  const changes: TreeChange[] = []
  for (const [key, edit] of Object.entries(edits)) {
    if (edit === null) {
      changes.push({ key: utf8(key), entry: undefined })
      continue
    }
    const [value, priority] = typeof edit === 'string' ? [edit, 'eager' as const] : edit
    const made = entry(key, value, priority)
    changes.push({ key: made.entry.key, entry: made.entry })
    blocks.push(...made.blocks)
  }
  changes.sort((a, b) => compareBytes(a.key, b.key))
  return { changes, blocks }
}

/**
 * Stores a commit: `edits` applied to the first parent's tree (the empty tree without parents),
 * parents default to the empty commit. Non-merge commits carry `replica` (default 'r').
 */
export async function commit(
  f: Fixture,
  parents: readonly Commit[],
  edits: Edits,
  timestamp: number,
  replica: string | undefined = parents.length > 1 ? undefined : 'r',
): Promise<Commit> {
  const from = parents[0] ?? EMPTY_COMMIT
  const { changes, blocks } = toChanges(edits)
  const applied = changes.length === 0 ? { root: from.root, blocks: [] } : await f.tree.apply(from.root, changes)
  const ps = parents.length === 0 ? [EMPTY_COMMIT] : parents
  const made = makeCommit({
    parents: ps.map((p) => p.cid),
    root: applied.root,
    timestamp,
    generation: 1 + Math.max(...ps.map((p) => p.generation)),
    replica,
  })
  await f.store.write({ blocks: [...blocks, ...applied.blocks, made.block] })
  return made.commit
}

/** Reads a value the way a ledger would: inline bytes, or the raw block of a link. */
export async function readValue(f: Fixture, ref: ValueRef): Promise<Uint8Array | undefined> {
  if ('inline' in ref) return ref.inline
  return f.store.getBlock(ref.link)
}

export async function contents(f: Fixture, root: Commit['root']): Promise<Contents> {
  const out: Contents = {}
  for await (const e of f.tree.entries(root, {})) {
    const value = str(await readValue(f, e.value)) ?? '?'
    out[str(e.key)!] = e.priority === 'lazy' ? `${value}~lazy` : value
  }
  return out
}

/** A model map from edits. */
export function applyModel(base: Contents, edits: Edits): Contents {
  const out = { ...base }
  for (const [key, edit] of Object.entries(edits)) {
    if (edit === null) delete out[key]
    else if (typeof edit === 'string') out[key] = edit
    else out[key] = edit[1] === 'lazy' ? `${edit[0]}~lazy` : edit[0]
  }
  return out
}

/** The last-one-wins model of API.md over plain maps. */
export function lastOneWinsModel(base: Contents, left: Contents, right: Contents): Contents {
  const out: Contents = {}
  for (const key of new Set([...Object.keys(base), ...Object.keys(left), ...Object.keys(right)])) {
    const leftChanged = left[key] !== base[key]
    const v = leftChanged ? left[key] : right[key]
    if (v !== undefined) out[key] = v
  }
  return out
}

/** Keys changed on both sides to different results. */
export function conflictingKeys(base: Contents, left: Contents, right: Contents): string[] {
  const keys = new Set([...Object.keys(base), ...Object.keys(left), ...Object.keys(right)])
  return [...keys].filter((k) => left[k] !== base[k] && right[k] !== base[k] && left[k] !== right[k]).sort()
}

/** Applies a change list to a commit's root and returns the contents. */
export async function applied(f: Fixture, root: Commit['root'], changes: TreeChange[]): Promise<Contents> {
  if (changes.length === 0) return contents(f, root)
  const r = await f.tree.apply(root, changes)
  await f.store.write({ blocks: r.blocks })
  return contents(f, r.root)
}

/** References the test "ledger" issued: id → value bytes. */
export function referenceTable(): Map<string, Uint8Array> {
  return new Map()
}

/** A session over three commits, with test callbacks for values and references. */
export function session(
  f: Fixture,
  c: { base: Commit; left: Commit; right: Commit },
  extra: Partial<Pick<MergeSessionOptions<string>, 'initial'>> & { references?: Map<string, Uint8Array> } = {},
): MergeSession<string> {
  const references = extra.references ?? new Map<string, Uint8Array>()
  return new MergeSession<string>({
    pageId: utf8('page'),
    left: 'left-snapshot',
    right: 'right-snapshot',
    base: 'base-snapshot',
    tree: f.tree,
    roots: { base: c.base.root, left: c.left.root, right: c.right.root },
    readValue: (ref) => readValue(f, ref),
    encodeValue: (bytes, priority) => {
      if (bytes.length <= INLINE && priority === 'eager') return { ref: { inline: bytes }, blocks: [] }
      const block = rawBlock(bytes)
      return { ref: { link: block.cid, size: bytes.length }, blocks: [block] }
    },
    resolveReference: async (ref: Reference) => {
      const bytes = references.get(ref.id)
      if (bytes === undefined) throw new LedgerError('REFERENCE_NOT_FOUND', `unknown reference ${ref.id}`)
      const block = rawBlock(bytes)
      await f.store.write({ blocks: [block] })
      return { link: block.cid, size: bytes.length }
    },
    ...(extra.initial === undefined ? {} : { initial: extra.initial }),
  })
}

// ---- arbitraries ----

export const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] as const

const valueArb = fc.oneof(
  fc.constantFrom('x', 'y', 'z'),
  fc.constantFrom('a-longer-value-1', 'a-longer-value-2'),
)

export const editArb: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: valueArb },
  { weight: 1, arbitrary: fc.tuple(valueArb, fc.constant<Priority>('lazy')) },
  { weight: 2, arbitrary: fc.constant(null) },
)

export const editsArb: fc.Arbitrary<Edits> = fc.dictionary(fc.constantFrom(...KEYS), editArb, { maxKeys: KEYS.length })
