import { describe, expect, it, onTestFinished } from 'vitest'
import type { Ledger } from 'dagkv'
import { engineOf } from '../../src/ledger/index.js'
import { handshake } from '../../src/sync/handshake.js'
import { connectWebSocket } from '../../src/sync/transport/index.js'
import { until } from '../helpers/bytes.js'
import { contents, expectCode, replica, websocketLinker } from './helpers.js'
import { syncSuite } from './suite.js'

syncSuite('WebSocket', websocketLinker)

describe('WebSocket: tokens, limits, connections', () => {
  it('a wrong or missing token → UNAUTHORIZED, and the refused side received no page data', async () => {
    const server = await replica({ autoSync: true })
    const page = await server.page('secret-page')
    await page.put('k', 'v')
    const listener = await server.listen({ host: '127.0.0.1', port: 0, token: 'right' })
    onTestFinished(() => listener.close())
    const client = await replica({ autoSync: true })
    await expectCode(client.connect(listener.url), 'UNAUTHORIZED')
    await expectCode(client.connect(listener.url, { token: 'wrong' }), 'UNAUTHORIZED')
    await new Promise((r) => setTimeout(r, 50))
    expect(await client.pages()).toEqual([])
    expect(await countBlocks(client)).toBe(0)
    // And the server got nothing from a refused client.
    const other = await replica({ autoSync: true })
    await (await other.page('other-page')).put('c', 'x')
    await expectCode(other.connect(listener.url, { token: 'wrong' }), 'UNAUTHORIZED')
    expect(await server.pages()).toHaveLength(1)
    const peer = await client.connect(listener.url, { token: 'right' })
    expect(peer.id).toBe(server.replicaId)
    await until(async () => (await client.pages()).length === 1)
    expect(await contents(await client.page('secret-page'))).toEqual({ k: 'v' })
    await peer.close()
    await peer.close()
  })

  it('connect never hangs: a closed port or a bad URL → NETWORK_ERROR', async () => {
    const a = await replica()
    const b = await replica()
    const listener = await b.listen({ port: 0 })
    const url = listener.url
    await listener.close()
    await expectCode(a.connect(url), 'NETWORK_ERROR')
    await expectCode(a.connect('http://127.0.0.1:1'), 'NETWORK_ERROR')
    await expectCode(a.connect('not a url'), 'NETWORK_ERROR')
  })

  it('a frame over the server limit drops that peer; the server and its other peers go on', async () => {
    const server = await replica()
    await (await server.page('p')).put('k', 'v')
    const listener = await server.listen({ port: 0, maxFrameBytes: 64 * 1024 })
    onTestFinished(() => listener.close())
    const transport = await connectWebSocket(listener.url)
    onTestFinished(() => transport.close())
    await handshake(transport, { role: 'client', replicaId: 'raw' })
    const closed = new Promise((resolve) => transport.onClose(resolve))
    transport.send(new Uint8Array(200_000))
    expect(await closed).toMatchObject({ code: 'NETWORK_ERROR' })
    const good = await replica()
    const peer = await good.connect(listener.url)
    onTestFinished(() => peer.close())
    const stats = await (await good.page('p')).sync({ mode: 'pull' })
    expect(stats.commitsReceived).toBe(1)
  })

  it('closing the listener drops its peers (reported in sync state); closing the ledger releases the port', async () => {
    const server = await replica()
    await (await server.page('p')).put('k', 'v')
    const listener = await server.listen({ port: 0 })
    const client = await replica()
    await client.connect(listener.url)
    const page = await client.page('p')
    await page.sync({ mode: 'pull' })
    await listener.close()
    await until(() => page.syncState().download === 'error')
    expect(await page.sync()).toMatchObject({ roundTrips: 0 })
    const again = await server.listen({ port: 0 })
    await server.close()
    await expectCode(client.connect(again.url), 'NETWORK_ERROR')
  })
})

async function countBlocks(ledger: Ledger): Promise<number> {
  let n = 0
  for await (const _ of engineOf(ledger).store.allBlocks()) n++
  return n
}
