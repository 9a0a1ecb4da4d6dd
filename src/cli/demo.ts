// The dagkv demo: two replicas on disk, concurrent edits, the three merge policies, lazy values,
// sync over WebSocket with a token, a watcher, SyncStats, the conflict record, and a reopen.
// Usage: npm run demo [-- DIR]   (DIR defaults to a fresh temporary directory)
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ledger, LedgerError, type MergeContext, type Page, type SyncStats } from '../index.js'

const text = (b: Uint8Array | undefined): string => (b === undefined ? '(absent)' : new TextDecoder().decode(b))
const say = (line = ''): void => void process.stdout.write(`${line}\n`)
const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`
const stats = (s: SyncStats): string =>
  `received ${count(s.commitsReceived, 'commit')}, ${count(s.blocksReceived, 'block')}, ${s.bytesReceived} B; ` +
  `sent ${count(s.commitsSent, 'commit')}, ${count(s.blocksSent, 'block')}, ${s.bytesSent} B; ${count(s.roundTrips, 'round trip')}`

async function show(label: string, page: Page): Promise<void> {
  const snap = await page.snapshot()
  const rows: string[] = []
  for await (const e of snap.entries()) rows.push(`${text(e.key)}=${e.value ? text(e.value).slice(0, 24) : '(lazy, not here)'}`)
  say(`  ${label}: { ${rows.join(', ')} }`)
}

/** Alice's and Bob's view of one page. */
async function showBoth(a: Page, b: Page): Promise<void> {
  await show('alice', a)
  await show('bob  ', b)
}

/** Both sides sync the page and settle their merges. */
async function settle(a: Page, b: Page): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await b.sync()
    await a.sync()
    await a.waitForConflictResolution()
    await b.waitForConflictResolution()
  }
}

const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'dagkv-demo-'))
const token = 'demo-secret'
say(`dagkv demo — stores in ${dir}`)

const alice = await Ledger.open({ path: join(dir, 'alice'), replicaId: 'alice', autoSync: false })
const bob = await Ledger.open({ path: join(dir, 'bob'), replicaId: 'bob', autoSync: false })

say('\n1. Alice writes, in single puts and one transaction')
const aNotes = await alice.page('notes')
await aNotes.put('greeting', 'hello from alice')
await aNotes.startTransaction()
await aNotes.put('colour', 'blue')
await aNotes.put('shape', 'circle')
await aNotes.commit()
const first = await aNotes.snapshot()
await show('alice', aNotes)
say(`  snapshot commit ${first.commitId.slice(0, 16)}…, content ${first.contentId.slice(0, 16)}…`)

say('\n2. Sync over WebSocket on 127.0.0.1 with a token')
const server = await alice.listen({ host: '127.0.0.1', port: 0, token })
try {
  await bob.connect(server.url, { token: 'wrong' })
} catch (err) {
  say(`  a peer with the wrong token is refused: ${LedgerError.is(err) ? err.code : String(err)}`)
}
const peer = await bob.connect(server.url, { token })
say(`  bob connected to ${server.url} (peer id ${peer.id})`)
const bNotes = await bob.page('notes')
const watch = await bNotes.watch((c) => {
  const parts = [
    ...(c.changed.length > 0 ? [`${c.changed.map((e) => text(e.key)).join(', ')} changed`] : []),
    ...(c.deleted.length > 0 ? [`${c.deleted.map(text).join(', ')} deleted`] : []),
  ]
  say(`  [bob's watcher] ${c.origin} change: ${parts.join('; ')}`)
})
say(`  bob pulls: ${stats(await bNotes.sync({ mode: 'pull' }))}`)
await bNotes.waitForConflictResolution()
await show('bob', bNotes)
say(`  a second sync with nothing new: ${stats(await bNotes.sync())}`)

