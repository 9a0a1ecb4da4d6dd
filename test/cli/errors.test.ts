import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { dagkv, ok, tempDir } from './run-cli.js'

/** Expects a failure with exactly one stderr line naming `code`. */
async function fails(args: string[], code: string): Promise<void> {
  const r = await dagkv(args)
  expect(r.status).toBe(1)
  expect(r.stdout).toBe('')
  const lines = r.stderr.trimEnd().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(new RegExp(`^dagkv: ${code}: `))
}

describe('dagkv errors', () => {
  test('bad input exits non-zero with one line naming the LedgerError code', async () => {
    const s = ['--store', join(tempDir(), 'store')]
    await fails([...s, 'put', 'p', 'k'.repeat(2000), 'v'], 'KEY_TOO_LARGE')
    await fails([...s, 'get', 'p', `hex:${'00'.repeat(1025)}`], 'KEY_TOO_LARGE')
    await fails([...s, 'put', 'x'.repeat(129), 'k', 'v'], 'INVALID_ARGUMENT')
    await fails([...s, 'ls', ''], 'INVALID_ARGUMENT')
    await fails([...s, 'diff', 'p', 'not-a-cid', 'head'], 'INVALID_ARGUMENT')
    await fails([...s, 'put', 'p', 'k', '--file', join(tempDir(), 'missing')], 'IO_ERROR')
    // nothing was written by the failed commands
    expect(await ok([...s, 'pages'])).toBe('')
  })

  test('usage errors exit 2 with a usage line', async () => {
    const s = ['--store', join(tempDir(), 'store')]
    for (const args of [
      [...s, 'put', 'p'],
      [...s, 'get', 'p', 'k', 'extra'],
      [...s, 'ls', 'p', '--bogus'],
      [...s, 'ls', 'p', '--limit', 'many'],
      [...s, 'frobnicate'],
      [...s, 'put', 'hex:zz', 'k', 'v'],
      [...s, 'sync', 'ws://127.0.0.1:1', '--mode', 'sideways'],
    ]) {
      const r = await dagkv(args)
      expect(r.status, args.join(' ')).toBe(2)
      expect(r.stderr).toMatch(/^dagkv: .*\nusage: dagkv /)
    }
    const bare = await dagkv([])
    expect(bare.status).toBe(2)
    expect(bare.stderr).toMatch(/^usage: dagkv /)
  })
})
