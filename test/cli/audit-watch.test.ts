// Audit: `watch` prints one line per change (text and JSON Lines), honours --prefix, follows --serve and
// --connect, and exits 0 on SIGINT / SIGTERM, releasing the store.
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { dagkv, ok, Running, tempDir } from './run-cli.js'

const TEXT_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\t(local|remote)( \[[a-z-]+\])?\t(.*)$/

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '')
}

/** Resolves once `running` has printed `n` complete lines on stdout. */
async function linesAtLeast(running: Running, n: number): Promise<string[]> {
  await running.waitFor(new RegExp(`^(?:[^\\n]*\\n){${n}}`))
  return lines(running.stdout)
}

describe('audit: watch', () => {
  test('text lines for puts and deletes pushed to `watch --serve`; --prefix; SIGINT → 0 and the lock is released', async () => {
    const dir = tempDir()
    const a = join(dir, 'a')
    const b = ['--store', join(dir, 'b')]
    await ok(['--store', a, 'put', 'notes', 'old', 'x'])
    const watcher = new Running(['--store', a, 'watch', 'notes', '--serve', '--prefix', 'k'])
    const status = await watcher.waitFor(/^dagkv: watching page notes from commit (\S+); listening on (ws:\/\/127\.0\.0\.1:\d+)\n/m, 'stderr')
    const url = status[2]!

    // b starts from a's history, then changes keys inside and outside the prefix
    await ok([...b, 'sync', url, '--mode', 'pull'])
    await ok([...b, 'put', 'notes', 'other', 'ignored']) // outside the prefix: no line
    await ok([...b, 'sync', url, '--mode', 'push'])
    await ok([...b, 'put', 'notes', 'k1', 'one'])
    await ok([...b, 'sync', url, '--mode', 'push'])
    const first = await linesAtLeast(watcher, 1)
    await ok([...b, 'del', 'notes', 'k1'])
    await ok([...b, 'put', 'notes', 'k2', 'two words'])
    await ok([...b, 'sync', url, '--mode', 'push'])
    const all = await watcher.waitFor(/k2=two words/).then(() => lines(watcher.stdout))

    expect(first).toHaveLength(1)
    expect(all.every((l) => TEXT_LINE.test(l)), all.join('\n')).toBe(true)
    expect(all.every((l) => l.match(TEXT_LINE)![2] === 'remote')).toBe(true)
    expect(all[0]!.match(TEXT_LINE)![4]).toBe('k1=one')
    // the delete and the put arrive in one sync: one or two lines, naming -k1 and k2=two words, nothing else
    const items = all.slice(1).flatMap((l) => l.match(TEXT_LINE)![4]!.split(/ (?=-?k\d)/))
    expect(items.sort()).toEqual(['-k1', 'k2=two words'])
    expect(watcher.stdout).not.toContain('other')
    expect(watcher.stdout).not.toContain('old')

    const stopped = await watcher.stop('SIGINT')
    expect(stopped.status).toBe(0)
    expect(lines(stopped.stderr)).toHaveLength(1) // the status line only
    expect(await ok(['--store', a, 'ls', 'notes'])).toBe('k2\ttwo words\nold\tx\nother\tignored\n')
  })

  test('--json: one JSON object per change per line; more than 10 keys; SIGTERM → 0', async () => {
    const dir = tempDir()
    const a = join(dir, 'a')
    const b = ['--store', join(dir, 'b')]
    const json = new Running(['--store', a, 'watch', 'p', '--serve', '--json', '--token', 't0k'])
    const url = (await json.waitFor(/listening on (ws:\S+)/, 'stderr'))[1]!
    for (let i = 0; i < 11; i++) await ok([...b, 'put', 'p', `key${String(i).padStart(2, '0')}`, `v${i}`])
    await ok([...b, 'put', '--lazy', 'p', 'lazy', 'lv'])
    await ok([...b, 'sync', url, '--mode', 'push', '--token', 't0k'])
    await json.waitFor(/"lazy"/)
    const stopped = await json.stop('SIGTERM')
    expect(stopped.status).toBe(0)
    const docs = lines(stopped.stdout).map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(docs).toHaveLength(1) // one sync, one change
    for (const d of docs) {
      expect(Object.keys(d).sort()).toEqual(['changed', 'deleted', 'origin', 'state', 'time', 'timestamp'])
      expect(d.origin).toBe('remote')
      expect(d.time).toBe(new Date(d.timestamp as number).toISOString())
      expect(d.deleted).toEqual([])
    }
    const changed = docs.flatMap((d) => d.changed as { key: string }[])
    expect(changed.map((e) => e.key)).toEqual([...Array.from({ length: 11 }, (_, i) => `key${String(i).padStart(2, '0')}`), 'lazy'])
    expect(changed[0]).toEqual({ key: 'key00', value: 'v0', size: 2, priority: 'eager' })
    expect(changed[11]).toMatchObject({ key: 'lazy', priority: 'lazy' })

    // the same change as a text line names 10 keys and counts the rest
    const c = ['--store', join(dir, 'c')]
    const text = new Running(['--store', join(dir, 'c'), 'watch', 'p', '--serve'])
    const url2 = (await text.waitFor(/listening on (ws:\S+)/, 'stderr'))[1]!
    await ok([...b, 'sync', url2, '--mode', 'push'])
    await text.waitFor(/\n/)
    const done = await text.stop('SIGINT')
    expect(done.status).toBe(0)
    const [line] = lines(done.stdout)
    expect(line).toMatch(TEXT_LINE)
    expect(lines(done.stdout)).toHaveLength(1) // one sync, one change
    expect(line!.match(TEXT_LINE)![4]).toBe(`${Array.from({ length: 10 }, (_, i) => `key${String(i).padStart(2, '0')}=v${i}`).join(' ')} … (+2 more)`)
    expect(await ok([...c, 'get', 'p', 'key10'])).toBe('v10')
  })

  test('--connect follows a served store: what another store pushes there arrives as a line', async () => {
    const dir = tempDir()
    const server = new Running(['--store', join(dir, 'hub'), 'serve', '--token', 'hub-secret'])
    const url = (await server.waitFor(/ws:\/\/127\.0\.0\.1:\d+/))[0]
    const watcher = new Running(['--store', join(dir, 'w'), 'watch', 'p', '--connect', url, '--json'], { DAGKV_TOKEN: 'hub-secret' })
    await watcher.waitFor(new RegExp(`^dagkv: watching page p from commit \\S+; connected to ${url.replace(/[.]/g, '\\.')}\\n`, 'm'), 'stderr')
    await ok(['--store', join(dir, 'b'), 'put', 'p', 'hello', 'world'])
    await ok(['--store', join(dir, 'b'), 'sync', url, '--mode', 'push', '--token', 'hub-secret'])
    await watcher.waitFor(/"hello"/)
    const stopped = await watcher.stop('SIGINT')
    expect(stopped.status).toBe(0)
    expect(JSON.parse(lines(stopped.stdout)[0]!)).toMatchObject({ origin: 'remote', changed: [{ key: 'hello', value: 'world' }] })
    expect(await ok(['--store', join(dir, 'w'), 'get', 'p', 'hello'])).toBe('world')
    // a wrong token to follow → UNAUTHORIZED, one line, status 1
    const denied = await dagkv(['--store', join(dir, 'w'), 'watch', 'p', '--connect', url, '--token', 'nope'])
    expect(denied.status).toBe(1)
    expect(denied.stderr).toMatch(/^dagkv: UNAUTHORIZED: [^\n]+\n$/)
    expect((await server.stop('SIGINT')).status).toBe(0)
  })
})
