import { compareBytes, ownBytes, toBytes, toHex, toKey, type Block } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'
import type { Priority, TreeChange, TreeEntry, ValueRef } from '../tree/interface.js'
import type { Reference } from '../value/interface.js'
import { conflictRecord } from './conflict-record.js'
import type {
  ConflictRecord,
  DiffEntry,
  MergeContext,
  MergedValue,
  MergeSessionOptions,
  SessionResult,
  ThreeWayEntry,
  Value,
} from './interface.js'
import { conflicting, sameEntry, ThreeWayCache } from './three-way-diff.js'

/** The decided state of one key (entry undefined: deleted) and the value blocks it needs. */
interface Decision {
  readonly key: Uint8Array
  readonly entry: TreeEntry | undefined
  readonly blocks: readonly Block[]
}

/** A validated merged value, before its asynchronous parts (value, reference, right's entry). */
type Resolution =
  | { readonly key: Uint8Array; readonly source: 'delete' }
  | { readonly key: Uint8Array; readonly source: 'right' }
  | { readonly key: Uint8Array; readonly source: 'new'; readonly priority: Priority; readonly bytes: Uint8Array }
  | { readonly key: Uint8Array; readonly source: 'new'; readonly priority: Priority; readonly reference: Reference }

/**
 * One merge, as a conflict resolver drives it (API.md `MergeContext`). The result starts from
 * left (or from left with `initial` changes merged, for 'automatic-with-fallback'); `merge` and
 * `mergeNonConflictingEntries` write decisions in call order, even when not awaited, and the last
 * decision for a key wins. `finish` gives the changes to apply to the left root.
 */
export class MergeSession<S> implements MergeContext<S> {
  readonly pageId: Uint8Array
  readonly left: S
  readonly right: S
  readonly base: S
  readonly #options: MergeSessionOptions<S>
  readonly #diff: ThreeWayCache
  /** Decided keys by hex; a key absent here keeps left's state. */
  readonly #decisions = new Map<string, Decision>()
  #tail: Promise<unknown> = Promise.resolve()
  #closed = false

  constructor(options: MergeSessionOptions<S>) {
    this.#options = options
    this.#diff = new ThreeWayCache(options.tree, options.roots)
    this.pageId = ownBytes(options.pageId)
    this.left = options.left
    this.right = options.right
    this.base = options.base
    for (const change of options.initial ?? []) this.#decide({ key: change.key, entry: change.entry, blocks: [] })
  }

  /** Every key changed on either side, sorted, with values materialised. */
  async *fullDiff(): AsyncGenerator<DiffEntry> {
    this.#checkOpen()
    for await (const entry of this.#threeWay()) yield this.#toDiffEntry(entry)
  }

  /** Keys changed on both sides to different results, sorted. */
  async *conflictingDiff(): AsyncGenerator<DiffEntry> {
    this.#checkOpen()
    for await (const entry of this.#conflicting()) yield this.#toDiffEntry(entry)
  }

  /**
   * Records resolutions; the whole batch is validated first and applies all or nothing.
   * Rejects with INVALID_ARGUMENT, KEY_TOO_LARGE or REFERENCE_NOT_FOUND.
   */
  merge(values: MergedValue[]): Promise<void> {
    let resolutions: Resolution[]
    try {
      this.#checkOpen()
      resolutions = validateMergedValues(values)
    } catch (err) {
      return Promise.reject(err as Error)
    }
    const prepared = Promise.all(resolutions.map((r) => this.#prepare(r)))
    prepared.catch(() => {}) // awaited in order below; never an unhandled rejection meanwhile
    return this.#enqueue(async () => {
      for (const decision of await prepared) this.#decide(decision)
    })
  }

  /**
   * Takes each non-conflicting key's merged state: right's change where only right changed,
   * left's state where only left changed or both made the same change. Overrides earlier
   * decisions for those keys; later ones override it.
   */
  mergeNonConflictingEntries(): Promise<void> {
    try {
      this.#checkOpen()
    } catch (err) {
      return Promise.reject(err as Error)
    }
    return this.#enqueue(async () => {
      for await (const entry of this.#threeWay()) {
        if (conflicting(entry)) continue
        if (sameEntry(entry.base, entry.left)) this.#decide({ key: entry.key, entry: entry.right, blocks: [] })
        else this.#decisions.delete(toHex(entry.key))
      }
    })
  }

