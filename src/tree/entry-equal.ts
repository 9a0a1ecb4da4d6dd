import { equalBytes, type CID } from '../codec/index.js'
import type { TreeEntry, ValueRef } from './interface.js'

export function equalValue(a: ValueRef, b: ValueRef): boolean {
  if (a === b) return true
  const ai = (a as { inline?: Uint8Array }).inline
  const bi = (b as { inline?: Uint8Array }).inline
  if (ai !== undefined || bi !== undefined) return ai !== undefined && bi !== undefined && equalBytes(ai, bi)
  const al = a as { link: CID; size: number }
  const bl = b as { link: CID; size: number }
  return al.size === bl.size && al.link.equals(bl.link)
}

/** Same key, value and priority. */
export function equalEntry(a: TreeEntry, b: TreeEntry): boolean {
  return a === b || (a.priority === b.priority && equalBytes(a.key, b.key) && equalValue(a.value, b.value))
}
