// Audit: every command's command-line mistakes are usage errors (status 2, `dagkv: …` then a usage line).
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { dagkv, Running, tempDir, type CliResult } from './run-cli.js'
import { pool } from '../helpers/timing.js'

/** Stands for a fresh store directory in `checkAll` cases. */
const STORE = '<fresh store>'

/** Status 2, nothing on stdout, exactly `dagkv: MESSAGE` then `usage: dagkv COMMAND …` on stderr. */
function expectUsage(r: CliResult, args: readonly string[], command: string | undefined): void {
  const what = args.join(' ')
  expect(r.status, `${what}: ${r.stderr}`).toBe(2)
  expect(r.stdout, what).toBe('')
  const lines = r.stderr.trimEnd().split('\n')
  expect(lines, what).toHaveLength(2)
  expect(lines[0], what).toMatch(/^dagkv: \S/)
  expect(lines[0], what).not.toMatch(/^dagkv: [A-Z_]+: /) // a usage error is not a LedgerError line
  expect(lines[1], what).toMatch(command === undefined ? /^usage: dagkv / : new RegExp(`^usage: dagkv ${command}\\b`))
}

/** The cases that are not usage errors, as `ARGS => status: stderr` (an empty list when all are). */
async function notUsage(cases: [command: string | undefined, args: string[]][]): Promise<string[]> {
  const results = await pool(cases.map(([, args]) => () => dagkv(args.map((a) => (a === STORE ? join(tempDir(), 'store') : a)))))
  return cases.flatMap(([, args], i) => {
    const r = results[i]!
    return r.status === 2 && /\nusage: dagkv /.test(r.stderr) ? [] : [`${args.slice(2).join(' ')} => ${r.status}: ${r.stderr.trim()}`]
  })
}

async function checkAll(cases: [command: string | undefined, args: string[]][]): Promise<void> {
  // each case on a store of its own: some options are only checked once the store is open
  const results = await pool(cases.map(([, args]) => () => dagkv(args.map((a) => (a === STORE ? join(tempDir(), 'store') : a)))))
  cases.forEach(([command, args], i) => expectUsage(results[i]!, args, command))
}

