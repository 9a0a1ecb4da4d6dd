import { rawBlock } from '../../src/codec/index.js'
import type { TreeEntry } from '../../src/tree/index.js'

// Fixed entry sets for the format vectors in vectors.json. Changing any of this, or the node
// format, changes the expected roots: that is the point.

const enc = new TextEncoder()

export interface VectorEntry {
  key: string
  inline?: string
  link?: string
  size?: number
  lazy?: boolean
}

/** The generated vector: n keys `k00000`…, every 7th a link, every 5th lazy. */
export function generated(n: number): VectorEntry[] {
  const link = rawBlock(enc.encode('dagkv tree vector value')).cid.toString()
  return Array.from({ length: n }, (_, i) => {
    const e: VectorEntry = { key: `k${String(i).padStart(5, '0')}` }
    if (i % 7 === 0) {
      e.link = link
      e.size = i * 1000
    } else {
      e.inline = `value-${i}`
    }
    if (i % 5 === 0) e.lazy = true
    return e
  })
}

export function toEntries(list: VectorEntry[], parse: (cid: string) => import('../../src/codec/index.js').CID): TreeEntry[] {
  return list.map((v) => {
    const key = enc.encode(v.key)
    const value = v.link !== undefined ? { link: parse(v.link), size: v.size ?? 0 } : { inline: enc.encode(v.inline ?? '') }
    return { key, value, priority: v.lazy === true ? 'lazy' : 'eager' }
  })
}
