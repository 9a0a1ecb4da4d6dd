import type { CID } from '../codec/index.js'
import type { TreeEntry } from './interface.js'
import { Writer } from './cbor-writer.js'
import { Draft, Run } from './draft.js'
import { FLAG_LAZY, FLAG_LINK, type Node } from './node.js'
import {
  entrySize,
  headSize,
  KEY_C,
  KEY_K,
  KEY_L,
  KEY_V,
  KEY_Z,
  MAJOR_ARRAY,
  MAJOR_BYTES,
  MAJOR_MAP,
  MAJOR_UINT,
  NODE_LINK_SIZE,
  NULL,
} from './node-format.js'

// The node encoder: drafts (and plain entry lists) to canonical node bytes (see node-format.ts).

/**
 * Encoded size of a draft. Child slots only need to be non-null for a child: every child link
 * is a node CID of fixed size, so sizes are known before the children are encoded.
 */
export function draftSize(d: Draft): number {
  const n = d.n
  let size = 1 + 2 + headSize(d.level) + 2 + headSize(n) + 2 + headSize(n)
  const children = d.children
  if (children !== null) {
    size += 2 + headSize(n + 1)
    for (let i = 0; i <= n; i++) size += children[i] ? NODE_LINK_SIZE : 1
  }
  let at = 0
  let z = 0
  for (const seg of d.segs) {
    if (seg instanceof Run) {
      const node = seg.node
      size += node.kItem(seg.to) - node.kItem(seg.from) + node.vItem(seg.to) - node.vItem(seg.from)
      const f = node.flags
      if (f !== null) {
        for (let i = seg.from; i < seg.to; i++) {
          if ((f[i]! & FLAG_LAZY) !== 0) {
            z++
            size += headSize(at + i - seg.from)
          }
        }
      }
      at += seg.to - seg.from
    } else {
      size += entrySize(seg)
      if (seg.priority === 'lazy') {
        z++
        size += headSize(at)
      }
      at++
    }
  }
  if (z > 0) size += 2 + headSize(z)
  return size
}

/** Offset table and flags of a written draft, as `Node` keeps them. */
export interface Layout {
  readonly off: number[]
  readonly flags: Uint8Array | null
}

/**
 * The byte ranges a written draft copied from one stored node (`base`), as triples (offset in
 * the draft, offset in the base, length) in draft order: what lets the store keep the draft as a
 * delta of the base without searching (src/store/block-delta.ts).
 */
export class CopyLog {
  readonly base: Node
  readonly ranges: number[] = []

  constructor(base: Node) {
    this.base = base
  }

  add(to: number, from: number, len: number): void {
    const r = this.ranges
    const k = r.length - 3
    if (k >= 0 && r[k]! + r[k + 2]! === to && r[k + 1]! + r[k + 2]! === from) r[k + 2]! += len
    else r.push(to, from, len)
  }
}

/** Bytes of one child slot: null, or a tagged CID. */
function slotSize(cid: CID | null | undefined): number {
  return cid ? 3 + headSize(cid.bytes.length + 1) + cid.bytes.length : 1
}

/**
 * Writes the canonical bytes of a draft (exactly `draftSize` bytes) with resolved child CIDs,
 * and returns the offset table of the result (so the new node needs no parsing). With `log`,
 * records the ranges copied from `log.base`.
 */
