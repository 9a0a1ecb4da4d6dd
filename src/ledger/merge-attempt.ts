import { compareBytes, toHex, type Block } from '../codec/index.js'
import type { Commit } from '../commit/index.js'
import {
  buildMergeCommit,
  makeMergeCommit,
  MergeSession,
  planMerge,
  type ThreeWayEntry,
  type MergeContext as SessionContext,
} from '../merge/index.js'
import type { BothChanged } from '../tree/index.js'
import type { ApplyResult, TreeChange } from '../tree/interface.js'
import type { Engine, PolicyChoice } from './engine.js'
import { localValue } from './entry-values.js'
import type { MergeContext } from './interface.js'
import { mergeEnv } from './merge-env.js'
import { referenceValue } from './reference-value.js'
import { Snapshot } from './snapshot.js'

/**
 * What one attempt to join two heads came to:
 * - `commit`: a merge commit of `left` and `right`, built but not stored (`blocks` are its new
 *   tree nodes, value blocks and commit block);
 * - `fast-forward`: `stale` is an ancestor of the other head and simply stops being a head;
 * - `stuck`: the policy needs a resolver and the page has none (the heads stay until the policy
 *   or the heads change);
 * - `interrupted`: the attempt was abandoned while a resolver ran (policy or heads changed,
 *   or the page closed).
 */
export type MergeAttempt =
  | { readonly kind: 'commit'; readonly left: Commit; readonly right: Commit; readonly commit: Commit; readonly blocks: Block[] }
  | { readonly kind: 'fast-forward'; readonly stale: Commit }
  | { readonly kind: 'stuck' }
  | { readonly kind: 'interrupted' }

/**
 * Changes to apply to the left root (or to `from`, the structural merge they start from) and
 * the value blocks they need, or why there are none.
 */
type Decision =
  | { readonly changes: TreeChange[]; readonly blocks: Block[]; readonly from?: ApplyResult | undefined }
  | 'stuck'
  | 'interrupted'

/**
 * Computes the join of heads `a` and `b` of page `pageId` under `choice`, deterministically
 * (given a deterministic resolver): `planMerge` (fast-forward, the subset rule, or a three-way
 * merge from the possibly virtual base), then the policy. Stores nothing but the intermediate
 * merges of a criss-cross; never moves heads. A resolver that throws, or a resolver call
 * (`merge`, `mergeNonConflictingEntries`) that rejects, rejects the attempt: nothing is committed.
 * `interrupted` settles when the attempt should be abandoned; a resolver still running then is
 * left to itself, its session closed.
 */
export async function attemptMerge(
  engine: Engine,
  pageId: Uint8Array,
  a: Commit,
  b: Commit,
  choice: PolicyChoice,
  interrupted: Promise<void>,
): Promise<MergeAttempt> {
  const plan = await planMerge(mergeEnv(engine), a, b)
  if (plan.kind === 'same') return { kind: 'stuck' } // heads are distinct: never happens
  if (plan.kind === 'fast-forward') return { kind: 'fast-forward', stale: plan.head.cid.equals(a.cid) ? b : a }
  const { left, right } = plan
  if (plan.kind === 'take') {
    const { commit, block } = makeMergeCommit(left, right, plan.content.root)
    return { kind: 'commit', left, right, commit, blocks: [block] }
  }
  if (choice.policy === 'last-one-wins') {
    // Structural three-way merge: only nodes where both sides changed are rewritten.
    const merged = await engine.tree.merge(plan.base.root, left.root, right.root, keepLeft)
    const { commit, block } = makeMergeCommit(left, right, merged.root)
    return { kind: 'commit', left, right, commit, blocks: [...merged.blocks, block] }
  }
  const decision = await decide(engine, pageId, plan.left, plan.right, plan.base, choice, interrupted)
  if (decision === 'stuck' || decision === 'interrupted') return { kind: decision }
  const from = decision.from
  const built = await buildMergeCommit(engine.tree, left, right, decision.changes, from?.root)
  const blocks = [...decision.blocks, ...(from?.blocks ?? []), ...built.blocks]
  return { kind: 'commit', left, right, commit: built.commit, blocks }
}

/** Last-one-wins for a key changed on both sides: the left (newer) side, deletions included. */
const keepLeft: BothChanged = (_base, left) => left

async function decide(
  engine: Engine,
  pageId: Uint8Array,
  left: Commit,
  right: Commit,
  base: Commit,
  choice: PolicyChoice,
  interrupted: Promise<void>,
): Promise<Decision> {
  const tree = engine.tree
  let from: ApplyResult | undefined
  let conflicts: ThreeWayEntry[] | undefined
  if (choice.policy === 'automatic-with-fallback') {
    // The structural merge finds the conflicting keys as it merges everything else.
    const found = new Map<string, ThreeWayEntry>()
    from = await tree.merge(base.root, left.root, right.root, (b, l, r) => {
      const key = (l ?? r)!.key
      found.set(toHex(key), { key, base: b, left: l, right: r })
      return l
    })
    if (found.size === 0) return { changes: [], blocks: [], from }
    conflicts = [...found.values()].sort((x, y) => compareBytes(x.key, y.key))
  }
  const resolver = choice.resolver
  if (resolver === undefined) return 'stuck'
  const session = new MergeSession<Snapshot>({
    pageId,
    left: new Snapshot(engine, left),
    right: new Snapshot(engine, right),
    base: new Snapshot(engine, base),
    tree,
    roots: { base: base.root, left: left.root, right: right.root },
    readValue: (ref) => localValue(engine, ref),
    encodeValue: (bytes, priority) => engine.values.encode(bytes, priority),
    resolveReference: (ref, priority) => referenceValue(engine, ref, priority),
    conflicts,
  })
  const { context, failure } = guarded(session)
  const outcome = await Promise.race([
    Promise.resolve()
      .then(() => resolver(context))
      .then(() => 'resolved' as const),
    interrupted.then(() => 'interrupted' as const),
  ]).catch((err: unknown) => {
    session.close()
    throw err
  })
  if (outcome === 'interrupted') {
    session.close()
    return 'interrupted'
  }
  const result = await session.finish()
  if (failure.error !== undefined) throw failure.error
  return { changes: result.changes, blocks: result.blocks, from }
}

/**
 * The context a resolver is given: the session, with every rejected `merge` or
 * `mergeNonConflictingEntries` call remembered, so that a bad call fails the whole merge even
 * when the resolver swallows its rejection (as Fuchsia's resolver client cancels the merge).
 */
function guarded(session: MergeSession<Snapshot>): { context: MergeContext; failure: { error?: unknown } } {
  const failure: { error?: unknown } = {}
  const watch = (p: Promise<void>): Promise<void> => {
    p.catch((err: unknown) => {
      failure.error ??= err
    })
    return p
  }
  const context: SessionContext<Snapshot> = {
    pageId: session.pageId,
    left: session.left,
    right: session.right,
    base: session.base,
    fullDiff: () => session.fullDiff(),
    conflictingDiff: () => session.conflictingDiff(),
    merge: (values) => watch(session.merge(values)),
    mergeNonConflictingEntries: () => watch(session.mergeNonConflictingEntries()),
  }
  return { context, failure }
}
