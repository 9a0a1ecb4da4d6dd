import { CID, DAG_CBOR_CODE, RAW_CODE, type Block } from '../../codec/index.js'
import { decodeCommit, type Commit } from '../../commit/index.js'
import { LedgerError } from '../../index.js'
import { Tree } from '../../tree/index.js'
import { decodeIndex } from '../../value/index.js'

/** Where the walk reads blocks from (the store, or a CAR's blocks before the store). */
export type BlockSource = (cid: CID) => Promise<Uint8Array | undefined>

/** What a reachable block is to the page. */
export type BlockKind = 'commit' | 'node' | 'value'

export interface ReachableBlock extends Block {
  readonly kind: BlockKind
  /** The decoded commit, for `kind === 'commit'`. */
  readonly commit?: Commit
}

interface Pending {
  readonly cid: CID
  readonly kind: BlockKind
  readonly lazy: boolean
}

function missing(cid: CID, kind: BlockKind): LedgerError {
  return LedgerError.integrity(`${kind} block ${cid.toString()} is missing`, { cid: cid.toString() })
}

/**
 * Every block a page needs from `heads`: the commits of its whole history, the tree nodes of every
 * commit, and the eager value blocks (index blocks and chunks). Lazy value blocks are included
 * only with `lazy` and only when `source` has them. Each block is yielded once, decoded and
 * shape-checked on the way (a malformed commit, node or index → DATA_INTEGRITY_ERROR); a needed
 * block that `source` lacks → DATA_INTEGRITY_ERROR.
 */
export async function* reachableBlocks(
  source: BlockSource,
  tree: Tree,
  heads: readonly CID[],
  options: { lazy: boolean },
): AsyncGenerator<ReachableBlock> {
  const seen = new Set<string>()
  const stack: Pending[] = []
  const push = (cid: CID, kind: BlockKind, lazy = false): void => {
    const key = cid.toString()
    if (seen.has(key)) return
    seen.add(key)
    stack.push({ cid, kind, lazy })
  }
  for (const h of heads) push(h, 'commit')
  while (stack.length > 0) {
    const { cid, kind, lazy } = stack.pop()!
    if (lazy && !options.lazy) continue
    let bytes = await source(cid)
    if (bytes === undefined && kind === 'node' && cid.equals(Tree.emptyRoot)) bytes = Tree.emptyBlock.bytes
    if (bytes === undefined) {
      if (lazy) continue
      throw missing(cid, kind)
    }
    if (kind === 'commit') {
      const commit = decodeCommit(cid, bytes)
      for (const p of commit.parents) push(p, 'commit')
      push(commit.root, 'node')
      yield { cid, bytes, kind, commit }
    } else if (kind === 'node') {
      const links = tree.links(bytes)
      for (const c of links.children) push(c, 'node')
      for (const v of links.values) push(v.cid, 'value', v.lazy)
      yield { cid, bytes, kind }
    } else {
      if (cid.code === DAG_CBOR_CODE) {
        for (const c of decodeIndex(bytes, cid).children) push(c, 'value', lazy)
      } else if (cid.code !== RAW_CODE) {
        throw LedgerError.integrity(`value block ${cid.toString()} has an unknown codec`, { cid: cid.toString() })
      }
      yield { cid, bytes, kind }
    }
  }
}
