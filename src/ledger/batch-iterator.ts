const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true })

/**
 * An async iterator over items that arrive in batches: one await per batch, and the items of a
 * batch handed out as already-settled promises (a scan of 100k entries takes ~6k async steps
 * instead of 100k). Calls to `next` that overlap are served in order.
 */
export class BatchIterator<T> implements AsyncIterableIterator<T> {
  readonly #source: AsyncIterator<T[]>
  #buf: T[] = []
  #i = 0
  #done = false
  #busy: Promise<unknown> | undefined

  constructor(source: AsyncIterator<T[]>) {
    this.#source = source
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#busy !== undefined) return this.#busy.then(() => this.next(), () => this.next())
    if (this.#i < this.#buf.length) return Promise.resolve({ value: this.#buf[this.#i++] as T, done: false })
    if (this.#done) return Promise.resolve(DONE)
    const filling = this.#fill()
    this.#busy = filling
    return filling.finally(() => {
      this.#busy = undefined
    })
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    this.#done = true
    this.#buf = []
    await this.#source.return?.(undefined)
    return DONE
  }

  async #fill(): Promise<IteratorResult<T, undefined>> {
    try {
      for (;;) {
        const r = await this.#source.next()
        if (r.done === true) {
          this.#done = true
          return DONE
        }
        if (r.value.length > 0) {
          this.#buf = r.value
          this.#i = 1
          return { value: r.value[0] as T, done: false }
        }
      }
    } catch (err) {
      this.#done = true
      throw err
    }
  }
}
