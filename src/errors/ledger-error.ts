/** Stable error codes; tests and callers branch on these, never on messages. */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'KEY_TOO_LARGE'
  | 'NEEDS_FETCH'
  | 'NETWORK_ERROR'
  | 'REFERENCE_NOT_FOUND'
  | 'TRANSACTION_ALREADY_IN_PROGRESS'
  | 'NO_TRANSACTION_IN_PROGRESS'
  | 'INVALID_TOKEN'
  | 'CLOSED'
  | 'DATA_INTEGRITY_ERROR'
  | 'UNAUTHORIZED'
  | 'LOCKED'
  | 'IO_ERROR'

/**
 * Every failure a caller can act on. `code` is stable; `data` carries structured detail
 * (for example `{ size, max }` for `KEY_TOO_LARGE`); `cause` the underlying error, if any.
 */
export class LedgerError extends Error {
  readonly code: ErrorCode
  readonly data: Record<string, unknown> | undefined

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; data?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'LedgerError'
    this.code = code
    this.data = options?.data
  }

  /** True when `err` is a LedgerError, optionally with the given code. */
  static is(err: unknown, code?: ErrorCode): err is LedgerError {
    return err instanceof LedgerError && (code === undefined || err.code === code)
  }

  static invalidArgument(message: string, data?: Record<string, unknown>): LedgerError {
    return new LedgerError('INVALID_ARGUMENT', message, data === undefined ? undefined : { data })
  }

  static keyTooLarge(size: number, max: number): LedgerError {
    return new LedgerError('KEY_TOO_LARGE', `key of ${size} bytes exceeds the limit of ${max}`, { data: { size, max } })
  }

  static closed(what: string): LedgerError {
    return new LedgerError('CLOSED', `${what} is closed`)
  }

  static integrity(message: string, data?: Record<string, unknown>): LedgerError {
    return new LedgerError('DATA_INTEGRITY_ERROR', message, data === undefined ? undefined : { data })
  }

  static network(message: string, cause?: unknown): LedgerError {
    return new LedgerError('NETWORK_ERROR', message, cause === undefined ? undefined : { cause })
  }

  static io(message: string, cause?: unknown): LedgerError {
    return new LedgerError('IO_ERROR', message, cause === undefined ? undefined : { cause })
  }

  toJSON(): { name: string; code: ErrorCode; message: string; data?: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, ...(this.data ? { data: this.data } : {}) }
  }
}
