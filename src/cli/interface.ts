import type { ParseArgsConfig } from 'node:util'
import type { Invocation } from './invocation.js'

/** Option definitions in `node:util` `parseArgs` form. */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>

/** One line of option help: the flag as the user writes it, and what it does. */
export type OptionHelp = readonly [flag: string, description: string]

/** One `dagkv` subcommand: its grammar, its help text, and what it does. */
export interface Command {
  /** The word after `dagkv`. */
  readonly name: string
  /** One line for `dagkv --help`. */
  readonly summary: string
  /** The usage line after `dagkv ` (e.g. `put [options] PAGE KEY [VALUE]`). */
  readonly usage: string
  /** Paragraphs for `dagkv help NAME`. */
  readonly description: string
  /** Options of this command (the global ones are added by the dispatcher). */
  readonly options: OptionSpec
  readonly optionHelp: readonly OptionHelp[]
  /** Whether `--json` is accepted. */
  readonly json: boolean
  /** How many positional arguments it takes. */
  readonly args: { readonly min: number; readonly max: number }
  /** Runs the command; resolves with the exit status (0 when nothing is returned). */
  run(inv: Invocation): Promise<number | undefined>
}
