import type { CID } from '../codec/index.js'
import { MAX_LEVEL, keyLevel } from './level.js'
import { FLAG_LAZY, FLAG_LINK, Node } from './node.js'
import { KEY_C, KEY_K, KEY_L, KEY_V, KEY_Z, MAJOR_ARRAY, MAJOR_BYTES, MAJOR_MAP, MAJOR_UINT, NODE_LINK_SIZE, NULL } from './node-format.js'
import { bad, Reader } from './node-reader.js'

// The node decoder: validates node blocks strictly (canonical encoding only; see node-format.ts).

export interface DecodeOptions {
  /** Hash every key and check it has the node's level (~0.5 µs a key). @default true */
  checkLevels?: boolean
  /**
   * Bytes this process just encoded: skip the key-order and value-link checks, and take the
   * child CIDs as given instead of rebuilding them.
   */
  trusted?: { children: readonly (CID | null)[] | null }
}

/**
 * Decodes and validates a node block: canonical encoding, known fields only, strictly ascending
 * keys, well-formed values, links and lazy indexes, and (with `checkLevels`) every key at the
 * node's level. Anything else is DATA_INTEGRITY_ERROR, never another exception. The node keeps
 * `bytes` (a plain Uint8Array view when given a Buffer). Parent/child constraints are checked
 * by the readers that descend (`checkChild`).
 */
export function decodeNode(input: Uint8Array, cid: CID | undefined, opts: DecodeOptions = {}): Node {
  const bytes = input.constructor === Uint8Array ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
  const trusted = opts.trusted
  const r = new Reader(bytes)
  const fields = r.head(MAJOR_MAP, 'node')
  if (fields < 3 || fields > 5) throw bad('wrong number of fields')
  let children: (CID | null)[] | null = null
  let n = -1
  let off: number[] | undefined
  let flags: Uint8Array | null = null
  let level = -1
  let sawV = false
  let last = 0
  for (let f = 0; f < fields; f++) {
    const k = r.mapKey()
    if (k <= last) throw bad('map keys out of order')
    last = k
    if (k === KEY_C) {
      const m = r.count(MAJOR_ARRAY, 'c')
      let any = false
      if (trusted === undefined) {
        children = new Array<CID | null>(m)
        for (let i = 0; i < m; i++) {
          if (r.peek() === NULL) {
            r.pos++
            children[i] = null
          } else {
            children[i] = r.nodeCid()
            any = true
          }
        }
      } else {
        for (let i = 0; i < m; i++) {
          if (r.peek() === NULL) r.pos++
          else r.pos += NODE_LINK_SIZE
        }
        children = trusted.children as (CID | null)[]
        any = true
      }
      if (!any) throw bad('"c" present in a leaf')
      if (children === null || children.length !== m) throw bad('"c" has the wrong length')
    } else if (k === KEY_K) {
      n = r.count(MAJOR_ARRAY, 'k')
      off = new Array<number>(4 * n + 2)
      for (let i = 0; i < n; i++) {
        off[i] = r.pos
        off[n + 1 + i] = r.byteString('k')
      }
      off[n] = r.pos
    } else if (k === KEY_L) {
      level = r.head(MAJOR_UINT, 'l')
      if (level > MAX_LEVEL) throw bad('level out of range')
    } else if (k === KEY_V) {
      if (off === undefined) throw bad('missing "k"')
      sawV = true
      if (r.count(MAJOR_ARRAY, 'v') !== n) throw bad('"k" and "v" differ in length')
      const vItem = 2 * n + 1
      const vData = 3 * n + 2
      for (let i = 0; i < n; i++) {
        off[vItem + i] = r.pos
        const t = r.peek() >>> 5
        if (t === MAJOR_BYTES) {
          off[vData + i] = r.byteString('v')
        } else {
          if (r.head(MAJOR_ARRAY, 'v') !== 2) throw bad('link value is not [CID, size]')
          off[vData + i] = r.pos
          r.cid('v', trusted === undefined)
          if (r.head(MAJOR_UINT, 'v size') > Number.MAX_SAFE_INTEGER) throw bad('value size too large')
          flags ??= new Uint8Array(n)
          flags[i] = FLAG_LINK
        }
      }
      off[vItem + n] = r.pos
    } else if (k === KEY_Z) {
      const m = r.count(MAJOR_ARRAY, 'z')
      if (m === 0) throw bad('empty "z"')
      if (off === undefined) throw bad('missing "k"')
      flags ??= new Uint8Array(n)
      let prev = -1
      for (let i = 0; i < m; i++) {
        const idx = r.head(MAJOR_UINT, 'z')
        if (idx >= n || idx <= prev) throw bad('bad lazy index')
        flags[idx] = flags[idx]! | FLAG_LAZY
        prev = idx
      }
    } else {
      throw bad('unknown field')
    }
  }
  if (r.pos !== bytes.length) throw bad('trailing bytes')
  if (off === undefined || !sawV || level < 0) throw bad('missing field')
  if (children !== null && children.length !== n + 1) throw bad('"c" has the wrong length')
  if (n === 0 && level !== 0) throw bad('empty node above level 0')
  const node = new Node(level, bytes, n, off, flags, children, cid)
  if (trusted === undefined) {
    for (let i = 1; i < n; i++) if (node.compareKeys(i - 1, node, i) >= 0) throw bad('keys not strictly ascending')
  }
  if (opts.checkLevels !== false) {
    for (let i = 0; i < n; i++) if (keyLevel(node.keyAt(i)) !== level) throw bad('key in a node of the wrong level')
  }
  return node
}

/**
 * The CIDs a node block references: child nodes, and value blocks with their laziness. Fully
 * validates the block (including key levels): the sync layer calls it on every node it
 * receives, before storing it.
 */
export function nodeLinks(bytes: Uint8Array): { children: CID[]; values: { cid: CID; lazy: boolean }[] } {
  const node = decodeNode(bytes, undefined)
  const children: CID[] = []
  for (const c of node.children ?? []) if (c !== null) children.push(c)
  const values: { cid: CID; lazy: boolean }[] = []
  const f = node.flags
  if (f !== null) {
    for (let i = 0; i < node.n; i++) {
      if ((f[i]! & FLAG_LINK) !== 0) values.push({ cid: (node.valueAt(i) as { link: CID }).link, lazy: (f[i]! & FLAG_LAZY) !== 0 })
    }
  }
  return { children, values }
}
