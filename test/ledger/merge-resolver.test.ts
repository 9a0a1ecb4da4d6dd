import { describe, expect, it } from 'vitest'
import { Ledger, LedgerError, MAX_KEY_SIZE, type MergeContext, type PageChange } from 'dagkv'
import { str, until } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { expectCode } from '../suites/ledger-basics.js'
import { contents, fork, headsOf } from './merge-helpers.js'

const never = (): Promise<void> => new Promise<void>(() => {})
const codeOf = (err: unknown): string => (LedgerError.is(err) ? err.code : String(err))

describe('merging: resolver failures', () => {
  it('retries a resolver that throws, committing nothing until it succeeds', async () => {
    const headsSeen: number[] = []
    let ledger!: Ledger
    const resolver = async (m: MergeContext): Promise<void> => {
      headsSeen.push((await headsOf(ledger, 'p')).length)
      await m.merge([{ key: 'k', source: 'new', value: `attempt ${headsSeen.length}` }])
      if (headsSeen.length < 3) throw new Error('not yet')
    }
    ledger = await memoryLedger({ mergePolicy: 'custom', resolver })
    const { a } = await fork(ledger, 'p', {}, { k: 'older' }, { k: 'newer' })
    expect(await a.waitForConflictResolution()).toBe('conflicts-resolved')
    expect(headsSeen).toEqual([2, 2, 2])
    expect(await contents(a)).toEqual({ k: 'attempt 3' })
  })

  it('a resolver that never settles: heads stay, reads and writes work, other pages merge', async () => {
    const ledger = await memoryLedger({ mergePolicy: 'custom', resolver: never })
    const { a, b } = await fork(ledger, 'p', { k: 'base' }, { k: 'older' }, { k: 'newer' })
    await new Promise((r) => setTimeout(r, 30))
    expect(await headsOf(ledger, 'p')).toHaveLength(2)
    await a.put('x', '1')
    expect(str(await (await a.snapshot()).get('x'))).toBe('1')
    expect(str(await (await b.snapshot()).get('k'))).toBe('newer')
    // Another page, with a policy that can finish, merges meanwhile.
    await ledger.setMergePolicy('q', 'last-one-wins')
    const other = await fork(ledger, 'q', {}, { k: 'older' }, { k: 'newer', j: '1' })
    expect(await other.a.waitForConflictResolution()).toBe('conflicts-resolved')
    expect(await contents(other.a)).toEqual({ k: 'newer', j: '1' })
    expect(await headsOf(ledger, 'p')).toHaveLength(2) // a's put moved its head: still two
  })

  it('closing the ledger does not wait for a resolver that never settles; waiters reject CLOSED', async () => {
    const ledger = await Ledger.open({ autoSync: false, mergePolicy: 'custom', resolver: never })
    const { a, b } = await fork(ledger, 'p', {}, { k: 'older' }, { k: 'newer' })
    const waiting = a.waitForConflictResolution()
    const waitingB = b.waitForConflictResolution()
    await b.close()
    await expectCode(waitingB, 'CLOSED')
    await ledger.close()
    await expectCode(waiting, 'CLOSED')
    await expectCode(a.waitForConflictResolution(), 'CLOSED')
  })

  it('setMergePolicy abandons a pending resolver and merges with the new policy', async () => {
    const ledger = await memoryLedger({ mergePolicy: 'custom', resolver: never })
    const { a } = await fork(ledger, 'p', {}, { k: 'older', y: '2' }, { k: 'newer' })
    await new Promise((r) => setTimeout(r, 20))
    expect(await headsOf(ledger, 'p')).toHaveLength(2)
    await ledger.setMergePolicy('p', 'last-one-wins')
    expect(await a.waitForConflictResolution()).toBe('conflicts-resolved')
    expect(await contents(a)).toEqual({ k: 'newer', y: '2' })
  })

  it('setMergePolicy cuts a retry backoff short', async () => {
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: () => {
        throw new Error('always')
      },
    })
    const { a } = await fork(ledger, 'p', {}, { k: 'older' }, { k: 'newer' })
    await new Promise((r) => setTimeout(r, 300)) // backoff has grown past 100 ms
    const started = Date.now()
    await ledger.setMergePolicy('p', 'last-one-wins')
    await a.waitForConflictResolution()
    expect(Date.now() - started).toBeLessThan(200)
  })

  it('bad merge() input rejects into the resolver and the merge is not committed', async () => {
    const codes: string[] = []
    const headsAtCall: number[] = []
    let ledger!: Ledger
    const resolver = async (m: MergeContext): Promise<void> => {
      headsAtCall.push((await headsOf(ledger, 'p')).length)
      if (headsAtCall.length === 1) {
        const bad = [
          () => m.merge([{ key: 'k', source: 'left' as 'right' }]),
          () => m.merge([{ key: 'k', source: 'new' }]),
          () => m.merge([{ key: new Uint8Array(MAX_KEY_SIZE + 1), source: 'delete' }]),
          () => m.merge([{ key: 'k', source: 'new', value: { id: 'nope', size: 3 } }]),
          () => m.merge('k' as never),
        ]
        for (const call of bad) await call().catch((err: unknown) => codes.push(codeOf(err)))
        return // swallowed the errors: the merge still must not commit
      }
      if (headsAtCall.length === 2) {
        await m.merge([{ key: 'k', source: 'new' }]) // rejects; the resolver's promise rejects
        return
      }
      await m.merge([{ key: 'k', source: 'new', value: 'good' }])
    }
    ledger = await memoryLedger({ mergePolicy: 'custom', resolver })
    const { a } = await fork(ledger, 'p', {}, { k: 'older' }, { k: 'newer' })
    await a.waitForConflictResolution()
    expect(codes).toEqual(['INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'KEY_TOO_LARGE', 'REFERENCE_NOT_FOUND', 'INVALID_ARGUMENT'])
    expect(headsAtCall).toEqual([2, 2, 2])
    expect(await contents(a)).toEqual({ k: 'good' })
  })

  it('calls on a context after its merge finished reject with CLOSED', async () => {
    let saved: MergeContext | undefined
    const ledger = await memoryLedger({ mergePolicy: 'custom', resolver: (m) => void (saved = m) })
    const { a } = await fork(ledger, 'p', {}, { k: 'older' }, { k: 'newer' })
    await a.waitForConflictResolution()
    await expectCode(saved!.merge([{ key: 'k', source: 'delete' }]), 'CLOSED')
    expect(await contents(a)).toEqual({ k: 'newer' })
  })
})

