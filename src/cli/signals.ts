/**
 * Resolves with the signal's name at the first SIGINT or SIGTERM (Ctrl-C, `kill`), or when `stop`
 * is called. Keeps the process alive meanwhile: signal listeners alone do not, and a plain
 * `watch` (no socket open) would otherwise exit as soon as it started.
 */
export function untilSignal(): { done: Promise<string>; stop(reason: string): void } {
  let stop!: (reason: string) => void
  const done = new Promise<string>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => finish(signal)
    const keepAlive = setInterval(() => {}, 1 << 30)
    const finish = (reason: string): void => {
      clearInterval(keepAlive)
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      resolve(reason)
    }
    stop = finish
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
  return { done, stop }
}
