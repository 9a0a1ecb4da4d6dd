/**
 * Helpers of the black-box resource-hygiene tests (test/acceptance/hygiene-*.test.ts): a scenario
 * runs in a child Node process that imports the package root (src/index.ts through tsx), closes
 * everything it opened and then does NOT call process.exit — the child must exit on its own.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, onTestFinished } from 'vitest'

const entry = fileURLToPath(new URL('../../src/index.ts', import.meta.url))

export interface ChildRun {
  /** Exit code (null when it had to be killed). */
  code: number | null
  /** The script ran to its end (printed DONE). */
  done: boolean
  /** The child exited by itself within `exitMs` of DONE. */
  exitedOnItsOwn: boolean
  stdout: string
  stderr: string
  /** `unhandledRejection` / `uncaughtException` / script errors reported by the child. */
  problems: string[]
  /** Process warnings (ExperimentalWarning excluded), e.g. MaxListenersExceededWarning. */
  warnings: string[]
  /** `process.getActiveResourcesInfo()` of a child still alive `aliveMs` after DONE. */
  alive?: string | undefined
  /** Values printed with `report(x)`, in order. */
  results: any[]
}

export interface ChildOptions {
  /** Time for the scenario itself to reach DONE. */
  scriptMs?: number
  /** Time after DONE within which the child must have exited by itself. */
  exitMs?: number
  /** Node flags (e.g. --expose-gc). */
  flags?: string[]
}

/**
 * Runs `script` (an async module body) in a child. In scope: `Ledger`, `LedgerError`,
 * `connectInMemory`, `dagkv`, `dir` (a fresh temporary directory), `sleep(ms)`, `report(x)`,
 * `within(promise, ms, what)` (rejects on a hang), `fds()` (open file descriptors),
 * `active()` (process.getActiveResourcesInfo(), sorted, without TTYs and the transient Immediates), `heap()` (heapUsed
 * after gc; needs --expose-gc), `net` (node:net).
 */
export async function runChild(script: string, options: ChildOptions = {}): Promise<ChildRun> {
  const { scriptMs = 15_000, exitMs = 5000, flags = [] } = options
  const aliveMs = Math.max(500, exitMs - 1000)
  const dir = mkdtempSync(join(tmpdir(), 'dagkv-hygiene-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  const code = `
const dagkv = await import(${JSON.stringify(entry)});
const { Ledger, LedgerError, connectInMemory } = dagkv;
const net = await import('node:net');
const fs = await import('node:fs');
const dir = ${JSON.stringify(dir)};
const fmt = (e) => (e && e.stack) || String(e);
process.on('unhandledRejection', (e) => console.error('HYGIENE-PROBLEM unhandledRejection ' + fmt(e).split('\\n').slice(0, 6).join(' | ')));
process.on('uncaughtException', (e) => console.error('HYGIENE-PROBLEM uncaughtException ' + fmt(e).split('\\n').slice(0, 6).join(' | ')));
process.on('warning', (w) => { if (w.name !== 'ExperimentalWarning') console.error('HYGIENE-WARNING ' + w.name + ': ' + w.message) });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const report = (x) => console.log('HYGIENE-RESULT ' + JSON.stringify(x));
const within = async (p, ms, what) => { let t; try { return await Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(what + ': did not settle within ' + ms + ' ms (hang)')), ms) })]) } finally { clearTimeout(t) } };
const fds = () => fs.readdirSync('/proc/self/fd').length;
const active = () => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'Immediate').sort();
const heap = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage().heapUsed };
try {
${script}
} catch (e) {
  console.error('HYGIENE-PROBLEM scriptError ' + fmt(e).split('\\n').slice(0, 6).join(' | '));
}
console.log('HYGIENE-DONE');
setTimeout(() => console.error('HYGIENE-ALIVE ' + JSON.stringify(process.getActiveResourcesInfo())), ${aliveMs}).unref();
`
  const proc = spawn(process.execPath, [...flags, '--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  onTestFinished(() => void proc.kill('SIGKILL'))
  let stdout = ''
  let stderr = ''
  let doneAt: number | undefined
  let onDone!: () => void
  const doneP = new Promise<void>((r) => (onDone = r))
  proc.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
    if (doneAt === undefined && stdout.includes('HYGIENE-DONE')) {
      doneAt = Date.now()
      onDone()
    }
  })
  proc.stderr.on('data', (d: Buffer) => void (stderr += d.toString()))
  let exitCode: number | null | undefined
  const exitP = new Promise<void>((r) => proc.once('exit', (c) => ((exitCode = c), r())))
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
  await Promise.race([doneP, exitP, sleep(scriptMs)])
  let exitedOnItsOwn = false
  if (doneAt !== undefined) {
    await Promise.race([exitP, sleep(exitMs)])
    exitedOnItsOwn = exitCode !== undefined
  }
  if (exitCode === undefined) {
    proc.kill('SIGKILL')
    await exitP
    exitCode = null
  }
  const lines = stderr.split('\n')
  const pick = (tag: string): string[] => lines.filter((l) => l.startsWith(tag)).map((l) => l.slice(tag.length))
  const results = stdout
    .split('\n')
    .filter((l) => l.startsWith('HYGIENE-RESULT '))
    .map((l) => JSON.parse(l.slice('HYGIENE-RESULT '.length)))
  return {
    code: exitCode,
    done: doneAt !== undefined,
    exitedOnItsOwn,
    stdout,
    stderr,
    problems: pick('HYGIENE-PROBLEM '),
    warnings: pick('HYGIENE-WARNING '),
    alive: pick('HYGIENE-ALIVE ')[0],
    results,
  }
}

/** The scenario ran to its end without problems or warnings, and the child then exited by itself with 0. */
export function expectClean(run: ChildRun): void {
  const info = `\nstderr:\n${run.stderr.slice(0, 4000)}\nstdout:\n${run.stdout.slice(0, 2000)}`
  expect(run.problems, `unhandled rejections / uncaught exceptions / script errors${info}`).toEqual([])
  expect(run.done, `scenario did not reach its end${info}`).toBe(true)
  expect(run.warnings, `process warnings${info}`).toEqual([])
  expect(
    run.exitedOnItsOwn,
    `child did not exit by itself after closing everything; still active: ${run.alive ?? '(not reported)'}${info}`,
  ).toBe(true)
  expect(run.code, `exit code${info}`).toBe(0)
}

/** Runs a scenario in a child and asserts it is clean (see expectClean); returns the run. */
export async function expectCleanRun(script: string, options?: ChildOptions): Promise<ChildRun> {
  const run = await runChild(script, options)
  expectClean(run)
  return run
}
