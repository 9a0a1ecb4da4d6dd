import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Ledger } from 'dagkv'
import { tempDir } from '../helpers/ledgers.js'
import { numRuns } from '../tree/helpers.js'

// Commits of a few changes store their rewritten nodes as deltas of the nodes they replace, in
// chains (src/store/delta-blocks.ts). Every version must read back exactly, cold, after a reopen.

const key = (i: number): string => `key-${String(i).padStart(5, '0')}`
const value = (i: number, v: number): string => `value ${i} version ${v} `.repeat(3)

type Op = { kind: 'put'; k: number; v: number } | { kind: 'del'; k: number }

const ops = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('put' as const), k: fc.nat(2999), v: fc.nat(5) }),
    fc.record({ kind: fc.constant('del' as const), k: fc.nat(2999) }),
  ),
  { minLength: 20, maxLength: 60 },
)

describe('history on disk with nodes stored as deltas', () => {
  it('every commit of a page reads back exactly after a reopen', async () => {
    await fc.assert(
      fc.asyncProperty(ops, async (steps: Op[]) => {
        const path = join(tempDir(), 'db')
        let ledger = await Ledger.open({ path, autoSync: false })
        const page = await ledger.page('p')
        const model = new Map<string, string>()
        await page.startTransaction()
        for (let i = 0; i < 3000; i += 2) {
          void page.put(key(i), value(i, 0))
          model.set(key(i), value(i, 0))
        }
        await page.commit()
        const versions: { at: string; entries: [string, string][] }[] = []
        for (const step of steps) {
          if (step.kind === 'put') {
            await page.put(key(step.k), value(step.k, step.v))
            model.set(key(step.k), value(step.k, step.v))
          } else {
            await page.delete(key(step.k))
            model.delete(key(step.k))
          }
          const snap = await page.snapshot()
          versions.push({ at: snap.commitId, entries: [...model].sort(([a], [b]) => (a < b ? -1 : 1)) })
        }
        await ledger.close()

        ledger = await Ledger.open({ path, autoSync: false })
        const again = await ledger.page('p')
        for (const { at, entries } of versions.reverse()) {
          const snap = await again.snapshot({ at })
          const got: [string, string][] = []
          for await (const e of snap.entries()) got.push([Buffer.from(e.key).toString(), Buffer.from(e.value!).toString()])
          expect(got).toEqual(entries)
        }
        await ledger.close()
      }),
      { numRuns: numRuns(4) },
    )
  }, 120_000)

  it('nodeDeltas: false stores every node whole and still reads the deltas written before', async () => {
    const path = join(tempDir(), 'db')
    const deltaRecords = async (): Promise<number> => {
      const db = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
      let n = 0
      for await (const v of db.sublevel<Uint8Array, Uint8Array>('b', { keyEncoding: 'view', valueEncoding: 'view' }).values()) if (v[0] === 0xff) n++
      await db.close()
      return n
    }
    const writes = async (options: { nodeDeltas?: boolean }, version: number): Promise<string> => {
      const ledger = await Ledger.open({ path, autoSync: false, ...options })
      const page = await ledger.page('p')
      await page.startTransaction()
      for (let i = 0; i < 3000; i++) void page.put(key(i), value(i, version))
      await page.commit()
      for (let i = 0; i < 20; i++) await page.put(key(i * 131), value(i, version + 1))
      const at = (await page.snapshot()).commitId
      await ledger.close()
      return at
    }
    const old = await writes({}, 0)
    const before = await deltaRecords()
    expect(before).toBeGreaterThan(20)
    await writes({ nodeDeltas: false }, 10)
    expect(await deltaRecords()).toBe(before)
    const ledger = await Ledger.open({ path, autoSync: false, nodeDeltas: false })
    const snap = await (await ledger.page('p')).snapshot()
    expect(Buffer.from((await snap.get(key(131)))!).toString()).toBe(value(1, 11))
    let n = 0
    for await (const _ of snap.keys()) n++
    expect(n).toBe(3000)
    const past = await (await ledger.page('p')).snapshot({ at: old })
    expect(Buffer.from((await past.get(key(131)))!).toString()).toBe(value(1, 1))
    expect(Buffer.from((await past.get(key(132)))!).toString()).toBe(value(132, 0))
    await expect(Ledger.open({ autoSync: false, nodeDeltas: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await ledger.close()
  })
})
