import { WebSocket } from 'ws'
import { LedgerError } from '../../errors/index.js'
import { timedOut } from './errors.js'
import { DEFAULT_MAX_FRAME_BYTES, type Transport } from './interface.js'
import { WebSocketTransport } from './websocket-transport.js'

/** Options of {@link connectWebSocket}. */
export interface ConnectWebSocketOptions {
  /**
   * Largest frame accepted from the server; a bigger one closes the connection.
   * @default 16 MiB
   */
  maxFrameBytes?: number | undefined
  /**
   * Milliseconds to wait for the connection (TCP and WebSocket upgrade) before giving up.
   * @default 10000
   */
  timeoutMs?: number | undefined
  /** Aborting gives up a connection still being opened: it rejects with the signal's reason. */
  signal?: AbortSignal | undefined
}

/** Default of {@link ConnectWebSocketOptions.timeoutMs}. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000

/**
 * Opens a WebSocket transport to `url` (`ws://` or `wss://`). Never hangs: it resolves once the
 * connection is open, or rejects with `NETWORK_ERROR` on a malformed URL, a refused connection,
 * an HTTP error answer or after `timeoutMs`.
 * @example
 * const transport = await connectWebSocket('ws://127.0.0.1:54321', { timeoutMs: 2000 })
 */
export function connectWebSocket(url: string, options: ConnectWebSocketOptions = {}): Promise<Transport> {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
  if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 1) {
    return Promise.reject(LedgerError.invalidArgument('maxFrameBytes must be a positive integer'))
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    return Promise.reject(LedgerError.invalidArgument('timeoutMs must be a positive number'))
  }
  if (typeof url !== 'string') return Promise.reject(LedgerError.network('url must be a string'))
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (err) {
    return Promise.reject(LedgerError.network(`invalid URL: ${url.slice(0, 200)}`, err))
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    return Promise.reject(LedgerError.network(`unsupported URL scheme ${parsed.protocol} (use ws: or wss:)`))
  }

  return new Promise<Transport>((resolve, reject) => {
    let ws: WebSocket
    try {
      ws = new WebSocket(parsed, {
        maxPayload: maxFrameBytes,
        perMessageDeflate: false,
        handshakeTimeout: timeoutMs,
        followRedirects: false,
      })
    } catch (err) {
      reject(LedgerError.network(`cannot connect to ${url}: ${(err as Error).message}`, err))
      return
    }
    let settled = false
    const fail = (err: LedgerError): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', abort)
      ws.terminate()
      reject(err)
    }
    const timer = setTimeout(() => fail(timedOut(`connecting to ${url}`, timeoutMs)), timeoutMs)
    ws.on('error', (err: Error) => fail(LedgerError.network(`cannot connect to ${url}: ${err.message}`, err)))
    ws.once('close', (code: number) => fail(LedgerError.network(`connection to ${url} closed (code ${code})`)))
    const signal = options.signal
    const abort = (): void => fail(signal?.reason instanceof LedgerError ? signal.reason : LedgerError.network(`connecting to ${url} was aborted`))
    if (signal?.aborted) return abort()
    signal?.addEventListener('abort', abort, { once: true })
    ws.once('open', () => {
      signal?.removeEventListener('abort', abort)
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(new WebSocketTransport(ws, maxFrameBytes))
    })
  })
}
