import { WebSocketServer, type WebSocket } from 'ws'
import { LedgerError } from '../../errors/index.js'
import { asLedgerError } from './errors.js'
import { DEFAULT_MAX_FRAME_BYTES, type Transport } from './interface.js'
import { WebSocketTransport } from './websocket-transport.js'

/** Options of {@link listenWebSocket}. */
export interface ListenWebSocketOptions {
  /**
   * Interface to bind.
   * @default '127.0.0.1'
   */
  host?: string | undefined
  /**
   * Port to bind; 0 picks a free one (read it from the result).
   * @default 0
   */
  port?: number | undefined
  /**
   * Largest frame accepted from a peer; a bigger one drops that peer only.
   * @default 16 MiB
   */
  maxFrameBytes?: number | undefined
  /**
   * Called once per accepted connection with its open transport. Typically starts the handshake.
   * If it throws (or returns a rejected promise), that connection is closed; the server goes on.
   */
  onTransport: (transport: Transport) => void | Promise<void>
}

/** A listening WebSocket server. */
export interface WebSocketListener {
  /** `ws://host:port` (IPv6 hosts in brackets). */
  readonly url: string
  /** The bound port. */
  readonly port: number
  /** Stops accepting, closes every live connection and releases the port. Idempotent. */
  close(): Promise<void>
}

/**
 * Serves transports over WebSocket. Every accepted socket gets an 'error' listener before
 * anything else, `maxPayload` is `maxFrameBytes`, and per-message compression is off.
 * @throws LedgerError NETWORK_ERROR when the port cannot be bound; INVALID_ARGUMENT for bad options.
 * @example
 * const server = await listenWebSocket({ onTransport: (t) => void serve(t) })
 * console.log(server.url) // ws://127.0.0.1:54321
 */
export async function listenWebSocket(options: ListenWebSocketOptions): Promise<WebSocketListener> {
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 0
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  if (typeof host !== 'string' || host === '') throw LedgerError.invalidArgument('host must be a non-empty string')
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) {
    throw LedgerError.invalidArgument('port must be an integer from 0 to 65535')
  }
  if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 1) {
    throw LedgerError.invalidArgument('maxFrameBytes must be a positive integer')
  }
  if (typeof options.onTransport !== 'function') throw LedgerError.invalidArgument('onTransport must be a function')
  const onTransport = options.onTransport

  const wss = new WebSocketServer({ host, port, maxPayload: maxFrameBytes, perMessageDeflate: false, clientTracking: false })
  const live = new Set<Transport>()
  let closing: Promise<void> | undefined

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      wss.off('listening', onListening)
      reject(LedgerError.network(`cannot listen on ${host}:${port}: ${err.message}`, err))
    }
    const onListening = (): void => {
      wss.off('error', onError)
      resolve()
    }
    wss.once('error', onError)
    wss.once('listening', onListening)
  })
  // After listening, server errors (rare: the HTTP server failing) must not crash the process.
  wss.on('error', noop)
  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', noop) // first, before anything can fail: an oversize frame emits 'error'
    if (closing) {
      ws.terminate()
      return
    }
    const transport = new WebSocketTransport(ws, maxFrameBytes)
    live.add(transport)
    transport.onClose(() => live.delete(transport))
    const fail = (err: unknown): void => {
      void transport.close(asLedgerError(err, 'connection handler failed'))
    }
    try {
      const result = onTransport(transport)
      if (result instanceof Promise) result.catch(fail)
    } catch (err) {
      fail(err)
    }
  })

  const address = wss.address()
  const boundPort = typeof address === 'object' && address !== null ? address.port : port
  const urlHost = host.includes(':') ? `[${host}]` : host
  return {
    url: `ws://${urlHost}:${boundPort}`,
    port: boundPort,
    close(): Promise<void> {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => wss.close(() => resolve()))
        await Promise.all([...live].map((t) => t.close()))
        await stopped
      })()
      return closing
    },
  }
}

function noop(): void {}
