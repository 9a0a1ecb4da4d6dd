import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { dagkv, ok, okJson, tempDir } from './run-cli.js'

interface LogEntry {
  id: string
  parents: string[]
  time: string
  head: boolean
  replica: string | null
  changes: { added: number; changed: number; deleted: number }
}

describe('dagkv read and write commands', () => {
  test('put, get, ls, del, pages, log, diff', async () => {
    const s = ['--store', join(tempDir(), 'store')]
    await ok([...s, 'put', 'notes', 'a', 'one'])
    await ok([...s, 'put', 'notes', 'b', 'two'])
    await ok([...s, 'put', 'notes', 'c', 'three'])
    await ok([...s, 'put', 'notes', 'a', 'uno'])
    await ok([...s, 'del', 'notes', 'b'])
    await ok([...s, 'put', 'other', 'k', 'v'])

    expect(await ok([...s, 'get', 'notes', 'a'])).toBe('uno')
    expect(await ok([...s, 'ls', 'notes'])).toBe('a\tuno\nc\tthree\n')
    expect(await ok([...s, 'pages'])).toBe('notes\nother\n')
    expect(await okJson([...s, 'pages'])).toEqual(['notes', 'other'])

    const missing = await dagkv([...s, 'get', 'notes', 'b'])
    expect(missing.status).toBe(1)
    expect(missing.stderr).toMatch(/^dagkv: NOT_FOUND: /)

    const log = await okJson<LogEntry[]>([...s, 'log', 'notes'])
    expect(log).toHaveLength(5)
    expect(log.map((e) => e.changes)).toEqual([
      { added: 0, changed: 0, deleted: 1 },
      { added: 0, changed: 1, deleted: 0 },
      { added: 1, changed: 0, deleted: 0 },
      { added: 1, changed: 0, deleted: 0 },
      { added: 1, changed: 0, deleted: 0 },
    ])
    expect(log[0]!.head).toBe(true)
    expect(log[4]!.parents).toEqual([])
    for (let i = 0; i < 4; i++) expect(log[i]!.parents).toEqual([log[i + 1]!.id])
    expect(Number.isNaN(Date.parse(log[0]!.time))).toBe(false)
    const text = await ok([...s, 'log', 'notes', '--limit', '2'])
    expect(text.trim().split('\n')).toHaveLength(2)
    expect(text).toContain(`${log[0]!.id}\t`)
    expect(text).toContain('+0 ~0 -1')

    const first = log[4]!.id
    const diff = await okJson<{ key: string; before: { value: string } | null; after: { value: string } | null }[]>([
      ...s, 'diff', 'notes', first, 'head',
    ])
    expect(diff).toEqual([
      { key: 'a', before: { value: 'one', size: 3, priority: 'eager' }, after: { value: 'uno', size: 3, priority: 'eager' } },
      { key: 'c', before: null, after: { value: 'three', size: 5, priority: 'eager' } },
    ])
    expect(await ok([...s, 'diff', 'notes', first, log[0]!.id])).toBe('~\ta\tone -> uno\n+\tc\tthree\n')
  })

  test('ls ranges, prefix, reverse, limit and --json', async () => {
    const s = ['--store', join(tempDir(), 'store')]
    for (const k of ['a1', 'a2', 'a3', 'b1', 'b2']) await ok([...s, 'put', 'p', k, `v-${k}`])
    const keys = async (...args: string[]): Promise<string[]> => (await ok([...s, 'ls', 'p', '--keys', ...args])).split('\n').filter(Boolean)
    expect(await keys('--prefix', 'a')).toEqual(['a1', 'a2', 'a3'])
    expect(await keys('--start', 'a2', '--end', 'b2')).toEqual(['a2', 'a3', 'b1'])
    expect(await keys('--reverse', '--limit', '2')).toEqual(['b2', 'b1'])
    expect(await keys('--prefix', 'b', '--reverse')).toEqual(['b2', 'b1'])
    const entries = await okJson([...s, 'ls', 'p', '--prefix', 'b'])
    expect(entries).toEqual([
      { key: 'b1', value: 'v-b1', size: 4, priority: 'eager' },
      { key: 'b2', value: 'v-b2', size: 4, priority: 'eager' },
    ])
  })

  test('binary keys and values: hex: prefix, --hex, --file, --out, --lazy', async () => {
    const dir = tempDir()
    const s = ['--store', join(dir, 'store')]
    const blob = Buffer.from([0, 1, 2, 255, 10, 13])
    writeFileSync(join(dir, 'blob'), blob)
    await ok([...s, 'put', 'hex:00ff', 'hex:0001', '--file', join(dir, 'blob')])
    await ok([...s, '--hex', 'put', '00ff', '0002', 'cafe'])
    await ok([...s, 'put', '--lazy', 'hex:00ff', 'lazy', 'later'])
    await ok([...s, 'put', 'hex:00ff', 'stdin', '--file', '-'], 'from stdin')
    const got = await dagkv([...s, 'get', 'hex:00ff', 'hex:0001'])
    expect(got.raw.equals(blob)).toBe(true)
    await ok([...s, 'get', 'hex:00ff', 'hex:0002', '--out', join(dir, 'out')])
    expect(await ok([...s, '--hex', 'ls', '00ff', '--keys'])).toBe('0001\n0002\n6c617a79\n737464696e\n')
    expect(await okJson([...s, 'pages'])).toEqual(['hex:00ff'])
    expect(await okJson([...s, 'get', 'hex:00ff', 'lazy'])).toEqual({ key: 'lazy', size: 5, priority: 'lazy', value: 'later' })
    expect(await okJson([...s, 'ls', 'hex:00ff', '--end', 'l'])).toEqual([
      { key: 'hex:0001', value: 'hex:000102ff0a0d', size: 6, priority: 'eager' },
      { key: 'hex:0002', value: 'hex:cafe', size: 2, priority: 'eager' },
    ])
    expect(await ok([...s, 'get', 'hex:00ff', 'stdin'])).toBe('from stdin')
  })

  test('help', async () => {
    const main = await dagkv(['--help'])
    expect(main.status).toBe(0)
    for (const c of ['pages', 'put', 'get', 'del', 'ls', 'log', 'diff', 'watch', 'serve', 'sync', 'export', 'import']) {
      expect(main.stdout).toMatch(new RegExp(`^  ${c} `, 'm'))
    }
    const put = await dagkv(['put', '--help'])
    expect(put.status).toBe(0)
    expect(put.stdout).toMatch(/^usage: dagkv put /)
    expect(put.stdout).toContain('--lazy')
    expect((await dagkv(['help', 'ls'])).stdout).toContain('--reverse')
  })
})
