import type { Block } from '../codec/index.js'
import type { MergeEnv } from '../merge/index.js'
import type { Engine } from './engine.js'

const envs = new WeakMap<Engine, MergeEnv>()

/**
 * What the merge layer reads and writes through, for one engine: its commits and tree, and a
 * plain block write for the intermediate merge commits of a criss-cross (never heads).
 */
export function mergeEnv(engine: Engine): MergeEnv {
  let env = envs.get(engine)
  if (env === undefined) {
    env = {
      commits: engine.commits,
      tree: engine.tree,
      writeBlocks: (blocks: Block[]) => engine.store.write({ blocks }),
    }
    envs.set(engine, env)
  }
  return env
}
