import { Tree } from '../tree/index.js'
import { makeCommit, type Commit } from './commit-block.js'

/** The implicit first commit of every page on every replica: the empty tree, no parents. */
export const EMPTY_COMMIT: Commit = makeCommit({ parents: [], root: Tree.emptyRoot, timestamp: 0, generation: 0 }).commit
