import { describe, expect, it } from 'vitest'
import { engineOf } from '../../src/ledger/index.js'
import { linkInMemory } from '../../src/sync/index.js'
import { until } from '../helpers/bytes.js'
import { contents, expectCode, memoryLinker, replica } from './helpers.js'

describe('sync: histories, cuts and many pages (in-memory)', () => {
  it('diverged replicas exchange about the divergence, not the shared history', async () => {
    const a = await replica()
    const b = await replica()
    await memoryLinker(a, b)
    const pa = await a.page('h')
    for (let i = 0; i < 100; i++) await pa.put(`shared${i}`, String(i))
    const pb = await b.page('h')
    await pb.sync({ mode: 'pull' })
    for (let i = 0; i < 50; i++) {
      await pa.put(`a${i}`, 'x')
      await pb.put(`b${i}`, 'y')
    }
    const pulled = await pb.sync({ mode: 'pull' })
    expect(pulled.commitsReceived).toBeGreaterThanOrEqual(50)
    expect(pulled.commitsReceived).toBeLessThanOrEqual(100)
    expect(pulled.roundTrips).toBe(1)
    await pb.waitForConflictResolution()
    const pushed = await pb.sync({ mode: 'push' })
    expect(pushed.commitsSent).toBeLessThanOrEqual(101)
    await pa.waitForConflictResolution()
    expect(await contents(pa)).toEqual(await contents(pb))
    expect(Object.keys(await contents(pa))).toHaveLength(200)
  })

  it('a link cut in the middle of a pull leaves nothing half-received; a new link completes it', async () => {
    const a = await replica()
    const b = await replica()
    const pa = await a.page('cut')
    await pa.startTransaction()
    for (let i = 0; i < 20_000; i++) void pa.put(`key-${i}`, 'v'.repeat(50))
    await pa.commit()
    for (let i = 0; i < 20; i++) await pa.put(`more${i}`, 'x')
    // Frames: 2+2 handshake, the pull, then the first frames of the (multi-frame) answer.
    const cut = linkInMemory(b, a, { cutAfter: 7 })
    await cut.ready
    const pb = await b.page('cut')
    await expectCode(pb.sync({ mode: 'pull' }), 'NETWORK_ERROR')
    expect(await b.pages()).toEqual([])
    let blocks = 0
    for await (const _ of engineOf(b).store.allBlocks()) blocks++
    expect(blocks).toBe(0)
    await memoryLinker(b, a)
    const stats = await pb.sync({ mode: 'pull' })
    expect(stats.commitsReceived).toBe(21)
    expect(Object.keys(await contents(pb))).toHaveLength(20_020)
  })

  it('a lazy value with no peer connected → NETWORK_ERROR; NEEDS_FETCH on get', async () => {
    const a = await replica()
    const b = await replica()
    await (await a.page('lz')).put('v', 'x'.repeat(4000), { priority: 'lazy' })
    const link = await memoryLinker(b, a)
    const pb = await b.page('lz')
    await pb.sync({ mode: 'pull' })
    await link.close()
    const snap = await pb.snapshot()
    await expectCode(snap.get('v'), 'NEEDS_FETCH')
    await expectCode(snap.fetch('v'), 'NETWORK_ERROR')
    await expectCode(snap.fetchPartial('v', 0, 10), 'NETWORK_ERROR')
    await memoryLinker(b, a)
    expect((await snap.fetchPartial('v', 0, 10))?.length).toBe(10)
  })

  it('autoSync brings every page on connect, many at once', async () => {
    const a = await replica({ autoSync: true })
    const b = await replica({ autoSync: true })
    for (let i = 0; i < 40; i++) await (await a.page(`page-${i}`)).put('k', String(i))
    await memoryLinker(a, b)
    await until(async () => (await b.pages()).length === 40, 10_000)
    expect(await contents(await b.page('page-33'))).toEqual({ k: '33' })
  })

  it('a push of a big first commit counts the tree nodes the peer fetched for it', async () => {
    const a = await replica()
    const b = await replica()
    await memoryLinker(a, b)
    const pa = await a.page('big')
    await pa.startTransaction()
    for (let i = 0; i < 5000; i++) void pa.put(`k${i}`, `value ${i}`)
    await pa.commit()
    const pushed = await pa.sync({ mode: 'push' })
    expect(pushed.roundTrips).toBe(1)
    expect(pushed.commitsSent).toBe(1)
    expect(pushed.blocksSent).toBeGreaterThan(100)
    expect(pushed.bytesSent).toBeGreaterThan(5000 * 12)
    expect(pushed.bytesReceived).toBeGreaterThan(1000) // the peer's getBlocks requests
    expect(Object.keys(await contents(await b.page('big')))).toHaveLength(5000)
  })

  it('the same content written on both sides travels as the commit alone', async () => {
    const a = await replica()
    const b = await replica()
    const pa = await a.page('same')
    const pb = await b.page('same')
    for (const p of [pa, pb]) {
      await p.startTransaction()
      for (let i = 0; i < 5000; i++) void p.put(`k${i}`, `value ${i}`)
      await p.commit()
    }
    await memoryLinker(b, a)
    const stats = await pb.sync({ mode: 'pull' })
    expect(stats.commitsReceived).toBe(1)
    expect(stats.blocksReceived).toBe(1)
    expect(stats.bytesReceived).toBeLessThan(1000)
    await pb.waitForConflictResolution()
    expect((await pb.snapshot()).contentId).toBe((await pa.snapshot()).contentId)
  })
})
