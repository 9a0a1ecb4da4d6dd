import { registerNetwork } from '../ledger/index.js'
import { SyncNetwork } from './network.js'

registerNetwork((engine, options) => new SyncNetwork(engine, options))

export { connectInMemory, linkInMemory, networkOf, type MemoryLink, type TestLink } from './memory-link.js'
export { SyncNetwork, type AttachOptions } from './network.js'
export type { SyncTuning } from './context.js'
export { PROTOCOL_VERSION } from './handshake.js'
