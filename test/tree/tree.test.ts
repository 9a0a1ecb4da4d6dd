import { describe, expect, it } from 'vitest'
import { CID, toHex } from '../../src/codec/index.js'
import { LedgerError } from '../../src/errors/index.js'
import { Store } from '../../src/store/index.js'
import { Tree, keyLevel, type TreeChange, type TreeEntry } from '../../src/tree/index.js'
import { bytes, collect, del, inline, LINKS, memoryTree, put, show } from './helpers.js'

const keys = (es: TreeEntry[]): string[] => es.map((e) => new TextDecoder().decode(e.key))

/** n keys 'k0000'… in order, values 'v<i>'. */
function puts(n: number, prefix = 'k'): TreeChange[] {
  return Array.from({ length: n }, (_, i) => put(`${prefix}${String(i).padStart(4, '0')}`, `v${i}`))
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (err) {
    if (err instanceof LedgerError) return err.code
    throw err
  }
  return undefined
}

describe('empty tree', () => {
  it('has a fixed root, readable without any stored block', async () => {
    const tree = new Tree(await Store.open())
    expect(Tree.emptyRoot.toString()).toBe(Tree.emptyBlock.cid.toString())
    expect(await tree.get(Tree.emptyRoot, bytes('a'))).toBeUndefined()
    expect(await collect(tree.entries(Tree.emptyRoot))).toEqual([])
    expect(await collect(tree.diff(Tree.emptyRoot, Tree.emptyRoot))).toEqual([])
    const r = await tree.apply(Tree.emptyRoot, [])
    expect(r.root.equals(Tree.emptyRoot)).toBe(true)
    expect(r.blocks).toEqual([])
  })

  it('deleting absent keys from the empty tree changes nothing', async () => {
    const { tree } = await memoryTree()
    const r = await tree.apply(Tree.emptyRoot, [del('a'), del('b')])
    expect(r.root.equals(Tree.emptyRoot)).toBe(true)
    expect(r.blocks).toEqual([])
  })
})

