// Audit: export / import as CAR files: round trip, lazy values, stdin/stdout, foreign and corrupt files.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CarReader } from '@ipld/car/reader'
import { CarWriter } from '@ipld/car/writer'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, test } from 'vitest'
import { dagkv, ok, okJson, tempDir } from './run-cli.js'

interface Block {
  cid: CID
  bytes: Uint8Array
}

async function writeCar(file: string, roots: CID[], blocks: Block[]): Promise<void> {
  const { writer, out } = CarWriter.create(roots)
  const parts: Uint8Array[] = []
  const collected = (async () => {
    for await (const part of out) parts.push(part)
  })()
  for (const b of blocks) await writer.put(b)
  await writer.close()
  await collected
  writeFileSync(file, Buffer.concat(parts))
}

async function cborBlock(value: unknown): Promise<Block> {
  const bytes = dagCbor.encode(value)
  return { cid: CID.create(1, dagCbor.code, await sha256.digest(bytes)), bytes }
}

async function readCar(file: string): Promise<{ roots: CID[]; blocks: Block[] }> {
  const reader = await CarReader.fromBytes(readFileSync(file))
  const blocks: Block[] = []
  for await (const b of reader.blocks()) blocks.push(b as Block)
  return { roots: (await reader.getRoots()) as CID[], blocks }
}

/** One line `dagkv: CODE: …` and status 1. */
function expectFailure(r: { status: number | null; stdout: string; stderr: string }, code: string, what: string): void {
  expect(r.status, `${what}: ${r.stderr}`).toBe(1)
  expect(r.stdout, what).toBe('')
  expect(r.stderr, what).toMatch(new RegExp(`^dagkv: ${code}: [^\\n]+\\n$`))
}

