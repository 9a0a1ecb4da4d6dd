import type { Commit } from '../commit/index.js'
import { findCommonAncestors } from './common-ancestors.js'
import type { MergeEnv, MergePlan } from './interface.js'
import { foldAncestors } from './merge-base.js'
import { orderHeads } from './merge-commit.js'

/**
 * Decides how two commits of a page join, in one DAG walk:
 * - `same`: one commit;
 * - `fast-forward`: one descends from the other (`head` is the descendant);
 * - `take`: one side's only commits of its own are merges (Fuchsia's subset rule, DESIGN.md
 *   "Heads that differ only by merges"): the merge commit takes `content`'s tree without
 *   running the policy, `content` being the side with non-merge commits of its own (left when
 *   neither has). This keeps non-deterministic resolvers from re-merging their own merges;
 * - `merge`: run the policy on `left` (newer) and `right` from `base` (virtual for a
 *   criss-cross, see `findMergeBase`).
 */
export async function planMerge(env: MergeEnv, a: Commit, b: Commit): Promise<MergePlan> {
  if (a.cid.equals(b.cid)) return { kind: 'same', head: a }
  const common = await findCommonAncestors(env, a, b)
  const only = common.ancestors.length === 1 ? common.ancestors[0] : undefined
  if (only?.cid.equals(a.cid) === true) return { kind: 'fast-forward', head: b }
  if (only?.cid.equals(b.cid) === true) return { kind: 'fast-forward', head: a }
  const { left, right } = orderHeads(a, b)
  const leftHasChanges = left === a ? common.aHasChanges : common.bHasChanges
  const rightHasChanges = left === a ? common.bHasChanges : common.aHasChanges
  if (!rightHasChanges) return { kind: 'take', left, right, content: left }
  if (!leftHasChanges) return { kind: 'take', left, right, content: right }
  return { kind: 'merge', left, right, base: await foldAncestors(env, common.ancestors) }
}
