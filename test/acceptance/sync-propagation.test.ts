/** Black-box acceptance tests (package root only; hostile peers use `ws` and dag-cbor). Sync: autoSync, propagation across pages and chains, sync state. */
import { describe, expect, it } from 'vitest'
import { Ledger, type PageSyncState } from 'dagkv'
import { str, until, utf8 } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { autoLedger, expectCode, contents, headOf, hex, seeded, serve, dial, link } from './sync-api-helpers.js'

describe('acceptance / sync API: autoSync and propagation', () => {
  it('on connect both sides get each other\'s pages, including pages neither opened; the same page written on both converges', async () => {
    const s = await autoLedger()
    const c = await autoLedger()
    await (await s.page('server-only')).put('k', 's')
    await (await c.page('client-only')).put('k', 'c')
    const ps = await s.page('both')
    const pc = await c.page('both')
    await ps.put('s', '1')
    await pc.put('c', '2')
    const listener = await serve(s)
    await dial(c, listener.url)
    const names = (l: Ledger) => l.pages().then((ids) => ids.map((id) => str(id)).sort().join(','))
    await until(async () => (await names(s)) === 'both,client-only,server-only' && (await names(c)) === 'both,client-only,server-only', 10_000)
    expect(await contents(await s.page('client-only'))).toEqual({ k: 'c' })
    expect(await contents(await c.page('server-only'))).toEqual({ k: 's' })
    await until(async () => {
      await ps.waitForConflictResolution()
      await pc.waitForConflictResolution()
      return (await headOf(ps)) === (await headOf(pc))
    }, 10_000)
    expect(await contents(ps)).toEqual({ c: '2', s: '1' })
  })

  it('on connect, more than 256 pages arrive, with binary ids (the root page, a 128-byte id) and edge-size keys', async () => {
    const s = await autoLedger()
    const c = await autoLedger()
    const ids: Uint8Array[] = []
    for (let i = 0; i < 300; i++) ids.push(utf8(`pg-${String(i).padStart(3, '0')}`))
    ids.push(new Uint8Array(16)) // the root page
    ids.push(new Uint8Array(128).fill(0xfe))
    ids.push(new Uint8Array([0, 255, 0x80, 0xc3]))
    for (const id of ids) await (await s.page(id)).put('k', hex(id))
    const root = await s.rootPage()
    const bigKey = new Uint8Array(1024).fill(0x61)
    await root.put(bigKey, 'max-size key')
    await root.put('', 'empty key')
    const listener = await serve(s)
    await dial(c, listener.url)
    await until(async () => (await c.pages()).length === ids.length, 15_000)
    expect((await c.pages()).map(hex)).toEqual((await s.pages()).map(hex))
    const croot = await c.rootPage()
    await until(async () => (await headOf(croot)) === (await headOf(root)))
    const snap = await croot.snapshot()
    expect(str(await snap.get(bigKey))).toBe('max-size key')
    expect(str(await snap.get(''))).toBe('empty key')
    expect(str(await (await (await c.page(new Uint8Array(128).fill(0xfe))).snapshot()).get('k'))).toBe('fe'.repeat(128))
  })

  it('after connecting, a page created on the server reaches the client, and a transaction commit syncs as one', async () => {
    const s = await autoLedger()
    const c = await autoLedger()
    const listener = await serve(s)
    await dial(c, listener.url)
    const ps = await s.page('new-on-server')
    await ps.put('first', '1')
    await until(async () => (await c.pages()).length === 1)
    const pc = await c.page('new-on-server')
    await until(async () => (await contents(pc))['first'] === '1')
    await ps.startTransaction()
    await ps.put('t1', 'a')
    await ps.put('t2', 'b')
    await ps.delete('first')
    await ps.commit()
    const head = await headOf(ps)
    await until(async () => (await headOf(pc)) === head)
    expect(await contents(pc)).toEqual({ t1: 'a', t2: 'b' })
    // A rolled-back transaction sends nothing: the heads stay equal.
    await ps.startTransaction()
    await ps.put('never', 'x')
    await ps.rollback()
    await ps.put('after', 'y')
    const head2 = await headOf(ps)
    await until(async () => (await headOf(pc)) === head2)
    expect(await contents(pc)).toEqual({ after: 'y', t1: 'a', t2: 'b' })
  })

  it('a chain A–B–C over WebSocket and memory converges although B never opens the page', async () => {
    const a = await autoLedger()
    const b = await autoLedger()
    const c = await autoLedger()
    const listener = await serve(b)
    await dial(a, listener.url)
    link(b, c)
    const pa = await a.page('chain')
    const pc = await c.page('chain')
    await pa.put('from-a', '1')
    await until(async () => (await contents(pc))['from-a'] === '1', 10_000)
    await pc.put('from-c', '2')
    await until(async () => (await contents(pa))['from-c'] === '2', 10_000)
    await until(async () => {
      await pa.waitForConflictResolution()
      await pc.waitForConflictResolution()
      return (await headOf(pa)) === (await headOf(pc))
    }, 10_000)
    expect((await b.pages()).map(hex)).toEqual([hex(utf8('chain'))])
    const pb = await b.page('chain')
    expect(await headOf(pb)).toBe(await headOf(pa))
  })

  it('a chain A–B–C with manual syncs: A pushes to B, B pushes on to C', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    const c = await memoryLedger()
    link(a, b)
    const listener = await serve(c)
    await dial(b, listener.url)
    const pa = await a.page('m')
    await pa.put('k', 'v')
    expect((await pa.sync({ mode: 'push' })).commitsSent).toBe(1)
    const pb = await b.page('m')
    const s = await pb.sync({ mode: 'push', peers: [c.replicaId] })
    expect(s.commitsSent).toBe(1)
    expect(await contents(await c.page('m'))).toEqual({ k: 'v' })
    expect(await headOf(await c.page('m'))).toBe(await headOf(pa))
  })

  it('autoSync off: nothing moves by itself; a manual sync moves it', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    const pa = await a.page('p')
    await pa.put('k', 'v')
    link(a, b)
    await pa.put('k2', 'v2')
    // A round trip on the link after the writes: had anything been sent by itself, it would be here.
    await (await b.page('probe')).sync({ mode: 'pull' })
    await (await a.page('probe')).sync({ mode: 'pull' })
    expect((await b.pages()).map(hex)).toEqual([])
    expect((await pa.sync({ mode: 'push' })).commitsSent).toBe(2)
  })
})

