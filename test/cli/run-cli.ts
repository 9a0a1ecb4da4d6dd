import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'

/** The repository root: the CLI runs from its TypeScript entry through tsx (see docs/cli.md). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const ENTRY = ['--import', 'tsx', 'src/cli/main.ts']

export interface CliResult {
  status: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Standard output as bytes (for `get`). */
  raw: Buffer
}

/** A fresh directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dagkv-cli-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function collect(child: ChildProcess): Promise<CliResult> {
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout?.on('data', (b: Buffer) => out.push(b))
  child.stderr?.on('data', (b: Buffer) => err.push(b))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (status, signal) => {
      const raw = Buffer.concat(out)
      resolve({ status, signal, raw, stdout: raw.toString('utf8'), stderr: Buffer.concat(err).toString('utf8') })
    })
  })
}

function spawnCli(args: readonly string[], env: Record<string, string> = {}, entry: readonly string[] = ENTRY): ChildProcess {
  return spawn(process.execPath, [...entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, DAGKV_STORE: '', DAGKV_TOKEN: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
}

/** Runs `dagkv ARGS` to completion. */
export async function dagkv(args: readonly string[], options: { input?: string | Uint8Array; env?: Record<string, string> } = {}): Promise<CliResult> {
  const child = spawnCli(args, options.env)
  const done = collect(child)
  child.stdin?.end(options.input ?? '')
  return done
}

/** Runs the demo (`npm run demo`'s script) on `dir` to completion. */
export async function demo(dir: string): Promise<CliResult> {
  const child = spawnCli([dir], {}, ['--import', 'tsx', 'src/cli/demo.ts'])
  const done = collect(child)
  child.stdin?.end('')
  return done
}

/** Runs `dagkv ARGS` and expects success; returns standard output. */
export async function ok(args: readonly string[], input?: string | Uint8Array): Promise<string> {
  const r = await dagkv(args, input === undefined ? {} : { input })
  if (r.status !== 0) throw new Error(`dagkv ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return r.stdout
}

/** Runs `dagkv ARGS --json` and parses its output. */
export async function okJson<T = unknown>(args: readonly string[]): Promise<T> {
  return JSON.parse(await ok([...args, '--json'])) as T
}

/** A long-running `dagkv` (serve, watch) whose output can be awaited line by line. */
export class Running {
  readonly child: ChildProcess
  readonly done: Promise<CliResult>
  stdout = ''
  stderr = ''

  constructor(args: readonly string[], env?: Record<string, string>) {
    this.child = spawnCli(args, env)
    this.child.stdout?.on('data', (b: Buffer) => (this.stdout += b.toString('utf8')))
    this.child.stderr?.on('data', (b: Buffer) => (this.stderr += b.toString('utf8')))
    this.done = collect(this.child)
    onTestFinished(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL')
    })
  }

  /** Resolves with the first match of `pattern` in the stream's output so far or to come. */
  async waitFor(pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout', ms = 20_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms
    for (;;) {
      const m = this[stream].match(pattern)
      if (m) return m
      if (this.child.exitCode !== null) throw new Error(`exited ${this.child.exitCode} before ${pattern}: ${this.stderr}`)
      if (Date.now() > deadline) throw new Error(`no ${pattern} in ${stream}: ${this[stream]} / ${this.stderr}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  /** Sends `signal` and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<CliResult> {
    this.child.kill(signal)
    return this.done
  }
}
