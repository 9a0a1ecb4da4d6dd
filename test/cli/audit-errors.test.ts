// Audit: failures exit 1 with exactly one stderr line `dagkv: CODE: message` naming the LedgerError code.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { dagkv, ok, okJson, Running, tempDir } from './run-cli.js'
import { pool } from '../helpers/timing.js'

/**
 * Runs every case and returns those that did not fail as expected (status 1, empty stdout, exactly
 * one stderr line `dagkv: CODE: …`), as `ARGS => status: stderr`: the test expects an empty list.
 */
async function mismatches(cases: [code: string, args: string[]][], n = 3): Promise<string[]> {
  const results = await pool(cases.map(([, args]) => () => dagkv(args)), n)
  return cases.flatMap(([code, args], i) => {
    const r = results[i]!
    const lines = r.stderr.replace(/\n$/, '').split('\n')
    const good = r.status === 1 && r.stdout === '' && lines.length === 1 && new RegExp(`^dagkv: ${code}: \\S`).test(lines[0]!)
    return good ? [] : [`${args.slice(2).join(' ').slice(0, 120)} => ${r.status}: ${r.stderr.trim().slice(0, 200)} (wanted ${code})`]
  })
}

const BIG_KEY = 'k'.repeat(1025)
const BIG_HEX_KEY = `hex:${'ab'.repeat(1025)}`
const CID_ELSEWHERE = 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

