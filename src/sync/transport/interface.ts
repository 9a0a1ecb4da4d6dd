import type { LedgerError } from '../../errors/index.js'

/** Largest frame a transport accepts unless told otherwise: 16 MiB. */
export const DEFAULT_MAX_FRAME_BYTES: number = 16 * 1024 * 1024

/**
 * A reliable, ordered, message-oriented link to one peer. Each `send` is one frame; the peer's
 * message listeners receive exactly that frame (same bytes, same boundaries).
 *
 * Contract shared by every implementation (in-memory link, WebSocket):
 * - Frames are delivered asynchronously, never from inside `send`.
 * - Frames that arrive while no message listener is registered are buffered and handed, in
 *   order, to the first listener that registers. This lets one consumer (the handshake) hand the
 *   transport to the next (the sync session) without losing frames in between.
 * - `send` after close is silently ignored (the close was already reported through `onClose`);
 *   `send` never throws for network reasons.
 * - A listener that throws closes the transport with that error (wrapped as `NETWORK_ERROR` when
 *   it is not a `LedgerError`); it never crashes the process.
 * - The close listeners fire exactly once each, asynchronously, with `undefined` when this side
 *   called `close()` without an error, otherwise the `LedgerError` that ended the link: the one
 *   given to `close(err)`, a local protocol violation (oversize frame, text frame) or, when the
 *   peer or the network ended it, `NETWORK_ERROR` (or `UNAUTHORIZED` when the peer closed because
 *   this side failed to authenticate). A listener registered after the close fires too.
 */
export interface Transport {
  /**
   * Sends one frame. Ignored after close; never throws for network reasons. The transport may
   * keep a reference until the frame is written: do not modify `frame` after sending it.
   */
  send(frame: Uint8Array): void
  /** Registers a frame listener; returns a function that removes it. */
  onMessage(listener: (frame: Uint8Array) => void): () => void
  /** Registers a close listener (fires exactly once); returns a function that removes it. */
  onClose(listener: (err: LedgerError | undefined) => void): () => void
  /**
   * Closes both directions. Idempotent: later calls return the first call's promise. Passing an
   * error tells the peer why (its close listeners get `UNAUTHORIZED` for an `UNAUTHORIZED` error,
   * `NETWORK_ERROR` otherwise). Resolves once the underlying resource is released; never rejects.
   */
  close(err?: LedgerError): Promise<void>
  /** True from the moment the link is closed, by either side. */
  readonly closed: boolean
}
