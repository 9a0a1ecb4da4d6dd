import { compareCommits, type Commit, type CommitReader } from '../commit/index.js'
import { GenerationQueue } from './generation-queue.js'
import type { MergeEnv, Relation } from './interface.js'

const OF_A = 1
const OF_B = 2
const BOTH = OF_A | OF_B
/** Set on strict ancestors of a common ancestor: they are common, but not lowest. */
const BELOW = 4

/** The lowest common ancestors of two commits, and which side has non-merge commits of its own. */
export interface CommonAncestors {
  /** Lowest common ancestors, oldest first (by `compareCommits`); empty when none is stored. */
  readonly ancestors: Commit[]
  /** `a` reaches a non-merge commit that `b` does not. */
  readonly aHasChanges: boolean
  /** `b` reaches a non-merge commit that `a` does not. */
  readonly bHasChanges: boolean
}

/**
 * Highest-generation-first walk from both commits (Fuchsia's `FindCommonAncestors`): a child is
 * always visited before its parents, so a commit's flags are final when it is popped. A commit
 * reached from both sides is a lowest common ancestor unless it is below another one; the walk
 * stops once only such "below" commits remain, so its cost is bounded by the divergent history.
 */
export async function findCommonAncestors(
  env: Pick<MergeEnv, 'commits'>,
  a: Commit,
  b: Commit,
): Promise<CommonAncestors> {
  const flags = new Map<string, number>()
  const queue = new GenerationQueue()
  let interesting = 0
  const isInteresting = (f: number): boolean => f !== 0 && (f & BELOW) === 0
  const mark = (commit: Commit, flag: number): void => {
    const key = commit.cid.toString()
    const before = flags.get(key)
    if (before === undefined) queue.push(commit)
    const was = before ?? 0
    const now = was | flag
    flags.set(key, now)
    interesting += Number(isInteresting(now)) - Number(isInteresting(was))
  }
  mark(a, OF_A)
  mark(b, OF_B)

  const ancestors: Commit[] = []
  let aHasChanges = false
  let bHasChanges = false
  while (interesting > 0) {
    const commit = queue.pop()!
    const key = commit.cid.toString()
    const f = flags.get(key)!
    flags.delete(key)
    if (isInteresting(f)) interesting--
    const parentFlag = (f & BOTH) === BOTH ? f | BELOW : f
    const parents = await loadParents(env.commits, commit)
    for (const p of parents) mark(p, parentFlag)
    if ((f & BELOW) !== 0) continue
    if ((f & BOTH) === BOTH) ancestors.push(commit)
    else if (commit.parents.length < 2 && commit.generation > 0) {
      if ((f & OF_A) !== 0) aHasChanges = true
      else bHasChanges = true
    }
  }
  ancestors.sort(compareCommits)
  return { ancestors, aHasChanges, bHasChanges }
}

async function loadParents(commits: CommitReader, commit: Commit): Promise<Commit[]> {
  return Promise.all(commit.parents.map((p) => commits.get(p)))
}

/** Whether `a` and `b` are the same commit, one descends from the other, or they diverged. */
export async function relation(env: Pick<MergeEnv, 'commits'>, a: Commit, b: Commit): Promise<Relation> {
  if (a.cid.equals(b.cid)) return 'equal'
  if (await env.commits.isAncestor(a, b)) return 'a-ancestor'
  if (await env.commits.isAncestor(b, a)) return 'b-ancestor'
  return 'diverged'
}
