import { createReadStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import type { Page, Priority } from '../../index.js'
import { fileFailure } from '../failure.js'
import type { Command } from '../interface.js'
import type { Invocation } from '../invocation.js'

/** Files up to this size are put inline; bigger ones are streamed in as a reference. */
const INLINE_FILE_MAX = 4 * 1024 * 1024

async function readStdin(): Promise<Uint8Array> {
  const parts: Buffer[] = []
  for await (const chunk of process.stdin) parts.push(chunk as Buffer)
  return new Uint8Array(Buffer.concat(parts))
}

async function putFile(page: Page, key: Uint8Array, file: string, priority: Priority): Promise<void> {
  if (file === '-') return page.put(key, await readStdin(), { priority })
  let size: number
  try {
    size = (await stat(file)).size
  } catch (err) {
    throw fileFailure(file, err)
  }
  if (size <= INLINE_FILE_MAX) {
    let data: Uint8Array
    try {
      data = new Uint8Array(await readFile(file))
    } catch (err) {
      throw fileFailure(file, err)
    }
    return page.put(key, data, { priority })
  }
  const stream = createReadStream(file)
  let streamError: unknown
  stream.on('error', (err) => {
    streamError = err
  })
  try {
    const ref = await page.createReference(stream as AsyncIterable<Uint8Array>, { size })
    await page.putReference(key, ref, { priority })
  } catch (err) {
    throw streamError === undefined ? err : fileFailure(file, streamError)
  }
}

async function run(inv: Invocation): Promise<undefined> {
  const file = inv.string('file')
  if (file !== undefined && inv.args.length > 2) throw inv.usage('give VALUE or --file, not both')
  if (file === undefined && inv.args.length < 3) throw inv.usage('missing VALUE (or --file F)')
  const priority: Priority = inv.flag('lazy') ? 'lazy' : 'eager'
  const key = inv.bytesArg(1, 'key')
  const value = file === undefined ? inv.bytesArg(2, 'value') : undefined
  await inv.withLedger(async (ledger) => {
    const page = await inv.page(ledger)
    if (value !== undefined) await page.put(key, value, { priority })
    else await putFile(page, key, file!, priority)
  })
  return undefined
}

/** `dagkv put PAGE KEY VALUE`: one commit that sets a key. */
export const put: Command = {
  name: 'put',
  summary: 'set a key to a value (one commit)',
  usage: 'put [--lazy] PAGE KEY (VALUE | --file F)',
  description: [
    'Sets KEY on PAGE to VALUE as one durable commit; putting the value a key already has makes no commit.',
    'With --file the value is the content of F (`-`: standard input); files over 4 MiB are streamed in',
    'as a reference and chunked, so their size is not limited by memory.',
  ].join('\n'),
  options: {
    file: { type: 'string', short: 'f' },
    lazy: { type: 'boolean' },
  },
  optionHelp: [
    ['-f, --file F', 'read the value from file F (`-`: standard input)'],
    ['--lazy', 'store the value with lazy priority: peers fetch it only on demand'],
  ],
  json: false,
  args: { min: 2, max: 3 },
  run,
}
