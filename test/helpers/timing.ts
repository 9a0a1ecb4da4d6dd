/** Fails with a clear message instead of hanging the test when `p` does not settle within `ms`. */
export async function within<T>(p: Promise<T>, ms = 5000, what = 'call'): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: did not settle within ${ms} ms (hang)`)), ms)
  })
  try {
    return await Promise.race([p, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/** Runs `tasks` at most `n` at a time (the machine is small; a task may be a whole process). */
export async function pool<T>(tasks: (() => Promise<T>)[], n = 3): Promise<T[]> {
  const results: T[] = new Array(tasks.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++
      results[i] = await tasks[i]!()
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker))
  return results
}
