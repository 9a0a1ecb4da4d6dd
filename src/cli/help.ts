import { COMMANDS } from './commands/index.js'
import type { Command, OptionHelp, OptionSpec } from './interface.js'

/** Options every command accepts (`--json` only where the command has a JSON form). */
export function globalOptions(command: Command): OptionSpec {
  return {
    store: { type: 'string' },
    hex: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    ...(command.json ? { json: { type: 'boolean' } } : {}),
  }
}

const GLOBAL_HELP: readonly OptionHelp[] = [
  ['--store DIR', 'the store directory (default: $DAGKV_STORE, else ./.dagkv)'],
  ['--hex', 'page ids, keys, values and key options are hex, and bytes are shown as hex'],
  ['--json', 'machine-readable output (read commands)'],
  ['-h, --help', 'this help'],
]

function table(rows: readonly OptionHelp[]): string {
  const width = Math.max(...rows.map(([flag]) => flag.length))
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`).join('\n')
}

/** `dagkv --help`. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  return [
    'usage: dagkv [--store DIR] <command> [options] [arguments]',
    '',
    'dagkv: a commit-DAG versioned key-value store, from the command line.',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'global options:',
    table(GLOBAL_HELP),
    '',
    'Page ids, keys and values are UTF-8 text; write binary ones as hex:<hex digits> (or use --hex).',
    'Errors are one line on standard error naming the error code (exit status 1); a command line',
    'that cannot be understood exits with status 2.',
    "Run 'dagkv help <command>' or 'dagkv <command> --help' for a command's options.",
  ].join('\n')
}

/** `dagkv help NAME`. */
export function commandHelp(command: Command): string {
  const globals = GLOBAL_HELP.filter(([flag]) => command.json || flag !== '--json')
  return [
    `usage: dagkv ${command.usage}`,
    '',
    command.description,
    ...(command.optionHelp.length > 0 ? ['', 'options:', table(command.optionHelp)] : []),
    '',
    'global options:',
    table(globals),
  ].join('\n')
}
