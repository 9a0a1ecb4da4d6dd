import { once } from 'node:events'

/** A stream the command writes to, honouring backpressure so large outputs do not pile up in memory. */
export class Output {
  readonly #stream: NodeJS.WritableStream & { isTTY?: boolean }

  constructor(stream: NodeJS.WritableStream & { isTTY?: boolean }) {
    this.#stream = stream
  }

  /** True when the stream is a terminal. */
  get isTTY(): boolean {
    return this.#stream.isTTY === true
  }

  get stream(): NodeJS.WritableStream {
    return this.#stream
  }

  async write(chunk: string | Uint8Array): Promise<void> {
    if (!this.#stream.write(chunk)) await once(this.#stream, 'drain')
  }

  async line(text: string): Promise<void> {
    await this.write(`${text}\n`)
  }

  /** One JSON document on one line. */
  async json(value: unknown): Promise<void> {
    await this.line(JSON.stringify(value))
  }
}