describe('audit: export / import', () => {
  test('round trip into a fresh store keeps the snapshot and every commit id; --json fields; re-import adds nothing', async () => {
    const dir = tempDir()
    const a = ['--store', join(dir, 'a')]
    const b = ['--store', join(dir, 'b')]
    const big = Buffer.alloc(300_000)
    for (let i = 0; i < big.length; i++) big[i] = (i * 13) & 0xff
    writeFileSync(join(dir, 'big'), big)
    await ok([...a, 'put', 'hex:00ff', 'big', '--file', join(dir, 'big')])
    await ok([...a, 'put', 'hex:00ff', 'hex:0001', 'hex:deadbeef'])
    await ok([...a, 'put', 'hex:00ff', 'gone', 'x'])
    await ok([...a, 'del', 'hex:00ff', 'gone'])
    await ok([...a, 'put', 'hex:00ff', 'k', 'v'])
    await ok([...a, 'put', 'other', 'k', 'v'])
    const car = join(dir, 'page.car')
    const exported = await okJson<Record<string, unknown>>([...a, 'export', 'hex:00ff', car])
    const logA = await okJson<{ id: string }[]>([...a, 'log', 'hex:00ff'])
    expect(exported).toEqual({ page: 'hex:00ff', file: car, heads: [logA[0]!.id], commits: 5, blocks: expect.any(Number), bytes: expect.any(Number) })
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]) // nothing left beside it

    // the file is a CARv1 whose roots are [manifest, head], manifest first
    const { roots, blocks } = await readCar(car)
    expect(roots.map(String).slice(1)).toEqual([logA[0]!.id])
    expect(blocks[0]!.cid.equals(roots[0]!)).toBe(true)
    expect(dagCbor.decode(blocks[0]!.bytes)).toEqual({ dagkv: 'page-export', v: 1, page: new Uint8Array([0, 255]), heads: [roots[1]] })
    expect(new Set(blocks.map((x) => x.cid.toString())).size).toBe(blocks.length) // each block once
    expect(blocks.length).toBe(exported.blocks)

    const imported = await okJson<Record<string, unknown>>([...b, 'import', car])
    expect(imported).toEqual({ page: 'hex:00ff', commits: 5, blocks: expect.any(Number), bytes: expect.any(Number), heads: [logA[0]!.id] })
    expect(await okJson([...b, 'pages'])).toEqual(['hex:00ff'])
    expect(await ok([...b, 'ls', 'hex:00ff', '--json'])).toBe(await ok([...a, 'ls', 'hex:00ff', '--json']))
    expect(await okJson([...b, 'log', 'hex:00ff'])).toEqual(logA)
    expect((await dagkv([...b, 'get', 'hex:00ff', 'big'])).raw.equals(big)).toBe(true)
    expect(await okJson([...b, 'import', car])).toEqual({ ...imported, commits: 0, blocks: 0, bytes: 0 })
    expect(await okJson([...b, 'log', 'hex:00ff'])).toEqual(logA)
    // the text report
    expect(await ok([...b, 'import', car])).toBe(`imported 0 commits, 0 blocks (0 bytes) into page hex:00ff; head ${logA[0]!.id}\n`)
    expect(await ok([...a, 'export', 'hex:00ff', car])).toMatch(/^exported 5 commits, \d+ blocks \(\d+ bytes\) of page hex:00ff to .*page\.car\n$/)
  })

  test('export - to stdout (report on stderr) and import - from stdin; import --page; an empty page', async () => {
    const dir = tempDir()
    const a = ['--store', join(dir, 'a')]
    const b = ['--store', join(dir, 'b')]
    await ok([...a, 'put', 'p', 'k', 'v'])
    await ok([...a, 'put', 'p', 'k2', 'v2'])
    const out = await dagkv([...a, 'export', 'p', '-', '--json'])
    expect(out.status).toBe(0)
    expect(JSON.parse(out.stderr)).toMatchObject({ page: 'p', file: '-', commits: 2 })
    writeFileSync(join(dir, 'file.car'), out.raw)
    await ok([...a, 'export', 'p', join(dir, 'named.car')])
    expect(out.raw.equals(readFileSync(join(dir, 'named.car')))).toBe(true)

    const imported = await dagkv([...b, 'import', '-', '--json'], { input: out.raw })
    expect(imported.status, imported.stderr).toBe(0)
    expect(JSON.parse(imported.stdout)).toMatchObject({ page: 'p', commits: 2 })
    expect(await ok([...b, 'ls', 'p'])).toBe('k\tv\nk2\tv2\n')
    expect(await okJson([...b, 'import', join(dir, 'file.car'), '--page', 'copy'])).toMatchObject({ page: 'copy' })
    expect(await ok([...b, 'ls', 'copy'])).toBe('k\tv\nk2\tv2\n')
    expect(await okJson([...b, 'pages'])).toEqual(['copy', 'p'])

    // a page with no commits exports as an empty history and imports as nothing
    expect(await okJson([...a, 'export', 'empty', join(dir, 'empty.car')])).toMatchObject({ page: 'empty', heads: [], commits: 0 })
    expect(await okJson([...b, 'import', join(dir, 'empty.car')])).toMatchObject({ page: 'empty', commits: 0, heads: [] })
    expect(await okJson([...b, 'pages'])).toEqual(['copy', 'p'])
  })

  test('lazy values: left out by default (NEEDS_FETCH after import), included with export --lazy', async () => {
    const dir = tempDir()
    const a = ['--store', join(dir, 'a')]
    await ok([...a, 'put', 'p', 'eager', 'e'])
    await ok([...a, 'put', '--lazy', 'p', 'lazy', 'a lazy value'])
    await ok([...a, 'export', 'p', join(dir, 'plain.car')])
    await ok([...a, 'export', 'p', join(dir, 'lazy.car'), '--lazy'])
    expect(readFileSync(join(dir, 'lazy.car')).length).toBeGreaterThan(readFileSync(join(dir, 'plain.car')).length)

    const b = ['--store', join(dir, 'b')]
    await ok([...b, 'import', join(dir, 'plain.car')])
    expectFailure(await dagkv([...b, 'get', 'p', 'lazy']), 'NEEDS_FETCH', 'get of a lazy value not stored')
    expect(await ok([...b, 'get', 'p', 'eager'])).toBe('e')
    expect(await ok([...b, 'ls', 'p'])).toBe('eager\te\nlazy\t(lazy, not stored here)\n')
    expect(await okJson([...b, 'ls', 'p', '--prefix', 'l'])).toEqual([{ key: 'lazy', value: null, size: null, priority: 'lazy' }])
    // importing the lazy export fills it in
    await ok([...b, 'import', join(dir, 'lazy.car')])
    expect(await ok([...b, 'get', 'p', 'lazy'])).toBe('a lazy value')

    const c = ['--store', join(dir, 'c')]
    await ok([...c, 'import', join(dir, 'lazy.car')])
    expect(await okJson([...c, 'get', 'p', 'lazy'])).toEqual({ key: 'lazy', size: 12, priority: 'lazy', value: 'a lazy value' })
  })

  test('foreign, corrupt and inconsistent files → DATA_INTEGRITY_ERROR and the store unchanged', async () => {
    const dir = tempDir()
    const a = ['--store', join(dir, 'a')]
    const b = ['--store', join(dir, 'b')]
    await ok([...a, 'put', 'p', 'k', 'a value long enough not to be inlined, probably, or maybe it is'])
    await ok([...a, 'put', 'p', 'k2', 'v2'])
    await ok([...a, 'export', 'p', join(dir, 'good.car')])
    const good = await readCar(join(dir, 'good.car'))
    const [manifestCid, head] = good.roots as [CID, CID]
    const others = good.blocks.slice(1)
    await ok([...b, 'put', 'q', 'mine', '1']) // b has content that must survive
    const before = await ok([...b, 'log', 'q'])

    const files: Record<string, () => Promise<void>> = {
      'empty.car': async () => writeFileSync(join(dir, 'empty.car'), ''),
      'text.car': async () => writeFileSync(join(dir, 'text.car'), 'this is not a CAR file at all\n'),
      'foreign.car': async () => {
        const x = await cborBlock({ hello: 'world' })
        await writeCar(join(dir, 'foreign.car'), [x.cid], [x])
      },
      'noroots.car': async () => writeCar(join(dir, 'noroots.car'), [], good.blocks),
      'headless.car': async () => writeCar(join(dir, 'headless.car'), [manifestCid], good.blocks), // roots lack the head
      'swapped.car': async () => writeCar(join(dir, 'swapped.car'), [head, manifestCid], good.blocks),
      'v2.car': async () => {
        const m = await cborBlock({ dagkv: 'page-export', v: 2, page: new TextEncoder().encode('p'), heads: [head] })
        await writeCar(join(dir, 'v2.car'), [m.cid, head], [m, ...others])
      },
      'badpage.car': async () => {
        const m = await cborBlock({ dagkv: 'page-export', v: 1, page: 'p', heads: [head] })
        await writeCar(join(dir, 'badpage.car'), [m.cid, head], [m, ...others])
      },
      'wronghead.car': async () => {
        // a manifest naming a head that is a tree node, not a commit
        const node = others.find((x) => !x.cid.equals(head) && x.cid.code === dagCbor.code)!
        const m = await cborBlock({ dagkv: 'page-export', v: 1, page: new TextEncoder().encode('p'), heads: [node.cid] })
        await writeCar(join(dir, 'wronghead.car'), [m.cid, node.cid], [m, ...others])
      },
      'rawhead.car': async () => {
        const bytes = new TextEncoder().encode('not a commit')
        const x = { cid: CID.create(1, raw.code, await sha256.digest(bytes)), bytes }
        const m = await cborBlock({ dagkv: 'page-export', v: 1, page: new TextEncoder().encode('p'), heads: [x.cid] })
        await writeCar(join(dir, 'rawhead.car'), [m.cid, x.cid], [m, x])
      },
      'maphead.car': async () => {
        const x = await cborBlock({ not: 'a commit' })
        const m = await cborBlock({ dagkv: 'page-export', v: 1, page: new TextEncoder().encode('p'), heads: [x.cid] })
        await writeCar(join(dir, 'maphead.car'), [m.cid, x.cid], [m, x])
      },
      'nomanifest.car': async () => writeCar(join(dir, 'nomanifest.car'), good.roots, others), // the manifest block missing
      'garbage-tail.car': async () => writeFileSync(join(dir, 'garbage-tail.car'), Buffer.concat([readFileSync(join(dir, 'good.car')), Buffer.from([0x05, 1, 2])])),
    }
    const wrong: string[] = []
    for (const [name, make] of Object.entries(files)) {
      await make()
      const r = await dagkv([...b, 'import', join(dir, name)])
      if (!(r.status === 1 && r.stdout === '' && /^dagkv: DATA_INTEGRITY_ERROR: [^\n]+\n$/.test(r.stderr))) wrong.push(`${name} => ${r.status}: ${r.stderr.trim()}${r.stdout.trim()}`)
    }
    expect(wrong).toEqual([])
    // from stdin too
    expectFailure(await dagkv([...b, 'import', '-'], { input: 'garbage' }), 'DATA_INTEGRITY_ERROR', 'stdin garbage')
    expect(await okJson([...b, 'pages'])).toEqual(['q'])
    expect(await ok([...b, 'log', 'q'])).toBe(before)
    expect(existsSync(join(dir, 'b'))).toBe(true)
  })
})
