// Audit: `ls` with --prefix/--start/--end/--reverse/--limit against a model of unsigned byte order.
import { cpSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { ok, okJson, tempDir } from './run-cli.js'

const hex = (s: string | Buffer): string => Buffer.from(s).toString('hex')

describe('audit: ls', () => {
  test('ls --prefix/--start/--end/--reverse/--limit agree with a model', async () => {
    const s = ['--store', join(tempDir(), 'store')]
    const keys = ['', 'a', 'a\u0000', 'a0', 'a1', 'a10', 'a2', 'ab', 'b', 'ba', 'é', '\u00ff', 'z']
    const binary = ['hex:00', 'hex:ff', 'hex:ff00', 'hex:7f']
    const bytesOf = (k: string): Buffer => (k.startsWith('hex:') ? Buffer.from(k.slice(4), 'hex') : Buffer.from(k))
    const all = [...keys, ...binary].map(bytesOf)
    for (const k of all) await ok([...s, '--hex', 'put', hex('p'), k.toString('hex'), hex(`v${k.toString('hex')}`)])
    const sorted = [...all].sort(Buffer.compare).map((b) => b.toString('hex'))
    expect(await ok([...s, '--hex', 'ls', hex('p'), '--keys'])).toBe(sorted.map((k) => `${k}\n`).join(''))

    type Q = { prefix?: string; start?: string; end?: string; reverse?: boolean; limit?: number }
    const model = (q: Q): string[] => {
      let r = sorted.filter((k) => (q.prefix === undefined || k.startsWith(q.prefix)) && (q.start === undefined || Buffer.compare(Buffer.from(k, 'hex'), Buffer.from(q.start, 'hex')) >= 0) && (q.end === undefined || Buffer.compare(Buffer.from(k, 'hex'), Buffer.from(q.end, 'hex')) < 0))
      if (q.reverse) r = r.reverse()
      return q.limit === undefined ? r : r.slice(0, q.limit)
    }
    const queries: Q[] = [
      { prefix: hex('a') },
      { prefix: hex('a'), reverse: true, limit: 3 },
      { prefix: hex('a1') },
      { prefix: 'ff' },
      { prefix: hex('q') },
      { start: hex('a1'), end: hex('b') },
      { start: hex('a1'), end: hex('b'), reverse: true },
      { start: hex('b') },
      { end: hex('a') },
      { end: '' },
      { start: hex('b'), end: hex('a') }, // empty range
      { limit: 0 },
      { limit: 1, reverse: true },
      { limit: 100 },
      { prefix: hex('a'), start: hex('a1'), end: hex('ab') },
      { prefix: hex('a'), start: hex('0'), end: hex('zz'), reverse: true, limit: 4 }, // range wider than the prefix
      { prefix: hex('a'), start: hex('b') }, // range entirely after the prefix
      { start: '00', end: '0001' },
    ]
    const argsOf = (q: Q): string[] => [
      ...(q.prefix === undefined ? [] : ['--prefix', q.prefix]),
      ...(q.start === undefined ? [] : ['--start', q.start]),
      ...(q.end === undefined ? [] : [`--end=${q.end}`]),
      ...(q.reverse ? ['--reverse'] : []),
      ...(q.limit === undefined ? [] : ['--limit', String(q.limit)]),
    ]
    // a store is locked while a command has it open: query two copies of it side by side
    const copies = [s[1]!, `${s[1]!}-copy`]
    cpSync(copies[0]!, copies[1]!, { recursive: true })
    const outputs: string[] = new Array(queries.length)
    await Promise.all(
      copies.map(async (store, c) => {
        for (let i = c; i < queries.length; i += copies.length) {
          outputs[i] = await ok(['--store', store, '--hex', 'ls', hex('p'), '--keys', ...argsOf(queries[i]!)])
        }
      }),
    )
    const wrong: string[] = []
    queries.forEach((q, i) => {
      const got = outputs[i]!.split('\n').slice(0, -1)
      if (JSON.stringify(got) !== JSON.stringify(model(q))) wrong.push(`${JSON.stringify(q)}: got ${JSON.stringify(got)}, want ${JSON.stringify(model(q))}`)
    })
    expect(wrong).toEqual([])
    // the same through --json and the text-or-hex: form
    const json = await okJson<{ key: string; value: string; size: number; priority: string }[]>([...s, 'ls', 'p', '-p', 'a', '-r', '-n', '2'])
    expect(json).toEqual([
      { key: 'ab', value: `v${hex('ab')}`, size: 5, priority: 'eager' },
      { key: 'a2', value: `v${hex('a2')}`, size: 5, priority: 'eager' },
    ])
    expect(await okJson([...s, 'ls', 'p', '--end', 'a0', '--keys'])).toEqual(['', 'hex:00', 'a', 'hex:6100'])
  })

})
