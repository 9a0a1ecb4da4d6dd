/** Black-box acceptance tests (package root only). Merging: merge(), mergeNonConflictingEntries() and the MergedValue sources. */
import { describe, expect, it } from 'vitest'
import { type MergeContext, type Reference } from 'dagkv'
import { collect, str, utf8 } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { any, within, codeOf, fork, contents, priorities, hex, same, seeded, pieces, EMPTY } from './merge-api-helpers.js'


describe('MergeContext: merge() and mergeNonConflictingEntries()', () => {
  it('merge may be called many times: the last value for a key wins, across calls and within one call', async () => {
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: async (m) => {
        await m.merge([{ key: 'k', source: 'new', value: 'first' }])
        await m.merge([
          { key: 'k', source: 'new', value: 'second' },
          { key: 'j', source: 'delete' },
          { key: 'k', source: 'new', value: 'third' },
        ])
        await m.merge([{ key: 'j', source: 'new', value: 'back' }])
        await m.merge([])
        await m.merge([{ key: 'gone', source: 'new', value: 'x' }, { key: 'gone', source: 'delete' }])
      },
    })
    const { a } = await fork(ledger, 'p', { j: 'j0' }, { k: 'older' }, { k: 'newer' })
    await within(a.waitForConflictResolution())
    expect(await contents(a)).toEqual({ j: 'back', k: 'third' })
  })

  it('calls not awaited apply in call order (a slow Reference first, then a plain value)', async () => {
    const ledger = await memoryLedger({ mergePolicy: 'custom' })
    const { a } = await fork(ledger, 'p', { r: 'r0' }, { k: 'older', r: 'r1', y: 'y' }, { k: 'newer' })
    const ref = await a.createReference(seeded(300_000, 1))
    await ledger.setMergePolicy('p', 'custom', (m) => {
      void m.merge([{ key: 'k', source: 'new', value: ref }])
      void m.merge([{ key: 'k', source: 'new', value: 'small, later' }])
      void m.mergeNonConflictingEntries()
      void m.merge([{ key: 'j', source: 'new', value: ref, priority: 'lazy' }])
      return m.merge([{ key: 'r', source: 'delete' }])
    })
    await within(a.waitForConflictResolution())
    expect(await contents(a)).toMatchObject({ k: 'small, later', y: 'y' })
    expect(Object.keys(await contents(a))).toEqual(['j', 'k', 'y'])
  })

  it('custom: the result starts from left; unmentioned keys keep left even where only right changed', async () => {
    const ledger = await memoryLedger({ mergePolicy: 'custom', resolver: () => {} })
    const { a } = await fork(
      ledger,
      'p',
      { onlyR: 'r0', delR: 'd0', onlyL: 'l0', keep: 'k' },
      { onlyR: 'r1', delR: null, addR: 'new' },
      { onlyL: 'l1', addL: 'n' },
    )
    await within(a.waitForConflictResolution())
    expect(await contents(a)).toEqual({ addL: 'n', delR: 'd0', keep: 'k', onlyL: 'l1', onlyR: 'r0' })
  })

  it('mergeNonConflictingEntries takes every one-sided change (values, deletions, priorities); conflicts keep left; later merge() calls override it and it overrides earlier ones', async () => {
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: async (m) => {
        await m.merge([
          { key: 'addR', source: 'delete' }, // overridden by mergeNonConflictingEntries
          { key: 'onlyL', source: 'right' }, // overridden too (left's change is taken)
        ])
        await m.mergeNonConflictingEntries()
        await m.merge([{ key: 'delR', source: 'new', value: 'revived' }]) // overrides it
      },
    })
    const { a } = await fork(
      ledger,
      'p',
      { onlyR: 'r0', delR: 'd0', onlyL: 'l0', prioR: 'p', c: 'c0', keep: 'k', delL: 'x' },
      { onlyR: 'r1', delR: null, addR: 'new', prioR: { value: 'p', priority: 'lazy' }, c: 'c-right' },
      { onlyL: 'l1', c: 'c-left', delL: null },
    )
    await within(a.waitForConflictResolution())
    expect(await contents(a)).toEqual({ addR: 'new', c: 'c-left', delR: 'revived', keep: 'k', onlyL: 'l1', onlyR: 'r1', prioR: 'p' })
    expect((await priorities(a))['prioR']).toBe('lazy')
  })

  it("source 'right' takes right's state: its value and priority, its absence, or base's value where only left changed", async () => {
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: (m) =>
        m.merge(['conf', 'addL', 'onlyL', 'delR', 'lazyR', 'neverAnywhere'].map((key) => ({ key, source: 'right' as const }))),
    })
    const { a } = await fork(
      ledger,
      'p',
      { conf: 'c0', onlyL: 'o0', delR: 'd0', lazyR: 'z0' },
      { conf: 'c-right', delR: null, lazyR: { value: 'z-right', priority: 'lazy' } },
      { conf: 'c-left', addL: 'new', onlyL: 'o-left', lazyR: 'z-left' },
    )
    await within(a.waitForConflictResolution())
    expect(await contents(a)).toEqual({ conf: 'c-right', lazyR: 'z-right', onlyL: 'o0' })
    expect(await priorities(a)).toEqual({ conf: 'eager', lazyR: 'lazy', onlyL: 'eager' })
  })

  it("source 'new' with strings, bytes, an empty value, priorities (eager by default) and References; 'delete' of an absent key is a no-op", async () => {
    let ref!: Reference
    let lazyRef!: Reference
    const big = seeded(200_000, 5)
    const ledger = await memoryLedger({ mergePolicy: 'custom' }) // no resolver yet: the heads stay
    const { a } = await fork(ledger, 'p', EMPTY, { x: 'older' }, { x: 'newer' })
    ref = await a.createReference(big)
    lazyRef = await a.createReference(pieces(utf8('tiny but lazy'), 3))
    // The policy is re-set so that the merge runs now that the references exist.
    await ledger.setMergePolicy('p', 'custom', (m) =>
      m.merge([
        { key: 's', source: 'new', value: 'string' },
        { key: 'b', source: 'new', value: Uint8Array.of(0, 1, 255) },
        { key: 'e', source: 'new', value: '' },
        { key: 'l', source: 'new', value: 'lazy small', priority: 'lazy' },
        { key: 'ex', source: 'new', value: 'explicit', priority: 'eager' },
        { key: 'r', source: 'new', value: ref },
        { key: 'rl', source: 'new', value: lazyRef, priority: 'lazy' },
        { key: 'absent', source: 'delete' },
      ]),
    )
    await within(a.waitForConflictResolution())
    const snap = await a.snapshot()
    expect(hex(await snap.get('b'))).toBe('0001ff')
    expect(await snap.get('e')).toEqual(new Uint8Array(0))
    expect(str(await snap.get('s'))).toBe('string')
    expect(str(await snap.get('l'))).toBe('lazy small')
    expect(same(await snap.get('r'), big)).toBe(true)
    expect(str(await snap.get('rl'))).toBe('tiny but lazy')
    expect(await snap.get('absent')).toBeUndefined()
    expect(await priorities(snap)).toEqual({ b: 'eager', e: 'eager', ex: 'eager', l: 'lazy', r: 'eager', rl: 'lazy', s: 'eager', x: 'eager' })
  })

  it('a resolver value of 4 MiB is accepted inline', async () => {
    const big = seeded(4 * 1024 * 1024, 9)
    const ledger = await memoryLedger({ mergePolicy: 'custom', resolver: (m) => m.merge([{ key: 'k', source: 'new', value: big }]) })
    const { a } = await fork(ledger, 'p', EMPTY, { k: 'older' }, { k: 'newer' })
    await within(a.waitForConflictResolution(), 20_000)
    expect(same(await (await a.snapshot()).get('k'), big)).toBe(true)
  })

  it('bad MergedValue shapes reject with INVALID_ARGUMENT (a LedgerError, not a TypeError) and the merge is not committed', async () => {
    const codes: Record<string, string> = {}
    let attempt = 0
    const other = await memoryLedger()
    const foreign = await (await other.page('x')).createReference(seeded(5000, 1))
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: async (m) => {
        attempt++
        if (attempt === 1) {
          const bad: Record<string, () => Promise<void>> = {
            'merge()': () => m.merge(any(undefined)),
            'merge(null)': () => m.merge(any(null)),
            'merge({})': () => m.merge(any({ key: 'k', source: 'delete' })),
            '[null]': () => m.merge(any([null])),
            '["k"]': () => m.merge(any(['k'])),
            'no key': () => m.merge(any([{ source: 'delete' }])),
            'null key': () => m.merge(any([{ key: null, source: 'delete' }])),
            'number key': () => m.merge(any([{ key: 7, source: 'delete' }])),
            'array key': () => m.merge(any([{ key: [1], source: 'delete' }])),
            'no source': () => m.merge(any([{ key: 'k' }])),
            'source left': () => m.merge(any([{ key: 'k', source: 'left' }])),
            'source RIGHT': () => m.merge(any([{ key: 'k', source: 'RIGHT' }])),
            'new without value': () => m.merge(any([{ key: 'k', source: 'new' }])),
            'new null value': () => m.merge(any([{ key: 'k', source: 'new', value: null }])),
            'new number value': () => m.merge(any([{ key: 'k', source: 'new', value: 42 }])),
            'new object value': () => m.merge(any([{ key: 'k', source: 'new', value: {} }])),
            'new bad priority': () => m.merge(any([{ key: 'k', source: 'new', value: 'v', priority: 'high' }])),
            'bad item in a good batch': () => m.merge(any([{ key: 'ok', source: 'new', value: 'v' }, { key: 'k', source: 'nope' }])),
          }
          for (const [name, call] of Object.entries(bad)) codes[name] = await codeOf(call)
          codes['key too large'] = await codeOf(() => m.merge([{ key: new Uint8Array(1025), source: 'new', value: 'v' }]))
          codes['foreign reference'] = await codeOf(() => m.merge([{ key: 'k', source: 'new', value: foreign }]))
          codes['forged reference'] = await codeOf(() => m.merge([{ key: 'k', source: 'new', value: { id: 'bafkreinope', size: 3 } }]))
          return // swallowed every rejection: still, nothing may be committed
        }
        await m.merge([{ key: 'k', source: 'new', value: 'good' }])
      },
    })
    const { a } = await fork(ledger, 'p', EMPTY, { k: 'older' }, { k: 'newer' })
    await within(a.waitForConflictResolution())
    const expected: Record<string, string> = {}
    for (const name of Object.keys(codes)) expected[name] = 'INVALID_ARGUMENT'
    expected['key too large'] = 'KEY_TOO_LARGE'
    expected['foreign reference'] = 'REFERENCE_NOT_FOUND'
    expected['forged reference'] = 'REFERENCE_NOT_FOUND'
    expect(codes).toEqual(expected)
    expect(attempt).toBe(2)
    expect(await contents(a)).toEqual({ k: 'good' })
  })

  it("a null priority in a MergedValue is refused like put's (INVALID_ARGUMENT), not taken as eager", async () => {
    let code = ''
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: async (m) => {
        if (code === '') {
          code = await codeOf(() => m.merge(any([{ key: 'k', source: 'new', value: 'v', priority: null }])))
          return
        }
        await m.merge([{ key: 'k', source: 'new', value: 'after' }])
      },
    })
    const { a } = await fork(ledger, 'p', EMPTY, { k: 'older' }, { k: 'newer' })
    await within(a.waitForConflictResolution())
    // put refuses { priority: null } with INVALID_ARGUMENT; merge() takes the same Priority type.
    expect(await codeOf(() => a.put('x', 'v', { priority: any(null) }))).toBe('INVALID_ARGUMENT')
    expect(code).toBe('INVALID_ARGUMENT')
    expect(await contents(a)).toEqual({ k: 'after' })
  })

  it('calls on a context after its merge finished reject with CLOSED (fullDiff, conflictingDiff, mergeNonConflictingEntries)', async () => {
    let saved: MergeContext | undefined
    const ledger = await memoryLedger({ mergePolicy: 'custom', resolver: (m) => void (saved = m) })
    const { a } = await fork(ledger, 'p', EMPTY, { k: 'older' }, { k: 'newer' })
    await within(a.waitForConflictResolution())
    expect(await codeOf(() => collect(saved!.fullDiff()))).toBe('CLOSED')
    expect(await codeOf(() => collect(saved!.conflictingDiff()))).toBe('CLOSED')
    expect(await codeOf(() => saved!.mergeNonConflictingEntries())).toBe('CLOSED')
    expect(await codeOf(() => saved!.merge([{ key: 'k', source: 'right' }]))).toBe('CLOSED')
    expect(await contents(a)).toEqual({ k: 'newer' })
    // Its snapshots stay readable.
    expect(str(await saved!.right.get('k'))).toBe('older')
  })

  it('keys given as bytes and as strings are the same key for merge(); values passed are copied', async () => {
    const value = utf8('original')
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: async (m) => {
        await m.merge([{ key: utf8('k'), source: 'new', value: 'bytes key' }, { key: 'k', source: 'new', value }])
        value.fill(0x21) // the caller reuses its buffer before the merge commits
        await m.merge([{ key: 'j', source: 'delete' }, { key: utf8('j'), source: 'new', value: 'j by bytes' }])
      },
    })
    const { a } = await fork(ledger, 'p', { j: 'j0' }, { k: 'older' }, { k: 'newer' })
    await within(a.waitForConflictResolution())
    expect(await contents(a)).toEqual({ j: 'j by bytes', k: 'original' })
  })

  it("priority on 'right' and value on 'delete' are ignored or refused, never stored", async () => {
    let code = ''
    const ledger = await memoryLedger({
      mergePolicy: 'custom',
      resolver: async (m) => {
        if (code === '') {
          code = await codeOf(() =>
            m.merge([
              { key: 'k', source: 'right', priority: 'lazy' },
              { key: 'd', source: 'delete', value: 'ignored' },
            ]),
          )
          if (code === 'resolved') return
        }
        await m.merge([{ key: 'k', source: 'right' }, { key: 'd', source: 'delete' }])
      },
    })
    const { a } = await fork(ledger, 'p', { d: 'd0' }, { k: 'older' }, { k: 'newer' })
    await within(a.waitForConflictResolution())
    expect(['resolved', 'INVALID_ARGUMENT']).toContain(code)
    expect(await contents(a)).toEqual({ k: 'older' })
    expect(await priorities(a)).toEqual({ k: 'eager' })
  })
})
