export * from './bytes.js'
export * from './block.js'
