import { toHex } from '../codec/index.js'
import type { PageSyncState, SyncState } from '../ledger/index.js'

/** 'download' (pulling from peers) or 'upload' (peers pulling from us, pushes, announcements). */
export type Direction = 'download' | 'upload'

interface Counters {
  active: number
  pending: number
  error: boolean
}

interface PageEntry {
  readonly hex: string
  readonly download: Counters
  readonly upload: Counters
  readonly listeners: Set<(state: PageSyncState) => void>
  last: PageSyncState
}

function stateOf(c: Counters): SyncState {
  if (c.active > 0) return 'in-progress'
  if (c.pending > 0) return 'pending'
  return c.error ? 'error' : 'idle'
}

/**
 * Sync state per page and direction: 'in-progress' while an exchange runs, else 'pending' while
 * one is scheduled, else 'error' when the last one failed (or its connection dropped) until the
 * next success, else 'idle'. Listeners hear every change.
 */
export class SyncStates {
  readonly #pages = new Map<string, PageEntry>()

  get(pageId: Uint8Array): PageSyncState {
    const last = this.#pages.get(toHex(pageId))?.last
    return last === undefined ? { download: 'idle', upload: 'idle' } : { ...last }
  }

  listen(pageId: Uint8Array, listener: (state: PageSyncState) => void): () => void {
    const entry = this.#entry(toHex(pageId))
    entry.listeners.add(listener)
    return () => {
      entry.listeners.delete(listener)
      this.#forgetIfIdle(entry)
    }
  }

  /** Marks an exchange as started; the returned function ends it (with success or failure). */
  begin(pageHex: string, dir: Direction): (ok: boolean) => void {
    const entry = this.#entry(pageHex)
    entry[dir].active++
    this.#changed(entry)
    let ended = false
    return (ok) => {
      if (ended) return
      ended = true
      entry[dir].active--
      entry[dir].error = !ok
      this.#changed(entry)
    }
  }

  /** Adds (or with -1 removes) a scheduled exchange. */
  pending(pageHex: string, dir: Direction, delta: 1 | -1): void {
    const entry = this.#entry(pageHex)
    entry[dir].pending = Math.max(0, entry[dir].pending + delta)
    this.#changed(entry)
  }

  /** Reports a failure outside any exchange (a dropped connection), until the next success. */
  fail(pageHex: string): void {
    const entry = this.#entry(pageHex)
    entry.download.error = true
    entry.upload.error = true
    this.#changed(entry)
  }

  #entry(pageHex: string): PageEntry {
    let entry = this.#pages.get(pageHex)
    if (!entry) {
      entry = {
        hex: pageHex,
        download: { active: 0, pending: 0, error: false },
        upload: { active: 0, pending: 0, error: false },
        listeners: new Set(),
        last: { download: 'idle', upload: 'idle' },
      }
      this.#pages.set(pageHex, entry)
    }
    return entry
  }

  #changed(entry: PageEntry): void {
    const next: PageSyncState = { download: stateOf(entry.download), upload: stateOf(entry.upload) }
    if (next.download === entry.last.download && next.upload === entry.last.upload) return this.#forgetIfIdle(entry)
    entry.last = next
    for (const l of [...entry.listeners]) {
      try {
        l({ ...next })
      } catch {
        // A listener's failure is its own; sync goes on.
      }
    }
    this.#forgetIfIdle(entry)
  }

  /**
   * Drops an entry that reads as the default (idle both ways, no error) and has no listener: a
   * page synced once must not hold memory for the life of the network.
   */
  #forgetIfIdle(entry: PageEntry): void {
    if (entry.listeners.size > 0 || entry.last.download !== 'idle' || entry.last.upload !== 'idle') return
    if (entry.download.active + entry.download.pending + entry.upload.active + entry.upload.pending > 0) return
    if (this.#pages.get(entry.hex) === entry) this.#pages.delete(entry.hex)
  }
}
