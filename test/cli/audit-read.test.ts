// Audit: read commands (--json forms, binary-safe get, ls against a model) and put --file / --lazy.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, test } from 'vitest'
import { dagkv, ok, okJson, ROOT, tempDir } from './run-cli.js'

const MAIN = join(ROOT, 'src', 'cli', 'main.ts')
const TSX = pathToFileURL(createRequire(join(ROOT, 'package.json')).resolve('tsx')).href

/** Runs the CLI from another working directory (for the default store), or through a shell pipeline. */
function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, DAGKV_STORE: '', DAGKV_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}
const cliIn = (cwd: string, args: string[], env?: Record<string, string>) => run(process.execPath, ['--import', TSX, MAIN, ...args], cwd, env)

const hex = (s: string | Buffer): string => Buffer.from(s).toString('hex')

describe('audit: read commands', () => {
  test('get is binary-safe on stdout and with --out; --json shows bytes as hex:', async () => {
    const dir = tempDir()
    const s = ['--store', join(dir, 'store')]
    const all = Buffer.alloc(256 * 3)
    for (let i = 0; i < all.length; i++) all[i] = (i * 7) % 256
    writeFileSync(join(dir, 'all'), all)
    await ok([...s, 'put', 'p', 'bin', '--file', join(dir, 'all')])
    await ok([...s, 'put', 'p', 'nl', 'line\n'])
    await ok([...s, 'put', 'p', 'text', 'héllo wörld'])
    await ok([...s, 'put', 'p', 'stdin', '-f', '-'], all)
    await ok([...s, 'put', 'p', 'dash', '--', '-5'])

    const got = await dagkv([...s, 'get', 'p', 'bin'])
    expect(got.status).toBe(0)
    expect(got.raw.equals(all)).toBe(true)
    expect(got.stderr).toBe('')
    expect((await dagkv([...s, 'get', 'p', 'stdin'])).raw.equals(all)).toBe(true)
    expect(await ok([...s, 'get', 'p', 'nl'])).toBe('line\n') // no newline added, none removed
    expect(await ok([...s, 'get', 'p', 'text'])).toBe('héllo wörld')
    expect(await ok([...s, 'get', 'p', 'dash'])).toBe('-5')

    // --out writes the bytes exactly and prints nothing
    expect(await ok([...s, 'get', 'p', 'bin', '--out', join(dir, 'out')])).toBe('')
    expect(readFileSync(join(dir, 'out')).equals(all)).toBe(true)
    await ok([...s, 'get', 'p', 'nl', '-o', join(dir, 'out')]) // overwrites
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('line\n')

    expect(await okJson([...s, 'get', 'p', 'bin'])).toEqual({ key: 'bin', size: all.length, priority: 'eager', value: `hex:${all.toString('hex')}` })
    expect(await okJson([...s, 'get', 'p', 'nl'])).toEqual({ key: 'nl', size: 5, priority: 'eager', value: `hex:${hex('line\n')}` })
    expect(await okJson([...s, 'get', 'p', 'text'])).toEqual({ key: 'text', size: 13, priority: 'eager', value: 'héllo wörld' })
    expect(await okJson([...s, 'get', 'p', 'bin', '--out', join(dir, 'o2')])).toEqual({ key: 'bin', size: all.length, priority: 'eager', file: join(dir, 'o2') })
    expect(readFileSync(join(dir, 'o2')).equals(all)).toBe(true)
    expect(await okJson([...s, '--hex', 'get', hex('p'), hex('text')])).toMatchObject({ key: hex('text'), value: hex('héllo wörld') })
  })

  test('put --file streams a file over 4 MiB; put --lazy stores lazy priority', async () => {
    const dir = tempDir()
    const s = ['--store', join(dir, 'store')]
    const big = Buffer.alloc(5 * 1024 * 1024 + 3)
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 9)) & 0xff
    writeFileSync(join(dir, 'big'), big)
    await ok([...s, 'put', 'p', 'big', '--file', join(dir, 'big')])
    expect((await dagkv([...s, 'get', 'p', 'big'])).raw.equals(big)).toBe(true)
    await ok([...s, 'get', 'p', 'big', '--out', join(dir, 'big.out')])
    expect(readFileSync(join(dir, 'big.out')).equals(big)).toBe(true)
    expect(await okJson([...s, 'ls', 'p', '--prefix', 'big'])).toEqual([{ key: 'big', value: expect.any(String), size: big.length, priority: 'eager' }])
    expect(await ok([...s, 'ls', 'p'])).toMatch(new RegExp(`^big\\thex:[0-9a-f]{1,80}… \\(${big.length} bytes\\)\\n$`))

    await ok([...s, 'put', '--lazy', 'p', 'lz', 'lazy value'])
    await ok([...s, 'put', 'p', 'lzf', '--file', join(dir, 'big'), '--lazy'])
    expect(await okJson([...s, 'get', 'p', 'lz'])).toEqual({ key: 'lz', size: 10, priority: 'lazy', value: 'lazy value' })
    expect(await ok([...s, 'get', 'p', 'lz'])).toBe('lazy value')
    expect((await dagkv([...s, 'get', 'p', 'lzf'])).raw.equals(big)).toBe(true)
    const listed = await okJson<{ key: string; priority: string; size: number }[]>([...s, 'ls', 'p'])
    expect(listed.map((e) => [e.key, e.priority, e.size])).toEqual([['big', 'eager', big.length], ['lz', 'lazy', 10], ['lzf', 'lazy', big.length]])
    // putting the same value and priority again makes no commit; changing only the priority does
    await ok([...s, 'put', '--lazy', 'p', 'lz', 'lazy value'])
    expect(await okJson<unknown[]>([...s, 'log', 'p'])).toHaveLength(3)
    await ok([...s, 'put', 'p', 'lz', 'lazy value'])
    expect(await okJson([...s, 'get', 'p', 'lz'])).toMatchObject({ priority: 'eager' })
    expect(await okJson<unknown[]>([...s, 'log', 'p'])).toHaveLength(4)
  })

  test('--json of pages, ls, log, diff parses and has the documented fields; empty cases are []', async () => {
    const s = ['--store', join(tempDir(), 'store')]
    expect(await okJson([...s, 'pages'])).toEqual([])
    expect(await okJson([...s, 'ls', 'nothing'])).toEqual([])
    expect(await okJson([...s, 'log', 'nothing'])).toEqual([])
    expect(await okJson([...s, 'diff', 'nothing', 'head', 'head'])).toEqual([])
    await ok([...s, 'put', 'hex:00ff', 'k', 'v'])
    await ok([...s, 'put', 'hex:00ff', 'k', 'w'])
    await ok([...s, 'put', 'hex:00ff', 'x\ty', 'tab'])
    expect(await okJson([...s, 'pages'])).toEqual(['hex:00ff'])
    expect(await okJson([...s, '--hex', 'pages'])).toEqual(['00ff'])
    const log = await okJson<Record<string, unknown>[]>([...s, 'log', 'hex:00ff'])
    expect(log).toHaveLength(3)
    for (const e of log) {
      expect(Object.keys(e).sort()).toEqual(['changes', 'generation', 'head', 'id', 'parents', 'replica', 'time', 'timestamp'])
      expect(e.time).toBe(new Date(e.timestamp as number).toISOString())
      expect(typeof e.replica).toBe('string')
    }
    const diff = await okJson([...s, 'diff', 'hex:00ff', log[2]!.id as string, 'head'])
    expect(diff).toEqual([
      { key: 'k', before: { value: 'v', size: 1, priority: 'eager' }, after: { value: 'w', size: 1, priority: 'eager' } },
      { key: 'hex:780979', before: null, after: { value: 'tab', size: 3, priority: 'eager' } },
    ])
    expect(await okJson([...s, 'diff', 'hex:00ff', 'head', log[2]!.id as string, '--prefix', 'x'])).toEqual([
      { key: 'hex:780979', before: { value: 'tab', size: 3, priority: 'eager' }, after: null },
    ])
    expect(await ok([...s, 'diff', 'hex:00ff', 'head', log[2]!.id as string])).toBe('~\tk\tw -> v\n-\thex:780979\n')
  })

  test('the default store is ./.dagkv, else $DAGKV_STORE; --store after the command and --store=DIR work', async () => {
    const dir = tempDir()
    const r = await cliIn(dir, ['put', 'p', 'k', 'here'])
    expect(r.status, r.stderr).toBe(0)
    expect(existsSync(join(dir, '.dagkv'))).toBe(true)
    expect((await cliIn(dir, ['get', 'p', 'k'])).stdout).toBe('here')
    const env = { DAGKV_STORE: join(dir, 'env-store') }
    expect((await cliIn(dir, ['put', 'p', 'k', 'env'], env)).status).toBe(0)
    expect((await cliIn(dir, ['get', 'p', 'k'], env)).stdout).toBe('env')
    expect((await cliIn(dir, ['get', 'p', 'k', '--store', join(dir, '.dagkv')], env)).stdout).toBe('here') // --store wins
    expect(await ok(['ls', 'p', `--store=${join(dir, 'env-store')}`])).toBe('k\tenv\n')
  })

  test('output to a closed pipe ends the command quietly with status 0', async () => {
    const dir = tempDir()
    const store = join(dir, 'store')
    writeFileSync(join(dir, 'big'), Buffer.alloc(2 * 1024 * 1024, 'x'))
    await ok(['--store', store, 'put', 'p', 'big', '--file', join(dir, 'big')])
    const node = `'${process.execPath}' --import tsx src/cli/main.ts --store '${store}'`
    const r = await run('bash', ['-c', `${node} get p big | head -c 5; echo " status=\${PIPESTATUS[0]}" >&2`], ROOT)
    expect(r.stdout).toBe('xxxxx')
    expect(r.stderr).toBe(' status=0\n')
  })
})
