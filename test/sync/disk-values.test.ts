import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { connectInMemory } from 'dagkv'
import { tempDir } from '../helpers/ledgers.js'
import { valueLogBytes } from '../helpers/value-log.js'
import { expectCode, replica, same, seeded } from './helpers.js'

const MiB = 1024 * 1024

describe('sync between disk replicas (chunks in their value logs)', () => {
  it('eager values arrive whole; lazy ones are fetched on demand and kept', async () => {
    const dirA = join(tempDir(), 'a')
    const dirB = join(tempDir(), 'b')
    const a = await replica({ path: dirA, replicaId: 'a' })
    const b = await replica({ path: dirB, replicaId: 'b' })
    const pa = await a.page('p')
    await pa.put('eager', seeded(3 * MiB, 1))
    await pa.put('lazy', seeded(2 * MiB, 2), { priority: 'lazy' })
    const link = connectInMemory(a, b)
    const pb = await b.page('p')
    await pb.sync({ mode: 'pull' })
    const snap = await pb.snapshot()
    expect(same(await snap.get('eager'), seeded(3 * MiB, 1))).toBe(true)
    // Only the eager value's chunks travelled.
    expect(valueLogBytes(dirB)).toBe(3 * MiB)
    await expectCode(snap.get('lazy'), 'NEEDS_FETCH')
    expect(same(await snap.fetchPartial('lazy', -10, 10), seeded(2 * MiB, 2).subarray(2 * MiB - 10))).toBe(true)
    expect(same(await snap.fetch('lazy'), seeded(2 * MiB, 2))).toBe(true)
    expect(valueLogBytes(dirB)).toBe(5 * MiB)
    await link.close()
    // Fetched chunks stay: readable with no peer, after a reopen too.
    await b.close()
    const reopened = await replica({ path: dirB })
    const again = await (await reopened.page('p')).snapshot()
    expect(same(await again.get('lazy'), seeded(2 * MiB, 2))).toBe(true)
    expect(same(await again.get('eager'), seeded(3 * MiB, 1))).toBe(true)
  })
})
