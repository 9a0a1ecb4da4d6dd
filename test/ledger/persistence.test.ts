import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Ledger } from 'dagkv'
import { str } from '../helpers/bytes.js'
import { tempDir } from '../helpers/ledgers.js'
import { expectCode } from '../suites/ledger-basics.js'
import { bigValue, isBig } from './fixtures/big-value.js'

const writer = fileURLToPath(new URL('./fixtures/writer.ts', import.meta.url))
const KILLS = Number(process.env.DAGKV_KILLS ?? 20)

function startWriter(path: string, mode: string): { child: ChildProcess; acked: () => number; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, path, mode], { stdio: ['ignore', 'pipe', 'inherit'] })
  let last = -1
  let buffer = ''
  let onFirst!: () => void
  const ready = new Promise<void>((r) => (onFirst = r))
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString()
    const lines = buffer.split('\n')
    buffer = lines.pop()!
    for (const line of lines) {
      if (line.startsWith('ack ')) last = Number(line.slice(4))
      onFirst()
    }
  })
  return { child, acked: () => last, ready }
}

describe('persistence on classic-level', () => {
  it('reopens with the same replica id and data', async () => {
    const path = join(tempDir(), 'db')
    const a = await Ledger.open({ path, replicaId: 'replica-one', autoSync: false })
    await (await a.page('p')).put('k', 'v')
    await a.close()
    const b = await Ledger.open({ path, autoSync: false })
    expect(b.replicaId).toBe('replica-one')
    expect(str(await (await (await b.page('p')).snapshot()).get('k'))).toBe('v')
    expect((await b.pages()).map((p) => str(p))).toEqual(['p'])
    await b.close()
    const c = await Ledger.open({ path, autoSync: false })
    expect(c.replicaId).toBe('replica-one')
    await c.close()
  })

  it('generates and keeps a replica id when none is given', async () => {
    const path = join(tempDir(), 'db')
    const a = await Ledger.open({ path, autoSync: false })
    const id = a.replicaId
    expect(id.length).toBeGreaterThan(0)
    await a.close()
    const b = await Ledger.open({ path, autoSync: false })
    expect(b.replicaId).toBe(id)
    await b.close()
  })

  it('refuses a second open in this process with LOCKED, and the first stays usable', async () => {
    const path = join(tempDir(), 'db')
    const a = await Ledger.open({ path, autoSync: false })
    await expectCode(Ledger.open({ path }), 'LOCKED')
    await (await a.page('p')).put('k', 'v')
    await a.close()
    const b = await Ledger.open({ path, autoSync: false })
    await b.close()
  })

  it('refuses a path held by another process with LOCKED', async () => {
    const path = join(tempDir(), 'db')
    const holder = startWriter(path, 'hold')
    await holder.ready
    try {
      await expectCode(Ledger.open({ path }), 'LOCKED')
    } finally {
      holder.child.kill('SIGKILL')
      await new Promise((r) => holder.child.once('exit', r))
    }
    const after = await Ledger.open({ path, autoSync: false })
    await after.close()
  })

  it(`loses no acknowledged write across ${KILLS} SIGKILLs`, async () => {
    const path = join(tempDir(), 'db')
    let next = 0
    for (let round = 0; round < KILLS; round++) {
      const w = startWriter(path, String(next))
      await w.ready
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 60))
      w.child.kill('SIGKILL')
      await new Promise((r) => w.child.once('exit', r))
      const acked = w.acked()
      const ledger = await Ledger.open({ path, autoSync: false })
      const snap = await (await ledger.page('durable')).snapshot()
      for (let i = 0; i <= acked; i++) {
        // Big values are chunked into the value log, written before the batch that points at them.
        if (isBig(i) && i % 7 !== 3) {
          expect(Buffer.from((await snap.get(`k${i}`))!).equals(bigValue(i)), `k${i} after round ${round}`).toBe(true)
          continue
        }
        expect(str(await snap.get(`k${i}`)), `k${i} after round ${round}`).toBe(`v${i}`)
        if (i % 7 === 3) expect(str(await snap.get(`t${i}`))).toBe(`v${i}`)
      }
      // A transaction is all or nothing, even one cut mid-write.
      for (let i = acked + 1; i < acked + 50; i++) {
        if (i % 7 === 3) expect(await snap.get(`k${i}`) === undefined).toBe(await snap.get(`t${i}`) === undefined)
      }
      let top = acked
      while ((await snap.get(`k${top + 1}`)) !== undefined) top++
      next = top + 1
      await ledger.close()
    }
  }, 180_000)
})
