#!/usr/bin/env node
/**
 * The `dagkv` command (package `bin`): `dagkv <command> [options] [arguments]`; see docs/cli.md.
 * @packageDocumentation
 */
import { runCli } from './run.js'

// A reader that goes away (`dagkv ls PAGE | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  throw err
})

const status = await runCli(process.argv.slice(2))
// Exit once stdout is flushed, even if a socket or timer is still winding down.
process.stdout.write('', () => process.exit(status))
