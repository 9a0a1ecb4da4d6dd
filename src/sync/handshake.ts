import * as dagCbor from '@ipld/dag-cbor'
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { LedgerError } from '../errors/index.js'
import {
  asLedgerError,
  DEFAULT_MAX_FRAME_BYTES,
  protocolViolation,
  timedOut,
  type Transport,
  unauthorized,
} from './transport/index.js'
import {
  decodeMessage,
  encodeMessage,
  fieldBoolean,
  fieldBytes,
  fieldInteger,
  fieldString,
  optionalFieldBytes,
  type Message,
} from './wire.js'

/** The sync protocol version this build speaks. Peers must speak the same one. */
export const PROTOCOL_VERSION = 1
/** Default of {@link HandshakeOptions.timeoutMs}. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000
/** Longest replica id accepted in a hello. */
export const MAX_REPLICA_ID_LENGTH = 256

const NONCE_BYTES = 32
const MAC_BYTES = 32
const MIN_NONCE_BYTES = 16
const MAX_NONCE_BYTES = 64
const TRANSCRIPT_LABEL = 'dagkv-sync-handshake'

/** Options of {@link handshake}. */
export interface HandshakeOptions {
  /** 'server' for the accepting side, 'client' for the connecting side; the two must differ. */
  role: 'client' | 'server'
  /** This replica's id, sent to the peer. 1 to 256 characters. */
  replicaId: string
  /**
   * Shared secret. A server with a token refuses every client that cannot prove it; a client
   * with a token checks the proof of a server that has one. Never sent, only proven (HMAC-SHA256).
   */
  token?: string | undefined
  /**
   * Milliseconds the whole handshake may take; then it fails with `NETWORK_ERROR`.
   * @default 10000
   */
  timeoutMs?: number | undefined
  /**
   * Largest frame this side accepts, told to the peer so it can size its messages.
   * @default 16 MiB
   */
  maxFrameBytes?: number | undefined
}

/** What a successful handshake learned about the peer. */
export interface HandshakeResult {
  /** The peer's replica id. */
  remoteReplicaId: string
  /** The protocol version both sides speak from now on. */
  version: number
  /** True when both sides proved the same token to each other. */
  authenticated: boolean
  /** Largest frame the peer accepts. */
  remoteMaxFrameBytes: number
}

/**
 * Runs the versioned, authenticated handshake on a fresh transport, before any other message.
 * Both sides send `hello` at once; the client answers with `auth`, the server with `welcome` (or
 * `reject`). See docs/sync-protocol.md for the messages and the proof.
 *
 * On success the transport is left open with no listener of the handshake's attached; frames the
 * peer sends next wait in the transport's backlog for the next listener. On failure the
 * transport is closed and the promise rejects with:
 * - `UNAUTHORIZED`: this client could not prove the server's token (the server sent `reject`), a
 *   server that claims a token could not prove it, or (server side) the client failed the proof;
 * - `NETWORK_ERROR`: version mismatch (`data.reason: 'version-mismatch'`), a malformed or
 *   unexpected message (`data.reason: 'protocol-violation'`), the timeout (`data.reason:
 *   'timeout'`) or the link closing;
 * - `INVALID_ARGUMENT`: bad options.
 * @example
 * const { remoteReplicaId } = await handshake(transport, { role: 'client', replicaId: 'a', token })
 */
export async function handshake(transport: Transport, options: HandshakeOptions): Promise<HandshakeResult> {
  let settings: Settings
  try {
    settings = validate(options)
  } catch (err) {
    void transport.close(asLedgerError(err, 'invalid handshake options'))
    throw err
  }
  if (transport.closed) throw LedgerError.network('transport closed before the handshake')

  // Each side reads exactly two frames; the inbox lets go of the transport after the second, so
  // whatever the peer sends next stays in the transport for the sync session.
  const inbox = new Inbox(transport, 2)
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut('handshake', settings.timeoutMs)), settings.timeoutMs)
  })
  try {
    const run = settings.role === 'client' ? runClient(transport, inbox, settings) : runServer(transport, inbox, settings)
    return await Promise.race([run, timeout])
  } catch (err) {
    const error = asLedgerError(err, 'handshake failed')
    void transport.close(error)
    throw error
  } finally {
    clearTimeout(timer)
    inbox.dispose()
  }
}

interface Settings {
  readonly role: 'client' | 'server'
  readonly replicaId: string
  readonly token: string | undefined
  readonly timeoutMs: number
  readonly maxFrameBytes: number
}

