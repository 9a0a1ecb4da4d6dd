/** Outgoing connects against silent servers: sync does not wait for them, close cuts them (CLOSED). */
import { createServer, type Socket } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { WebSocketServer } from 'ws'
import { Ledger } from 'dagkv'
import { asyncCodeOf, within } from '../acceptance/api-helpers.js'

async function silentWsServer(): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((r) => wss.once('listening', () => r()))
  onTestFinished(() => new Promise<void>((r) => {
    for (const c of wss.clients) c.terminate()
    wss.close(() => r())
  }))
  const a = wss.address() as { port: number }
  return `ws://127.0.0.1:${a.port}`
}

async function silentTcpServer(): Promise<string> {
  const sockets = new Set<Socket>()
  const server = createServer((s) => void sockets.add(s))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  onTestFinished(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy()
    server.close(() => r())
  }))
  const a = server.address() as { port: number }
  return `ws://127.0.0.1:${a.port}`
}

describe('connect and close', () => {
  it('a connect in its handshake with a silent WebSocket server: sync does not wait, close cuts it (CLOSED)', async () => {
    const url = await silentWsServer()
    const ledger = await Ledger.open({ autoSync: false })
    const page = await ledger.page('p')
    const connecting = asyncCodeOf(() => ledger.connect(url))
    await new Promise((r) => setTimeout(r, 100))
    expect(await within(page.sync(), 1000)).not.toBe('timeout')
    const t0 = Date.now()
    expect(await within(ledger.close(), 2000)).not.toBe('timeout')
    expect(await within(connecting, 2000)).toBe('CLOSED')
    expect(Date.now() - t0).toBeLessThan(2000)
  })

  it('a connect still opening its socket (server never answers the upgrade) settles soon after ledger.close', async () => {
    const url = await silentTcpServer()
    const ledger = await Ledger.open({ autoSync: false })
    const connecting = asyncCodeOf(() => ledger.connect(url))
    await new Promise((r) => setTimeout(r, 100))
    expect(await within(ledger.close(), 2000)).not.toBe('timeout')
    // HEAD: still pending here; it rejects only at the 10 s connect timeout, socket open till then.
    expect(await within(connecting, 2000)).toBe('CLOSED')
  })
})
