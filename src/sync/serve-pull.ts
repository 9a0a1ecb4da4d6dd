import { toHex } from '../codec/index.js'
import type { Commit } from '../commit/index.js'
import type { TreeChange } from '../tree/index.js'
import { missingCommits, MAX_HAVE } from './commit-walk.js'
import type { SyncContext } from './context.js'
import { chooseBody } from './diff-choice.js'
import { fieldCids, fieldPage, optionalId, toId } from './fields.js'
import { FrameWriter } from './frame-writer.js'
import { changeSize, encodeChange, encodeItemHead, type ParentRef } from './item-codec.js'
import type { Session } from './session.js'
import type { Tally } from './tally.js'
import { pushValue } from './value-push.js'
import type { Message } from './wire.js'

/**
 * Answers `pull {id, page, have, roots?, for?}`: every commit of the page reachable from this side's heads
 * and not known to the puller, parents first, each as a diff from a parent (plus the eager value
 * blocks its changed entries link to) or as its root (node mode), in `commits` frames; the last
 * frame names this side's heads, which the puller checks the rebuilt commits against.
 */
export async function servePull(ctx: SyncContext, session: Session, message: Message, frameBytes: number): Promise<void> {
  const id = toId(message['id'], 'pull.id')
  const page = fieldPage(message)
  const have = fieldCids(message, 'have', MAX_HAVE)
  const roots = message['roots'] === undefined ? [] : fieldCids(message, 'roots', MAX_HAVE)
  const tally = session.tallyFor(optionalId(message, 'for'))
  if (tally) tally.bytesReceived += frameBytes
  const pageHex = toHex(page)
  const end = ctx.states.begin(pageHex, 'upload')
  try {
    const engine = ctx.engine
    const writer = new FrameWriter(session, 'commits', id, tally)
    // A page with no commit here has no stored heads: answer without loading a state for it.
    if ((await engine.store.heads(page)).length === 0) {
      writer.finish({ heads: [] })
      end(true)
      return
    }
    session.pages.add(pageHex)
    const heads = await engine.withPageState(page, (state) => state.heads.filter((h) => h.generation > 0))
    const missing = await missingCommits(engine.commits, heads, have)
    await writeCommits(ctx, writer, missing, new Set(roots.map(String)), tally)
    writer.finish({ heads: heads.map((h) => h.cid) })
    end(true)
  } catch (err) {
    end(false)
    throw err
  }
}

async function writeCommits(
  ctx: SyncContext,
  writer: FrameWriter,
  missing: Commit[],
  receiverRoots: ReadonlySet<string>,
  tally: Tally | undefined,
): Promise<void> {
  const engine = ctx.engine
  const index = new Map<string, number>()
  const replicas = new Map<string, number>()
  const sentBlocks = new Set<string>()
  for (let i = 0; i < missing.length; i++) {
    const commit = missing[i]!
    const parents = await Promise.all(commit.parents.map((p) => engine.commits.get(p)))
    const refs: ParentRef[] = commit.parents.map((p) => index.get(p.toString()) ?? p)
    let maxTimestamp = 0
    let maxGeneration = 0
    for (const p of parents) {
      maxTimestamp = Math.max(maxTimestamp, p.timestamp)
      maxGeneration = Math.max(maxGeneration, p.generation)
    }
    const body = await chooseBody(engine.tree, commit, parents, receiverRoots, ctx.nodeMode)
    const head = encodeItemHead(
      {
        parents: refs,
        dt: commit.timestamp - maxTimestamp,
        generation: commit.generation === maxGeneration + 1 ? undefined : commit.generation,
        replica: commit.replica,
        base: 'base' in body ? body.base : 0,
        root: 'root' in body ? body.root : undefined,
      },
      replicas,
    )
    const headSize = 32 + refs.length * 48 + (commit.replica?.length ?? 0)
    if ('changes' in body) {
      writeDiff(writer, head, headSize, body.changes)
    } else {
      writer.item(head, headSize + 48)
    }
    index.set(commit.cid.toString(), i)
    if (tally) {
      tally.commitsSent++
      tally.blocksSent++
    }
    if ('changes' in body) {
      for (const c of body.changes) {
        const e = c.entry
        if (e === undefined || e.priority !== 'eager' || 'inline' in e.value) continue
        await pushValue(engine.store, writer, e.value.link, e.value.size, sentBlocks, tally)
      }
    }
  }
}

/** Writes a diff item, continuing it (`{x: changes}`) in the next frames when it does not fit. */
function writeDiff(writer: FrameWriter, head: Record<string, unknown>, headSize: number, changes: TreeChange[]): void {
  let first = true
  let chunk: unknown[] = []
  let size = headSize
  const emit = (): void => {
    writer.item(first ? { ...head, d: chunk } : { x: chunk }, size)
    first = false
    chunk = []
    size = 16
  }
  if (writer.room() < headSize + 64) writer.flush()
  for (const c of changes) {
    const s = changeSize(c)
    if (size + s > writer.room()) {
      emit()
      writer.flush()
    }
    chunk.push(encodeChange(c))
    size += s
  }
  emit()
}
