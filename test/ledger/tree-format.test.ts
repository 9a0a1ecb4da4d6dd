import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { describe, expect, it } from 'vitest'
import { Ledger, LedgerError } from 'dagkv'
import { TREE_FORMAT } from '../../src/tree/index.js'
import { tempDir } from '../helpers/ledgers.js'

const text = new TextEncoder()

/** Rewrites (or, with undefined, removes) the store's tree-format record behind the ledger's back. */
async function setFormat(path: string, format: string | undefined): Promise<void> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
  const meta = db.sublevel<Uint8Array, Uint8Array>('m', { keyEncoding: 'view', valueEncoding: 'view' })
  if (format === undefined) await meta.del(text.encode('treeFormat'))
  else await meta.put(text.encode('treeFormat'), text.encode(format))
  await db.close()
}

async function written(): Promise<string> {
  const path = join(tempDir(), 'db')
  const ledger = await Ledger.open({ path, autoSync: false })
  await (await ledger.page('p')).put('k', 'v')
  await ledger.close()
  return path
}

async function openError(path: string): Promise<LedgerError> {
  const err = await Ledger.open({ path, autoSync: false }).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(LedgerError)
  return err as LedgerError
}

describe('the tree format a store was written in', () => {
  it('is recorded at creation and accepted at every later open', async () => {
    const path = await written()
    const ledger = await Ledger.open({ path, autoSync: false })
    const value = await (await (await ledger.page('p')).snapshot()).get('k')
    expect(Buffer.from(value!).toString()).toBe('v')
    await ledger.close()
  })

  it('refuses a store without the record (written by an earlier dagkv, format 1) and releases the path', async () => {
    const path = await written()
    await setFormat(path, undefined)
    const err = await openError(path)
    expect(err.code).toBe('DATA_INTEGRITY_ERROR')
    expect(err.message).toMatch(/tree format 1/)
    expect(err.data).toEqual({ treeFormat: '1', expected: TREE_FORMAT })
    // The failed open closed the store: once the record is back, the same process opens it.
    await setFormat(path, String(TREE_FORMAT))
    const ledger = await Ledger.open({ path, autoSync: false })
    expect(await ledger.pages()).toHaveLength(1)
    await ledger.close()
  })

  it('refuses a store of a later format', async () => {
    const path = await written()
    await setFormat(path, String(TREE_FORMAT + 1))
    const err = await openError(path)
    expect(err.code).toBe('DATA_INTEGRITY_ERROR')
    expect(err.data).toEqual({ treeFormat: String(TREE_FORMAT + 1), expected: TREE_FORMAT })
  })
})