say('\n3. Concurrent edits, merged by last-one-wins (the default)')
await aNotes.put('colour', 'red')
await aNotes.delete('shape')
await bNotes.put('size', 'large')
await bNotes.put('colour', 'green') // bob's head is newer: his side wins keys changed on both
await settle(aNotes, bNotes)
await showBoth(aNotes, bNotes)
const [sa, sb] = [await aNotes.snapshot(), await bNotes.snapshot()]
say(`  same commit on both: ${sa.commitId === sb.commitId} (${sa.commitId.slice(0, 16)}…)`)
for (const c of await aNotes.conflicts()) {
  say(`  conflict record: key ${text(c.key)}: left ${text(c.left?.value)}, right ${text(c.right?.value)} → winner ${c.winner}`)
}

say('\n4. automatic-with-fallback: disjoint edits merge by themselves; a conflict calls the resolver')
const keepLonger = async (m: MergeContext): Promise<void> => {
  await m.mergeNonConflictingEntries()
  for await (const d of m.conflictingDiff()) {
    const l = d.left?.value ?? new Uint8Array()
    const r = d.right?.value ?? new Uint8Array()
    await m.merge([{ key: d.key, source: 'new', value: l.length >= r.length ? l : r }])
    say(`  [resolver] ${text(d.key)}: '${text(l)}' vs '${text(r)}' → keeps the longer`)
  }
}
for (const l of [alice, bob]) await l.setMergePolicy('todo', 'automatic-with-fallback', keepLonger)
const aTodo = await alice.page('todo')
const bTodo = await bob.page('todo')
await aTodo.put('milk', 'buy milk')
await settle(aTodo, bTodo)
await aTodo.put('eggs', 'a dozen eggs')
await bTodo.put('bread', 'rye bread')
await aTodo.put('milk', 'buy oat milk, 2 litres')
await bTodo.put('milk', 'no milk')
await settle(aTodo, bTodo)
await showBoth(aTodo, bTodo)

say('\n5. custom: the resolver decides every merge (here: join both values)')
const join2 = async (m: MergeContext): Promise<void> => {
  await m.mergeNonConflictingEntries()
  for await (const d of m.conflictingDiff()) {
    await m.merge([{ key: d.key, source: 'new', value: `${text(d.left?.value)} + ${text(d.right?.value)}` }])
  }
}
for (const l of [alice, bob]) await l.setMergePolicy('votes', 'custom', join2)
const aVotes = await alice.page('votes')
const bVotes = await bob.page('votes')
await aVotes.put('lunch', 'pizza')
await bVotes.put('lunch', 'sushi')
await settle(aVotes, bVotes)
await showBoth(aVotes, bVotes)

say('\n6. Lazy values travel only when fetched')
const aFiles = await alice.page('files')
const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) % 251)
const ref = await aFiles.createReference(big)
await aFiles.putReference('video', ref, { priority: 'lazy' })
const bFiles = await bob.page('files')
say(`  bob syncs the page: ${stats(await bFiles.sync())}`)
const bSnap = await bFiles.snapshot()
try {
  await bSnap.get('video')
} catch (err) {
  say(`  bob's get → ${LedgerError.is(err) ? err.code : String(err)}`)
}
const part = await bSnap.fetchPartial('video', -16, 8)
say(`  fetchPartial(-16, 8) → ${part?.length} bytes [${[...(part ?? [])].join(', ')}]`)
const whole = await bSnap.fetch('video')
say(`  fetch → ${whole?.length} bytes, equal to alice's: ${Buffer.compare(Buffer.from(whole!), Buffer.from(big)) === 0}`)

say('\n7. Close and reopen: everything acknowledged is still there')
watch.close()
await peer.close()
await server.close()
await alice.close()
await bob.close()
const again = await Ledger.open({ path: join(dir, 'alice'), autoSync: false })
say(`  reopened alice (replica id ${again.replicaId}); pages: ${(await again.pages()).map(text).join(', ')}`)
await show('alice notes', await again.page('notes'))
await again.close()
say('\ndone.')
