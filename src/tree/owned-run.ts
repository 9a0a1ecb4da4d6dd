import type { CID } from '../codec/index.js'
import type { Priority } from './interface.js'
import { FLAG_LAZY, FLAG_LINK } from './node.js'
import type { EntryRun } from './read.js'
import { Slab } from './slab.js'

/** An entry's value as `ownedRun` hands it out: the bytes of an inline value, or its link. */
export type OwnedValue = Uint8Array | { readonly link: CID; readonly size: number }

/** Builds the caller's shape of one entry (called once per entry, in scan order). */
export type EntryMaker<T> = (key: Uint8Array, value: OwnedValue, priority: Priority) => T

/** The owned copies of one scan come from slabs this big (a scan's views share them). */
export const SCAN_SLAB_BYTES = 64 * 1024

/**
 * A fresh allocator for one scan's owned copies (from 4 KiB, so a short scan stays small),
 * zero-filled: callers can see a view's whole buffer.
 */
export const scanSlab = (): Slab => new Slab(SCAN_SLAB_BYTES, 4096, true)

/**
 * The entries of a run with byte arrays the caller owns: one copy of the run's key (and value)
 * bytes, sliced into views. The copy is carved from `slab`, whose buffers only this scan uses:
 * a fresh ArrayBuffer per run cost more than all of the run's copying and views (~60 % of a
 * warm scan). Views never overlap, and nothing else refers to their buffers; holding one entry
 * keeps its slab (at most `SCAN_SLAB_BYTES`) alive. Reverse runs come out descending. With
 * `keysOnly`, values are not copied and `make` gets an empty value. With `into`, the entries are
 * appended to it.
 */
export function ownedRun<T>({ node, from, to }: EntryRun, reverse: boolean, make: EntryMaker<T>, keysOnly: boolean, slab: Slab, into?: T[]): T[] {
  const k0 = node.kItem(from)
  const kLen = node.kItem(to) - k0
  const v0 = node.vItem(from)
  const vLen = keysOnly ? 0 : node.vItem(to) - v0
  const bytes = node.bytes
  const copy = slab.take(kLen + vLen)
  copy.set(bytes.subarray(k0, k0 + kLen), 0)
  if (!keysOnly) copy.set(bytes.subarray(v0, v0 + vLen), kLen)
  const buf = copy.buffer
  const kBase = copy.byteOffset - k0
  const vBase = copy.byteOffset + kLen - v0
  const flags = node.flags
  const out = into ?? new Array<T>(to - from)
  const base = into === undefined ? 0 : into.length
  for (let i = from; i < to; i++) {
    const ks = node.kData(i)
    const key = new Uint8Array(buf, ks + kBase, node.kItem(i + 1) - ks)
    const f = flags === null ? 0 : flags[i]!
    let value: OwnedValue
    if (keysOnly) {
      value = EMPTY
    } else if ((f & FLAG_LINK) === 0) {
      const vs = node.vData(i)
      value = new Uint8Array(buf, vs + vBase, node.vItem(i + 1) - vs)
    } else {
      value = node.valueAt(i) as { link: CID; size: number }
    }
    out[base + (reverse ? to - 1 - i : i - from)] = make(key, value, (f & FLAG_LAZY) !== 0 ? 'lazy' : 'eager')
  }
  return out
}

const EMPTY = new Uint8Array(0)
