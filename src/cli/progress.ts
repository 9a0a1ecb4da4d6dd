import cliProgress from 'cli-progress'
import type { Output } from './output.js'

/** Progress of a multi-step task, shown on standard error only when it is a terminal. */
export interface Progress {
  /** Adds `n` steps to the total (the total may grow as work is discovered). */
  grow(n: number): void
  step(payload: Record<string, string | number>): void
  stop(): void
}

const QUIET: Progress = { grow() {}, step() {}, stop() {} }

/** A progress bar on `err` when it is a terminal; otherwise it shows nothing. */
export function progressBar(err: Output, format: string, payload: Record<string, string | number>): Progress {
  if (!err.isTTY) return QUIET
  const bar = new cliProgress.SingleBar(
    { format, stream: err.stream, hideCursor: true, clearOnComplete: true, etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  )
  let total = 0
  let started = false
  return {
    grow(n) {
      if (n <= 0) return
      total += n
      if (started) bar.setTotal(total)
      else bar.start(total, 0, payload)
      started = true
    },
    step(next) {
      if (started) bar.increment(1, next)
    },
    stop() {
      if (started) bar.stop()
    },
  }
}
