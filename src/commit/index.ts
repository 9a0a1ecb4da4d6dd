export { makeCommit, decodeCommit, compareCommits, compareCids, sortCids, type Commit } from './commit-block.js'
export { EMPTY_COMMIT } from './empty-commit.js'
export { CommitReader } from './commit-reader.js'
export { HybridClock } from './hybrid-clock.js'