describe('apply, get, entries', () => {
  it('inserts, updates and deletes', async () => {
    const t = await memoryTree()
    let root = await t.commit(await t.tree.apply(Tree.emptyRoot, [put('a', '1'), put('b', '2'), put('c', '3')]))
    expect(show(await t.tree.get(root, bytes('b')))).toBe(show(inline(bytes('b'), '2')))
    expect(await t.tree.get(root, bytes('bb'))).toBeUndefined()
    root = await t.commit(await t.tree.apply(root, [put('a', 'one'), del('b'), put('d', '4')]))
    expect(keys(await collect(t.tree.entries(root)))).toEqual(['a', 'c', 'd'])
    expect(show(await t.tree.get(root, bytes('a')))).toBe(show(inline(bytes('a'), 'one')))
    expect(await t.tree.get(root, bytes('b'))).toBeUndefined()
  })

  it('returns plain Uint8Arrays', async () => {
    const t = await memoryTree()
    const root = await t.commit(await t.tree.apply(Tree.emptyRoot, puts(50)))
    const fresh = new Tree(t.store)
    const e = await fresh.get(root, bytes('k0007'))
    expect(e?.key.constructor).toBe(Uint8Array)
    expect((e?.value as { inline: Uint8Array }).inline.constructor).toBe(Uint8Array)
    expect(e?.key).toEqual(bytes('k0007'))
  })

  it('keeps link values, sizes and priorities', async () => {
    const t = await memoryTree()
    const link: TreeEntry = { key: bytes('l'), value: { link: LINKS[0]!, size: 123456789012 }, priority: 'lazy' }
    const lazyInline: TreeEntry = { key: bytes('m'), value: { inline: bytes('x') }, priority: 'lazy' }
    const root = await t.commit(
      await t.tree.apply(Tree.emptyRoot, [put('a', '1'), { key: link.key, entry: link }, { key: lazyInline.key, entry: lazyInline }]),
    )
    const fresh = new Tree(t.store)
    expect(show(await fresh.get(root, bytes('l')))).toBe(show(link))
    expect(show(await fresh.get(root, bytes('m')))).toBe(show(lazyInline))
    expect((await fresh.get(root, bytes('a')))?.priority).toBe('eager')
  })

  it('an update to an identical entry, or a delete of an absent key, gives the same root and no blocks', async () => {
    const t = await memoryTree()
    const root = await t.commit(await t.tree.apply(Tree.emptyRoot, puts(300)))
    const same = await t.tree.apply(root, [put('k0005', 'v5'), del('k0005x'), put('k0200', 'v200'), del('zzz')])
    expect(same.root.equals(root)).toBe(true)
    expect(same.blocks).toEqual([])
  })

  it('priority-only and value-ref changes change the root', async () => {
    const t = await memoryTree()
    const root = await t.commit(await t.tree.apply(Tree.emptyRoot, puts(20)))
    const k = bytes('k0003')
    const lazy = await t.tree.apply(root, [{ key: k, entry: inline(k, 'v3', 'lazy') }])
    expect(lazy.root.equals(root)).toBe(false)
    const linked = await t.tree.apply(root, [{ key: k, entry: { key: k, value: { link: LINKS[1]!, size: 2 }, priority: 'eager' } }])
    const linked2 = await t.tree.apply(root, [{ key: k, entry: { key: k, value: { link: LINKS[1]!, size: 3 }, priority: 'eager' } }])
    expect(new Set([root, lazy.root, linked.root, linked2.root].map(String)).size).toBe(4)
  })

  it('deleting everything returns the empty root (and its block)', async () => {
    const t = await memoryTree()
    const changes = puts(500)
    const root = await t.commit(await t.tree.apply(Tree.emptyRoot, changes))
    const r = await t.tree.apply(
      root,
      changes.map((c) => del(c.key)),
    )
    expect(r.root.equals(Tree.emptyRoot)).toBe(true)
    expect(r.blocks.map((b) => b.cid.toString())).toEqual([Tree.emptyRoot.toString()])
  })

  it('deleting everything in several batches reaches the empty root', async () => {
    const t = await memoryTree()
    const changes = puts(400)
    let root = await t.commit(await t.tree.apply(Tree.emptyRoot, changes))
    for (let i = 0; i < 4; i++) {
      const slice = changes.filter((_, j) => j % 4 === i).map((c) => del(c.key))
      root = await t.commit(await t.tree.apply(root, slice))
    }
    expect(root.equals(Tree.emptyRoot)).toBe(true)
  })

  it('builds multi-level trees and returns exactly the blocks a fresh store needs', async () => {
    const t = await memoryTree()
    const changes = puts(3000)
    expect(Math.max(...changes.map((c) => keyLevel(c.key)))).toBeGreaterThanOrEqual(2)
    const r = await t.tree.apply(Tree.emptyRoot, changes)
    const only = await Store.open()
    await only.write({ blocks: r.blocks })
    const fresh = new Tree(only)
    expect((await collect(fresh.entries(r.root))).length).toBe(3000)
    // The next apply's blocks, added to the same store, are again enough.
    const r2 = await t.tree.apply(r.root, [del('k0100'), put('k0100a', 'x'), put('k2999', 'changed')])
    await only.write({ blocks: r2.blocks })
    expect((await collect(new Tree(only).entries(r2.root))).length).toBe(3000)
    expect(r2.blocks.length).toBeLessThan(20)
  })

  it('rejects unsorted or duplicate changes', async () => {
    const { tree } = await memoryTree()
    expect(await codeOf(tree.apply(Tree.emptyRoot, [put('b', '1'), put('a', '2')]))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(tree.apply(Tree.emptyRoot, [put('a', '1'), put('a', '2')]))).toBe('INVALID_ARGUMENT')
    const k = bytes('a')
    expect(await codeOf(tree.apply(Tree.emptyRoot, [{ key: k, entry: inline(bytes('b'), 'x') }]))).toBe('INVALID_ARGUMENT')
  })
})

describe('ranges', () => {
  it('start, end, reverse, limit', async () => {
    const t = await memoryTree()
    const root = await t.commit(await t.tree.apply(Tree.emptyRoot, puts(1000)))
    const k = (i: number): Uint8Array => bytes(`k${String(i).padStart(4, '0')}`)
    const name = (i: number): string => `k${String(i).padStart(4, '0')}`
    const range = (a: number, b: number): string[] => Array.from({ length: b - a }, (_, i) => name(a + i))
    expect(keys(await collect(t.tree.entries(root, { start: k(10), end: k(20) })))).toEqual(range(10, 20))
    expect(keys(await collect(t.tree.entries(root, { start: k(10), end: k(20), reverse: true })))).toEqual(range(10, 20).reverse())
    expect(keys(await collect(t.tree.entries(root, { start: k(990) })))).toEqual(range(990, 1000))
    expect(keys(await collect(t.tree.entries(root, { end: k(3) })))).toEqual(range(0, 3))
    expect(keys(await collect(t.tree.entries(root, { reverse: true, limit: 3 })))).toEqual(['k0999', 'k0998', 'k0997'])
    expect(keys(await collect(t.tree.entries(root, { start: bytes('k0500x'), limit: 2 })))).toEqual(['k0501', 'k0502'])
    expect(keys(await collect(t.tree.entries(root, { end: bytes('k0500x'), reverse: true, limit: 2 })))).toEqual(['k0500', 'k0499'])
    expect(await collect(t.tree.entries(root, { limit: 0 }))).toEqual([])
    expect(await collect(t.tree.entries(root, { start: k(5), end: k(5) }))).toEqual([])
    expect(await collect(t.tree.entries(root, { start: k(6), end: k(5) }))).toEqual([])
    expect((await collect(t.tree.entries(root, { reverse: true }))).length).toBe(1000)
  })
})

