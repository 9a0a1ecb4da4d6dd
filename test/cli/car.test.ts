import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CarReader } from '@ipld/car/reader'
import { CarWriter } from '@ipld/car/writer'
import type { CID } from 'multiformats/cid'
import { describe, expect, test } from 'vitest'
import { dagkv, ok, okJson, tempDir } from './run-cli.js'

interface LogEntry {
  id: string
  head: boolean
}

async function headOf(store: string, page: string): Promise<string> {
  const log = await okJson<LogEntry[]>(['--store', store, 'log', page, '--limit', '1'])
  return log[0]!.id
}

describe('dagkv export / import', () => {
  test('export then import into a second store gives the same content and head', async () => {
    const dir = tempDir()
    const a = join(dir, 'a')
    const b = join(dir, 'b')
    const car = join(dir, 'page.car')
    await ok(['--store', a, 'put', 'docs', 'readme', 'hello'])
    await ok(['--store', a, 'put', 'docs', 'big', '--file', '-'], 'x'.repeat(300_000))
    await ok(['--store', a, 'put', 'docs', 'gone', 'soon'])
    await ok(['--store', a, 'del', 'docs', 'gone'])
    await ok(['--store', a, 'put', 'other', 'k', 'v'])
    const exported = await okJson<{ commits: number; heads: string[] }>(['--store', a, 'export', 'docs', car])
    expect(exported.commits).toBe(4)

    const imported = await okJson<{ page: string; commits: number; heads: string[] }>(['--store', b, 'import', car])
    expect(imported.page).toBe('docs')
    expect(imported.commits).toBe(4)
    expect(imported.heads).toEqual(exported.heads)

    expect(await ok(['--store', b, 'pages'])).toBe('docs\n')
    expect(await ok(['--store', b, 'ls', 'docs', '--json'])).toBe(await ok(['--store', a, 'ls', 'docs', '--json']))
    expect(await headOf(b, 'docs')).toBe(await headOf(a, 'docs'))
    expect((await dagkv(['--store', b, 'get', 'docs', 'big'])).stdout).toBe('x'.repeat(300_000))

    // importing again adds nothing
    const again = await okJson<{ commits: number; heads: string[] }>(['--store', b, 'import', car])
    expect(again.commits).toBe(0)
    expect(again.heads).toEqual(exported.heads)
  })

  test('a tampered CAR is refused with DATA_INTEGRITY_ERROR and nothing is imported', async () => {
    const dir = tempDir()
    const a = join(dir, 'a')
    const b = join(dir, 'b')
    const car = join(dir, 'page.car')
    await ok(['--store', a, 'put', 'p', 'key', 'a value long enough to be a block of its own'])
    await ok(['--store', a, 'put', 'p', 'key2', 'v2'])
    await ok(['--store', a, 'export', 'p', car])
    const bytes = readFileSync(car)

    const tampered = Buffer.from(bytes)
    tampered[tampered.length - 1]! ^= 1 // inside the last block's data
    writeFileSync(join(dir, 'tampered.car'), tampered)
    writeFileSync(join(dir, 'truncated.car'), bytes.subarray(0, bytes.length - 7))
    // a well-formed CAR that lacks one block the heads need
    const reader = await CarReader.fromBytes(bytes)
    const { writer, out } = CarWriter.create(await reader.getRoots())
    const parts: Uint8Array[] = []
    const collected = (async () => {
      for await (const part of out) parts.push(part)
    })()
    const all: { cid: CID; bytes: Uint8Array }[] = []
    for await (const block of reader.blocks()) all.push(block)
    for (const block of all.slice(0, -1)) await writer.put(block)
    await writer.close()
    await collected
    writeFileSync(join(dir, 'incomplete.car'), Buffer.concat(parts))

    for (const name of ['tampered.car', 'truncated.car', 'incomplete.car']) {
      const r = await dagkv(['--store', b, 'import', join(dir, name)])
      expect(r.status, name).toBe(1)
      expect(r.stderr).toMatch(/^dagkv: DATA_INTEGRITY_ERROR: /)
    }
    expect(await ok(['--store', b, 'pages'])).toBe('')
    expect(await ok(['--store', b, 'ls', 'p'])).toBe('')
  })
})
