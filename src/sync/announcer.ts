import { toHex, type CID } from '../codec/index.js'
import type { Engine, PageState } from '../ledger/index.js'
import type { Session } from './session.js'
import type { SyncStates } from './sync-states.js'

/** Head changes within this many ms are announced together. */
export const DEBOUNCE_MS = 5
/** A page with several heads waits up to this long for its merge before announcing anyway. */
export const MERGE_WAIT_MS = 200
/** Pages per `heads` message when announcing everything on connect. */
const PAGES_PER_MESSAGE = 256

/**
 * Live sync, the sending half: tells every peer a page's heads when they change (debounced), and
 * every page's heads when a peer connects. A page with several heads is announced once merged
 * (so peers fast-forward to the merge instead of merging themselves), or after MERGE_WAIT_MS,
 * so a page whose merge waits on a resolver is not starved. A peer known to have the heads
 * already (it announced them, or we pulled them from it) is not told again.
 */
export class Announcer {
  readonly #engine: Engine
  readonly #states: SyncStates
  readonly #sessions: () => Iterable<Session>
  readonly #timers = new Map<string, NodeJS.Timeout>()
  readonly #offs: (() => void)[] = []
  /** The heads listener on each followed page state. */
  readonly #follows = new Map<PageState, () => void>()
  #closed = false

  constructor(engine: Engine, states: SyncStates, sessions: () => Iterable<Session>) {
    this.#engine = engine
    this.#states = states
    this.#sessions = sessions
    this.#offs.push(engine.onPageLoaded((state) => this.#follow(state)))
    this.#offs.push(engine.onPageDropped((state) => this.#unfollow(state)))
    void engine.loadedPages().then(
      (states) => {
        for (const s of states) this.#follow(s)
      },
      () => undefined,
    )
  }

  /** Announces every page that has commits to a newly connected peer. */
  async announceAll(session: Session): Promise<void> {
    const engine = this.#engine
    const loaded = new Map<string, PageState>()
    for (const s of await engine.loadedPages()) loaded.set(s.hex, s)
    const ids = new Map<string, Uint8Array>()
    for (const id of await engine.store.pageIds()) ids.set(toHex(id), id)
    for (const s of loaded.values()) if (realHeads(s).length > 0) ids.set(s.hex, s.id)
    let batch: [Uint8Array, CID[]][] = []
    for (const [hex, id] of ids) {
      const state = loaded.get(hex)
      const heads = state ? realHeads(state) : await engine.store.heads(id)
      if (heads.length === 0) continue
      batch.push([id, heads])
      if (batch.length >= PAGES_PER_MESSAGE) {
        this.#send(session, batch)
        batch = []
      }
    }
    if (batch.length > 0) this.#send(session, batch)
  }

  close(): void {
    this.#closed = true
    for (const off of this.#offs) off()
    for (const off of this.#follows.values()) off()
    this.#follows.clear()
    for (const [hex, timer] of this.#timers) {
      clearTimeout(timer)
      this.#states.pending(hex, 'upload', -1)
    }
    this.#timers.clear()
  }

  #follow(state: PageState): void {
    if (this.#closed || state.closed || this.#follows.has(state)) return
    this.#follows.set(state, state.onHeads(() => this.#schedule(state)))
  }

  #unfollow(state: PageState): void {
    this.#follows.get(state)?.()
    this.#follows.delete(state)
  }

  #schedule(state: PageState): void {
    if (this.#closed || this.#timers.has(state.hex)) return
    this.#states.pending(state.hex, 'upload', 1)
    const since = Date.now()
    const fire = (): void => {
      if (state.heads.length > 1 && !state.closed && Date.now() - since < MERGE_WAIT_MS) {
        this.#timers.set(state.hex, setTimeout(fire, DEBOUNCE_MS * 2))
        return
      }
      this.#timers.delete(state.hex)
      this.#states.pending(state.hex, 'upload', -1)
      if (!this.#closed) this.#broadcast(state)
    }
    this.#timers.set(state.hex, setTimeout(fire, DEBOUNCE_MS))
  }

  #broadcast(state: PageState): void {
    const heads = realHeads(state)
    if (heads.length === 0) return
    for (const session of this.#sessions()) {
      const known = session.remoteHeads.get(state.hex)
      if (known && heads.every((h) => known.some((k) => k.equals(h)))) continue
      this.#send(session, [[state.id, heads]])
    }
  }

  #send(session: Session, pages: [Uint8Array, CID[]][]): void {
    if (session.closed) return
    try {
      session.send({ t: 'heads', pages })
    } catch {
      // The session is closing; its close reports the failure.
    }
  }
}

/** A page's heads, without the implicit empty commit. */
export function realHeads(state: PageState): CID[] {
  return state.heads.filter((h) => h.generation > 0).map((h) => h.cid)
}