describe('merging: connections and watchers', () => {
  it("waitForConflictResolution: 'no-conflicts' with one head, 'conflicts-resolved' after a merge", async () => {
    const ledger = await memoryLedger()
    const page = await ledger.page('p')
    expect(await page.waitForConflictResolution()).toBe('no-conflicts')
    await page.put('k', 'v')
    expect(await page.waitForConflictResolution()).toBe('no-conflicts')
    const { a, b } = await fork(ledger, 'q', {}, { k: 'older' }, { k: 'newer' })
    expect(await a.waitForConflictResolution()).toBe('conflicts-resolved')
    expect(await b.waitForConflictResolution()).toBe('no-conflicts')
    expect((await a.snapshot()).commitId).toBe((await b.snapshot()).commitId)
  })

  it('waitForConflictResolution waits for a resolver set later, and moves the connection', async () => {
    const ledger = await memoryLedger({ mergePolicy: 'custom' })
    const { a, b } = await fork(ledger, 'p', {}, { x: '1' }, { y: '2' })
    let done = false
    const waiting = a.waitForConflictResolution().then((r) => {
      done = true
      return r
    })
    await new Promise((r) => setTimeout(r, 20))
    expect(done).toBe(false)
    await ledger.setMergePolicy('p', 'custom', (m) => m.mergeNonConflictingEntries())
    expect(await waiting).toBe('conflicts-resolved')
    const merged = (await headsOf(ledger, 'p'))[0]!.cid.toString()
    expect((await a.snapshot()).commitId).toBe(merged)
    await until(async () => (await b.snapshot()).commitId === merged)
  })

  it('watchers on both connections see the merged change once', async () => {
    const ledger = await memoryLedger()
    const a = await ledger.page('p')
    const b = await ledger.page('p')
    await a.put('base', '0')
    await b.waitForConflictResolution()
    const seenA: PageChange[] = []
    const seenB: PageChange[] = []
    await a.watch((c) => void seenA.push(c))
    await b.watch((c) => void seenB.push(c))
    await a.startTransaction()
    await b.startTransaction()
    await a.put('k', 'older')
    await a.put('fromA', '1')
    await b.put('k', 'newer')
    await b.put('fromB', '2')
    await a.commit()
    await b.commit()
    await a.waitForConflictResolution()
    await b.waitForConflictResolution()
    await until(() => seenA.length >= 2 && seenB.length >= 2)
    await new Promise((r) => setTimeout(r, 30))
    const keys = (c: PageChange): string[] => c.changed.map((e) => `${str(e.key)}=${str(e.value)}`)
    // Each sees its own commit, then the merge (the other side's changes) exactly once.
    expect(seenA.map(keys)).toEqual([['fromA=1', 'k=older'], ['fromB=2', 'k=newer']])
    expect(seenB.map(keys)).toEqual([['fromB=2', 'k=newer'], ['fromA=1']])
    expect(seenA.every((c) => c.origin === 'local')).toBe(true)
  })
})
