import { Ledger, type LedgerOptions, type Page } from '../index.js'
import { parseBytes, showBytes, showBytesShort, type BytesSyntax } from './bytes.js'
import { UsageError } from './failure.js'
import type { Command } from './interface.js'
import type { Output } from './output.js'

type OptionValue = string | boolean | (string | boolean)[] | undefined

/** Where a store lives when `--store` is not given. */
export const DEFAULT_STORE = './.dagkv'

/** One run of one command: its parsed arguments, its output streams, and helpers to read them. */
export class Invocation implements BytesSyntax {
  readonly command: Command
  readonly args: readonly string[]
  readonly out: Output
  readonly err: Output
  readonly store: string
  readonly json: boolean
  readonly hex: boolean
  readonly #values: Record<string, OptionValue>

  constructor(command: Command, values: Record<string, OptionValue>, args: readonly string[], io: { out: Output; err: Output }) {
    this.command = command
    this.#values = values
    this.args = args
    this.out = io.out
    this.err = io.err
    const store = values.store
    this.store = typeof store === 'string' ? store : process.env.DAGKV_STORE || DEFAULT_STORE
    if (this.store === '') throw this.usage('--store must not be empty')
    this.json = values.json === true
    this.hex = values.hex === true
  }

  /** A usage error for this command (exit status 2, with its usage line). */
  usage(message: string): UsageError {
    return new UsageError(message, this.command.usage)
  }

  /** Positional argument `i` (the dispatcher has checked how many there are). */
  arg(i: number): string {
    const a = this.args[i]
    if (a === undefined) throw this.usage('missing argument')
    return a
  }

  /** Positional argument `i` as bytes (UTF-8, or hex with `hex:` / `--hex`). */
  bytesArg(i: number, what: string): Uint8Array {
    return this.#parse(this.arg(i), what)
  }

  flag(name: string): boolean {
    return this.#values[name] === true
  }

  string(name: string): string | undefined {
    const v = this.#values[name]
    return typeof v === 'string' ? v : undefined
  }

  /** Every value of an option given more than once (declared with `multiple: true`). */
  strings(name: string): string[] {
    const v = this.#values[name]
    if (typeof v === 'string') return [v]
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
  }

  /** A byte-string option (UTF-8, or hex with `hex:` / `--hex`). */
  bytesOption(name: string): Uint8Array | undefined {
    const v = this.string(name)
    return v === undefined ? undefined : this.#parse(v, `--${name}`)
  }

  /** Value `i` of a repeated byte-string option. */
  bytesOptionAt(name: string, i: number): Uint8Array {
    const v = this.strings(name)[i]
    if (v === undefined) throw this.usage(`missing --${name}`)
    return this.#parse(v, `--${name}`)
  }

  /** An integer option within [min, max]. */
  integer(name: string, min: number, max: number = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = this.string(name)
    if (v === undefined) return undefined
    const n = Number(v)
    if (!/^\s*-?\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw this.usage(`--${name} must be an integer from ${min} to ${max}, got ${v}`)
    }
    return n
  }

  #parse(text: string, what: string): Uint8Array {
    try {
      return parseBytes(text, this, what)
    } catch (err) {
      throw err instanceof UsageError ? this.usage(err.message) : err
    }
  }

  /** Bytes shown as the command line accepts them back. */
  show(bytes: Uint8Array): string {
    return showBytes(bytes, this)
  }

  /** Bytes shown shortened for a terminal line. */
  showShort(bytes: Uint8Array, max?: number): string {
    return showBytesShort(bytes, this, max)
  }

  /** Opens the store, runs `task`, and closes the store whatever happens. */
  async withLedger<T>(task: (ledger: Ledger) => Promise<T>, options: Omit<LedgerOptions, 'path'> = {}): Promise<T> {
    const ledger = await Ledger.open({ ...options, path: this.store })
    try {
      return await task(ledger)
    } finally {
      await ledger.close()
    }
  }

  /**
   * Opens a connection to the page named by positional argument `i`, once the page's heads are
   * merged into one (a store left with several heads, by an import or a sync, is merged on open).
   */
  async page(ledger: Ledger, i = 0): Promise<Page> {
    const page = await ledger.page(this.bytesArg(i, 'page id'))
    await page.waitForConflictResolution()
    return page
  }
}