describe('audit: runtime failures name their LedgerError code on one line', () => {
  test('keys over 1024 bytes → KEY_TOO_LARGE; exactly 1024 bytes is fine', async () => {
    const s = ['--store', join(tempDir(), 'store')]
    await ok([...s, 'put', 'p', 'k', 'v'])
    expect(
      await mismatches([
        ['KEY_TOO_LARGE', [...s, 'put', 'p', BIG_KEY, 'v']],
        ['KEY_TOO_LARGE', [...s, 'put', 'p', BIG_HEX_KEY, 'v']],
        ['KEY_TOO_LARGE', [...s, 'put', 'p', 'é'.repeat(513), 'v']], // 1026 UTF-8 bytes
        ['KEY_TOO_LARGE', [...s, 'get', 'p', BIG_KEY]],
        ['KEY_TOO_LARGE', [...s, 'del', 'p', BIG_KEY]],
      ], 1),
    ).toEqual([])
    await ok([...s, 'put', 'p', 'k'.repeat(1024), 'edge'])
    expect(await ok([...s, 'get', 'p', 'k'.repeat(1024)])).toBe('edge')
    expect(await ok([...s, 'ls', 'p', '--keys'])).toBe(`k\n${'k'.repeat(1024)}\n`)
  })

  test('page ids outside 1..128 bytes → INVALID_ARGUMENT, for every command that names a page', async () => {
    const dir = tempDir()
    const s = ['--store', join(dir, 'store')]
    await ok([...s, 'put', 'p', 'k', 'v'])
    await ok([...s, 'export', 'p', join(dir, 'p.car')])
    const long = 'x'.repeat(129)
    expect(
      await mismatches([
        ['INVALID_ARGUMENT', [...s, 'put', '', 'k', 'v']],
        ['INVALID_ARGUMENT', [...s, 'put', long, 'k', 'v']],
        ['INVALID_ARGUMENT', [...s, 'get', '', 'k']],
        ['INVALID_ARGUMENT', [...s, 'del', '', 'k']],
        ['INVALID_ARGUMENT', [...s, 'ls', '']],
        ['INVALID_ARGUMENT', [...s, 'ls', 'hex:']],
        ['INVALID_ARGUMENT', [...s, 'log', '']],
        ['INVALID_ARGUMENT', [...s, 'diff', '', 'head', 'head']],
        ['INVALID_ARGUMENT', [...s, 'watch', '']],
        ['INVALID_ARGUMENT', [...s, 'export', '', join(dir, 'x.car')]],
        ['INVALID_ARGUMENT', [...s, 'export', long, join(dir, 'x.car')]],
        ['INVALID_ARGUMENT', [...s, 'import', join(dir, 'p.car'), '--page', '']],
        ['INVALID_ARGUMENT', [...s, 'import', join(dir, 'p.car'), '--page', long]],
      ], 1),
    ).toEqual([])
    // 128 bytes and the root page are fine; nothing was written by the failures
    await ok([...s, 'put', 'y'.repeat(128), 'k', 'v'])
    await ok([...s, 'put', `hex:${'00'.repeat(16)}`, 'k', 'v'])
    expect(await okJson([...s, 'pages'])).toEqual([`hex:${'00'.repeat(16)}`, 'p', 'y'.repeat(128)])
  })

  test('get of a missing key → NOT_FOUND (never written, deleted, empty page, fresh store)', async () => {
    const dir = tempDir()
    const s = ['--store', join(dir, 'store')]
    await ok([...s, 'put', 'p', 'gone', 'v'])
    await ok([...s, 'del', 'p', 'gone'])
    expect(
      await mismatches([
        ['NOT_FOUND', [...s, 'get', 'p', 'never']],
        ['NOT_FOUND', [...s, 'get', 'p', 'gone']],
        ['NOT_FOUND', [...s, 'get', 'p', 'gone', '--json']],
        ['NOT_FOUND', [...s, 'get', 'empty', 'k']],
        ['NOT_FOUND', [...s, 'get', 'p', 'gone', '--out', join(dir, 'out')]],
        ['NOT_FOUND', ['--store', join(dir, 'fresh'), 'get', 'p', 'k']],
      ], 1),
    ).toEqual([])
    // --out of a missing key leaves no file behind
    expect(existsSync(join(dir, 'out'))).toBe(false)
  })

  test('diff with commit ids that are not the page’s → INVALID_ARGUMENT', async () => {
    const s = ['--store', join(tempDir(), 'store')]
    await ok([...s, 'put', 'p', 'a', '1'])
    await ok([...s, 'put', 'q', 'a', '1'])
    const qHead = (await okJson<{ id: string }[]>([...s, 'log', 'q']))[0]!.id
    const pHead = (await okJson<{ id: string }[]>([...s, 'log', 'p']))[0]!.id
    expect(
      await mismatches([
        ['INVALID_ARGUMENT', [...s, 'diff', 'p', 'not-a-cid', 'head']],
        ['INVALID_ARGUMENT', [...s, 'diff', 'p', 'head', 'not-a-cid']],
        ['INVALID_ARGUMENT', [...s, 'diff', 'p', CID_ELSEWHERE, 'head']],
        ['INVALID_ARGUMENT', [...s, 'diff', 'p', qHead, 'head']], // a commit of another page
        ['INVALID_ARGUMENT', [...s, 'diff', 'p', pHead, qHead, '--json']],
        ['INVALID_ARGUMENT', [...s, 'diff', 'p', 'HEAD', 'head']],
        ['INVALID_ARGUMENT', [...s, 'diff', 'p', '', 'head']],
      ], 1),
    ).toEqual([])
    expect(await ok([...s, 'diff', 'p', pHead, 'head'])).toBe('')
  })

  test('files named on the command line that cannot be read or written → IO_ERROR', async () => {
    const dir = tempDir()
    const s = ['--store', join(dir, 'store')]
    await ok([...s, 'put', 'p', 'k', 'v'])
    mkdirSync(join(dir, 'adir'))
    expect(
      await mismatches([
        ['IO_ERROR', [...s, 'put', 'p', 'k2', '--file', join(dir, 'missing')]],
        ['IO_ERROR', [...s, 'put', 'p', 'k2', '--file', join(dir, 'adir')]],
        ['IO_ERROR', [...s, 'get', 'p', 'k', '--out', join(dir, 'nodir', 'out')]],
        ['IO_ERROR', [...s, 'get', 'p', 'k', '--out', join(dir, 'adir')]],
        ['IO_ERROR', [...s, 'export', 'p', join(dir, 'nodir', 'p.car')]],
        ['IO_ERROR', [...s, 'import', join(dir, 'missing.car')]],
        ['IO_ERROR', [...s, 'import', join(dir, 'adir')]],
      ], 1),
    ).toEqual([])
    expect(await ok([...s, 'ls', 'p'])).toBe('k\tv\n')
  })

  test('a store path that is a file → IO_ERROR, for every command', async () => {
    const dir = tempDir()
    const file = join(dir, 'not-a-dir')
    writeFileSync(file, 'hello')
    writeFileSync(join(dir, 'x.car'), 'not a car')
    const s = ['--store', file]
    expect(
      await mismatches([
        ['IO_ERROR', [...s, 'pages']],
        ['IO_ERROR', [...s, 'put', 'p', 'k', 'v']],
        ['IO_ERROR', [...s, 'get', 'p', 'k']],
        ['IO_ERROR', [...s, 'del', 'p', 'k']],
        ['IO_ERROR', [...s, 'ls', 'p']],
        ['IO_ERROR', [...s, 'log', 'p']],
        ['IO_ERROR', [...s, 'diff', 'p', 'head', 'head']],
        ['IO_ERROR', [...s, 'watch', 'p']],
        ['IO_ERROR', [...s, 'serve']],
        ['IO_ERROR', [...s, 'sync', 'ws://127.0.0.1:1']],
        ['IO_ERROR', [...s, 'export', 'p', join(dir, 'p.car')]],
        ['IO_ERROR', [...s, 'import', join(dir, 'x.car')]],
      ]),
    ).toEqual([])
    // the same through $DAGKV_STORE
    const env = await dagkv(['pages'], { env: { DAGKV_STORE: file } })
    expect(env.status).toBe(1)
    expect(env.stderr).toMatch(/^dagkv: IO_ERROR: [^\n]*\n$/)
  })

  test('a store held by a running watch or serve → LOCKED for every command, free again after it stops', async () => {
    const dir = tempDir()
    const a = join(dir, 'a')
    const b = join(dir, 'b')
    await ok(['--store', a, 'put', 'p', 'k', 'v'])
    await ok(['--store', a, 'export', 'p', join(dir, 'p.car')])
    await ok(['--store', b, 'put', 'p', 'k', 'v'])
    const watcher = new Running(['--store', a, 'watch', 'p', '--serve'])
    await watcher.waitFor(/^dagkv: watching page p .*listening on ws:/m, 'stderr')
    const s = ['--store', a]
    expect(
      await mismatches([
        ['LOCKED', [...s, 'pages']],
        ['LOCKED', [...s, 'put', 'p', 'k', 'w']],
        ['LOCKED', [...s, 'get', 'p', 'k']],
        ['LOCKED', [...s, 'del', 'p', 'k']],
        ['LOCKED', [...s, 'ls', 'p', '--json']],
        ['LOCKED', [...s, 'log', 'p']],
        ['LOCKED', [...s, 'diff', 'p', 'head', 'head']],
        ['LOCKED', [...s, 'watch', 'p']],
        ['LOCKED', [...s, 'watch', 'other']],
        ['LOCKED', [...s, 'serve']],
        ['LOCKED', [...s, 'sync', 'ws://127.0.0.1:1']],
        ['LOCKED', [...s, 'export', 'p', join(dir, 'again.car')]],
        ['LOCKED', [...s, 'import', join(dir, 'p.car')]],
      ]),
    ).toEqual([])
    const stopped = await watcher.stop('SIGINT')
    expect(stopped.status).toBe(0)
    expect(stopped.stdout).toBe('') // the failed commands changed nothing
    expect(await ok([...s, 'get', 'p', 'k'])).toBe('v')

    // serve holds it too; the failure is one line even while the server keeps running
    const server = new Running(['--store', b, 'serve'])
    await server.waitFor(/ws:\/\//)
    expect(await mismatches([['LOCKED', ['--store', b, 'put', 'p', 'k', 'w']], ['LOCKED', ['--store', b, 'serve']]])).toEqual([])
    expect((await server.stop('SIGTERM')).status).toBe(0)
    expect(await ok(['--store', b, 'get', 'p', 'k'])).toBe('v')
  })

  test('a plain `watch PAGE` (no --serve/--connect) keeps running, and holding the lock, until SIGINT', async () => {
    const a = join(tempDir(), 'a')
    await ok(['--store', a, 'put', 'p', 'k', 'v'])
    const watcher = new Running(['--store', a, 'watch', 'p'])
    await watcher.waitFor(/^dagkv: watching page p from commit \S+\n/m, 'stderr')
    // still running: a second command on the store is refused while it watches
    expect(await mismatches([['LOCKED', ['--store', a, 'ls', 'p']]])).toEqual([])
    expect(watcher.child.exitCode).toBe(null)
    const stopped = await watcher.stop('SIGINT')
    expect(stopped.status).toBe(0)
    expect(stopped.stderr.trim().split('\n')).toHaveLength(1) // only the status line
  })

  test('network failures of sync → NETWORK_ERROR', async () => {
    const s = ['--store', join(tempDir(), 'store')]
    expect(
      await mismatches([
        ['NETWORK_ERROR', [...s, 'sync', 'ws://127.0.0.1:1']],
        ['NETWORK_ERROR', [...s, 'sync', 'not a url']],
        ['NETWORK_ERROR', [...s, 'sync', 'http://127.0.0.1:1']],
      ], 1),
    ).toEqual([])
  })
})
