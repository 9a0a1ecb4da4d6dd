import { LRUCache } from 'lru-cache'
import type { CID } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import type { BlockReader } from '../store/index.js'
import { decodeCommit, type Commit } from './commit-block.js'
import { EMPTY_COMMIT } from './empty-commit.js'

/**
 * Bound of the decoded-commit cache. A decoded commit holds ~1 KB per CID it carries (its own,
 * its root's, its parents': measured ~2.95 KB for one parent), so 16 MiB keeps the last ~5,500
 * commits; older ones are read back from the store (one small block each).
 */
const COMMIT_CACHE_BYTES = 16 * 1024 * 1024
const commitSize = (c: Commit): number => 1024 * (2 + c.parents.length)

/** Reads commits with a bounded cache of decoded ones, and walks the DAG. */
export class CommitReader {
  readonly #reader: BlockReader
  readonly #cache = new LRUCache<string, Commit>({ maxSize: COMMIT_CACHE_BYTES, sizeCalculation: commitSize })

  constructor(reader: BlockReader) {
    this.#reader = reader
  }

  remember(commit: Commit): void {
    this.#cache.set(commit.cid.toString(), commit)
  }

  /** The commit, or undefined when its block is not stored. */
  async tryGet(cid: CID): Promise<Commit | undefined> {
    // The implicit empty commit is never stored: it must not depend on staying in the cache.
    if (cid.equals(EMPTY_COMMIT.cid)) return EMPTY_COMMIT
    const key = cid.toString()
    const hit = this.#cache.get(key)
    if (hit) return hit
    const bytes = await this.#reader.getBlock(cid)
    if (bytes === undefined) return undefined
    const commit = decodeCommit(cid, bytes)
    this.#cache.set(key, commit)
    return commit
  }

  async get(cid: CID): Promise<Commit> {
    const commit = await this.tryGet(cid)
    if (!commit) throw LedgerError.integrity(`commit ${cid.toString()} is missing`, { cid: cid.toString() })
    return commit
  }

  /**
   * Commits reachable from `from` that are not ancestors-or-self of `stop`, newest generation
   * first. Generation numbers bound the walk: nothing below `stop`'s generation is visited
   * unless it is still pending on another branch.
   */
  async *walkBack(from: Iterable<CID>, stop?: Commit): AsyncGenerator<Commit> {
    const seen = new Set<string>()
    const frontier: Commit[] = []
    const push = (c: Commit): void => {
      const k = c.cid.toString()
      if (seen.has(k)) return
      seen.add(k)
      frontier.push(c)
    }
    for (const cid of from) push(await this.get(cid))
    while (frontier.length > 0) {
      frontier.sort((a, b) => a.generation - b.generation)
      const c = frontier.pop()!
      if (stop && c.generation <= stop.generation && (await this.isAncestor(c, stop))) continue
      yield c
      for (const p of c.parents) push(await this.get(p))
    }
  }

  /** True when `ancestor` is `descendant` or one of its ancestors. */
  async isAncestor(ancestor: Commit, descendant: Commit): Promise<boolean> {
    if (ancestor.generation > descendant.generation) return false
    if (ancestor.cid.equals(descendant.cid)) return true
    if (ancestor.generation === 0) return true // the empty commit is everyone's ancestor
    const seen = new Set<string>()
    const stack: Commit[] = [descendant]
    while (stack.length > 0) {
      const c = stack.pop()!
      for (const p of c.parents) {
        if (p.equals(ancestor.cid)) return true
        const k = p.toString()
        if (seen.has(k)) continue
        seen.add(k)
        const pc = await this.get(p)
        if (pc.generation > ancestor.generation) stack.push(pc)
      }
    }
    return false
  }
}
