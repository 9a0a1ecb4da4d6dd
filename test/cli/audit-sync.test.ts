// Audit: serve / sync between stores on 127.0.0.1: modes, tokens, lazy values, output on a pipe and on a terminal.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { dagkv, ok, okJson, ROOT, Running, tempDir } from './run-cli.js'
import type { SyncStats } from 'dagkv'

interface SyncResult {
  url: string
  peer: string
  mode: string
  pages: (SyncStats & { page: string })[]
  total: SyncStats
}

async function head(store: string, page: string): Promise<string[]> {
  return (await okJson<{ id: string; head: boolean }[]>(['--store', store, 'log', page])).filter((e) => e.head).map((e) => e.id)
}

function oneFailure(r: { status: number | null; stdout: string; stderr: string }, code: string): void {
  expect(r.status, r.stderr).toBe(1)
  expect(r.stdout).toBe('')
  expect(r.stderr).toMatch(new RegExp(`^dagkv: ${code}: [^\\n]+\\n$`))
}

describe('audit: serve / sync', () => {
  test('--mode push sends only, pull receives only, both does both; the stores converge', async () => {
    const dir = tempDir()
    const [a, b, c] = ['a', 'b', 'c'].map((n) => join(dir, n)) as [string, string, string]
    await ok(['--store', a, 'put', 'p', 'from-a', '1'])
    await ok(['--store', a, 'put', 'a-only', 'k', 'v'])
    await ok(['--store', b, 'put', 'p', 'from-b', '2'])
    const server = new Running(['--store', a, 'serve', '--json'])
    await server.waitFor(/\n/)
    const served = JSON.parse(server.stdout) as { url: string; port: number }
    expect(served.url).toBe(`ws://127.0.0.1:${served.port}`)
    const url = served.url

    const push = await okJson<SyncResult>(['--store', b, 'sync', url, '--mode', 'push'])
    expect(push).toMatchObject({ url, mode: 'push' })
    expect(push.pages.map((p) => p.page)).toEqual(['p']) // push: only this store's pages
    expect(push.total.commitsSent).toBe(1)
    expect(push.total.commitsReceived).toBe(0)
    expect(push.total.blocksReceived).toBe(0)
    expect(await ok(['--store', b, 'ls', 'p'])).toBe('from-b\t2\n') // nothing came back
    expect(await ok(['--store', b, 'pages'])).toBe('p\n')

    const pull = await okJson<SyncResult>(['--store', b, 'sync', url, '--mode', 'pull', '--page', 'p'])
    expect(pull.mode).toBe('pull')
    expect(pull.pages.map((p) => p.page)).toEqual(['p']) // --page: only that page
    expect(pull.total.commitsSent).toBe(0)
    expect(pull.total.blocksSent).toBe(0)
    expect(pull.total.commitsReceived).toBeGreaterThanOrEqual(1)
    expect(await ok(['--store', b, 'ls', 'p'])).toBe('from-a\t1\nfrom-b\t2\n')
    expect(await ok(['--store', b, 'pages'])).toBe('p\n')
    expect(await head(b, 'p')).toHaveLength(1) // merged before sync returned

    // both: b sends its merge and receives the page it lacks
    const both = await okJson<SyncResult>(['--store', b, 'sync', url])
    expect(both.mode).toBe('both')
    expect(both.pages.map((p) => p.page)).toEqual(['a-only', 'p'])
    for (const k of ['commitsSent', 'commitsReceived', 'blocksSent', 'blocksReceived', 'bytesSent', 'bytesReceived', 'roundTrips'] as const) {
      expect(both.total[k]).toBe(both.pages.reduce((n, p) => n + p[k], 0))
    }
    // a fresh store pulling everything; repeated --page
    const fresh = await okJson<SyncResult>(['--store', c, 'sync', url, '--page', 'p', '--page', 'a-only', '-m', 'pull'])
    expect(fresh.pages.map((p) => p.page)).toEqual(['a-only', 'p'])
    expect((await server.stop('SIGINT')).status).toBe(0)

    for (const s of [a, b, c]) {
      expect(await ok(['--store', s, 'ls', 'p']), s).toBe('from-a\t1\nfrom-b\t2\n')
      expect(await ok(['--store', s, 'pages']), s).toBe('a-only\np\n')
    }
    const heads = await head(a, 'p')
    expect(heads).toHaveLength(1)
    expect(await head(b, 'p')).toEqual(heads)
    expect(await head(c, 'p')).toEqual(heads)
  })

  test('tokens: missing or wrong → UNAUTHORIZED and nothing crosses; --token or $DAGKV_TOKEN right → synced', async () => {
    const dir = tempDir()
    const [a, b] = ['a', 'b'].map((n) => join(dir, n)) as [string, string]
    await ok(['--store', a, 'put', 'secret', 'k', 'classified'])
    await ok(['--store', b, 'put', 'mine', 'k', 'v'])
    const server = new Running(['--store', a, 'serve'], { DAGKV_TOKEN: 's3cret' })
    const url = (await server.waitFor(/ws:\/\/127\.0\.0\.1:\d+/))[0]

    oneFailure(await dagkv(['--store', b, 'sync', url]), 'UNAUTHORIZED')
    oneFailure(await dagkv(['--store', b, 'sync', url, '--token', 'wrong']), 'UNAUTHORIZED')
    oneFailure(await dagkv(['--store', b, 'sync', url, '--mode', 'pull', '--json'], { env: { DAGKV_TOKEN: 'S3CRET' } }), 'UNAUTHORIZED')
    oneFailure(await dagkv(['--store', b, 'sync', url, '--token', 's3cre'], { env: { DAGKV_TOKEN: 's3cret' } }), 'UNAUTHORIZED') // --token wins
    expect(await ok(['--store', b, 'pages'])).toBe('mine\n')

    const r = await dagkv(['--store', b, 'sync', url, '--mode', 'pull', '--json', '--token', 's3cret'], { env: { DAGKV_TOKEN: 'wrong' } })
    expect(r.status, r.stderr).toBe(0)
    expect((JSON.parse(r.stdout) as SyncResult).pages.map((p) => p.page)).toEqual(['mine', 'secret'])
    const env = await dagkv(['--store', b, 'sync', url, '--mode', 'push'], { env: { DAGKV_TOKEN: 's3cret' } })
    expect(env.status, env.stderr).toBe(0)
    expect((await server.stop('SIGTERM')).status).toBe(0)
    expect(await ok(['--store', b, 'get', 'secret', 'k'])).toBe('classified')
    expect(await ok(['--store', a, 'get', 'mine', 'k'])).toBe('v')
  })

  test('lazy values cross only when fetched: a pulled lazy value is listed but not stored', async () => {
    const dir = tempDir()
    const [a, b] = ['a', 'b'].map((n) => join(dir, n)) as [string, string]
    await ok(['--store', a, 'put', '--lazy', 'p', 'big', 'a lazy value'])
    await ok(['--store', a, 'put', 'p', 'small', 'eager'])
    const server = new Running(['--store', a, 'serve'])
    const url = (await server.waitFor(/ws:\/\/127\.0\.0\.1:\d+/))[0]
    await ok(['--store', b, 'sync', url])
    expect((await server.stop()).status).toBe(0)
    expect(await ok(['--store', b, 'ls', 'p'])).toBe('big\t(lazy, not stored here)\nsmall\teager\n')
    oneFailure(await dagkv(['--store', b, 'get', 'p', 'big']), 'NEEDS_FETCH')
    expect(await ok(['--store', b, 'get', 'p', 'small'])).toBe('eager')
  })

  test('output: text lines when piped with nothing on stderr; a progress bar on a terminal', async () => {
    const dir = tempDir()
    const [a, b] = ['a', 'b'].map((n) => join(dir, n)) as [string, string]
    await ok(['--store', a, 'put', 'p1', 'k', 'v'])
    await ok(['--store', a, 'put', 'p2', 'k', 'v'])
    const server = new Running(['--store', a, 'serve'])
    const url = (await server.waitFor(/ws:\/\/127\.0\.0\.1:\d+/))[0]

    const piped = await dagkv(['--store', b, 'sync', url])
    expect(piped.status).toBe(0)
    expect(piped.stderr).toBe('')
    const out = piped.stdout.split('\n').slice(0, -1)
    expect(out).toHaveLength(3)
    const stat = 'sent \\d+ commits, \\d+ blocks, \\d+ bytes; received \\d+ commits, \\d+ blocks, \\d+ bytes; \\d+ round trips'
    expect(out[0]).toMatch(new RegExp(`^p1: ${stat}$`))
    expect(out[1]).toMatch(new RegExp(`^p2: ${stat}$`))
    expect(out[2]).toMatch(new RegExp(`^total \\(2 pages with [0-9a-f]+\\): ${stat}$`))
    expect(out.join('\n')).not.toMatch(/\u001b/) // no terminal control codes when piped

    // on a terminal (script(1) gives the command a pty): a bar is drawn on it, then the result
    expect(existsSync('/usr/bin/script') || existsSync('/bin/script')).toBe(true)
    const node = `'${process.execPath}' --import tsx src/cli/main.ts --store '${join(dir, 'c')}' sync ${url}`
    const tty = await new Promise<{ status: number | null; out: string }>((resolve, reject) => {
      const child = spawn('script', ['-qec', node, '/dev/null'], { cwd: ROOT, env: { ...process.env, DAGKV_TOKEN: '', COLUMNS: '120' }, stdio: ['ignore', 'pipe', 'pipe'] })
      let text = ''
      child.stdout.on('data', (d: Buffer) => (text += d.toString()))
      child.stderr.on('data', (d: Buffer) => (text += d.toString()))
      child.on('error', reject)
      child.on('close', (status) => resolve({ status, out: text }))
    })
    expect(tty.status, tty.out).toBe(0)
    expect(tty.out).toMatch(/sync \|[^|]*\| \d\/2 pages/) // the bar
    expect(tty.out).toMatch(/total \(2 pages with [0-9a-f]+\)/)
    expect((await server.stop()).status).toBe(0)
    expect(await ok(['--store', join(dir, 'c'), 'pages'])).toBe('p1\np2\n')
  })

  test('sync --page with a bad page id → INVALID_ARGUMENT; serve errors are one line', async () => {
    const dir = tempDir()
    const [a, b] = ['a', 'b'].map((n) => join(dir, n)) as [string, string]
    await ok(['--store', a, 'put', 'p', 'k', 'v'])
    const server = new Running(['--store', a, 'serve'])
    const url = (await server.waitFor(/ws:\/\/127\.0\.0\.1:(\d+)/))[0]
    const port = url.split(':')[2]!
    oneFailure(await dagkv(['--store', b, 'sync', url, '--page', '']), 'INVALID_ARGUMENT')
    oneFailure(await dagkv(['--store', b, 'sync', url, '--page', 'x'.repeat(129)]), 'INVALID_ARGUMENT')
    // a port already in use
    oneFailure(await dagkv(['--store', b, 'serve', '--port', port]), 'NETWORK_ERROR')
    expect((await server.stop()).status).toBe(0)
    expect(await ok(['--store', b, 'pages'])).toBe('')
  })
})
