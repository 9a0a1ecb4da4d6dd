/**
 * The TypeScript examples of the docs, run as written. Each ```ts block is extracted from its
 * markdown file at test time, so an example that stops working (a renamed method, a changed
 * option, a wrong result in its comment) fails here. A block runs in a child Node process (tsx)
 * as an ES module, with `'dagkv'` pointing at src/index.ts, `./…` store paths moved to a temporary
 * directory and fixed ports replaced by 0. Fragments (blocks that use a `page` or `ledger` they do
 * not create) get a small prelude that creates those names and a postlude that checks the effect.
 * Every ```ts block of README.md and docs/*.md is either run here or listed in NOT_RUN with the
 * reason, so a new example fails the inventory test until it is covered.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, test } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))
const entry = join(root, 'src/index.ts')
const work = mkdtempSync(join(tmpdir(), 'dagkv-docs-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

interface CodeBlock {
  file: string
  line: number
  code: string
}

/** The ```ts / ```typescript blocks of a markdown file (path relative to the repository). */
function tsBlocks(file: string): CodeBlock[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n')
  const out: CodeBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue
    const start = i + 1
    while (i + 1 < lines.length && !/^```\s*$/.test(lines[i + 1]!)) i++
    out.push({ file, line: start + 1, code: lines.slice(start, i + 1).join('\n') })
    i++
  }
  return out
}

/** The one block of `file` that contains `marker` (fails when there is none or several). */
function block(file: string, marker: string): CodeBlock {
  const found = tsBlocks(file).filter((b) => b.code.includes(marker))
  expect(found.map((b) => `${b.file}:${b.line}`), `one ts block of ${file} containing ${JSON.stringify(marker)}`).toHaveLength(1)
  return found[0]!
}

let counter = 0

/** Rewrites a doc example for the test run: package root, store paths, ports. */
function adapt(code: string, dir: string): string {
  return code
    .replace(/from 'dagkv'/g, `from ${JSON.stringify(entry)}`)
    .replace(/path: '\.\/([^']+)'/g, (_m, p: string) => `path: ${JSON.stringify(join(dir, p))}`)
    .replace(/port: \d+/g, 'port: 0')
}

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs `prelude + example + postlude` as one .mts module in a child process. The child gets
 * 15 s; unhandled rejections fail it (Node's default), so does a hang.
 */
async function runExample(b: CodeBlock, parts: { prelude?: string; postlude?: string } = {}): Promise<Run> {
  const dir = mkdtempSync(join(work, 'ex-'))
  const file = join(dir, `example-${++counter}.mts`)
  const source = [
    adapt(parts.prelude ?? '', dir),
    `// ---- ${b.file}:${b.line}`,
    adapt(b.code, dir),
    '// ---- end of example',
    adapt(parts.postlude ?? '', dir),
  ].join('\n')
  writeFileSync(file, source)
  const proc = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000)
  const code = await new Promise<number | null>((resolve) => proc.on('close', (c) => resolve(c)))
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/** Runs the example and expects a clean exit (the process must end by itself: nothing left open). */
async function runOk(b: CodeBlock, parts: { prelude?: string; postlude?: string } = {}): Promise<string[]> {
  const run = await runExample(b, parts)
  expect(run.code, `${b.file}:${b.line} exited with ${run.code}\n${run.stderr}\n${run.stdout}`).toBe(0)
  return run.stdout.split('\n').filter((l) => l.length > 0)
}

/** A `page`, its `ledger` (in memory) and imports for fragments. */
const pagePrelude = `
import { Ledger as __Ledger } from 'dagkv'
const ledger = await __Ledger.open()
const page = await ledger.page('docs')
`
const sleep = 'const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))\n'

describe('README.md', () => {
  test('the example runs: transaction, snapshot iteration, watcher, listen', async () => {
    const b = block('README.md', "Ledger.open({ path: './my-store' })")
    const lines = await runOk(b)
    // milk was deleted by the transaction; eggs was put by it.
    expect(lines).toEqual(['eggs a dozen'])
  })
})

describe('docs/getting-started.md', () => {
  test('the example prints dark, and reopening the directory keeps it', async () => {
    const b = block('docs/getting-started.md', "Ledger.open({ path: './data' })")
    const lines = await runOk(b, {
      postlude: `
const again = await Ledger.open({ path: './data' })
console.log(new TextDecoder().decode(await (await (await again.page('settings')).snapshot()).get('theme')))
await again.close()
`,
    })
    expect(lines).toEqual(['dark', 'dark'])
  })
})

