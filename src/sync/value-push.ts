import { DAG_CBOR_CODE, type CID } from '../codec/index.js'
import type { Store } from '../store/index.js'
import { ValueStore } from '../value/index.js'
import type { FrameWriter } from './frame-writer.js'
import type { Tally } from './tally.js'

/** Eager values up to this size travel whole with their commit; bigger ones send their index only. */
export const PUSH_VALUE_BYTES = 1024 * 1024

/**
 * Adds the blocks of an eager value (a changed entry's) to a pull response, each block once per
 * response (`sent`). A value of at most PUSH_VALUE_BYTES goes whole; a bigger one sends its index
 * blocks, and the receiver asks for the chunks it lacks (an edit of a big value moves only the
 * chunks that changed). Blocks this side lacks are skipped: the receiver will ask, and fail.
 */
export async function pushValue(
  store: Store,
  writer: FrameWriter,
  link: CID,
  size: number,
  sent: Set<string>,
  tally: Tally | undefined,
): Promise<void> {
  const whole = size <= PUSH_VALUE_BYTES
  let level: CID[] = [link]
  while (level.length > 0) {
    const todo = level.filter((c) => !sent.has(c.toString()))
    const got = await store.getBlocks(todo)
    const next: CID[] = []
    for (let i = 0; i < todo.length; i++) {
      const cid = todo[i]!
      const bytes = got[i]
      if (bytes === undefined) continue
      sent.add(cid.toString())
      writer.block(cid, bytes)
      if (tally) tally.blocksSent++
      if (cid.code !== DAG_CBOR_CODE) continue
      for (const child of ValueStore.links(bytes, cid)) {
        if (whole || child.code === DAG_CBOR_CODE) next.push(child)
      }
    }
    level = next
  }
}