describe('audit: usage errors exit 2 with a usage line', () => {
  test('missing and extra positional arguments, for every command', async () => {
    const s = ['--store', STORE]
    await checkAll([
      ['pages', [...s, 'pages', 'extra']],
      ['put', [...s, 'put']],
      ['put', [...s, 'put', 'p']],
      ['put', [...s, 'put', 'p', 'k']], // neither VALUE nor --file
      ['put', [...s, 'put', 'p', 'k', 'v', 'extra']],
      ['put', [...s, 'put', 'p', 'k', 'v', '--file', '-']], // VALUE and --file
      ['put', [...s, 'put', 'p', '--file', '-']],
      ['get', [...s, 'get', 'p']],
      ['get', [...s, 'get', 'p', 'k', 'extra']],
      ['del', [...s, 'del', 'p']],
      ['del', [...s, 'del', 'p', 'k', 'extra']],
      ['ls', [...s, 'ls']],
      ['ls', [...s, 'ls', 'p', 'q']],
      ['log', [...s, 'log']],
      ['log', [...s, 'log', 'p', 'q']],
      ['diff', [...s, 'diff', 'p', 'head']],
      ['diff', [...s, 'diff', 'p', 'head', 'head', 'head']],
      ['watch', [...s, 'watch']],
      ['watch', [...s, 'watch', 'p', 'q']],
      ['serve', [...s, 'serve', 'extra']],
      ['sync', [...s, 'sync']],
      ['sync', [...s, 'sync', 'ws://127.0.0.1:1', 'ws://127.0.0.1:2']],
      ['export', [...s, 'export', 'p']],
      ['export', [...s, 'export', 'p', 'a.car', 'b.car']],
      ['import', [...s, 'import']],
      ['import', [...s, 'import', 'a.car', 'b.car']],
    ])
  })

  test('unknown options, and --json on the commands that write', async () => {
    const s = ['--store', STORE]
    await checkAll([
      ['pages', [...s, 'pages', '--bogus']],
      ['put', [...s, 'put', 'p', 'k', 'v', '--bogus']],
      ['put', [...s, 'put', 'p', 'k', 'v', '--json']],
      ['get', [...s, 'get', 'p', 'k', '--bogus']],
      ['get', [...s, 'get', 'p', 'k', '-z']],
      ['del', [...s, 'del', 'p', 'k', '--json']],
      ['ls', [...s, 'ls', 'p', '--bogus']],
      ['log', [...s, 'log', 'p', '--reverse']],
      ['diff', [...s, 'diff', 'p', 'head', 'head', '--bogus']],
      ['watch', [...s, 'watch', 'p', '--bogus']],
      ['serve', [...s, 'serve', '--bogus']],
      ['sync', [...s, 'sync', 'ws://127.0.0.1:1', '--bogus']],
      ['export', [...s, 'export', 'p', 'x.car', '--bogus']],
      ['import', [...s, 'import', 'x.car', '--bogus']],
      ['ls', [...s, 'ls', 'p', '--store']], // a valued option without its value
    ])
  })

  test('bad numbers: --limit, --port', async () => {
    const s = ['--store', STORE]
    await checkAll([
      ['ls', [...s, 'ls', 'p', '--limit', 'many']],
      ['ls', [...s, 'ls', 'p', '--limit', '1.5']],
      ['ls', [...s, 'ls', 'p', '--limit', '']],
      ['ls', [...s, 'ls', 'p', '--limit', '-1']],
      ['ls', [...s, 'ls', 'p', '--limit=-1']],
      ['ls', [...s, 'ls', 'p', '--limit', '1e3']],
      ['ls', [...s, 'ls', 'p', '--limit', '0x10']],
      ['ls', [...s, 'ls', 'p', '--limit', '99999999999999999999']],
      ['log', [...s, 'log', 'p', '--limit', 'x']],
      ['log', [...s, 'log', 'p', '--limit=-3']],
      ['serve', [...s, 'serve', '--port', '65536']],
      ['serve', [...s, 'serve', '--port', 'http']],
      ['watch', [...s, 'watch', 'p', '--serve', '--port', '-1']],
      ['watch', [...s, 'watch', 'p', '--port', '7000']], // --port without --serve
      ['sync', [...s, 'sync', 'ws://127.0.0.1:1', '--mode', 'sideways']],
      ['sync', [...s, 'sync', 'ws://127.0.0.1:1', '--mode', '']],
    ])
  })

  test('invalid hex in page ids, keys, values and key options; an empty --store', async () => {
    const s = ['--store', STORE]
    await checkAll([
      ['put', [...s, 'put', 'hex:zz', 'k', 'v']],
      ['put', [...s, 'put', 'p', 'hex:abc', 'v']], // odd length
      ['put', [...s, 'put', 'p', 'k', 'hex:0g']],
      ['get', [...s, '--hex', 'get', 'p', 'k']], // 'p' is not hex under --hex
      ['ls', [...s, 'ls', 'p', '--prefix', 'hex:x']],
      ['ls', [...s, 'ls', 'p', '--start', 'hex:1']],
      ['ls', [...s, 'ls', 'p', '--end', 'hex:1']],
      ['diff', [...s, 'diff', 'p', 'head', 'head', '--prefix', 'hex:q']],
      ['watch', [...s, 'watch', 'hex:q']],
      ['import', [...s, 'import', 'x.car', '--page', 'hex:q']],
      ['pages', ['--store', '', 'pages']],
    ])
  })

  test('a command line mistake is a usage error even when the store is locked or the peer unreachable', async () => {
    const a = join(tempDir(), 'a')
    const server = new Running(['--store', a, 'serve'])
    const url = (await server.waitFor(/ws:\/\/127\.0\.0\.1:\d+/))[0]
    const s = ['--store', a]
    const wrong = await notUsage([
      ['get', [...s, 'get', 'p', 'k', 'extra']], // checked before the store is opened
      ['log', [...s, 'log', 'p', '--limit', 'x']],
      ['ls', [...s, 'ls', 'p', '--limit', 'x']],
      ['ls', [...s, 'ls', 'p', '--start', 'hex:1']],
      ['ls', [...s, 'ls', 'p', '--end', 'hex:1']],
      ['serve', [...s, 'serve', '--port', '65536']],
      ['watch', [...s, 'watch', 'p', '--serve', '--port', '70000']],
      ['sync', ['--store', STORE, 'sync', url, '--page', 'hex:q']],
      ['sync', ['--store', STORE, 'sync', 'ws://127.0.0.1:1', '--page', 'hex:q']],
    ])
    expect(wrong).toEqual([])
    expect((await server.stop()).status).toBe(0)
  })

  test('no command, an unknown command, help for an unknown command', async () => {
    const s = ['--store', join(tempDir(), 'store')]
    const bare = await dagkv(s)
    expect(bare.status).toBe(2)
    expect(bare.stdout).toBe('')
    expect(bare.stderr).toMatch(/^usage: dagkv /)
    await checkAll([
      [undefined, [...s, 'frobnicate']],
      [undefined, [...s, 'help', 'frobnicate']],
      [undefined, [...s, 'PUT', 'p', 'k', 'v']],
    ])
    const version = await dagkv(['--version'])
    expect(version.status).toBe(0)
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/)
  })
})
