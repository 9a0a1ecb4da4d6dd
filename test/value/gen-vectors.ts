// Regenerates vectors/format.json: `npx tsx test/value/gen-vectors.ts`. Only for a deliberate
// storage format change (FastCDC parameters, gear table, index blocks): every value id changes.
import { readFileSync, writeFileSync } from 'node:fs'
import { Store } from '../../src/store/index.js'
import { chunkBoundaries, ValueStore } from '../../src/value/index.js'
import type { CID } from '../../src/codec/index.js'
import { seededBytes } from './seeded.js'

const file = new URL('./vectors/format.json', import.meta.url)
const old = JSON.parse(readFileSync(file, 'utf8')) as {
  description: string
  boundaries: { size: number; seed: number }
  links: { size: number; seed: number }[]
}
const store = await Store.open()
const values = new ValueStore(store, { putBlocks: (blocks) => store.write({ blocks }) })

const { size, seed } = old.boundaries
const links = []
for (const { size: n, seed: s } of old.links) {
  const { ref, blocks } = values.encode(seededBytes(n, s), 'lazy')
  if (!('link' in ref)) throw new Error('lazy values are always linked')
  const byCid = new Map(blocks.map((b) => [b.cid.toString(), b.bytes]))
  const depth = (cid: CID): number => {
    const children = ValueStore.links(byCid.get(cid.toString())!, cid)
    return children.length === 0 ? 0 : 1 + Math.max(...children.map(depth))
  }
  links.push({ size: n, seed: s, link: ref.link.toString(), blocks: blocks.length, depth: depth(ref.link) })
}
const out = { description: old.description, boundaries: { size, seed, ends: chunkBoundaries(seededBytes(size, seed)) }, links }
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`)
await store.close()
