import { writeFile } from 'node:fs/promises'
import { CliFailure, fileFailure } from '../failure.js'
import type { Command } from '../interface.js'
import type { Invocation } from '../invocation.js'

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

async function run(inv: Invocation): Promise<undefined> {
  const key = inv.bytesArg(1, 'key')
  const out = inv.string('out')
  const found = await inv.withLedger(async (ledger) => {
    const snap = await (await inv.page(ledger)).snapshot()
    const value = await snap.get(key)
    if (value === undefined) return undefined
    let priority = 'eager'
    if (inv.json) {
      for await (const e of snap.entries({ start: key, limit: 1 })) if (equal(e.key, key)) priority = e.priority
    }
    return { value, priority }
  })
  if (!found) throw new CliFailure('NOT_FOUND', `no key ${inv.showShort(key)} on page ${inv.showShort(inv.bytesArg(0, 'page id'))}`)
  if (out !== undefined) {
    try {
      await writeFile(out, found.value)
    } catch (err) {
      throw fileFailure(out, err)
    }
  }
  if (inv.json) {
    const doc: Record<string, unknown> = { key: inv.show(key), size: found.value.length, priority: found.priority }
    if (out === undefined) doc.value = inv.show(found.value)
    else doc.file = out
    await inv.out.json(doc)
  } else if (out === undefined) {
    await inv.out.write(found.value)
  }
  return undefined
}

/** `dagkv get PAGE KEY`: a value's raw bytes. */
export const get: Command = {
  name: 'get',
  summary: "print a key's value (raw bytes)",
  usage: 'get [--out F] [--json] PAGE KEY',
  description: [
    "Writes the value of KEY on PAGE to standard output as raw bytes, with no newline added, or to F",
    'with --out. A missing key exits with status 1 and `NOT_FOUND`; a lazy value that is not stored',
    'here fails with `NEEDS_FETCH` (sync it from a peer first).',
    'With --json prints {key, size, priority, value} (value in the text-or-hex: form; omitted with --out).',
  ].join('\n'),
  options: { out: { type: 'string', short: 'o' } },
  optionHelp: [['-o, --out F', 'write the value to file F instead of standard output']],
  json: true,
  args: { min: 2, max: 2 },
  run,
}
