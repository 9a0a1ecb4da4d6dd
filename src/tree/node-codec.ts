// The node codec's public names, gathered from the files that do each job (docs/tree.md has
// the format; node-format.ts its constants):
//   node-encode.ts    drafts and entry lists to canonical bytes
//   change-stager.ts  a batch's new entries encoded once, as a node-like buffer
//   node-cid.ts       node CIDs and blocks
//   node-decode.ts    strict decoding and link listing (on node-reader.ts)

export { ChangeStager } from './change-stager.js'
export { nodeBlock, nodeCid, writeNodeCid } from './node-cid.js'
export { decodeNode, nodeLinks, type DecodeOptions } from './node-decode.js'
export { draftSize, encodeNode, writeDraft, type Layout } from './node-encode.js'
export { NODE_CID_BYTES } from './node-format.js'
