// Regenerates vectors.json: `npx tsx test/tree/gen-vectors.ts`. Only for a deliberate format change.
import { writeFileSync } from 'node:fs'
import { CID, compareBytes, toHex } from '../../src/codec/index.js'
import { Store } from '../../src/store/index.js'
import { Tree } from '../../src/tree/index.js'
import { generated, toEntries, type VectorEntry } from './vectors.js'

const explicit: { name: string; entries: VectorEntry[] }[] = [
  { name: 'empty', entries: [] },
  { name: 'one', entries: [{ key: 'a', inline: 'A' }] },
  {
    name: 'small-mixed',
    entries: [
      { key: 'apple', inline: 'red' },
      { key: 'banana', inline: 'yellow', lazy: true },
      { key: 'cherry', link: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku', size: 11 },
      { key: 'plum', link: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku', size: 300000, lazy: true },
      { key: '', inline: 'empty key' },
    ],
  },
]
const tree = new Tree(await Store.open())
const out: unknown[] = []
for (const v of explicit) {
  const entries = toEntries(v.entries, CID.parse).sort((a, b) => compareBytes(a.key, b.key))
  const r = await tree.apply(Tree.emptyRoot, entries.map((e) => ({ key: e.key, entry: e })))
  const block = r.blocks.find((b) => b.cid.equals(r.root)) ?? Tree.emptyBlock
  out.push({ name: v.name, entries: v.entries, root: r.root.toString(), rootBlockHex: toHex(block.bytes) })
}
for (const n of [300, 3000]) {
  const entries = toEntries(generated(n), CID.parse)
  const r = await tree.apply(Tree.emptyRoot, entries.map((e) => ({ key: e.key, entry: e })))
  out.push({ name: `generated-${n}`, generated: n, root: r.root.toString(), nodes: r.blocks.length })
}
writeFileSync(new URL('./vectors.json', import.meta.url), `${JSON.stringify({ comment: 'Tree format vectors: entry set -> root CID. Regenerate only for a deliberate format change (CHANGELOG.md).', vectors: out }, null, 2)}\n`)
