import cliProgress from 'cli-progress'
import type { Output } from './output.js'

/** Progress of a multi-step task, shown on standard error only when it is a terminal. */
export interface Progress {
  step(payload: Record<string, string | number>): void
  stop(): void
}

const QUIET: Progress = { step() {}, stop() {} }

/** A progress bar over `total` steps on `err` when it is a terminal; otherwise it shows nothing. */
export function progressBar(err: Output, total: number, format: string, payload: Record<string, string | number>): Progress {
  if (!err.isTTY || total === 0) return QUIET
  const bar = new cliProgress.SingleBar(
    { format, stream: err.stream, hideCursor: true, clearOnComplete: true, etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  )
  bar.start(total, 0, payload)
  return {
    step(next) {
      bar.increment(1, next)
    },
    stop() {
      bar.stop()
    },
  }
}
