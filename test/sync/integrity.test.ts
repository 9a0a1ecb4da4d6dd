import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Ledger } from 'dagkv'
import { CID, rawBlock, type Block } from '../../src/codec/index.js'
import { makeCommit } from '../../src/commit/index.js'
import { engineOf } from '../../src/ledger/index.js'
import { networkOf } from '../../src/sync/index.js'
import { Tree } from '../../src/tree/index.js'
import { numRuns, utf8 } from '../helpers/bytes.js'
import { FakePeer } from './fake-peer.js'
import { contents, expectCode, memoryLinker, replica, seeded } from './helpers.js'

/** A victim ledger with one page of data, and how to check it did not change. */
async function victim(): Promise<{ ledger: Ledger; unchanged(): Promise<void> }> {
  const ledger = await replica()
  const page = await ledger.page('p')
  await page.put('a', '1')
  await page.put('b', seeded(5000, 3))
  const before = await contents(page)
  const blocks = await countBlocks(ledger)
  const pages = await ledger.pages()
  return {
    ledger,
    unchanged: async () => {
      expect(await contents(await ledger.page('p'))).toEqual(before)
      expect(await ledger.pages()).toEqual(pages)
      expect(await countBlocks(ledger)).toBe(blocks)
    },
  }
}

async function countBlocks(ledger: Ledger): Promise<number> {
  let n = 0
  for await (const _ of engineOf(ledger).store.allBlocks()) n++
  return n
}

/** The tree root of `entries` (eager inline values), and its node blocks. */
async function treeOf(entries: Record<string, string>): Promise<{ root: CID; blocks: Block[] }> {
  const tree = new Tree({ getBlock: async () => undefined })
  const changes = Object.keys(entries)
    .sort()
    .map((k) => ({ key: utf8(k), entry: { key: utf8(k), value: { inline: utf8(entries[k]!) }, priority: 'eager' as const } }))
  return tree.apply(Tree.emptyRoot, changes)
}

/** Starts a pull on the victim and returns the fake's view of the request. */
async function pullFromFake(ledger: Ledger, fake: FakePeer, pageName = 'q'): Promise<{ sync: Promise<unknown>; id: number }> {
  const page = await ledger.page(pageName)
  const sync = page.sync({ mode: 'pull' })
  sync.catch(() => undefined)
  const request = await fake.next('pull')
  return { sync, id: request['id'] as number }
}