interface Hello {
  readonly id: string
  readonly nonce: Uint8Array
  readonly maxFrameBytes: number
  readonly auth: boolean
}

async function runClient(transport: Transport, inbox: Inbox, s: Settings): Promise<HandshakeResult> {
  const nonce = randomBytes(NONCE_BYTES)
  send(transport, { t: 'hello', v: PROTOCOL_VERSION, role: 'client', id: s.replicaId, nonce, max: s.maxFrameBytes })
  const server = await readHello(transport, inbox, 'server')
  const transcript = { serverId: server.id, clientId: s.replicaId, serverNonce: server.nonce, clientNonce: nonce }
  // Prove the token only to a server that asks; a token-less server could not check it anyway.
  const token = server.auth ? s.token : undefined
  send(transport, token === undefined ? { t: 'auth' } : { t: 'auth', mac: mac(token, 'client', transcript) })

  const reply = await inbox.next()
  if (reply.t === 'reject') throw rejected(reply)
  if (reply.t !== 'welcome') throw protocolViolation(`expected welcome, got ${describe(reply.t)}`)
  const serverMac = optionalFieldBytes(reply, 'mac', 0, 64)
  if (token !== undefined && (serverMac === undefined || !equalMac(serverMac, mac(token, 'server', transcript)))) {
    throw unauthorized('the server could not prove the shared token')
  }
  return { remoteReplicaId: server.id, version: PROTOCOL_VERSION, authenticated: token !== undefined, remoteMaxFrameBytes: server.maxFrameBytes }
}

async function runServer(transport: Transport, inbox: Inbox, s: Settings): Promise<HandshakeResult> {
  const nonce = randomBytes(NONCE_BYTES)
  const auth = s.token !== undefined
  send(transport, { t: 'hello', v: PROTOCOL_VERSION, role: 'server', id: s.replicaId, nonce, max: s.maxFrameBytes, auth })
  const client = await readHello(transport, inbox, 'client')

  const message = await inbox.next()
  if (message.t === 'reject') throw rejected(message)
  if (message.t !== 'auth') throw protocolViolation(`expected auth, got ${describe(message.t)}`)
  const clientMac = optionalFieldBytes(message, 'mac', 0, 64)
  if (s.token === undefined) {
    send(transport, { t: 'welcome' })
  } else {
    const transcript = { serverId: s.replicaId, clientId: client.id, serverNonce: nonce, clientNonce: client.nonce }
    if (clientMac === undefined || !equalMac(clientMac, mac(s.token, 'client', transcript))) {
      const reason = clientMac === undefined ? 'the client sent no proof of the token' : 'the client proved a different token'
      send(transport, { t: 'reject', reason: 'unauthorized', message: 'a valid token is required' })
      throw unauthorized(`refused the client ${JSON.stringify(client.id)}: ${reason}`)
    }
    send(transport, { t: 'welcome', mac: mac(s.token, 'server', transcript) })
  }
  return { remoteReplicaId: client.id, version: PROTOCOL_VERSION, authenticated: auth, remoteMaxFrameBytes: client.maxFrameBytes }
}

/** Reads the peer's hello; checks the version before anything else so any later hello shape is refused clearly. */
async function readHello(transport: Transport, inbox: Inbox, role: 'client' | 'server'): Promise<Hello> {
  const message = await inbox.next()
  if (message.t === 'reject') throw rejected(message)
  if (message.t !== 'hello') throw protocolViolation(`expected hello, got ${describe(message.t)}`)
  const version = fieldInteger(message, 'v')
  if (version !== PROTOCOL_VERSION) {
    const err = versionMismatch(version)
    send(transport, { t: 'reject', reason: 'version', v: PROTOCOL_VERSION, message: err.message })
    throw err
  }
  const peerRole = message['role']
  if (peerRole !== role) {
    throw protocolViolation(`the peer says it is ${describe(peerRole)}, expected the ${role} side`)
  }
  return {
    id: fieldString(message, 'id', 1, MAX_REPLICA_ID_LENGTH),
    nonce: fieldBytes(message, 'nonce', MIN_NONCE_BYTES, MAX_NONCE_BYTES),
    maxFrameBytes: fieldInteger(message, 'max', 1),
    auth: role === 'server' ? fieldBoolean(message, 'auth') : false,
  }
}

