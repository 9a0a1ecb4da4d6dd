import { LedgerError } from '../errors/index.js'
import type { Node } from './node.js'

/**
 * Checks a stored node reached as a child of a node at `parentLevel`, in the key interval
 * (lo, hi): it must be non-empty, lower than its parent and inside the interval. With the
 * per-node checks of `decodeNode` this makes every reachable tree a valid one, and descent
 * always terminates.
 */
export function checkChild(node: Node, parentLevel: number, lo: Uint8Array | undefined, hi: Uint8Array | undefined): void {
  const n = node.n
  if (
    n === 0 ||
    node.level >= parentLevel ||
    (lo !== undefined && node.compareKey(0, lo) <= 0) ||
    (hi !== undefined && node.compareKey(n - 1, hi) >= 0)
  ) {
    throw new LedgerError('DATA_INTEGRITY_ERROR', 'malformed tree: child node out of place', {
      data: { cid: node.cid?.toString() },
    })
  }
}

/**
 * `checkChild` with the interval bounds given as keys of stored nodes (loNode's key loI,
 * hiNode's key hiI; null: unbounded), so readers descend without allocating.
 */
export function checkPlace(node: Node, parentLevel: number, loNode: Node | null, loI: number, hiNode: Node | null, hiI: number): void {
  const n = node.n
  if (
    n === 0 ||
    node.level >= parentLevel ||
    (loNode !== null && node.compareKeys(0, loNode, loI) <= 0) ||
    (hiNode !== null && node.compareKeys(n - 1, hiNode, hiI) >= 0)
  ) {
    throw new LedgerError('DATA_INTEGRITY_ERROR', 'malformed tree: child node out of place', {
      data: { cid: node.cid?.toString() },
    })
  }
}
