import type { Command } from '../interface.js'
import { del } from './del.js'
import { diff } from './diff.js'
import { exportCommand } from './export.js'
import { get } from './get.js'
import { importCommand } from './import.js'
import { log } from './log.js'
import { ls } from './ls.js'
import { pages } from './pages.js'
import { put } from './put.js'
import { serve } from './serve.js'
import { sync } from './sync.js'
import { watch } from './watch.js'

/** Every subcommand, in the order `dagkv --help` lists them. */
export const COMMANDS: readonly Command[] = [pages, put, get, del, ls, log, diff, watch, serve, sync, exportCommand, importCommand]

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name)
}
