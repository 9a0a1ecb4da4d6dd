import { compareBytes, equalBytes } from '../codec/index.js'
import type { DiffItem, TreeEntry, ValueRef } from '../tree/interface.js'
import type { MergeTree, ThreeWayEntry } from './interface.js'
import type { CID } from '../codec/index.js'

/** Same value: equal inline bytes, or the same link (CID and size). */
export function sameValueRef(a: ValueRef, b: ValueRef): boolean {
  if ('inline' in a) return 'inline' in b && equalBytes(a.inline, b.inline)
  return 'link' in b && a.link.equals(b.link) && a.size === b.size
}

/** Same state of a key: both absent, or same value and priority. */
export function sameEntry(a: TreeEntry | undefined, b: TreeEntry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.priority === b.priority && sameValueRef(a.value, b.value)
}

/** Changed on both sides, to different results. */
export function conflicting(entry: ThreeWayEntry): boolean {
  return !sameEntry(entry.base, entry.left) && !sameEntry(entry.base, entry.right) && !sameEntry(entry.left, entry.right)
}

/**
 * Every key changed on either side (base→left, base→right), ascending, built by zipping the two
 * tree diffs: cost ∝ the changes, not the page. A side that did not change a key shows base's
 * entry for it.
 */
export async function* threeWayDiff(
  tree: Pick<MergeTree, 'diff'>,
  baseRoot: CID,
  leftRoot: CID,
  rightRoot: CID,
): AsyncGenerator<ThreeWayEntry> {
  const lefts = tree.diff(baseRoot, leftRoot)[Symbol.asyncIterator]()
  const rights = tree.diff(baseRoot, rightRoot)[Symbol.asyncIterator]()
  try {
    let l = await next(lefts)
    let r = await next(rights)
    while (l !== undefined || r !== undefined) {
      const order = l === undefined ? 1 : r === undefined ? -1 : compareBytes(l.key, r.key)
      if (order < 0) {
        const item = l!
        yield { key: item.key, base: item.before, left: item.after, right: item.before }
        l = await next(lefts)
      } else if (order > 0) {
        const item = r!
        yield { key: item.key, base: item.before, left: item.before, right: item.after }
        r = await next(rights)
      } else {
        yield { key: l!.key, base: l!.before, left: l!.after, right: r!.after }
        l = await next(lefts)
        r = await next(rights)
      }
    }
  } finally {
    await Promise.all([lefts.return?.(), rights.return?.()])
  }
}

async function next(it: AsyncIterator<DiffItem>): Promise<DiffItem | undefined> {
  const step = await it.next()
  return step.done === true ? undefined : step.value
}

/** Three-way diffs of at most this many keys are kept in memory for reuse (see `ThreeWayCache`). */
export const THREE_WAY_CACHE_MAX = 100_000

/**
 * One merge's three-way diff, computed once and replayed while it is small (a resolver session
 * may read it for `fullDiff`, `conflictingDiff`, `mergeNonConflictingEntries` and `finish`). Larger diffs are walked again each time: memory stays
 * proportional to THREE_WAY_CACHE_MAX, never to the page.
 */
export class ThreeWayCache {
  readonly #tree: Pick<MergeTree, 'diff'>
  readonly #roots: { readonly base: CID; readonly left: CID; readonly right: CID }
  readonly #max: number
  #entries: ThreeWayEntry[] | undefined
  /** Known to exceed the bound: never collect again. */
  #big = false

  constructor(tree: Pick<MergeTree, 'diff'>, roots: { readonly base: CID; readonly left: CID; readonly right: CID }, max = THREE_WAY_CACHE_MAX) {
    this.#tree = tree
    this.#roots = roots
    this.#max = max
  }

  async *entries(): AsyncGenerator<ThreeWayEntry> {
    if (this.#entries !== undefined) {
      yield* this.#entries
      return
    }
    const { base, left, right } = this.#roots
    const collected: ThreeWayEntry[] = []
    for await (const entry of threeWayDiff(this.#tree, base, left, right)) {
      if (!this.#big && collected.length < this.#max) collected.push(entry)
      else this.#big = true
      yield entry
    }
    // Reached only when the walk ran to its end (a consumer that stops early caches nothing).
    if (!this.#big) this.#entries = collected
  }
}