export function writeDraft(out: Uint8Array, d: Draft, children: readonly (CID | null)[] | null, log?: CopyLog): Layout {
  const n = d.n
  const off = new Array<number>(4 * n + 2)
  let flags: Uint8Array | null = null
  let z = 0
  for (const seg of d.segs) {
    if (seg instanceof Run) {
      if (seg.node.flags !== null) {
        flags ??= new Uint8Array(n)
        break
      }
    } else if (seg.priority === 'lazy' || (seg.value as { inline?: unknown }).inline === undefined) {
      flags ??= new Uint8Array(n)
      break
    }
  }
  if (flags !== null) {
    let at = 0
    for (const seg of d.segs) {
      if (seg instanceof Run) {
        const f = seg.node.flags
        if (f !== null) for (let i = seg.from; i < seg.to; i++) flags[at + i - seg.from] = f[i]!
        at += seg.to - seg.from
      } else {
        flags[at++] =
          ((seg.value as { inline?: unknown }).inline === undefined ? FLAG_LINK : 0) | (seg.priority === 'lazy' ? FLAG_LAZY : 0)
      }
    }
    for (let i = 0; i < n; i++) if ((flags[i]! & FLAG_LAZY) !== 0) z++
  }
  const w = new Writer(out)
  w.head(MAJOR_MAP, 3 + (children !== null ? 1 : 0) + (z > 0 ? 1 : 0))
  if (children !== null) {
    w.key(KEY_C)
    w.head(MAJOR_ARRAY, n + 1)
    // Children kept from the base are found in order (allowing one slot inserted or removed).
    const baseKids = log?.base.children ?? null
    // j: the base slot expected next, at offset bpos in the base's bytes (its `c` array first).
    let j = 0
    let bpos = baseKids === null ? 0 : 1 + 2 + headSize(baseKids.length)
    for (let i = 0; i <= n; i++) {
      const c = children[i]
      const at = w.pos
      if (c) w.cid(c)
      else out[w.pos++] = NULL
      if (baseKids === null || !c) continue
      if (baseKids[j] !== c && baseKids[j + 1] === c) bpos += slotSize(baseKids[j++])
      if (baseKids[j] === c) log!.add(at, bpos, w.pos - at)
      bpos += slotSize(baseKids[j++])
    }
  }
  w.key(KEY_K)
  w.head(MAJOR_ARRAY, n)
  let at = 0
  for (const seg of d.segs) {
    if (seg instanceof Run) {
      const src = seg.node
      const base = src.kItem(seg.from)
      const shift = w.pos - base
      for (let i = seg.from; i < seg.to; i++, at++) {
        off[at] = src.kItem(i) + shift
        off[n + 1 + at] = src.kData(i) + shift
      }
      if (src === log?.base) log.add(w.pos, base, src.kItem(seg.to) - base)
      w.raw(src.bytes, base, src.kItem(seg.to))
    } else {
      off[at] = w.pos
      w.head(MAJOR_BYTES, seg.key.length)
      off[n + 1 + at] = w.pos
      w.raw(seg.key, 0, seg.key.length)
      at++
    }
  }
  off[n] = w.pos
  w.key(KEY_L)
  w.head(MAJOR_UINT, d.level)
  w.key(KEY_V)
  w.head(MAJOR_ARRAY, n)
  const vItem = 2 * n + 1
  const vData = 3 * n + 2
  at = 0
  for (const seg of d.segs) {
    if (seg instanceof Run) {
      const src = seg.node
      const base = src.vItem(seg.from)
      const shift = w.pos - base
      for (let i = seg.from; i < seg.to; i++, at++) {
        off[vItem + at] = src.vItem(i) + shift
        off[vData + at] = src.vData(i) + shift
      }
      if (src === log?.base) log.add(w.pos, base, src.vItem(seg.to) - base)
      w.raw(src.bytes, base, src.vItem(seg.to))
    } else {
      off[vItem + at] = w.pos
      const v = seg.value as { inline?: Uint8Array; link: CID; size: number }
      if (v.inline !== undefined) {
        w.head(MAJOR_BYTES, v.inline.length)
        off[vData + at] = w.pos
        w.raw(v.inline, 0, v.inline.length)
      } else {
        w.head(MAJOR_ARRAY, 2)
        off[vData + at] = w.pos
        w.cid(v.link)
        w.head(MAJOR_UINT, v.size)
      }
      at++
    }
  }
  off[vItem + n] = w.pos
  if (z > 0) {
    w.key(KEY_Z)
    w.head(MAJOR_ARRAY, z)
    const f = flags as Uint8Array
    for (let i = 0; i < n; i++) if ((f[i]! & FLAG_LAZY) !== 0) w.head(MAJOR_UINT, i)
  }
  if (w.pos !== out.length) throw new Error(`node encoder size mismatch: ${w.pos} != ${out.length}`)
  return { off, flags }
}

/** Canonical bytes of a node given as entries (sorted) and child CIDs (null: leaf). */
export function encodeNode(level: number, entries: readonly TreeEntry[], children: readonly (CID | null)[] | null): Uint8Array {
  const slots = children ?? new Array<null>(entries.length + 1).fill(null)
  const d = new Draft(level, entries, slots)
  const out = new Uint8Array(draftSize(d))
  writeDraft(out, d, d.children === null ? null : (slots as (CID | null)[]))
  return out
}
