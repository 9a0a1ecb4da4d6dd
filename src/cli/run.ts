import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { findCommand } from './commands/index.js'
import { describeFailure, EXIT_USAGE, UsageError } from './failure.js'
import { commandHelp, globalOptions, mainHelp } from './help.js'
import { Invocation } from './invocation.js'
import { Output } from './output.js'

/** Global options that take a value, so the word after them is not the command. */
const VALUED_GLOBALS = new Set(['--store'])

/** Splits `argv` into the command name (the first word that is not an option) and the rest. */
function splitCommand(argv: readonly string[]): { name: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') break
    if (VALUED_GLOBALS.has(a)) {
      i++
      continue
    }
    if (a.startsWith('-') && a !== '-') continue
    return { name: a, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] }
  }
  return { name: undefined, rest: [...argv] }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }
  return pkg.version ?? 'unknown'
}

async function print(out: Output, text: string): Promise<number> {
  await out.line(text)
  return 0
}

async function dispatch(argv: readonly string[], out: Output, err: Output): Promise<number> {
  const { name, rest } = splitCommand(argv)
  if (name === undefined) {
    if (rest.includes('--version') || rest.includes('-V')) return print(out, version())
    if (rest.includes('--help') || rest.includes('-h')) return print(out, mainHelp())
    await err.line(mainHelp())
    return EXIT_USAGE
  }
  if (name === 'help') {
    const topic = rest.find((a) => !a.startsWith('-'))
    if (topic === undefined) return print(out, mainHelp())
    const command = findCommand(topic)
    if (!command) throw new UsageError(`unknown command '${topic}'`, '<command> [options] [arguments]')
    return print(out, commandHelp(command))
  }
  const command = findCommand(name)
  if (!command) throw new UsageError(`unknown command '${name}' (see dagkv --help)`, '<command> [options] [arguments]')
  let parsed
  try {
    parsed = parseArgs({ args: rest, options: { ...globalOptions(command), ...command.options }, allowPositionals: true, strict: true })
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e), command.usage)
  }
  if (parsed.values.help === true) return print(out, commandHelp(command))
  const n = parsed.positionals.length
  if (n < command.args.min) throw new UsageError(`${command.name}: missing arguments`, command.usage)
  if (n > command.args.max) throw new UsageError(`${command.name}: too many arguments`, command.usage)
  const inv = new Invocation(command, parsed.values, parsed.positionals, { out, err })
  return (await command.run(inv)) ?? 0
}

/** Runs one `dagkv` command line; resolves with the exit status. Errors become one stderr line. */
export async function runCli(
  argv: readonly string[],
  streams: { out: NodeJS.WritableStream & { isTTY?: boolean }; err: NodeJS.WritableStream & { isTTY?: boolean } } = {
    out: process.stdout,
    err: process.stderr,
  },
): Promise<number> {
  const out = new Output(streams.out)
  const err = new Output(streams.err)
  try {
    return await dispatch(argv, out, err)
  } catch (e) {
    const { line, status } = describeFailure(e)
    if (process.env.DAGKV_DEBUG && e instanceof Error && e.stack) await err.line(e.stack)
    await err.line(line)
    return status
  }
}