describe('docs/transactions.md', () => {
  test('the transaction example commits atomically', async () => {
    const b = block('docs/transactions.md', 'await page.startTransaction()')
    const lines = await runOk(b, {
      prelude: `${pagePrelude}await page.put('b', '0')\nconst before = (await page.snapshot()).commitId\n`,
      postlude: `
const snap = await page.snapshot()
const keys = []
for await (const k of snap.keys()) keys.push(new TextDecoder().decode(k))
console.log(JSON.stringify(keys), snap.commitId !== before)
await ledger.close()
`,
    })
    expect(lines).toEqual(['["a"] true'])
  })
})

describe('docs/watchers.md', () => {
  test('the watcher example sees a prefixed change', async () => {
    const b = block('docs/watchers.md', 'await page.watch(')
    const lines = await runOk(b, {
      prelude: pagePrelude + sleep,
      postlude: `
await page.put('other', 'x')
await page.put('users/ann', '1')
await sleep(100)
console.log('snapshot prefix', new TextDecoder().decode(snapshot.prefix))
close()
await ledger.close()
`,
    })
    // origin, state, changed, deleted: only the users/ change is delivered.
    expect(lines).toEqual(['local completed 1 0', 'snapshot prefix users/'])
  })
})

describe('docs/errors.md', () => {
  test('the KEY_TOO_LARGE example logs { size, max }', async () => {
    const b = block('docs/errors.md', "LedgerError.is(err, 'KEY_TOO_LARGE')")
    const lines = await runOk(b, {
      prelude: `${pagePrelude}const key = new Uint8Array(1025)\nconst value = 'v'\n`,
      postlude: 'await ledger.close()',
    })
    expect(lines).toEqual(['{ size: 1025, max: 1024 }'])
  })
})

describe('docs/sync.md', () => {
  test('connecting replicas: in memory and over WebSocket (port 0, token)', async () => {
    const b = block('docs/sync.md', 'connectInMemory(a, b)')
    const lines = await runOk(b, {
      prelude: `
import { Ledger as __Ledger } from 'dagkv'
const a = await __Ledger.open()
const b = await __Ledger.open()
`,
      postlude: `
console.log(peer.id === a.replicaId, server.url.startsWith('ws://127.0.0.1:'))
await a.close()
await b.close()
`,
    })
    expect(lines).toEqual(['true true'])
  })

  test('on-demand sync (autoSync: false): both, pull, push to one peer', async () => {
    const b = block('docs/sync.md', "await page.sync({ mode: 'pull' })")
    const lines = await runOk(b, {
      prelude: `
import { Ledger as __Ledger } from 'dagkv'
const a = await __Ledger.open({ autoSync: false })
const b = await __Ledger.open({ autoSync: false })
const server = await a.listen({ token: 't' })
const peer = await b.connect(server.url, { token: 't' })
await (await a.page('p')).put('from-a', '1')
const page = await b.page('p')
await page.put('from-b', '2')
`,
      postlude: `
const read = async (l) => {
  const p = await l.page('p')
  await p.waitForConflictResolution()
  const snap = await p.snapshot()
  const keys = []
  for await (const k of snap.keys()) keys.push(new TextDecoder().decode(k))
  return keys.join(',')
}
await page.waitForConflictResolution()
// 'both' pulls a's commit, then pushes b's (and the merge, when it is already made).
console.log(stats.commitsReceived, stats.commitsSent >= 1, stats.roundTrips > 0)
console.log(await read(a), await read(b))
await a.close()
await b.close()
`,
    })
    expect(lines).toEqual(['1 true true', 'from-a,from-b from-a,from-b'])
  })

  test('sync state: syncState() and onSyncState()', async () => {
    const b = block('docs/sync.md', 'page.syncState()')
    const lines = await runOk(b, {
      prelude: pagePrelude,
      postlude: `
console.log(JSON.stringify(page.syncState()), typeof off)
off()
await ledger.close()
`,
    })
    expect(lines).toEqual(['{"download":"idle","upload":"idle"} function'])
  })
})

/** Two connections that commit from the same base: the page forks on `key`. */
const fork = (ledger: string, page: string): string => `
const __p1 = await ${ledger}.page('todo')
const __p2 = await ${ledger}.page('todo')
await __p1.startTransaction(); await __p2.startTransaction()
await __p1.put('k', 'first'); await __p2.put('k', 'second')
await __p1.commit(); await __p2.commit()
const ${page} = __p1
`