function rejected(message: Message): LedgerError {
  const reason = message['reason']
  const text = typeof message['message'] === 'string' ? message['message'].slice(0, 200) : ''
  if (reason === 'unauthorized') return unauthorized(`the server refused the connection${text ? `: ${text}` : ''}`)
  if (reason === 'version') {
    const v = message['v']
    if (typeof v === 'number' && Number.isSafeInteger(v)) return versionMismatch(v)
  }
  return LedgerError.network(`the peer refused the handshake${text ? `: ${text}` : ''}`, undefined)
}

function versionMismatch(remote: number): LedgerError {
  return new LedgerError(
    'NETWORK_ERROR',
    `sync protocol version mismatch: this replica speaks version ${PROTOCOL_VERSION}, the peer version ${remote}`,
    { data: { reason: 'version-mismatch', local: PROTOCOL_VERSION, remote } },
  )
}

function send(transport: Transport, message: Message): void {
  transport.send(encodeMessage(message))
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value
}

interface Transcript {
  readonly serverId: string
  readonly clientId: string
  readonly serverNonce: Uint8Array
  readonly clientNonce: Uint8Array
}

/**
 * HMAC-SHA256 keyed by the token over a canonical dag-cbor array binding the protocol, the version,
 * the prover's role, both replica ids and both nonces. The role label keeps a server from
 * replaying the client's proof back as its own.
 */
function mac(token: string, prover: 'client' | 'server', t: Transcript): Uint8Array {
  const input = dagCbor.encode([TRANSCRIPT_LABEL, PROTOCOL_VERSION, prover, t.serverId, t.clientId, t.serverNonce, t.clientNonce])
  return new Uint8Array(createHmac('sha256', token).update(input).digest())
}

function equalMac(received: Uint8Array, expected: Uint8Array): boolean {
  return received.length === MAC_BYTES && expected.length === MAC_BYTES && timingSafeEqual(received, expected)
}

function validate(options: HandshakeOptions): Settings {
  if (typeof options !== 'object' || options === null) throw LedgerError.invalidArgument('handshake options are required')
  const { role, replicaId, token } = options
  if (role !== 'client' && role !== 'server') throw LedgerError.invalidArgument("role must be 'client' or 'server'")
  if (typeof replicaId !== 'string' || replicaId.length < 1 || replicaId.length > MAX_REPLICA_ID_LENGTH) {
    throw LedgerError.invalidArgument(`replicaId must be a string of 1 to ${MAX_REPLICA_ID_LENGTH} characters`)
  }
  if (token !== undefined && (typeof token !== 'string' || token.length === 0)) {
    throw LedgerError.invalidArgument('token must be a non-empty string')
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw LedgerError.invalidArgument('timeoutMs must be a positive number')
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 1) {
    throw LedgerError.invalidArgument('maxFrameBytes must be a positive integer')
  }
  return { role, replicaId, token, timeoutMs, maxFrameBytes }
}

/**
 * Turns the next `limit` frames of a transport into awaited, decoded messages, and stops
 * listening as soon as it has them (synchronously, inside the listener) so no later frame is
 * taken from the transport.
 */
class Inbox {
  readonly #frames: Uint8Array[] = []
  #waiter: { resolve: (frame: Uint8Array) => void; reject: (err: LedgerError) => void } | undefined
  #error: LedgerError | undefined
  readonly #offMessage: () => void
  readonly #offClose: () => void

  constructor(transport: Transport, limit: number) {
    let count = 0
    this.#offMessage = transport.onMessage((frame) => {
      if (++count >= limit) this.#offMessage()
      const waiter = this.#waiter
      this.#waiter = undefined
      if (waiter) waiter.resolve(frame)
      else this.#frames.push(frame)
    })
    this.#offClose = transport.onClose((err) => {
      this.#fail(
        err?.code === 'UNAUTHORIZED'
          ? unauthorized(err.message)
          : LedgerError.network(`the connection closed during the handshake${err ? `: ${err.message}` : ''}`, err),
      )
    })
  }

  async next(): Promise<Message> {
    const frame = this.#frames.shift() ?? (await this.#wait())
    return decodeMessage(frame)
  }

  dispose(): void {
    this.#offMessage()
    this.#offClose()
    this.#fail(LedgerError.network('handshake over'))
  }

  #wait(): Promise<Uint8Array> {
    if (this.#error) return Promise.reject(this.#error)
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject }
    })
  }

  #fail(err: LedgerError): void {
    this.#error ??= err
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.reject(this.#error)
  }
}
