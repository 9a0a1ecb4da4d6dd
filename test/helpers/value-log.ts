import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Total bytes of the value-log segment files of the store at `dir`. */
export function valueLogBytes(dir: string): number {
  return readdirSync(dir)
    .filter((n) => n.startsWith('dagkv-values-'))
    .reduce((sum, n) => sum + statSync(join(dir, n)).size, 0)
}
