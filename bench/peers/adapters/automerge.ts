// @automerge/automerge 3: one document, a root map from key (string) to value (bytes), loaded
// in one change. Reads go through the materialised document (a plain JS view kept in memory).
import * as Automerge from '@automerge/automerge'
import { type Bytes, type DiffResult, type HistoryResult, type PeerAdapter, type Skipped, type StoredResult, type SyncResult, keyString, sum, versionOf } from '../lib/adapter.js'

type Doc = Automerge.Doc<Record<string, Uint8Array>>

function applyAll(doc: Doc, keys: Bytes[], values: Bytes[]): Doc {
  return Automerge.change(doc, (d) => {
    for (let i = 0; i < keys.length; i++) d[keyString(keys[i]!)] = values[i]!
  })
}

interface Session {
  toReceived: number
  fromReceived: number
  messages: number
  caughtUp: boolean
}

/** Sync-protocol session, `to` (the old replica) speaking first; counts into `s` as it goes. */
function syncSession(from: Doc, to: Doc, s: Session): void {
  let a = from
  let b = to
  let sa = Automerge.initSyncState()
  let sb = Automerge.initSyncState()
  for (let round = 0; round < 100; round++) {
    const [sb2, mb] = Automerge.generateSyncMessage(b, sb)
    sb = sb2
    if (mb) {
      s.fromReceived += mb.byteLength
      s.messages++
      ;[a, sa] = Automerge.receiveSyncMessage(a, sa, mb)
    }
    const [sa2, ma] = Automerge.generateSyncMessage(a, sa)
    sa = sa2
    if (ma) {
      s.toReceived += ma.byteLength
      s.messages++
      ;[b, sb] = Automerge.receiveSyncMessage(b, sb, ma)
    }
    if (!ma && !mb) break
  }
  const heads = (d: Doc): string => Automerge.getHeads(d).slice().sort().join()
  s.caughtUp = heads(b) === heads(a)
}

export class AutomergeAdapter implements PeerAdapter {
  readonly name = 'automerge'
  readonly versions = { '@automerge/automerge': versionOf('@automerge/automerge') }
  #doc: Doc | undefined
  #old: Doc | undefined
  #savedAfter: number | undefined

  get #d(): Doc {
    if (!this.#doc) throw new Error('not loaded')
    return this.#doc
  }

  async bulkLoad(keys: Bytes[], values: Bytes[]): Promise<void> {
    this.#doc = applyAll(Automerge.init(), keys, values)
  }

  async storedBytes(): Promise<StoredResult> {
    return { bytes: Automerge.save(this.#d).byteLength, method: 'Automerge.save() length (compressed columnar document)' }
  }

  async get(key: Bytes): Promise<Bytes | undefined> {
    return this.#d[keyString(key)]
  }

  async scan(): Promise<number> {
    // Map keys come out of the materialised view; sort them to make the scan ordered.
    const doc = this.#d
    let c = 0
    for (const k of Object.keys(doc).sort()) if (doc[k] !== undefined) c++
    return c
  }

  async diffAfterChange(changedKeys: Bytes[], newValues: Bytes[]): Promise<DiffResult> {
    const old = this.#d
    const t0 = performance.now()
    const doc = applyAll(old, changedKeys, newValues)
    const applyMs = performance.now() - t0
    this.#old = old
    this.#doc = doc
    const t1 = performance.now()
    const keys = await this.diffAgain()
    const ms = performance.now() - t1
    return { applyMs, ms, keys, method: 'Automerge.diff(doc, oldHeads, newHeads) patches (distinct keys)' }
  }

  async diffAgain(): Promise<number> {
    if (!this.#old) throw new Error('diffAfterChange first')
    const doc = this.#d
    const patches = Automerge.diff(doc, Automerge.getHeads(this.#old), Automerge.getHeads(doc))
    return new Set(patches.map((p) => String(p.path[0]))).size
  }

  async syncBytes(): Promise<SyncResult | Skipped> {
    if (!this.#old) throw new Error('diffAfterChange first')
    const changes = Automerge.getChanges(this.#old, this.#d)
    this.#savedAfter = Automerge.save(this.#d).byteLength
    // The sync protocol as well, the old replica (a fork at the old heads) starting the session.
    // With only two changes in the history (the load and the 1 % change) Automerge 3 answers with
    // the whole document instead of the one missing change (with three or more changes it sends
    // just the change); at 100k entries applying that answer exhausts the 4 GiB wasm heap, which
    // kills the module — so this runs last, and its failure is recorded, not hidden.
    const session: Session = { toReceived: 0, fromReceived: 0, messages: 0, caughtUp: false }
    let error: string | undefined
    try {
      syncSession(Automerge.clone(this.#d), Automerge.clone(this.#old), session)
    } catch (e) {
      error = (e as Error).message
    }
    return {
      bytes: sum(changes.map((c) => c.byteLength)),
      method: 'Automerge.getChanges(old, new): bytes of the change set the old replica lacks',
      detail: {
        changes: changes.length,
        syncProtocolBytesReceived: session.toReceived,
        syncProtocolBytesSent: session.fromReceived,
        syncMessages: session.messages,
        syncCaughtUp: session.caughtUp,
        ...(error === undefined ? {} : { syncProtocolError: `failed applying the answer: ${error}` }),
      },
    }
  }

  async storedBytesAfterChange(): Promise<StoredResult | Skipped> {
    if (this.#savedAfter === undefined) throw new Error('syncBytes first')
    return { bytes: this.#savedAfter, method: 'Automerge.save() length, full history' }
  }

  async historyIndependent(_keys: Bytes[], _values: Bytes[]): Promise<HistoryResult> {
    return { independent: null, entries: 0, note: 'n/a (CRDT op log): no content hash of the state; heads name the history' }
  }

  async close(): Promise<void> {}
}
