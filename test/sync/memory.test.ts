import { memoryLinker } from './helpers.js'
import { syncSuite } from './suite.js'

syncSuite('in-memory links', memoryLinker)
