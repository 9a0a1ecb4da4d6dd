export type {
  AutomaticOutcome,
  ConflictRecord,
  ConflictResolver,
  ConflictWinner,
  DiffEntry,
  EncodedValue,
  MergeCommitData,
  MergeContext,
  MergedValue,
  MergeEnv,
  MergeOutcome,
  MergePlan,
  MergePolicy,
  MergeSessionOptions,
  MergeTree,
  Relation,
  SessionResult,
  ThreeWayEntry,
  Value,
} from './interface.js'
export { findCommonAncestors, relation, type CommonAncestors } from './common-ancestors.js'
export { findMergeBase, foldAncestors, buildLastOneWinsMerge, type BuiltMerge } from './merge-base.js'
export { planMerge } from './plan-merge.js'
export { threeWayDiff, conflicting, sameEntry, sameValueRef, ThreeWayCache, THREE_WAY_CACHE_MAX } from './three-way-diff.js'
export { lastOneWins } from './last-one-wins.js'
export { automatic } from './automatic.js'
export { conflictRecord } from './conflict-record.js'
export { MergeSession } from './merge-session.js'
export { mergeCommitData, makeMergeCommit, buildMergeCommit, orderHeads } from './merge-commit.js'
