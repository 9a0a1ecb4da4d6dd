export { Tree, type TreeOptions, type DecodedNode } from './tree.js'
export { keyLevel, MAX_LEVEL } from './level.js'
export { DEFAULT_CACHE_BYTES } from './node-store.js'
export type { ApplyResult, DiffItem, Priority, RangeOptions, TreeChange, TreeEntry, ValueRef } from './interface.js'
