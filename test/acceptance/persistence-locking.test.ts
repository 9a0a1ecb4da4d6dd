/** Black-box acceptance tests (package root only): one open per path (LOCKED), and what a killed process leaves. */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, symlinkSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { Ledger, LedgerError } from 'dagkv'
import { str } from '../helpers/bytes.js'
import { tempDir } from '../helpers/ledgers.js'
import { codeOf, within } from './merge-api-helpers.js'
import { dump } from './persistence-helpers.js'

const entry = fileURLToPath(new URL('../../src/index.ts', import.meta.url))

/** Opens `path` and closes whatever opened, after the test too. */
async function openOrCode(path: string): Promise<Ledger | string> {
  try {
    const l = await Ledger.open({ path, autoSync: false })
    onTestFinished(() => l.close())
    return l
  } catch (e) {
    return e instanceof LedgerError ? e.code : `not a LedgerError: ${String(e)}`
  }
}

describe('LOCKED: a path is open once', () => {
  it('two opens of one new path at the same time: exactly one succeeds, the other → LOCKED; after close it opens again', async () => {
    const path = join(tempDir(), 'db')
    const results = await Promise.all([openOrCode(path), openOrCode(path), openOrCode(path)])
    const opened = results.filter((r): r is Ledger => r instanceof Ledger)
    expect(opened).toHaveLength(1)
    expect(results.filter((r) => typeof r === 'string')).toEqual(['LOCKED', 'LOCKED'])
    const id = opened[0]!.replicaId
    await (await opened[0]!.page('p')).put('k', 'v')
    await opened[0]!.close()
    for (let i = 0; i < 5; i++) {
      const again = await Ledger.open({ path, autoSync: false })
      expect(again.replicaId).toBe(id)
      expect(await dump(await again.page('p'))).toEqual({ k: 'v' })
      expect(await codeOf(() => Ledger.open({ path }))).toBe('LOCKED')
      await again.close()
    }
  })

  it('the same directory spelled another way (trailing slash, relative path, ./ segments) → LOCKED', async () => {
    const path = join(tempDir(), 'db')
    const holder = await Ledger.open({ path, autoSync: false })
    onTestFinished(() => holder.close())
    for (const alias of [`${path}/`, relative(process.cwd(), path), `${path}/../db/.`]) {
      const r = await openOrCode(alias)
      expect(`${alias}: ${typeof r === 'string' ? r : 'opened'}`).toBe(`${alias}: LOCKED`)
    }
    await (await holder.page('p')).put('still', 'usable')
  })

  it('the same directory through a symbolic link → LOCKED (not a second LevelDB on the same files)', async () => {
    const dir = tempDir()
    const path = join(dir, 'db')
    const holder = await Ledger.open({ path, autoSync: false })
    onTestFinished(() => holder.close())
    symlinkSync(path, join(dir, 'alias'))
    const r = await openOrCode(join(dir, 'alias'))
    // Was a bug: the registry was keyed by path.resolve(path), and LevelDB's in-process lock table
    // by file name, so a symlinked spelling opened a second store on the same files.
    expect(typeof r === 'string' ? r : 'opened').toBe('LOCKED')
    // A store below a symlinked parent is the same store too.
    symlinkSync(dir, join(dir, 'up'))
    expect(await openOrCode(join(dir, 'up', 'db'))).toBe('LOCKED')
    // `..` after a link is the parent of its target, as the kernel resolves it (not textually folded).
    mkdirSync(join(dir, 'a', 'b'), { recursive: true })
    symlinkSync(join(dir, 'a', 'b'), join(dir, 'deep'))
    const viaDots = await openOrCode(join(dir, 'deep') + '/../db2')
    expect(typeof viaDots).not.toBe('string')
    expect(await openOrCode(join(dir, 'a', 'db2'))).toBe('LOCKED')
    // Once the holder closes, the alias opens (the claim is released under the same key).
    await holder.close()
    const again = await openOrCode(join(dir, 'alias'))
    expect(typeof again).not.toBe('string')
    if (typeof again !== 'string') await again.close()
  })
})

