import { resolve } from 'node:path'

// LevelDB's file lock does not stop a second open in the same process from clobbering the
// first (a failed open releases the lock), so same-process opens are refused here first.
const openPaths = new Set<string>()

export function acquirePath(path: string): boolean {
  const key = resolve(path)
  if (openPaths.has(key)) return false
  openPaths.add(key)
  return true
}

export function releasePath(path: string): void {
  openPaths.delete(resolve(path))
}
