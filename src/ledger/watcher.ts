import { ownBytes, prefixEnd } from '../codec/index.js'
import type { Commit } from '../commit/index.js'
import type { Engine } from './engine.js'
import { toEntry } from './entry-values.js'
import type { Bytes, Entry, PageChange } from './interface.js'
import { Snapshot } from './snapshot.js'

/** Entries (changed plus deleted) per notification before a change is split into parts. */
export const MAX_CHANGE_ENTRIES = 1000

export type WatchListener = (change: PageChange) => void | Promise<void>

/**
 * Delivers a connection's head moves to one listener, one notification at a time. Moves that
 * arrive while the listener runs are aggregated: the next notification is the diff from the
 * last delivered state to the newest one.
 */
export class Watcher {
  readonly #engine: Engine
  readonly #listener: WatchListener
  readonly #prefix: Uint8Array
  #delivered: Commit
  #target: Commit | undefined
  #remote = false
  #running: Promise<void> | undefined
  #closed = false
  /** Settles when the running pump ends or the watcher closes (one per run, not one per `idle`). */
  #settled: Promise<void> | undefined
  #release: (() => void) | undefined

  constructor(engine: Engine, listener: WatchListener, prefix: Uint8Array, from: Commit) {
    this.#engine = engine
    this.#listener = listener
    this.#prefix = prefix
    this.#delivered = from
  }

  /** The connection's head moved to `to`; `remote` when the move brought another replica's commits. */
  advance(to: Commit, remote: boolean): void {
    if (this.#closed) return
    this.#target = to
    this.#remote ||= remote
    if (this.#running) return
    let release!: () => void
    this.#settled = new Promise<void>((resolve) => (release = resolve))
    this.#release = release
    this.#running = this.#pump().finally(() => {
      this.#running = undefined
      this.#release = undefined
      release()
    })
  }

  /** Resolves when every pending notification has been handled, or when the watcher closes. */
  async idle(): Promise<void> {
    while (this.#running && !this.#closed) await this.#settled
  }

  close(): void {
    this.#closed = true
    this.#target = undefined
    this.#release?.()
  }

  async #pump(): Promise<void> {
    while (this.#target && !this.#closed && !this.#engine.closed) {
      const to = this.#target
      const remote = this.#remote
      this.#target = undefined
      this.#remote = false
      try {
        await this.#deliver(this.#delivered, to, remote)
      } catch {
        // An unreadable diff (store closed under us) ends this notification, not the watcher.
      }
      this.#delivered = to
    }
  }

  async #deliver(from: Commit, to: Commit, remote: boolean): Promise<void> {
    const range: { start?: Uint8Array; end?: Uint8Array } = {}
    if (this.#prefix.length > 0) range.start = this.#prefix
    const end = prefixEnd(this.#prefix)
    if (end !== undefined) range.end = end
    const diff = this.#engine.tree.diff(from.root, to.root, range)
    let changed: Entry[] = []
    let deleted: Bytes[] = []
    let parts = 0
    const emit = async (last: boolean): Promise<void> => {
      const state: PageChange['state'] =
        parts === 0 ? (last ? 'completed' : 'partial-started') : last ? 'partial-completed' : 'partial-continued'
      parts++
      const change: PageChange = {
        timestamp: to.timestamp,
        changed,
        deleted,
        origin: remote ? 'remote' : 'local',
        state,
        snapshot: async () => new Snapshot(this.#engine, to, this.#prefix),
      }
      changed = []
      deleted = []
      if (this.#closed) return
      try {
        await this.#listener(change)
      } catch {
        // A listener's failure is its own; delivery goes on.
      }
    }
    for await (const d of diff) {
      if (changed.length + deleted.length === MAX_CHANGE_ENTRIES) await emit(false)
      if (d.after) changed.push(await toEntry(this.#engine, d.after))
      else deleted.push(ownBytes(d.key))
    }
    if (changed.length + deleted.length > 0) await emit(true)
  }
}
