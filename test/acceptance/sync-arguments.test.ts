/** Black-box acceptance tests (package root only; hostile peers use `ws` and dag-cbor). Sync: bad arguments to listen, connect, sync, onSyncState, connectInMemory → LedgerError, never a crash or hang. */
import { describe, expect, it } from 'vitest'
import { Ledger, LedgerError, connectInMemory } from 'dagkv'
import { utf8 } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { ZERO, failureOf, expectCode, hex, serve, dial, link } from './sync-api-helpers.js'

describe('acceptance / sync API: bad arguments → LedgerError, never a crash or hang', () => {
  it('connect: a non-string or empty url, bad options or a token of the wrong type → INVALID_ARGUMENT; the ledger stays usable', async () => {
    const a = await memoryLedger()
    for (const url of [123, undefined, null, {}, ['ws://127.0.0.1:1'], '']) {
      await expectCode(() => a.connect(url as unknown as string), 'INVALID_ARGUMENT')
    }
    const b = await memoryLedger()
    const listener = await serve(b)
    for (const token of [123, {}, true, ['t'], null]) {
      await expectCode(() => a.connect(listener.url, { token: token as unknown as string }), 'INVALID_ARGUMENT')
    }
    await expectCode(() => a.connect(listener.url, 'token' as unknown as { token: string }), 'INVALID_ARGUMENT')
    // None of the refused calls connected anything.
    expect(await (await a.page('p')).sync()).toEqual(ZERO)
    // And the ledger still connects fine.
    const peer = await dial(a, listener.url)
    expect(peer.id).toBe(b.replicaId)
  })

  it('connect: a URL that is not ws:// (http, garbage, a path) → NETWORK_ERROR or INVALID_ARGUMENT, promptly', async () => {
    const a = await memoryLedger()
    for (const url of ['not a url', 'http://127.0.0.1:1', 'ftp://127.0.0.1/x', 'ws://', 'ws://256.256.256.256:1']) {
      await expectCode(() => a.connect(url), 'NETWORK_ERROR', 'INVALID_ARGUMENT')
    }
  })

  it('listen: negative, fractional, too large or non-number port, bad token, host or maxFrameBytes → INVALID_ARGUMENT', async () => {
    const a = await memoryLedger()
    const bad: Record<string, unknown>[] = [
      { port: -1 },
      { port: 65536 },
      { port: 1.5 },
      { port: '8080' },
      { port: Number.NaN },
      { token: 123 },
      { token: {} },
      { host: 5 },
      { host: '' },
      { maxFrameBytes: -1 },
      { maxFrameBytes: 0 },
      { maxFrameBytes: 1.5 },
      { maxFrameBytes: '16' },
    ]
    for (const options of bad) {
      const err = await expectCode(() => a.listen({ host: '127.0.0.1', ...options } as never), 'INVALID_ARGUMENT')
      expect(err.message.length).toBeGreaterThan(0)
    }
    await expectCode(() => a.listen('127.0.0.1' as never), 'INVALID_ARGUMENT')
    // Still usable.
    const l = await serve(a)
    expect(l.url).toBe(`ws://127.0.0.1:${l.port}`)
    expect(l.port).toBeGreaterThan(0)
  })

  it('listen on a port already taken → NETWORK_ERROR (not a crash); the first listener keeps serving', async () => {
    const a = await memoryLedger()
    await (await a.page('p')).put('k', 'v')
    const first = await serve(a)
    const b = await memoryLedger()
    await expectCode(() => b.listen({ host: '127.0.0.1', port: first.port }), 'NETWORK_ERROR', 'IO_ERROR')
    const c = await memoryLedger()
    await dial(c, first.url)
    expect((await (await c.page('p')).sync({ mode: 'pull' })).commitsReceived).toBe(1)
  })

  it('sync: bad mode, peers not an array of strings, options not an object → INVALID_ARGUMENT and nothing is exchanged', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    link(a, b)
    const pa = await a.page('p')
    await pa.put('k', 'v')
    const bad: unknown[] = [
      { mode: 'sideways' },
      { mode: 'PUSH' },
      { mode: 1 },
      { mode: null },
      { peers: b.replicaId },
      { peers: [1] },
      { peers: {} },
      { peers: [b.replicaId, 7] },
      'push',
      42,
    ]
    for (const options of bad) {
      await expectCode(() => pa.sync(options as never), 'INVALID_ARGUMENT')
    }
    // An id that is not connected, alone or next to a connected one.
    await expectCode(() => pa.sync({ peers: ['nobody'] }), 'INVALID_ARGUMENT')
    await expectCode(() => pa.sync({ mode: 'push', peers: [b.replicaId, 'nobody'] }), 'INVALID_ARGUMENT')
    await expectCode(() => pa.sync({ mode: 'push', peers: [a.replicaId] }), 'INVALID_ARGUMENT') // itself is no peer
    // None of those pushed anything.
    expect(await b.pages()).toEqual([])
    // The page is still usable and a good call works.
    const stats = await pa.sync({ mode: 'push', peers: [b.replicaId] })
    expect(stats.commitsSent).toBe(1)
    expect((await b.pages()).map(hex)).toEqual([hex(utf8('p'))])
  })

  it('sync: options undefined, null or {} mean mode both with every peer', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    link(a, b)
    const pa = await a.page('p')
    const pb = await b.page('p')
    await pa.put('from-a', '1')
    await pb.put('from-b', '2')
    const s1 = await pa.sync(undefined)
    expect(s1.commitsReceived).toBe(1)
    expect(s1.commitsSent).toBeGreaterThanOrEqual(1)
    await pa.waitForConflictResolution()
    await pa.put('more', '3')
    expect((await pa.sync(null as never)).commitsSent).toBeGreaterThanOrEqual(1)
    await pb.put('more-b', '4')
    expect((await pa.sync({})).commitsReceived).toBeGreaterThanOrEqual(1)
  })

  it('onSyncState with a non-function → INVALID_ARGUMENT', async () => {
    const a = await memoryLedger()
    const p = await a.page('p')
    for (const bad of [undefined, null, 'f', {}]) {
      const err = await failureOf(() => p.onSyncState(bad as never))
      expect(LedgerError.is(err, 'INVALID_ARGUMENT'), String(err)).toBe(true)
    }
  })

  it('connectInMemory: a ledger with itself or a non-ledger → INVALID_ARGUMENT; with a closed ledger → CLOSED', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    await expectCode(() => connectInMemory(a, a), 'INVALID_ARGUMENT')
    await expectCode(() => connectInMemory(a, {} as Ledger), 'INVALID_ARGUMENT')
    await expectCode(() => connectInMemory(undefined as unknown as Ledger, b), 'INVALID_ARGUMENT')
    const closed = await Ledger.open({ autoSync: false })
    await closed.close()
    await expectCode(() => connectInMemory(a, closed), 'CLOSED')
    await expectCode(() => connectInMemory(closed, a), 'CLOSED')
    // a is still linkable.
    link(a, b)
    const pa = await a.page('p')
    await pa.put('k', 'v')
    expect((await pa.sync({ mode: 'push' })).commitsSent).toBe(1)
  })
})
