import { LedgerError } from '../../errors/index.js'

/** Why a link closed, carried in `LedgerError.data.reason` and mapped to WebSocket close codes. */
export type CloseReason = 'protocol-violation' | 'frame-too-large' | 'peer-closed' | 'timeout'

/** The peer broke the protocol (malformed or unexpected message, text frame): drop it. */
export function protocolViolation(message: string, cause?: unknown): LedgerError {
  return new LedgerError('NETWORK_ERROR', `protocol violation: ${message}`, {
    data: { reason: 'protocol-violation' },
    ...(cause === undefined ? {} : { cause }),
  })
}

/** A frame over the receiver's limit. `size` is undefined when the transport does not know it. */
export function frameTooLarge(max: number, size?: number): LedgerError {
  const data: Record<string, unknown> = { reason: 'frame-too-large', max }
  if (size !== undefined) data['size'] = size
  const what = size === undefined ? 'a frame' : `a frame of ${size} bytes`
  return new LedgerError('NETWORK_ERROR', `peer sent ${what} over the limit of ${max} bytes`, { data })
}

/** The peer could not prove the shared token (or this side refused it). */
export function unauthorized(message: string): LedgerError {
  return new LedgerError('UNAUTHORIZED', message)
}

/** A deadline passed (connect, handshake). */
export function timedOut(what: string, ms: number): LedgerError {
  return new LedgerError('NETWORK_ERROR', `${what} timed out after ${ms} ms`, { data: { reason: 'timeout', ms } })
}

/**
 * What one side's close listeners see when the other side (or the network) ended the link.
 * `UNAUTHORIZED` survives the trip so a refused client learns why; everything else is a
 * `NETWORK_ERROR` on this side, whatever it was on the other.
 */
export function peerClosed(detail: { unauthorized?: boolean; message?: string; code?: number }): LedgerError {
  const suffix = detail.message ? `: ${detail.message}` : ''
  const data: Record<string, unknown> = { reason: 'peer-closed' }
  if (detail.code !== undefined) data['closeCode'] = detail.code
  if (detail.unauthorized) return new LedgerError('UNAUTHORIZED', `peer refused the connection${suffix}`, { data })
  return new LedgerError('NETWORK_ERROR', `connection closed by peer${suffix}`, { data })
}

/** Normalises anything thrown into a LedgerError (NETWORK_ERROR unless it already is one). */
export function asLedgerError(err: unknown, message: string): LedgerError {
  return err instanceof LedgerError ? err : LedgerError.network(message, err)
}
