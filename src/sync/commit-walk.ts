import type { CID } from '../codec/index.js'
import type { Commit, CommitReader } from '../commit/index.js'
import { LedgerError } from '../errors/index.js'
import { GenerationQueue } from '../merge/generation-queue.js'

/** Most CIDs in a pull's `have`. */
export const MAX_HAVE = 256
/** Heads whose first-parent chain is sampled for `have`. */
const SAMPLED_HEADS = 8
/** Farthest first-parent sample (distances 1, 2, 4, … up to this). */
const MAX_SAMPLE_DISTANCE = 1024

const FROM_HEAD = 1
const FROM_HAVE = 2

/**
 * The commits reachable from `heads` that are not ancestors-or-self of any commit in `have`
 * (those this side has; the others are ignored), parents first (ascending generation).
 *
 * One walk from both sides at once, highest generation first: a commit is popped only after
 * every commit above it, so its marks (reached from a head, from a have, or both) are final when
 * it is popped. The walk ends as soon as nothing reached only from the heads is left, so its cost
 * is the missing commits plus the frontier, not the history.
 */
export async function missingCommits(commits: CommitReader, heads: readonly Commit[], have: readonly CID[]): Promise<Commit[]> {
  const marks = new Map<string, number>()
  const queue = new GenerationQueue()
  let headOnly = 0
  const reach = (c: Commit, mark: number): void => {
    const key = c.cid.toString()
    const prev = marks.get(key)
    if (prev === undefined) {
      marks.set(key, mark)
      queue.push(c)
      if (mark === FROM_HEAD) headOnly++
    } else if ((prev | mark) !== prev) {
      marks.set(key, prev | mark)
      if (prev === FROM_HEAD) headOnly--
    }
  }
  for (const cid of have) {
    const c = await tryCommit(commits, cid)
    if (c) reach(c, FROM_HAVE)
  }
  for (const h of heads) if (h.generation > 0) reach(h, FROM_HEAD)
  const out: Commit[] = []
  while (headOnly > 0) {
    const c = queue.pop()!
    const mark = marks.get(c.cid.toString())!
    if (mark === FROM_HEAD) {
      headOnly--
      out.push(c)
    }
    for (const p of c.parents) {
      const parent = await commits.get(p)
      if (parent.generation >= c.generation) {
        throw LedgerError.integrity(`commit ${c.cid.toString()} has a parent of no lower generation`)
      }
      reach(parent, mark)
    }
  }
  return out.reverse()
}

/**
 * What a puller tells the peer it has: its heads, the commits the peer said it has that are
 * stored here (`hints`), and samples of each head's first-parent chain at distances 1, 2, 4, …,
 * 1024, so that when the peer knows none of the heads (both sides wrote since they last met) it
 * still finds a common commit near the fork, and sends at most about twice the divergence.
 */
export async function haveList(commits: CommitReader, heads: readonly Commit[], hints: readonly CID[]): Promise<CID[]> {
  const out = new Map<string, CID>()
  const add = (cid: CID): void => {
    if (out.size < MAX_HAVE) out.set(cid.toString(), cid)
  }
  const real = heads.filter((h) => h.generation > 0)
  for (const h of real) add(h.cid)
  for (const cid of hints) if (!out.has(cid.toString()) && (await tryCommit(commits, cid))) add(cid)
  for (const h of real.slice(-SAMPLED_HEADS)) {
    let c: Commit | undefined = h
    let next = 1
    for (let distance = 1; distance <= MAX_SAMPLE_DISTANCE; distance++) {
      const p: CID | undefined = c.parents[0]
      if (p === undefined) break
      c = await commits.get(p)
      if (distance === next) {
        add(c.cid)
        next *= 2
      }
    }
  }
  return [...out.values()]
}

/** The commit if it is stored here (a CID of something else, or absent → undefined). */
export async function tryCommit(commits: CommitReader, cid: CID): Promise<Commit | undefined> {
  try {
    return await commits.tryGet(cid)
  } catch (err) {
    if (LedgerError.is(err, 'DATA_INTEGRITY_ERROR')) return undefined
    throw err
  }
}
