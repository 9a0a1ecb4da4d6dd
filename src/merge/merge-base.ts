import type { Block } from '../codec/index.js'
import { EMPTY_COMMIT, type Commit } from '../commit/index.js'
import { findCommonAncestors } from './common-ancestors.js'
import type { ConflictRecord, MergeEnv } from './interface.js'
import { lastOneWins } from './last-one-wins.js'
import { buildMergeCommit, makeMergeCommit, orderHeads } from './merge-commit.js'

/** A last-one-wins merge commit, built but not stored. */
export interface BuiltMerge {
  readonly commit: Commit
  /** New tree nodes and the commit block. */
  readonly blocks: Block[]
  readonly base: Commit
  readonly conflicts: ConflictRecord[]
}

/**
 * The base for a three-way merge of `a` and `b`. One lowest common ancestor → it. Several
 * (criss-cross) → they are folded, oldest first, into a virtual base by last-one-wins merges
 * (git's recursive strategy): each intermediate merge is a real merge commit, stored through
 * `env.writeBlocks` but never a head. Being deterministic, an intermediate merge made before
 * (here or on another replica) is recreated with the same id and not written again. No stored
 * common ancestor → `EMPTY_COMMIT`, every page's implicit root.
 */
export async function findMergeBase(env: MergeEnv, a: Commit, b: Commit): Promise<Commit> {
  const { ancestors } = await findCommonAncestors(env, a, b)
  return foldAncestors(env, ancestors)
}

/** Folds lowest common ancestors (oldest first) into one base commit. */
export async function foldAncestors(env: MergeEnv, ancestors: readonly Commit[]): Promise<Commit> {
  const [first, ...rest] = ancestors
  if (first === undefined) return EMPTY_COMMIT
  let base = first
  for (const next of rest) base = await virtualMerge(env, base, next)
  return base
}

async function virtualMerge(env: MergeEnv, a: Commit, b: Commit): Promise<Commit> {
  const built = await lastOneWinsCommit(env, a, b)
  if ((await env.commits.tryGet(built.commit.cid)) === undefined) await env.writeBlocks(built.blocks)
  env.tree.markStored?.(built.blocks)
  env.commits.remember(built.commit)
  return built.commit
}

/** The last-one-wins merge commit of `a` and `b`, by the tree's structural merge when it has one. */
async function lastOneWinsCommit(env: MergeEnv, a: Commit, b: Commit): Promise<{ commit: Commit; blocks: Block[] }> {
  const tree = env.tree
  if (tree.merge === undefined) return buildLastOneWinsMerge(env, a, b)
  const { left, right } = orderHeads(a, b)
  const base = await findMergeBase(env, left, right)
  const merged = await tree.merge(base.root, left.root, right.root, (_base, l) => l)
  const { commit, block } = makeMergeCommit(left, right, merged.root)
  return { commit, blocks: [...merged.blocks, block] }
}

/**
 * The last-one-wins merge commit of two commits (any order; the newer is left), from their
 * merge base, with the conflicts it settled. Nothing is stored: the caller writes `blocks` (with the head move, for a head).
 */
export async function buildLastOneWinsMerge(env: MergeEnv, a: Commit, b: Commit): Promise<BuiltMerge> {
  const { left, right } = orderHeads(a, b)
  const base = await findMergeBase(env, left, right)
  const { changes, conflicts } = await lastOneWins(env.tree, base.root, left.root, right.root)
  const { commit, blocks } = await buildMergeCommit(env.tree, left, right, changes)
  return { commit, blocks, base, conflicts }
}
