export { Store, type StoreOptions } from './store.js'
export type { BlockReader, HeadChange, StoreBlock, StoreWrite } from './interface.js'
