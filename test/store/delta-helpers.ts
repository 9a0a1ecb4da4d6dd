import { ClassicLevel } from 'classic-level'
import { encodeBlock, type Block } from '../../src/codec/index.js'
import type { StoreBlock } from '../../src/store/index.js'

/** Version `v` of a 4 KB dag-cbor block: the same bytes but for 40 of them at a place set by v. */
export function version(v: number): Block {
  const data = Uint8Array.from({ length: 4000 }, (_, i) => (i * 31 + (i >> 7)) & 0xff)
  data.fill(v & 0xff, (v * 97) % 3900, ((v * 97) % 3900) + 40)
  return encodeBlock({ data, v: 0 })
}

/** `next` with `base` and its copy ranges: the common prefix and suffix of the two. */
export function rewrite(next: Block, base: Block): StoreBlock {
  const a = base.bytes
  const b = next.bytes
  let p = 0
  while (p < a.length && p < b.length && a[p] === b[p]) p++
  let s = 0
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++
  return { ...next, base, copies: [0, 0, p, b.length - s, a.length - s, s] }
}

/** The raw records under the blocks' keys, read with LevelDB directly (the store closed). */
export async function records(path: string, blocks: readonly Block[]): Promise<(Uint8Array | undefined)[]> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
  const b = db.sublevel<Uint8Array, Uint8Array>('b', { keyEncoding: 'view', valueEncoding: 'view' })
  const out = await b.getMany(blocks.map((x) => x.cid.bytes))
  await db.close()
  return out
}

/** Puts (or, with undefined, deletes) the raw record of `block` behind the store's back. */
export async function rawPut(path: string, block: Block, value: Uint8Array | undefined): Promise<void> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
  const b = db.sublevel<Uint8Array, Uint8Array>('b', { keyEncoding: 'view', valueEncoding: 'view' })
  if (value === undefined) await b.del(block.cid.bytes)
  else await b.put(block.cid.bytes, value)
  await db.close()
}
