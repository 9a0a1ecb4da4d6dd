// Audit: `log` (id, parents, time, changed-key counts) after puts, deletes and a merge.
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { describe, expect, test } from 'vitest'
import type { LogEntry } from '../../src/cli/history.js'
import { ok, okJson, tempDir } from './run-cli.js'


interface DiffEntry {
  key: string
  before: unknown
  after: unknown
}

const LINE = /^(\S+)\t(\S+)\t\+(\d+) ~(\d+) -(\d+)\tparents:(\S+)(\thead)?$/

describe('audit: log', () => {
  test('after puts, a delete, a no-op and a merge (made by importing a divergent export)', async () => {
    const dir = tempDir()
    const a = ['--store', join(dir, 'a')]
    const b = ['--store', join(dir, 'b')]
    await ok([...a, 'put', 'p', 'a', '1'])
    await ok([...a, 'put', 'p', 'b', '1'])
    await ok([...a, 'export', 'p', join(dir, 'base.car')])
    await ok([...b, 'import', join(dir, 'base.car')])
    await ok([...b, 'put', 'p', 'a', '2']) // changed
    await ok([...b, 'del', 'p', 'b']) // deleted
    await ok([...b, 'del', 'p', 'never']) // no-op: no commit
    await ok([...b, 'put', 'p', 'a', '2']) // no-op: no commit
    await ok([...a, 'put', 'p', 'c', '1'])
    await ok([...a, 'put', 'p', 'd', '1'])
    await ok([...a, 'export', 'p', join(dir, 'side.car')])
    await ok([...b, 'import', join(dir, 'side.car')]) // two heads → merged by last-one-wins

    const log = await okJson<LogEntry[]>([...b, 'log', 'p'])
    expect(log).toHaveLength(2 + 2 + 2 + 1) // base, b's two, a's two, the merge
    const byId = new Map(log.map((e) => [e.id, e]))
    expect(byId.size).toBe(log.length)

    // newest first: every commit before its parents, generations never increasing
    log.forEach((e, i) => {
      for (const p of e.parents) {
        expect(byId.has(p), `${e.id} parent ${p}`).toBe(true)
        expect(log.findIndex((x) => x.id === p)).toBeGreaterThan(i)
      }
      if (i > 0) expect(e.generation).toBeLessThanOrEqual(log[i - 1]!.generation)
      expect(e.generation).toBe(e.parents.length === 0 ? 1 : 1 + Math.max(...e.parents.map((p) => byId.get(p)!.generation)))
      expect(e.time).toBe(new Date(e.timestamp).toISOString())
      for (const p of e.parents) expect(e.timestamp).toBeGreaterThanOrEqual(byId.get(p)!.timestamp)
    })

    // exactly one head: the merge, first; two parents sorted; no replica
    const merge = log[0]!
    expect(log.filter((e) => e.head).map((e) => e.id)).toEqual([merge.id])
    expect(merge.parents).toHaveLength(2)
    // parents are in the commit block's canonical order: by CID bytes (not by their base32 strings)
    const cidBytes = (id: string): Buffer => Buffer.from(CID.parse(id).bytes)
    expect([...merge.parents].sort((x, y) => Buffer.compare(cidBytes(x), cidBytes(y)))).toEqual(merge.parents)
    expect(merge.replica).toBe(null)
    const roots = log.filter((e) => e.parents.length === 0)
    expect(roots).toHaveLength(1)
    expect(roots[0]!.changes).toEqual({ added: 1, changed: 0, deleted: 0 })

    // the two stores' commits carry their own replica ids
    const replicas = new Set(log.filter((e) => e.replica !== null).map((e) => e.replica))
    expect(replicas.size).toBe(2)

    // the counts of every commit agree with `diff FIRST_PARENT COMMIT`
    const counts = [...log].filter((e) => e.parents.length > 0)
    for (const e of counts) {
      const d = await okJson<DiffEntry[]>([...b, 'diff', 'p', e.parents[0]!, e.id])
      expect(e.changes, e.id).toEqual({
        added: d.filter((x) => x.before === null).length,
        changed: d.filter((x) => x.before !== null && x.after !== null).length,
        deleted: d.filter((x) => x.after === null).length,
      })
    }
    // b's own commits: ~1 then -1 (the no-ops made none)
    const own = log.filter((e) => e.replica !== null && e.replica !== roots[0]!.replica)
    expect(own.map((e) => e.changes)).toEqual([
      { added: 0, changed: 0, deleted: 1 },
      { added: 0, changed: 1, deleted: 0 },
    ])
    // the merged content: every key of both sides, last writer winning
    expect(await ok([...b, 'ls', 'p'])).toBe('a\t2\nc\t1\nd\t1\n')

    // the text form carries the same facts, in the same order
    const text = (await ok([...b, 'log', 'p'])).split('\n').slice(0, -1)
    expect(text).toHaveLength(log.length)
    text.forEach((line, i) => {
      const e = log[i]!
      const m = line.match(LINE)
      expect(m, line).not.toBe(null)
      expect(m![1]).toBe(e.id)
      expect(m![2]).toBe(e.time)
      expect([Number(m![3]), Number(m![4]), Number(m![5])]).toEqual([e.changes.added, e.changes.changed, e.changes.deleted])
      expect(m![6]).toBe(e.parents.length === 0 ? '-' : e.parents.join(','))
      expect(m![7] !== undefined).toBe(e.head)
    })
    expect(await okJson([...b, 'log', 'p', '--limit', '3'])).toEqual(log.slice(0, 3))
    expect(await ok([...b, 'log', 'p', '-n', '0'])).toBe('')

    // the store the merge was made in has it too after importing back; both agree on the history
    await ok([...b, 'export', 'p', join(dir, 'merged.car')])
    await ok([...a, 'import', join(dir, 'merged.car')])
    expect(await okJson([...a, 'log', 'p'])).toEqual(log)
  })

  test('a clear-like history: put several keys, delete them all, put again', async () => {
    const s = ['--store', join(tempDir(), 'store')]
    await ok([...s, 'put', 'p', 'x', '1'])
    await ok([...s, 'put', 'p', 'y', '1'])
    await ok([...s, 'put', 'p', 'x', '2'])
    await ok([...s, 'del', 'p', 'x'])
    await ok([...s, 'del', 'p', 'y'])
    await ok([...s, 'put', 'p', 'x', '3'])
    const log = await okJson<LogEntry[]>([...s, 'log', 'p'])
    expect(log.map((e) => e.changes)).toEqual([
      { added: 1, changed: 0, deleted: 0 },
      { added: 0, changed: 0, deleted: 1 },
      { added: 0, changed: 0, deleted: 1 },
      { added: 0, changed: 1, deleted: 0 },
      { added: 1, changed: 0, deleted: 0 },
      { added: 1, changed: 0, deleted: 0 },
    ])
    expect(log.map((e) => e.generation)).toEqual([6, 5, 4, 3, 2, 1])
    expect(log.map((e) => e.head)).toEqual([true, false, false, false, false, false])
    expect(new Set(log.map((e) => e.replica)).size).toBe(1)
    expect((await ok([...s, 'log', 'p'])).split('\n')[5]).toMatch(/\tparents:-$/)
  })
})
