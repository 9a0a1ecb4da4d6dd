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
  /** The stable code to branch on. */
  readonly code: ErrorCode
  /** Structured detail, when the error has any. */
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

  /** An `INVALID_ARGUMENT` error. */
  static invalidArgument(message: string, data?: Record<string, unknown>): LedgerError {
    return new LedgerError('INVALID_ARGUMENT', message, data === undefined ? undefined : { data })
  }

  /** A `KEY_TOO_LARGE` error with `{ size, max }`. */
  static keyTooLarge(size: number, max: number): LedgerError {
    return new LedgerError('KEY_TOO_LARGE', `key of ${size} bytes exceeds the limit of ${max}`, { data: { size, max } })
  }

  /** A `CLOSED` error naming what is closed. */
  static closed(what: string): LedgerError {
    return new LedgerError('CLOSED', `${what} is closed`)
  }

  /** A `DATA_INTEGRITY_ERROR`. */
  static integrity(message: string, data?: Record<string, unknown>): LedgerError {
    return new LedgerError('DATA_INTEGRITY_ERROR', message, data === undefined ? undefined : { data })
  }

  /** A `NETWORK_ERROR`, with its cause. */
  static network(message: string, cause?: unknown): LedgerError {
    return new LedgerError('NETWORK_ERROR', message, cause === undefined ? undefined : { cause })
  }

  /** An `IO_ERROR`, with its cause. */
  static io(message: string, cause?: unknown): LedgerError {
    return new LedgerError('IO_ERROR', message, cause === undefined ? undefined : { cause })
  }

  /** Name, code, message and data (the cause is left out). */
  toJSON(): { name: string; code: ErrorCode; message: string; data?: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, ...(this.data ? { data: this.data } : {}) }
  }
}