  /**
   * Ends the session after every pending call: the changes to apply to the left root (sorted),
   * the value blocks they need, and the record of conflicting keys with their outcome.
   * Later calls reject with CLOSED.
   */
  finish(): Promise<SessionResult> {
    try {
      this.#checkOpen()
    } catch (err) {
      return Promise.reject(err as Error)
    }
    const result = this.#enqueue(async () => {
      const decisions = [...this.#decisions.values()].sort((a, b) => compareBytes(a.key, b.key))
      const changes: TreeChange[] = decisions.map((d) => ({ key: d.key, entry: d.entry }))
      const blocks = [...new Map(decisions.flatMap((d) => d.blocks.map((b) => [b.cid.toString(), b] as const))).values()]
      const conflicts: ConflictRecord[] = []
      for await (const entry of this.#conflicting()) {
        const decided = this.#decisions.get(toHex(entry.key))
        conflicts.push(conflictRecord(entry, decided === undefined ? entry.left : decided.entry))
      }
      return { changes, blocks, conflicts }
    })
    this.#closed = true
    return result
  }

  /** Abandons the session (the resolver failed): later calls reject with CLOSED. */
  close(): void {
    this.#closed = true
  }

  #checkOpen(): void {
    if (this.#closed) throw LedgerError.closed('merge session')
  }

  #threeWay(): AsyncGenerator<ThreeWayEntry> {
    return this.#diff.entries()
  }

  async *#conflicting(): AsyncGenerator<ThreeWayEntry> {
    const known = this.#options.conflicts
    if (known !== undefined) yield* known
    else for await (const entry of this.#threeWay()) if (conflicting(entry)) yield entry
  }

  #enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(job)
    this.#tail = run.catch(() => {})
    return run
  }

  #decide(decision: Decision): void {
    this.#decisions.set(toHex(decision.key), decision)
  }

  async #prepare(r: Resolution): Promise<Decision> {
    const o = this.#options
    if (r.source === 'delete') return { key: r.key, entry: undefined, blocks: [] }
    if (r.source === 'right') return { key: r.key, entry: await o.tree.get(o.roots.right, r.key), blocks: [] }
    if ('bytes' in r) {
      const { ref, blocks } = await o.encodeValue(r.bytes, r.priority)
      return { key: r.key, entry: { key: r.key, value: ref, priority: r.priority }, blocks }
    }
    const ref: ValueRef = await o.resolveReference(r.reference, r.priority)
    return { key: r.key, entry: { key: r.key, value: ref, priority: r.priority }, blocks: [] }
  }

  async #toDiffEntry(entry: ThreeWayEntry): Promise<DiffEntry> {
    const [base, left, right] = await Promise.all([
      this.#toValue(entry.base),
      this.#toValue(entry.left),
      this.#toValue(entry.right),
    ])
    const out: DiffEntry = { key: ownBytes(entry.key) }
    if (base) out.base = base
    if (left) out.left = left
    if (right) out.right = right
    return out
  }

  async #toValue(entry: TreeEntry | undefined): Promise<Value | undefined> {
    if (entry === undefined) return undefined
    return { value: await this.#options.readValue(entry.value), priority: entry.priority }
  }
}

/** Checks a `merge` batch synchronously; keys and bytes are copied. */
function validateMergedValues(values: unknown): Resolution[] {
  if (!Array.isArray(values)) throw LedgerError.invalidArgument('merge() takes an array of merged values')
  return values.map((v: unknown, i) => validateMergedValue(v, i))
}

function validateMergedValue(v: unknown, index: number): Resolution {
  if (v === null || typeof v !== 'object') {
    throw LedgerError.invalidArgument(`merged value ${index} must be an object`, { index })
  }
  const { key: rawKey, source, value, priority: rawPriority } = v as Record<string, unknown>
  const key = toKey(rawKey, `merged value ${index} key`)
  if (source === 'delete') return { key, source }
  if (source === 'right') return { key, source }
  if (source !== 'new') {
    throw LedgerError.invalidArgument(`merged value ${index}: source must be 'right', 'new' or 'delete'`, { index })
  }
  const priority = rawPriority === undefined ? 'eager' : rawPriority
  if (priority !== 'eager' && priority !== 'lazy') {
    throw LedgerError.invalidArgument(`merged value ${index}: priority must be 'eager' or 'lazy'`, { index })
  }
  if (value === undefined) {
    throw LedgerError.invalidArgument(`merged value ${index}: source 'new' needs a value`, { index })
  }
  if (typeof value === 'string' || value instanceof Uint8Array) {
    return { key, source, priority, bytes: toBytes(value, `merged value ${index} value`) }
  }
  if (isReference(value)) return { key, source, priority, reference: { id: value.id, size: value.size } }
  throw LedgerError.invalidArgument(
    `merged value ${index}: value must be a string, a Uint8Array or a Reference`,
    { index },
  )
}

function isReference(value: unknown): value is Reference {
  if (value === null || typeof value !== 'object') return false
  const { id, size } = value as Record<string, unknown>
  return typeof id === 'string' && typeof size === 'number' && Number.isSafeInteger(size) && size >= 0
}
