import { websocketLinker } from './helpers.js'
import { syncSuite } from './suite.js'

syncSuite('WebSocket', websocketLinker)
