import { parseCid, type CID } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import type { Priority, ValueRef } from '../tree/interface.js'
import { INLINE_MAX } from '../value/index.js'
import type { Engine } from './engine.js'
import type { Reference } from './interface.js'

/** The stored value a Reference names; REFERENCE_NOT_FOUND when this ledger never issued it. */
export async function resolveReference(engine: Engine, ref: Reference): Promise<{ link: CID; size: number }> {
  const notFound = (): LedgerError =>
    new LedgerError('REFERENCE_NOT_FOUND', `reference ${String(ref.id).slice(0, 80)} was not issued by this ledger`)
  let link
  try {
    link = parseCid(ref.id, 'reference')
  } catch {
    throw notFound()
  }
  const size = typeof ref.size === 'number' ? ref.size : -1
  const valueRef = { link, size }
  if (!(await engine.values.isComplete(valueRef))) throw notFound()
  return valueRef
}

/**
 * The tree value for a Reference put with `priority`. Same bytes, same entry: a small eager
 * value is inline whichever way it was put (`put`, `putReference`, a resolver's `'new'`), so
 * contents, and content ids, do not depend on how a value arrived. An inline value needs no blocks.
 */
export async function referenceValue(engine: Engine, ref: Reference, priority: Priority): Promise<ValueRef> {
  const valueRef = await resolveReference(engine, ref)
  if (priority !== 'eager' || valueRef.size > INLINE_MAX) return valueRef
  return engine.values.encode(await engine.values.read(valueRef), priority).ref
}
