import type { Block } from '../codec/index.js'
import type { ApplyResult } from '../tree/interface.js'
import type { Engine } from './engine.js'

type OnBlocks = (blocks: Block[]) => void

/**
 * Runs a tree operation that hands off finished blocks while it still encodes the rest
 * (`ApplyOptions.onBlocks`) and stores them as they come, one write after another, so a node's
 * children are stored before it (a stored node's subtree is always complete). The store's work
 * then overlaps the encoding. Blocks written early but never committed are unreferenced, harmless.
 * Returns the operation's result and the blocks it did not hand off, for the caller's commit.
 */
export async function withEarlyWrites(
  engine: Engine,
  op: (onBlocks: OnBlocks) => Promise<ApplyResult>,
): Promise<{ result: ApplyResult; rest: Block[] }> {
  let chain: Promise<void> = Promise.resolve()
  let count = 0
  const onBlocks: OnBlocks = (chunk) => {
    count += chunk.length
    chain = chain.then(() => engine.store.write({ blocks: chunk }))
  }
  let result: ApplyResult | undefined
  try {
    result = await op(onBlocks)
    await chain
  } catch (err) {
    await chain.catch(() => undefined)
    // Abandoned: the tree need not hold these nodes for the store any longer.
    if (result !== undefined) engine.tree.markStored(result.blocks)
    throw err
  }
  engine.tree.markStored(result.blocks.slice(0, count))
  return { result, rest: result.blocks.slice(count) }
}