describe('diff', () => {
  it('lists changed keys in order, with before and after', async () => {
    const t = await memoryTree()
    const a = await t.commit(await t.tree.apply(Tree.emptyRoot, puts(500)))
    const b = await t.commit(await t.tree.apply(a, [put('k0001', 'new'), del('k0100'), put('k0100a', 'added'), put('zz', 'end')]))
    const d = await collect(t.tree.diff(a, b))
    expect(d.map((x) => new TextDecoder().decode(x.key))).toEqual(['k0001', 'k0100', 'k0100a', 'zz'])
    expect(show(d[0]!.before)).toBe(show(inline(bytes('k0001'), 'v1')))
    expect(show(d[0]!.after)).toBe(show(inline(bytes('k0001'), 'new')))
    expect(d[1]!.after).toBeUndefined()
    expect(d[2]!.before).toBeUndefined()
    const back = await collect(t.tree.diff(b, a))
    expect(back.map((x) => show(x.before))).toEqual(d.map((x) => show(x.after)))
    expect(await collect(t.tree.diff(a, a))).toEqual([])
    const ranged = await collect(t.tree.diff(a, b, { start: bytes('k0050'), end: bytes('k0100a') }))
    expect(ranged.map((x) => new TextDecoder().decode(x.key))).toEqual(['k0100'])
    expect((await collect(t.tree.diff(Tree.emptyRoot, b))).length).toBe(501)
  })

  it('loads only the nodes on changed paths', async () => {
    const t = await memoryTree()
    const a = await t.commit(await t.tree.apply(Tree.emptyRoot, puts(5000)))
    const b = await t.commit(await t.tree.apply(a, [put('k2500', 'changed')]))
    let reads = 0
    const counting = { getBlock: (cid: CID) => (reads++, t.store.getBlock(cid)) }
    const fresh = new Tree(counting)
    expect((await collect(fresh.diff(a, b))).length).toBe(1)
    expect(reads).toBeLessThanOrEqual(2 * 8)
  })
})

describe('blocks not yet stored', () => {
  it('stay readable however small the cache, until markStored', async () => {
    const store = await Store.open()
    const tree = new Tree(store, { cacheBytes: 1 })
    const r = await tree.apply(Tree.emptyRoot, puts(2000))
    expect(tree.pendingCount).toBe(r.blocks.length)
    expect((await collect(tree.entries(r.root))).length).toBe(2000)
    const r2 = await tree.apply(r.root, [put('k0001', 'x')])
    expect(show(await tree.get(r2.root, bytes('k0001')))).toBe(show(inline(bytes('k0001'), 'x')))
    expect(tree.pendingBlock(r2.root)).toBe(r2.blocks.find((b) => b.cid.equals(r2.root))?.bytes)
    await store.write({ blocks: [...r.blocks, ...r2.blocks] })
    tree.markStored(r.blocks)
    tree.markStored(r2.blocks.map((b) => b.cid))
    expect(tree.pendingCount).toBe(0)
    expect((await collect(tree.entries(r2.root))).length).toBe(2000)
  })

  it('a missing node is NEEDS_FETCH with its CID', async () => {
    const { tree } = await memoryTree()
    const r = await tree.apply(Tree.emptyRoot, puts(100))
    const other = new Tree(await Store.open())
    let err: unknown
    try {
      await other.get(r.root, bytes('k0001'))
    } catch (e) {
      err = e
    }
    expect(LedgerError.is(err, 'NEEDS_FETCH')).toBe(true)
    expect(String((err as LedgerError).data?.['cid'])).toBe(r.root.toString())
    expect(await codeOf(collect(other.entries(r.root)))).toBe('NEEDS_FETCH')
    expect(await codeOf(collect(other.diff(Tree.emptyRoot, r.root)))).toBe('NEEDS_FETCH')
    expect(await codeOf(other.apply(r.root, [put('a', 'b')]))).toBe('NEEDS_FETCH')
  })
})