describe('docs/merging.md', () => {
  test('choosing a policy: ledger default and one page', async () => {
    const b = block('docs/merging.md', "ledger.setMergePolicy('todo', 'custom', otherResolver)")
    const lines = await runOk(b, {
      prelude: `
import { Ledger } from 'dagkv'
const calls: string[] = []
const resolver = async () => { calls.push('resolver') }
const otherResolver = async (m) => {
  calls.push('other')
  await m.merge([{ key: 'k', source: 'new', value: 'resolved' }])
}
`,
      postlude: `
${fork('ledger', 'page')}
await page.waitForConflictResolution()
console.log(calls.join(','), new TextDecoder().decode(await (await page.snapshot()).get('k')))
await ledger.close()
`,
    })
    // 'todo' uses the custom policy with otherResolver, not the ledger default.
    expect(lines).toEqual(['other resolved'])
  })

  test('writing a resolver: the example joins both sides of a conflict', async () => {
    const b = block('docs/merging.md', 'const resolver: ConflictResolver')
    const lines = await runOk(b, {
      prelude: `
import { Ledger, type ConflictResolver } from 'dagkv'
const text = (v) => (v === undefined ? '' : new TextDecoder().decode(v))
const join = (a, b) => [text(a), text(b)].sort().join('+')
`,
      postlude: `
const ledger = await Ledger.open({ mergePolicy: 'custom', resolver })
${fork('ledger', 'page')}
console.log(await page.waitForConflictResolution())
console.log(text(await (await page.snapshot()).get('k')))
await ledger.close()
`,
    })
    expect(lines).toEqual(['conflicts-resolved', 'first+second'])
  })

  test('conflicts stay visible: page.conflicts() and a snapshot of the losing side', async () => {
    const b = block('docs/merging.md', 'await page.conflicts({ limit: 20 })')
    // The loop body only reads: one line is added before its closing brace to observe it.
    expect(b.code).toMatch(/\n\}$/)
    const observed = { ...b, code: b.code.replace(/\n\}$/, '\n  __seen.push([c.winner, new TextDecoder().decode((await loser.get(c.key))!)])\n}') }
    const lines = await runOk(observed, {
      prelude: `
import { Ledger } from 'dagkv'
const ledger = await Ledger.open()
const __seen: [string, string][] = []
${fork('ledger', 'page')}
await page.waitForConflictResolution()
`,
      postlude: 'console.log(JSON.stringify(__seen))\nawait ledger.close()',
    })
    // last-one-wins kept left (the newer commit, 'second'); the losing side still holds 'first'.
    expect(lines).toEqual(['[["left","first"]]'])
  })
})

/** Blocks that are not run, with the reason. Keyed by file and a substring of the block. */
const NOT_RUN: { file: string; marker: string; why: string }[] = [
  { file: 'docs/merging.md', marker: 'type MergeEnv', why: 'an API outline of src/merge, not a program' },
  { file: 'docs/sync.md', marker: 'commitsSent, commitsReceived', why: 'the SyncStats shape' },
  { file: 'docs/values.md', marker: 'new ValueStore(', why: 'an outline of the internal src/value API' },
  { file: 'docs/tree.md', marker: 'new Tree(store', why: 'an outline of the internal src/tree API' },
]

const RUN: { file: string; marker: string }[] = [
  { file: 'README.md', marker: "Ledger.open({ path: './my-store' })" },
  { file: 'docs/getting-started.md', marker: "Ledger.open({ path: './data' })" },
  { file: 'docs/transactions.md', marker: 'await page.startTransaction()' },
  { file: 'docs/watchers.md', marker: 'await page.watch(' },
  { file: 'docs/errors.md', marker: "LedgerError.is(err, 'KEY_TOO_LARGE')" },
  { file: 'docs/sync.md', marker: 'connectInMemory(a, b)' },
  { file: 'docs/sync.md', marker: "await page.sync({ mode: 'pull' })" },
  { file: 'docs/sync.md', marker: 'page.syncState()' },
  { file: 'docs/merging.md', marker: "ledger.setMergePolicy('todo', 'custom', otherResolver)" },
  { file: 'docs/merging.md', marker: 'const resolver: ConflictResolver' },
  { file: 'docs/merging.md', marker: 'await page.conflicts({ limit: 20 })' },
]

test('inventory: every ts block of README.md and docs/*.md is run above or listed as not run', () => {
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md') && f !== 'benchmarks.md').map((f) => `docs/${f}`)]
  const known = [...RUN, ...NOT_RUN]
  const unaccounted = files
    .flatMap(tsBlocks)
    .filter((b) => !known.some((k) => k.file === b.file && b.code.includes(k.marker)))
    .map((b) => `${b.file}:${b.line}: ${b.code.split('\n')[0]}`)
  expect(unaccounted).toEqual([])
  for (const k of known) expect(tsBlocks(k.file).filter((b) => b.code.includes(k.marker)), `${k.file}: ${k.marker}`).toHaveLength(1)
})