describe('integrity: a misbehaving peer is dropped, nothing it sent is stored', () => {
  it('accepts a correct hand-made commit (the fake speaks the protocol)', async () => {
    const v = await victim()
    const fake = await FakePeer.attach(v.ledger)
    const { sync, id } = await pullFromFake(v.ledger, fake)
    const { root } = await treeOf({ k: 'v' })
    const { commit } = makeCommit({ parents: [], root, timestamp: 1000, generation: 1, replica: 'fake-peer' })
    fake.send({ t: 'commits', re: id, items: [{ p: [], t: 1000, i: 'fake-peer', d: [[utf8('k'), utf8('v')]] }], blocks: [], heads: [commit.cid] })
    await sync
    expect(await contents(await v.ledger.page('q'))).toEqual({ k: 'v' })
  })

  const cases: [string, (id: number) => Record<string, unknown>][] = [
    [
      'a corrupted value block',
      (id) => {
        const good = rawBlock(seeded(5000, 9))
        const bad = new Uint8Array(good.bytes)
        bad[17] = bad[17]! ^ 1
        return { t: 'commits', re: id, items: [{ p: [], t: 5, i: 'f', d: [[utf8('k'), good.cid, 5000]] }], blocks: [[good.cid, bad]], heads: [] }
      },
    ],
    [
      'a block under the wrong CID',
      (id) => {
        const claimed = rawBlock(seeded(5000, 9))
        const other = rawBlock(seeded(5000, 10))
        return { t: 'commits', re: id, items: [{ p: [], t: 5, i: 'f', d: [[utf8('k'), claimed.cid, 5000]] }], blocks: [[claimed.cid, other.bytes]], heads: [] }
      },
    ],
    [
      'a commit whose parent never comes',
      (id) => {
        const parent = rawBlock(utf8('not a commit anywhere')).cid
        return { t: 'commits', re: id, items: [{ p: [CID.parse(parent.toString())], t: 5, i: 'f', d: [[utf8('k'), utf8('v')]] }], blocks: [], heads: [] }
      },
    ],
    [
      'a diff that does not rebuild the declared head',
      (id) => {
        const { commit } = makeCommit({ parents: [], root: Tree.emptyRoot, timestamp: 5, generation: 1, replica: 'f' })
        return { t: 'commits', re: id, items: [{ p: [], t: 5, i: 'f', d: [[utf8('k'), utf8('tampered')]] }], blocks: [], heads: [commit.cid] }
      },
    ],
    [
      'commits that do not lead to the declared heads',
      (id) => ({ t: 'commits', re: id, items: [{ p: [], t: 5, i: 'f', d: [[utf8('k'), utf8('v')]] }], blocks: [], heads: [] }),
    ],
  ]
  for (const [name, response] of cases) {
    it(`${name} → DATA_INTEGRITY_ERROR`, async () => {
      const v = await victim()
      const fake = await FakePeer.attach(v.ledger)
      const { sync, id } = await pullFromFake(v.ledger, fake)
      fake.send(response(id))
      await expectCode(sync, 'DATA_INTEGRITY_ERROR')
      expect((await fake.closed)?.code).toBe('DATA_INTEGRITY_ERROR')
      expect(networkOf(v.ledger).sessions).toHaveLength(0)
      expect(await v.ledger.pages()).toHaveLength(1)
      await v.unchanged()
    })
  }

  it('a corrupted tree node in node mode → DATA_INTEGRITY_ERROR', async () => {
    const v = await victim()
    const fake = await FakePeer.attach(v.ledger)
    const { sync, id } = await pullFromFake(v.ledger, fake)
    const { root, blocks } = await treeOf({ k: 'v', l: 'w' })
    const { commit } = makeCommit({ parents: [], root, timestamp: 5, generation: 1, replica: 'f' })
    fake.send({ t: 'commits', re: id, items: [{ p: [], t: 5, i: 'f', r: root }], blocks: [], heads: [commit.cid] })
    const ask = await fake.next('getBlocks')
    expect(ask['cids']).toEqual([root])
    const bytes = new Uint8Array(blocks.find((b) => b.cid.equals(root))!.bytes)
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff
    fake.send({ t: 'blocks', re: ask['id'], blocks: [[root, bytes]], missing: [] })
    await expectCode(sync, 'DATA_INTEGRITY_ERROR')
    await v.unchanged()
  })

  it('a node the peer cannot provide → DATA_INTEGRITY_ERROR; a well-served node mode commit is accepted', async () => {
    const v = await victim()
    const fake = await FakePeer.attach(v.ledger)
    const { root, blocks } = await treeOf({ k: 'v', l: 'w' })
    const { commit } = makeCommit({ parents: [], root, timestamp: 5, generation: 1, replica: 'f' })
    const first = await pullFromFake(v.ledger, fake)
    fake.send({ t: 'commits', re: first.id, items: [{ p: [], t: 5, i: 'f', r: root }], blocks: [], heads: [commit.cid] })
    const ask = await fake.next('getBlocks')
    fake.send({ t: 'blocks', re: ask['id'], blocks: [], missing: [root] })
    await expectCode(first.sync, 'DATA_INTEGRITY_ERROR')
    await v.unchanged()

    const again = await FakePeer.attach(v.ledger)
    const second = await pullFromFake(v.ledger, again)
    again.send({ t: 'commits', re: second.id, items: [{ p: [], t: 5, i: 'f', r: root }], blocks: [], heads: [commit.cid] })
    const ask2 = await again.next('getBlocks')
    again.send({ t: 'blocks', re: ask2['id'], blocks: blocks.map((b) => [b.cid, b.bytes]), missing: [] })
    await second.sync
    expect(await contents(await v.ledger.page('q'))).toEqual({ k: 'v', l: 'w' })
  })

  it('a malformed or unexpected message → NETWORK_ERROR, the peer is dropped', async () => {
    for (const bad of [
      (id: number) => ({ t: 'commits', re: id, items: 'nope', blocks: [], heads: [] }),
      (id: number) => ({ t: 'blocks', re: id, blocks: [], missing: [] }),
      (id: number) => ({ t: 'commits', re: id + 1000, items: [], blocks: [], heads: [] }),
      () => ({ t: 'mystery' }),
    ]) {
      const v = await victim()
      const fake = await FakePeer.attach(v.ledger)
      const { sync, id } = await pullFromFake(v.ledger, fake)
      fake.send(bad(id))
      const err = await expectCode(sync, 'NETWORK_ERROR')
      expect(err.data?.['reason']).toBe('protocol-violation')
      expect((await fake.closed)?.code).toBe('NETWORK_ERROR')
      await v.unchanged()
    }
  })

  it('a frame out of sequence (lost, repeated) → NETWORK_ERROR', async () => {
    const v = await victim()
    const fake = await FakePeer.attach(v.ledger)
    fake.send({ t: 'heads', pages: [] })
    fake.transport.send((await import('@ipld/dag-cbor')).encode({ t: 'heads', pages: [], s: 0 }))
    expect((await fake.closed)?.data?.['reason']).toBe('protocol-violation')
    await v.unchanged()
  })

  it('a peer that never answers → NETWORK_ERROR after the timeout', async () => {
    const v = await victim()
    networkOf(v.ledger).tune({ timeoutMs: 150 })
    const fake = await FakePeer.attach(v.ledger)
    const { sync } = await pullFromFake(v.ledger, fake)
    const err = await expectCode(sync, 'NETWORK_ERROR')
    expect(err.data?.['reason']).toBe('timeout')
    networkOf(v.ledger).tune({ timeoutMs: 30_000 })
    await v.unchanged()
  })

  it('a frame over the limit drops that peer only; other peers go on', async () => {
    const v = await victim()
    const fake = await FakePeer.attach(v.ledger, { maxFrameBytes: 4096 })
    const friend = await replica()
    await memoryLinker(friend, v.ledger)
    fake.sendRaw(new Uint8Array(10_000))
    const err = await fake.closed
    expect(err?.code).toBe('NETWORK_ERROR')
    expect(err?.data?.['reason']).toBe('frame-too-large')
    const stats = await (await friend.page('p')).sync({ mode: 'pull' })
    expect(stats.commitsReceived).toBe(2)
    await v.unchanged()
  })

  it('random garbage frames never crash; the peer is dropped and data stays readable (property)', async () => {
    const v = await victim()
    const message = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => ({ raw: b })),
      fc
        .record({
          t: fc.constantFrom('heads', 'pull', 'getBlocks', 'pleasePull', 'commits', 'blocks', 'done', 'hello', 'x'),
          id: fc.oneof(fc.integer(), fc.constant(1)),
          re: fc.oneof(fc.integer(), fc.constant(1)),
          page: fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string()),
          have: fc.array(fc.anything(), { maxLength: 3 }),
          items: fc.array(fc.anything(), { maxLength: 3 }),
          pages: fc.array(fc.anything(), { maxLength: 3 }),
          cids: fc.array(fc.anything(), { maxLength: 3 }),
        })
        .map((m) => ({ message: m })),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 5 }), async (frames) => {
        const fake = await FakePeer.attach(v.ledger)
        for (const f of frames) {
          if ('raw' in f) fake.sendRaw(f.raw)
          else {
            try {
              fake.send(JSON.parse(JSON.stringify(f.message)) as Record<string, unknown>)
            } catch {
              fake.sendRaw(new Uint8Array([0xff]))
            }
          }
        }
        fake.sendRaw(new Uint8Array([0xff, 0x00]))
        await fake.closed
        await v.unchanged()
      }),
      { numRuns: numRuns(60) },
    )
    const friend = await replica()
    await memoryLinker(friend, v.ledger)
    expect((await (await friend.page('p')).sync({ mode: 'pull' })).commitsReceived).toBe(2)
  })
})
