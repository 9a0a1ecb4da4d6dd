export { Store, type StoreOptions } from './store.js'
export type { BlockReader, HeadChange, StoreWrite } from './interface.js'
