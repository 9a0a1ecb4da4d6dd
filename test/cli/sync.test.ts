import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import type { SyncStats } from 'dagkv'
import { dagkv, ok, okJson, Running, tempDir } from './run-cli.js'

type Stats = SyncStats

interface SyncResult {
  url: string
  peer: string
  mode: string
  pages: (Stats & { page: string })[]
  total: Stats
}

async function head(store: string, page: string): Promise<string> {
  return (await okJson<{ id: string }[]>(['--store', store, 'log', page, '--limit', '1']))[0]!.id
}

describe('dagkv serve / sync / watch', () => {
  test('two stores sync through serve and sync on 127.0.0.1', async () => {
    const dir = tempDir()
    const [a, b, c] = ['a', 'b', 'c'].map((n) => join(dir, n)) as [string, string, string]
    await ok(['--store', a, 'put', 'notes', 'from-a', '1'])
    await ok(['--store', b, 'put', 'notes', 'from-b', '2'])
    await ok(['--store', b, 'put', 'b-only', 'k', 'v'])

    const server = new Running(['--store', a, 'serve', '--port', '0', '--token', 'secret'])
    const url = (await server.waitFor(/ws:\/\/127\.0\.0\.1:\d+/))[0]

    const locked = await dagkv(['--store', a, 'ls', 'notes'])
    expect(locked.status).toBe(1)
    expect(locked.stderr).toMatch(/^dagkv: LOCKED: /)

    const denied = await dagkv(['--store', b, 'sync', url, '--token', 'wrong'])
    expect(denied.status).toBe(1)
    expect(denied.stderr).toMatch(/^dagkv: UNAUTHORIZED: /)

    const both = await dagkv(['--store', b, 'sync', url, '--json'], { env: { DAGKV_TOKEN: 'secret' } })
    expect(both.status, both.stderr).toBe(0)
    expect(both.stderr).toBe('') // piped: no progress bar
    const result = JSON.parse(both.stdout) as SyncResult
    expect(result.mode).toBe('both')
    expect(result.pages.map((p) => p.page)).toEqual(['b-only', 'notes'])
    expect(result.total.commitsSent).toBeGreaterThanOrEqual(2)
    expect(result.total.commitsReceived).toBeGreaterThanOrEqual(1)
    expect(result.total.bytesSent).toBeGreaterThan(0)

    // an empty store pulls every page the server has
    const pull = await okJson<SyncResult>(['--store', c, 'sync', url, '--mode', 'pull', '--token', 'secret'])
    expect(pull.pages.map((p) => p.page)).toEqual(['b-only', 'notes'])
    expect(pull.total.commitsSent).toBe(0)
    expect(pull.total.commitsReceived).toBeGreaterThanOrEqual(3)
    const text = await ok(['--store', c, 'sync', url, '--page', 'notes', '--token', 'secret'])
    expect(text).toMatch(/^notes: sent \d+ commits, \d+ blocks, \d+ bytes; received /m)
    expect(text).toMatch(/^total \(1 pages with \S+\): /m)

    const stopped = await server.stop('SIGINT')
    expect(stopped.status).toBe(0)

    const expected = 'from-a\t1\nfrom-b\t2\n'
    expect(await ok(['--store', a, 'ls', 'notes'])).toBe(expected)
    expect(await ok(['--store', b, 'ls', 'notes'])).toBe(expected)
    expect(await ok(['--store', c, 'ls', 'notes'])).toBe(expected)
    expect(await ok(['--store', a, 'pages'])).toBe('b-only\nnotes\n')
    expect(await ok(['--store', c, 'pages'])).toBe('b-only\nnotes\n')
    expect(await head(a, 'notes')).toBe(await head(b, 'notes'))
  })

  test('watch prints a line for a change pushed by another store, and stops cleanly', async () => {
    const dir = tempDir()
    const a = join(dir, 'a')
    const b = join(dir, 'b')
    const watcher = new Running(['--store', a, 'watch', 'notes', '--serve', '--port', '0', '--json'])
    const url = (await watcher.waitFor(/listening on (ws:\/\/\S+)/, 'stderr'))[1]!

    await ok(['--store', b, 'put', 'notes', 'hello', 'world'])
    await ok(['--store', b, 'put', 'elsewhere', 'x', 'y'])
    await ok(['--store', b, 'sync', url, '--mode', 'push'])
    await watcher.waitFor(/"hello"/)

    const done = await watcher.stop('SIGTERM')
    expect(done.status).toBe(0)
    const changes = done.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(changes).toHaveLength(1)
    expect(changes[0]).toMatchObject({
      origin: 'remote',
      state: 'completed',
      changed: [{ key: 'hello', value: 'world', size: 5, priority: 'eager' }],
      deleted: [],
    })
    expect(await ok(['--store', a, 'get', 'notes', 'hello'])).toBe('world')
  })
})
