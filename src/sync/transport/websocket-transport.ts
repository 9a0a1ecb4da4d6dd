import type { WebSocket } from 'ws'
import { LedgerError } from '../../errors/index.js'
import { TransportBase } from './base.js'
import { frameTooLarge, peerClosed, protocolViolation } from './errors.js'

/** WebSocket close codes used by dagkv (RFC 6455 §7.4 plus the 4000–4999 private range). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  tooBig: 1009,
  /** Any other error that ended the link (reason text says which). */
  error: 4000,
  /** The peer could not prove the shared token. */
  unauthorized: 4401,
} as const

/** How long `close()` waits for the peer's close frame before cutting the TCP connection. */
const CLOSE_GRACE_MS = 2000
/** RFC 6455 caps a close reason at 123 bytes of UTF-8. */
const MAX_REASON_BYTES = 123

/**
 * A {@link Transport} over one open `ws` socket (either end). Binary frames only: a text frame is
 * a protocol violation and drops the peer (close code 1002). `maxPayload` must already be set on
 * the socket; an oversize frame makes `ws` close the socket (1009) and this transport report
 * `NETWORK_ERROR` with `data.reason: 'frame-too-large'`.
 */
export class WebSocketTransport extends TransportBase {
  readonly #ws: WebSocket
  readonly #maxFrameBytes: number
  #socketClosed: Promise<void>
  #localError: LedgerError | undefined

  /** `ws` must be OPEN and already have an 'error' listener of its own or get this one. */
  constructor(ws: WebSocket, maxFrameBytes: number) {
    super()
    this.#ws = ws
    this.#maxFrameBytes = maxFrameBytes
    ws.binaryType = 'nodebuffer'
    this.#socketClosed = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        resolve()
        void this.close(this.#localError ?? remoteError(code, reason))
      })
    })
    ws.on('error', (err: Error & { code?: string }) => {
      // 'close' follows every 'error'; remember why so close listeners learn it.
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.#localError ??= frameTooLarge(this.#maxFrameBytes)
      } else if (err.code?.startsWith('WS_ERR_')) {
        this.#localError ??= protocolViolation(err.message, err) // bad opcode, bad UTF-8, bad mask...
      } else {
        this.#localError ??= LedgerError.network(`connection failed: ${err.message}`, err)
      }
    })
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      if (!isBinary) {
        void this.close(protocolViolation('text frame (only binary frames are allowed)'))
        return
      }
      this.deliver(toBytes(data))
    })
  }

  protected transmit(frame: Uint8Array): void {
    // The callback turns a failed write into a 'close' instead of a throw; ws reports it there.
    this.#ws.send(frame, { binary: true }, noop)
  }

  protected release(err: LedgerError | undefined): Promise<void> {
    const ws = this.#ws
    if (ws.readyState === ws.OPEN) {
      try {
        ws.close(closeCodeFor(err), truncateReason(err?.message ?? ''))
      } catch {
        ws.terminate()
      }
    } else if (ws.readyState === ws.CONNECTING) {
      ws.terminate()
    }
    if (ws.readyState === ws.CLOSED) return Promise.resolve()
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        ws.terminate()
        resolve()
      }, CLOSE_GRACE_MS)
      timer.unref()
    })
    return Promise.race([this.#socketClosed, grace]).finally(() => clearTimeout(timer))
  }
}

function noop(): void {}

function toBytes(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0))
  return new Uint8Array(data) // a plain, owned copy of the Buffer
}

/** The close code that tells the peer why this side ended the link. */
export function closeCodeFor(err: LedgerError | undefined): number {
  if (err === undefined) return CloseCode.normal
  if (err.code === 'UNAUTHORIZED') return CloseCode.unauthorized
  const reason = err.data?.['reason']
  if (reason === 'protocol-violation') return CloseCode.protocolError
  if (reason === 'frame-too-large') return CloseCode.tooBig
  return CloseCode.error
}

function remoteError(code: number, reason: Buffer): LedgerError {
  const text = reason.length > 0 ? reason.toString('utf8') : ''
  if (code === CloseCode.unauthorized) return peerClosed({ unauthorized: true, message: text, code })
  if (code === CloseCode.tooBig && text === '') {
    return peerClosed({ message: 'a frame was over its limit', code })
  }
  return peerClosed({ message: text === '' ? `close code ${code}` : text, code })
}

function truncateReason(message: string): string {
  const bytes = Buffer.from(message, 'utf8')
  if (bytes.length <= MAX_REASON_BYTES) return message
  // Cut on a character boundary: decode the prefix and drop a trailing partial character.
  return bytes.subarray(0, MAX_REASON_BYTES - 3).toString('utf8').replace(/\uFFFD$/, '') + '...'
}