/** A child process that writes to `path` and prints `ack N` after each acknowledged step. */
function child(path: string, script: string): { proc: ChildProcess; acked: () => number; ready: Promise<void>; exit: Promise<unknown> } {
  const code = `const { Ledger } = await import(${JSON.stringify(entry)});\nconst path = ${JSON.stringify(path)};\n${script}`
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] })
  let last = -1
  let buffer = ''
  let stderr = ''
  let ready!: () => void
  const readyP = new Promise<void>((r) => (ready = r))
  proc.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()))
  proc.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString()
    const lines = buffer.split('\n')
    buffer = lines.pop()!
    for (const line of lines) {
      if (line.startsWith('ack ')) last = Number(line.slice(4))
      if (line === 'ready' || line.startsWith('ack ')) ready()
    }
  })
  const exit = new Promise((r) => proc.once('exit', (c) => { ready(); r(c) }))
  onTestFinished(() => { proc.kill('SIGKILL') })
  return { proc, acked: () => last, ready: readyP.then(() => { if (proc.exitCode !== null) throw new Error(`child exited: ${stderr}`) }), exit }
}

describe('another process', () => {
  it('a path held by another process → LOCKED; once it is killed the path opens and has every acknowledged write', async () => {
    const path = join(tempDir(), 'db')
    const writer = child(path, `
      const l = await Ledger.open({ path, autoSync: false, replicaId: 'child' })
      const a = await l.page('a')
      const b = await l.page('b')
      console.log('ready')
      for (let i = 0; ; i++) {
        // A transaction across three keys on page a, and a fork of two connections on page b.
        await a.startTransaction()
        await a.put('t' + i + '-x', String(i)); await a.put('t' + i + '-y', String(i)); await a.put('t' + i + '-z', String(i))
        await a.commit()
        const c1 = await l.page('b'); const c2 = await l.page('b')
        await c1.startTransaction(); await c2.startTransaction()
        await c1.put('left' + i, 'L'); await c2.put('right' + i, 'R')
        await c1.commit(); await c2.commit()
        await c1.close(); await c2.close()
        console.log('ack ' + i)
      }`)
    await within(writer.ready, 20_000, 'child start')
    expect(await codeOf(() => Ledger.open({ path }))).toBe('LOCKED')
    await within((async () => { while (writer.acked() < 5) await new Promise((r) => setTimeout(r, 10)) })(), 20_000, 'child progress')
    writer.proc.kill('SIGKILL')
    await writer.exit
    const acked = writer.acked()

    const after = await Ledger.open({ path, autoSync: false })
    onTestFinished(() => after.close())
    expect(after.replicaId).toBe('child')
    const a = await dump(await after.page('a'))
    const b = await after.page('b')
    await within(b.waitForConflictResolution(), 10_000, 'merging the forks left by the killed process')
    const bm = await dump(b)
    for (let i = 0; i <= acked; i++) {
      expect([a[`t${i}-x`], a[`t${i}-y`], a[`t${i}-z`]], `transaction ${i}`).toEqual([String(i), String(i), String(i)])
      expect([bm[`left${i}`], bm[`right${i}`]], `fork ${i}`).toEqual(['L', 'R'])
    }
    // Beyond the last acknowledged step: each transaction all or nothing.
    for (let i = acked + 1; i < acked + 5; i++) {
      const parts = [a[`t${i}-x`], a[`t${i}-y`], a[`t${i}-z`]]
      expect(parts.every((p) => p === undefined) || parts.every((p) => p === String(i)), `transaction ${i}: ${String(parts)}`).toBe(true)
    }
    // The path works normally now: writes, close, reopen.
    await b.put('after', 'kill')
    await after.close()
    const again = await Ledger.open({ path, autoSync: false })
    onTestFinished(() => again.close())
    expect(str(await (await (await again.page('b')).snapshot()).get('after'))).toBe('kill')
  })
})
