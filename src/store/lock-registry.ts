import { realpathSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'

// LevelDB's file lock does not stop a second open in the same process from clobbering the
// first (a failed open releases the lock, and fcntl locks are per process), so same-process
// opens are refused here first, keyed by the directory's real path: a symbolic link or another
// spelling of the same directory is the same store.
const openPaths = new Set<string>()

/**
 * The real path of `path`, resolving symbolic links in the part of it that exists. The path is
 * not normalised first: `link/..` is the parent of the link's target, as the kernel sees it.
 */
function canonical(path: string): string {
  try {
    return realpathSync.native(path)
  } catch {
    const parent = dirname(path)
    return parent === path ? resolve(path) : join(canonical(parent), basename(path))
  }
}

/** Claims `path` for this process: its key for `releasePath`, or undefined if already open. */
export function acquirePath(path: string): string | undefined {
  const key = canonical(path)
  if (openPaths.has(key)) return undefined
  openPaths.add(key)
  return key
}

/** Releases a key `acquirePath` returned. */
export function releasePath(key: string): void {
  openPaths.delete(key)
}
