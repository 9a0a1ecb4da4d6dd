/** Black-box acceptance tests (package root only; hostile peers use `ws` and dag-cbor). Sync: tokens (UNAUTHORIZED, nothing of the data learned). */
import * as dagCbor from '@ipld/dag-cbor'
import { describe, expect, it } from 'vitest'
import { until, utf8 } from '../helpers/bytes.js'
import { memoryLedger } from '../helpers/ledgers.js'
import { ZERO, autoLedger, expectCode, contents, hex, containsBytes, serve, dial, type Msg, RawClient } from './sync-api-helpers.js'

describe('acceptance / sync API: tokens', () => {
  it('a refused raw client learns nothing of the data: only the hello and a reject reach it', async () => {
    const server = await memoryLedger({ autoSync: true })
    const secretPage = utf8('secret-page-id-0123')
    const secretValue = utf8('TOP-SECRET-VALUE-abcdef')
    await (await server.page(secretPage)).put('secret-key-xyz', secretValue)
    const listener = await serve(server, { token: 'right' })

    // 1. No proof at all, and a pull pipelined after the auth.
    const r1 = await RawClient.open(listener.url)
    r1.hello()
    r1.send({ t: 'auth' })
    r1.send({ t: 'pull', s: 0, id: 1, page: secretPage, have: [] })
    const c1 = await r1.expectDropped()
    // 2. A wrong proof.
    const r2 = await RawClient.open(listener.url)
    r2.hello()
    r2.send({ t: 'auth', mac: new Uint8Array(32).fill(7) })
    const c2 = await r2.expectDropped()
    // 3. Skipping the auth and asking straight away.
    const r3 = await RawClient.open(listener.url)
    r3.hello()
    r3.send({ t: 'pull', s: 0, id: 1, page: secretPage, have: [] })
    await r3.expectDropped()
    // 4. Not even a hello.
    const r4 = await RawClient.open(listener.url)
    r4.send({ t: 'getBlocks', s: 0, id: 1, cids: [] })
    await r4.expectDropped()

    for (const raw of [r1, r2, r3, r4]) {
      const types = raw.frames.map((f) => (dagCbor.decode(f) as Msg).t)
      for (const t of types) expect(['hello', 'reject']).toContain(t)
      for (const f of raw.frames) {
        expect(containsBytes(f, secretPage)).toBe(false)
        expect(containsBytes(f, secretValue)).toBe(false)
        expect(containsBytes(f, utf8('secret-key-xyz'))).toBe(false)
      }
    }
    expect(r1.frames.map((f) => (dagCbor.decode(f) as Msg).t)).toEqual(['hello', 'reject'])
    expect(c1.code).toBe(4401)
    expect(c2.code).toBe(4401)
    // The server's hello says a token is required.
    expect((dagCbor.decode(r1.frames[0]!) as Msg)['auth']).toBe(true)
  })

  it('connect with a wrong or missing token → UNAUTHORIZED promptly; the same ledger then connects with the right one', async () => {
    const server = await autoLedger()
    await (await server.page('p')).put('k', 'v')
    const listener = await serve(server, { token: 's3cret' })
    const client = await autoLedger()
    await (await client.page('mine')).put('c', 'x')
    const started = Date.now()
    await expectCode(() => client.connect(listener.url), 'UNAUTHORIZED')
    await expectCode(() => client.connect(listener.url, { token: 'S3CRET' }), 'UNAUTHORIZED')
    await expectCode(() => client.connect(listener.url, { token: 's3cret ' }), 'UNAUTHORIZED')
    expect(Date.now() - started).toBeLessThan(5000)
    // Nothing crossed either way.
    expect((await client.pages()).map(hex)).toEqual([hex(utf8('mine'))])
    expect((await server.pages()).map(hex)).toEqual([hex(utf8('p'))])
    // The page's sync sees no peer.
    expect(await (await client.page('mine')).sync()).toEqual(ZERO)
    const peer = await dial(client, listener.url, 's3cret')
    expect(peer.id).toBe(server.replicaId)
    await until(async () => (await server.pages()).length === 2 && (await client.pages()).length === 2)
    expect(await contents(await client.page('p'))).toEqual({ k: 'v' })
  })

  it('a client with a token may connect to a server without one; a token with unicode works', async () => {
    const open = await memoryLedger()
    const l1 = await serve(open)
    const client = await memoryLedger()
    const p1 = await dial(client, l1.url, 'whatever')
    expect(p1.id).toBe(open.replicaId)
    const guarded = await memoryLedger()
    await (await guarded.page('g')).put('k', 'v')
    const token = 'pässwörd-🔑-' + 'x'.repeat(300)
    const l2 = await serve(guarded, { token })
    const p2 = await dial(client, l2.url, token)
    expect(p2.id).toBe(guarded.replicaId)
    expect((await (await client.page('g')).sync({ mode: 'pull', peers: [p2.id] })).commitsReceived).toBe(1)
  })
})
