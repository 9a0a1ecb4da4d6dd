import { CID, decodeCbor, encodeBlock, type Block } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'

/**
 * A commit: the tree root it names, its parents (sorted by CID bytes), a hybrid timestamp,
 * its generation (1 + max of parents; the implicit empty commit is 0), and, for a non-merge
 * commit, the replica that made it. A replica's non-merge timestamps strictly increase, so
 * (replica, timestamp) makes two identical independent edits distinct commits; merge commits
 * carry no replica, so identical merges are the identical commit on every replica.
 */
export interface Commit {
  readonly cid: CID
  readonly parents: readonly CID[]
  readonly root: CID
  readonly timestamp: number
  readonly generation: number
  readonly replica: string | undefined
}

interface CommitNode {
  p: CID[]
  r: CID
  t: number
  g: number
  i?: string
}

function compareCids(a: CID, b: CID): number {
  const x = a.bytes
  const y = b.bytes
  const n = Math.min(x.length, y.length)
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!
  return x.length - y.length
}

export function sortCids(cids: Iterable<CID>): CID[] {
  return [...cids].sort(compareCids)
}

export { compareCids }

/** Builds and encodes a commit; parents are sorted here, so callers may pass any order. */
export function makeCommit(data: {
  parents: CID[]
  root: CID
  timestamp: number
  generation: number
  replica?: string | undefined
}): { commit: Commit; block: Block } {
  const node: CommitNode = { p: sortCids(data.parents), r: data.root, t: data.timestamp, g: data.generation }
  if (data.replica !== undefined) node.i = data.replica
  const block = encodeBlock(node)
  return { commit: toCommit(block.cid, node), block }
}

function toCommit(cid: CID, node: CommitNode): Commit {
  return { cid, parents: node.p, root: node.r, timestamp: node.t, generation: node.g, replica: node.i }
}

/** Decodes and shape-checks a commit block; DATA_INTEGRITY_ERROR if it is not one. */
export function decodeCommit(cid: CID, bytes: Uint8Array): Commit {
  let node: unknown
  try {
    node = decodeCbor(bytes)
  } catch (err) {
    throw new LedgerError('DATA_INTEGRITY_ERROR', `commit ${cid.toString()} is not dag-cbor`, { cause: err })
  }
  const n = node as Partial<CommitNode> | null
  const ok =
    n !== null &&
    typeof n === 'object' &&
    Array.isArray(n.p) &&
    n.p.every((p) => CID.asCID(p) !== null) &&
    CID.asCID(n.r) !== null &&
    Number.isSafeInteger(n.t) &&
    Number.isSafeInteger(n.g) &&
    (n.t as number) >= 0 &&
    (n.g as number) >= 0 &&
    (n.i === undefined || typeof n.i === 'string')
  if (!ok) throw LedgerError.integrity(`block ${cid.toString()} is not a commit`)
  return toCommit(cid, n as CommitNode)
}

/**
 * Orders two commits: newer is greater, by (timestamp, commit id), the id as API.md shows it:
 * the CID string (base32), compared as a string. That is what a caller can see and reproduce;
 * it differs from the order of the CID bytes (base32's digits sort before its letters).
 */
export function compareCommits(a: Commit, b: Commit): number {
  if (a.timestamp !== b.timestamp) return a.timestamp - b.timestamp
  const x = a.cid.toString()
  const y = b.cid.toString()
  return x < y ? -1 : x > y ? 1 : 0
}