describe('acceptance / sync API: sync state', () => {
  it('a new page is idle/idle; push shows upload in-progress then idle; listeners get copies; unsubscribe stops them', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    link(a, b)
    const pa = await a.page('st')
    expect(pa.syncState()).toEqual({ download: 'idle', upload: 'idle' })
    for (let i = 0; i < 30; i++) await pa.put(`k${i}`, seeded(1000, i))
    const seen: PageSyncState[] = []
    const seen2: PageSyncState[] = []
    const off = pa.onSyncState((s) => seen.push(s))
    const off2 = pa.onSyncState((s) => seen2.push(s))
    const throwing = pa.onSyncState(() => {
      throw new Error('listener failure is its own')
    })
    await pa.sync({ mode: 'push' })
    expect(seen).toContainEqual({ download: 'idle', upload: 'in-progress' })
    expect(seen.at(-1)).toEqual({ download: 'idle', upload: 'idle' })
    expect(pa.syncState()).toEqual({ download: 'idle', upload: 'idle' })
    for (const s of seen) {
      expect(Object.keys(s).sort()).toEqual(['download', 'upload'])
      for (const v of [s.download, s.upload]) expect(['idle', 'pending', 'in-progress', 'error']).toContain(v)
    }

    off()
    off() // twice is harmless
    throwing()
    const count = seen.length
    const count2 = seen2.length
    const pb = await b.page('st')
    await pb.put('b', '1')
    await pa.sync({ mode: 'pull' })
    expect(seen.length).toBe(count)
    expect(seen2.length).toBeGreaterThan(count2)
    expect(seen2).toContainEqual({ download: 'in-progress', upload: 'idle' })
    off2()
  })

  it('the object syncState() returns (or a listener gets) is the caller\'s: mutating it does not change the page\'s state', async () => {
    const a = await memoryLedger()
    const b = await memoryLedger()
    link(a, b)
    const pa = await a.page('st')
    await pa.put('k', 'v')
    const seen: PageSyncState[] = []
    const off = pa.onSyncState((s) => seen.push(s))
    await pa.sync({ mode: 'push' })
    off()
    seen.at(-1)!.upload = 'error'
    expect(pa.syncState()).toEqual({ download: 'idle', upload: 'idle' })
    const st = pa.syncState()
    st.download = 'error'
    st.upload = 'pending'
    expect(pa.syncState()).toEqual({ download: 'idle', upload: 'idle' })
    // Also before any sync ran for the page.
    const fresh = await a.page('never-synced')
    const st2 = fresh.syncState()
    st2.download = 'error'
    expect(fresh.syncState()).toEqual({ download: 'idle', upload: 'idle' })
  })

  it('a peer that closes its connection shows as error on the other side; the next successful sync clears it', async () => {
    const s = await memoryLedger()
    const c = await memoryLedger()
    const listener = await serve(s)
    const peer = await dial(c, listener.url)
    const pc = await c.page('p')
    await pc.put('k', 'v')
    await pc.sync({ mode: 'push' })
    const ps = await s.page('p')
    const states: PageSyncState[] = []
    const off = ps.onSyncState((st) => states.push(st))
    await peer.close()
    await until(() => ps.syncState().download === 'error' || ps.syncState().upload === 'error')
    expect(states.some((st) => st.download === 'error' || st.upload === 'error')).toBe(true)
    off()
    await dial(c, listener.url)
    await pc.put('k2', 'v2')
    await pc.sync()
    expect(pc.syncState()).toEqual({ download: 'idle', upload: 'idle' })
    await ps.sync({ mode: 'pull' })
    expect(ps.syncState().download).toBe('idle')
  })

  it('syncState and onSyncState on a closed page or ledger → CLOSED', async () => {
    const a = await Ledger.open({ autoSync: false })
    const p = await a.page('p')
    const q = await a.page('q')
    await p.close()
    await expectCode(() => p.syncState(), 'CLOSED')
    await expectCode(() => p.onSyncState(() => undefined), 'CLOSED')
    await expectCode(() => p.sync(), 'CLOSED')
    await a.close()
    await expectCode(() => q.syncState(), 'CLOSED')
    await expectCode(() => q.onSyncState(() => undefined), 'CLOSED')
    await expectCode(() => q.sync(), 'CLOSED')
  })
})