describe('read-ahead', () => {
  it('a scan over a store missing nodes fails with NEEDS_FETCH, whatever was read ahead', async () => {
    const { tree } = await memoryTree()
    const r = await tree.apply(Tree.emptyRoot, puts(3000))
    const partial = await Store.open()
    // Every block but a few leaves.
    await partial.write({ blocks: r.blocks.filter((_, i) => i % 10 !== 3) })
    const reader = new Tree(partial)
    expect(await codeOf(collect(reader.entries(r.root)))).toBe('NEEDS_FETCH')
    expect(await codeOf(collect(reader.entries(r.root, { reverse: true })))).toBe('NEEDS_FETCH')
    // Without getBlocks (a plain BlockReader) too.
    const plain = new Tree({ getBlock: (cid: CID) => partial.getBlock(cid) })
    expect(await codeOf(collect(plain.entries(r.root)))).toBe('NEEDS_FETCH')
  })

  it('scans read ahead in batches and still return every entry in order', async () => {
    const t = await memoryTree()
    const root = await t.commit(await t.tree.apply(Tree.emptyRoot, puts(3000)))
    let batches = 0
    const counting = {
      getBlock: (cid: CID) => t.store.getBlock(cid),
      getBlocks: (cids: CID[]) => (batches++, t.store.getBlocks(cids)),
    }
    const cold = new Tree(counting)
    const all = keys(await collect(cold.entries(root)))
    expect(all).toEqual(puts(3000).map((c) => new TextDecoder().decode(c.key)))
    expect(batches).toBeGreaterThan(0)
    expect(keys(await collect(new Tree(counting).entries(root, { reverse: true })))).toEqual([...all].reverse())
  })
})

describe('links and decodeNode', () => {
  it('lists child nodes and value links with laziness', async () => {
    const t = await memoryTree()
    const changes = puts(400)
    const link = { key: bytes('k0010'), value: { link: LINKS[2]!, size: 5 }, priority: 'lazy' } as const
    changes[10] = { key: link.key, entry: link }
    const r = await t.tree.apply(Tree.emptyRoot, changes)
    const byCid = new Map(r.blocks.map((b) => [b.cid.toString(), b.bytes]))
    const seen = new Set<string>()
    const values: { cid: CID; lazy: boolean }[] = []
    const walk = (cid: CID): void => {
      seen.add(cid.toString())
      const l = t.tree.links(byCid.get(cid.toString())!)
      values.push(...l.values)
      for (const c of l.children) walk(c)
    }
    walk(r.root)
    expect(seen.size).toBe(r.blocks.length)
    expect(values.map((v) => [v.cid.toString(), v.lazy])).toEqual([[LINKS[2]!.toString(), true]])
    const root = Tree.decodeNode(byCid.get(r.root.toString())!)
    expect(root.level).toBe(Math.max(...changes.map((c) => keyLevel(c.key))))
    expect(root.entries.every((e) => keyLevel(e.key) === root.level)).toBe(true)
  })
})

describe('cache', () => {
  it('stays within its byte bound', async () => {
    const t = await memoryTree(200_000)
    const root = await t.commit(await t.tree.apply(Tree.emptyRoot, puts(5000)))
    t.tree.clearCache()
    expect((await collect(t.tree.entries(root))).length).toBe(5000)
    expect(t.tree.cacheStats.bytes).toBeLessThanOrEqual(200_000)
    expect(toHex((await t.tree.get(root, bytes('k4999')))!.key)).toBe(toHex(bytes('k4999')))
  })

  it('evictReplaced drops the rewritten base nodes one apply late and keeps the rest', async () => {
    const t = await memoryTree()
    const a = await t.commit(await t.tree.apply(Tree.emptyRoot, puts(3000)))
    let reads = 0
    const counting = { getBlock: (cid: CID) => (reads++, t.store.getBlock(cid)) }
    const warm = new Tree(counting)
    await collect(warm.entries(a))
    const before = warm.cacheStats.nodes
    const r = await warm.apply(a, [put('k1500', 'changed')], { evictReplaced: true })
    await t.commit(r)
    // Until the next such apply, the old and the new version are both in memory.
    reads = 0
    expect((await collect(warm.diff(a, r.root))).length).toBe(1)
    expect(reads).toBe(0)
    const r2 = await warm.apply(r.root, [put('k2500', 'changed')], { evictReplaced: true })
    await t.commit(r2)
    // The path to k1500 was rewritten and is gone from the cache now; the path to k2500 is
    // replaced but still cached.
    expect(warm.cacheStats.nodes).toBe(before + r2.blocks.length)
    expect(show(await warm.get(r2.root, bytes('k1500')))).toBe(show(inline(bytes('k1500'), 'changed')))
    expect((await collect(warm.diff(r.root, r2.root))).length).toBe(1)
    expect(reads).toBe(0)
    // The old version is still readable, from the store.
    expect(show(await warm.get(a, bytes('k1500')))).toBe(show(inline(bytes('k1500'), 'v1500')))
    expect(reads).toBeGreaterThan(0)
  })
})
