/** Resolves with the signal's name at the first SIGINT or SIGTERM (Ctrl-C, `kill`), or when `stop` is called. */
export function untilSignal(): { done: Promise<string>; stop(reason: string): void } {
  let stop!: (reason: string) => void
  const done = new Promise<string>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => finish(signal)
    const finish = (reason: string): void => {
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
