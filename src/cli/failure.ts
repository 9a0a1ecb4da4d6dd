import { LedgerError } from '../index.js'

/** Exit status for runtime failures (a LedgerError, a missing key). */
export const EXIT_FAILURE = 1
/** Exit status for a command line that cannot be understood. */
export const EXIT_USAGE = 2

/** A command line that cannot be understood: printed with a usage line, exit status 2. */
export class UsageError extends Error {
  readonly usage: string | undefined

  constructor(message: string, usage?: string) {
    super(message)
    this.name = 'UsageError'
    this.usage = usage
  }
}

/** A failure that is not a LedgerError but has a stable word of its own (`NOT_FOUND`: a missing key). */
export class CliFailure extends Error {
  readonly code: string

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CliFailure'
    this.code = code
  }
}

/** A failed read or write of a user-named file, as one line naming the path and the OS error. */
export function fileFailure(path: string, err: unknown): CliFailure | LedgerError {
  if (err instanceof LedgerError || err instanceof CliFailure) return err
  const code = (err as { code?: unknown } | null)?.code
  const why = typeof code === 'string' ? code : err instanceof Error ? err.message : String(err)
  return new LedgerError('IO_ERROR', `${path}: ${why}`, { cause: err })
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

/** The one stderr line for an error, `dagkv: CODE: message`; its exit status. */
export function describeFailure(err: unknown): { line: string; status: number } {
  if (err instanceof UsageError) {
    const usage = err.usage === undefined ? '' : `\nusage: dagkv ${err.usage}`
    return { line: `dagkv: ${oneLine(err.message)}${usage}`, status: EXIT_USAGE }
  }
  if (err instanceof LedgerError || err instanceof CliFailure) {
    return { line: `dagkv: ${err.code}: ${oneLine(err.message)}`, status: EXIT_FAILURE }
  }
  const message = err instanceof Error ? err.message : String(err)
  return { line: `dagkv: INTERNAL: ${oneLine(message)}`, status: EXIT_FAILURE }
}
