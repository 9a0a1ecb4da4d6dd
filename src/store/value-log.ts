import { constants } from 'node:fs'
import * as fs from 'node:fs/promises'
import { join } from 'node:path'
import { LedgerError } from '../errors/index.js'

/** Where a block's bytes sit in the log: segment file, byte offset, length. */
export interface LogPointer {
  readonly file: number
  readonly offset: number
  readonly length: number
}

/** A segment file is closed to new bytes once it holds this many (a block never spans two). */
export const DEFAULT_SEGMENT_BYTES = 256 * 1024 * 1024
/** Segment files kept open at once, beyond those in use. */
const MAX_OPEN_SEGMENTS = 32
/** Neighbouring blocks are read in one `read` while the range stays under this. */
const MAX_READ_BYTES = 8 * 1024 * 1024
/** A gap this small between two wanted blocks is read through rather than split. */
const MAX_GAP_BYTES = 64 * 1024

const POINTER_BYTES = 16
const NAME = /^dagkv-values-(\d{6})\.dat$/
const segmentName = (file: number): string => `dagkv-values-${String(file).padStart(6, '0')}.dat`

export function encodePointer(p: LogPointer): Uint8Array {
  const out = new Uint8Array(POINTER_BYTES)
  const view = new DataView(out.buffer)
  view.setUint32(0, p.file)
  view.setUint32(4, Math.floor(p.offset / 2 ** 32))
  view.setUint32(8, p.offset >>> 0)
  view.setUint32(12, p.length)
  return out
}

export function decodePointer(bytes: Uint8Array): LogPointer {
  if (bytes.length !== POINTER_BYTES) throw LedgerError.integrity('malformed value-log pointer')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { file: view.getUint32(0), offset: view.getUint32(4) * 2 ** 32 + view.getUint32(8), length: view.getUint32(12) }
}

/**
 * Append-only segment files beside LevelDB's tables holding large immutable blocks (value
 * chunks): LevelDB keeps only a 16-byte pointer per block, so chunk bytes are written once
 * instead of being rewritten by every compaction, and the neighbouring chunks of a value are read
 * back in one `read`. Nothing is ever deleted (blocks are never deleted). Bytes are written before
 * the LevelDB batch that points at them, so a crash leaves at most unreferenced bytes at the end.
 */
export class ValueLog {
  readonly #dir: string
  readonly #segmentBytes: number
  /** Open segment files (a bounded set: idle ones beyond MAX_OPEN_SEGMENTS are closed). */
  readonly #handles = new Map<number, { fh: Promise<fs.FileHandle>; users: number }>()
  /** Reads and writes under way: `close` waits for them before closing the files. */
  readonly #busy = new Set<Promise<unknown>>()
  #file: number
  #end: number
  #closed = false

  private constructor(dir: string, file: number, end: number, segmentBytes: number) {
    this.#dir = dir
    this.#file = file
    this.#end = end
    this.#segmentBytes = segmentBytes
  }

  /** Opens the log in `dir` (LevelDB's directory); new bytes go after the last segment's end. */
  static async open(dir: string, segmentBytes = DEFAULT_SEGMENT_BYTES): Promise<ValueLog> {
    let last = 0
    for (const name of await fs.readdir(dir)) {
      const m = NAME.exec(name)
      if (m !== null) last = Math.max(last, Number(m[1]))
    }
    if (last === 0) return new ValueLog(dir, 1, 0, segmentBytes)
    const { size } = await fs.stat(join(dir, segmentName(last)))
    return new ValueLog(dir, last, size, segmentBytes)
  }

  /**
   * Writes `blocks` (at positions taken now, so concurrent appends never overlap) and returns
   * their pointers once every byte is in the file.
   */
  append(blocks: readonly Uint8Array[]): Promise<LogPointer[]> {
    return this.#track(this.#append(blocks))
  }

  async #append(blocks: readonly Uint8Array[]): Promise<LogPointer[]> {
    if (this.#closed) throw LedgerError.closed('store')
    const pointers: LogPointer[] = []
    // Consecutive blocks of one segment go out as one gathered write.
    const runs: { file: number; offset: number; parts: Uint8Array[] }[] = []
    for (const bytes of blocks) {
      if (this.#end > 0 && this.#end + bytes.length > this.#segmentBytes) {
        this.#file++
        this.#end = 0
      }
      const p = { file: this.#file, offset: this.#end, length: bytes.length }
      this.#end += bytes.length
      pointers.push(p)
      const run = runs[runs.length - 1]
      if (run !== undefined && run.file === p.file) run.parts.push(bytes)
      else runs.push({ file: p.file, offset: p.offset, parts: [bytes] })
    }
    await Promise.all(runs.map((r) => this.#writeRun(r.file, r.offset, r.parts)))
    return pointers
  }

  #writeRun(file: number, offset: number, parts: Uint8Array[]): Promise<void> {
    return this.#use(file, true, (fh) => writeFully(fh, offset, parts))
  }


  /**
   * Reads the blocks at `pointers` (any order); blocks close together in one segment are read in
   * one go and handed out as views of that read.
   */
  read(pointers: readonly LogPointer[]): Promise<Uint8Array[]> {
    return this.#track(this.#read(pointers))
  }

  async #read(pointers: readonly LogPointer[]): Promise<Uint8Array[]> {
    if (this.#closed) throw LedgerError.closed('store')
    const out = new Array<Uint8Array>(pointers.length)
    const order = pointers.map((_, i) => i).sort((a, b) => {
      const pa = pointers[a]!
      const pb = pointers[b]!
      return pa.file - pb.file || pa.offset - pb.offset
    })
    const reads: Promise<void>[] = []
    let i = 0
    while (i < order.length) {
      const first = pointers[order[i]!]!
      let end = first.offset + first.length
      let j = i + 1
      for (; j < order.length; j++) {
        const p = pointers[order[j]!]!
        if (p.file !== first.file || p.offset > end + MAX_GAP_BYTES) break
        const nextEnd = Math.max(end, p.offset + p.length)
        if (nextEnd - first.offset > MAX_READ_BYTES) break
        end = nextEnd
      }
      const members = order.slice(i, j)
      reads.push(
        this.#readRange(first.file, first.offset, end - first.offset).then((buf) => {
          for (const m of members) {
            const p = pointers[m]!
            out[m] = buf.subarray(p.offset - first.offset, p.offset - first.offset + p.length)
          }
        }),
      )
      i = j
    }
    await Promise.all(reads)
    return out
  }

  /**
   * Reads each pointer's block into its target (as long as the block). Neighbouring blocks whose
   * targets are neighbouring views of one buffer are read in one `read`.
   */
  readInto(pointers: readonly LogPointer[], targets: readonly Uint8Array[]): Promise<void> {
    return this.#track(this.#readInto(pointers, targets))
  }

  async #readInto(pointers: readonly LogPointer[], targets: readonly Uint8Array[]): Promise<void> {
    if (this.#closed) throw LedgerError.closed('store')
    const reads: Promise<void>[] = []
    for (let i = 0; i < pointers.length; ) {
      const first = pointers[i]!
      const dest = targets[i]!
      let length = first.length
      let j = i + 1
      for (; j < pointers.length; j++) {
        const p = pointers[j]!
        const t = targets[j]!
        if (p.file !== first.file || p.offset !== first.offset + length) break
        if (t.buffer !== dest.buffer || t.byteOffset !== dest.byteOffset + length) break
        length += p.length
      }
      reads.push(this.#readFull(first.file, first.offset, new Uint8Array(dest.buffer, dest.byteOffset, length)))
      i = j
    }
    await Promise.all(reads)
  }

  async #readRange(file: number, offset: number, length: number): Promise<Uint8Array> {
    // Not zero-filled: every byte is read into (or the read fails).
    const slow = Buffer.allocUnsafeSlow(length)
    const buf = new Uint8Array(slow.buffer, slow.byteOffset, length)
    await this.#readFull(file, offset, buf)
    return buf
  }

  /** Fills `buf` from `offset` of segment `file`; DATA_INTEGRITY_ERROR if the file ends first. */
  #readFull(file: number, offset: number, buf: Uint8Array): Promise<void> {
    return this.#use(file, false, async (fh) => {
      let got = 0
      while (got < buf.length) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, offset + got)
        if (bytesRead === 0) throw LedgerError.integrity(`value log ${segmentName(file)} ends before a stored block`)
        got += bytesRead
      }
    })
  }

  /**
   * Runs `fn` on segment `file`, opened (created for writes) if need be. A pointer to a segment
   * that does not exist is DATA_INTEGRITY_ERROR. Idle segments beyond the bound are closed.
   */
  async #use<T>(file: number, create: boolean, fn: (fh: fs.FileHandle) => Promise<T>): Promise<T> {
    let entry = this.#handles.get(file)
    if (entry === undefined) {
      const path = join(this.#dir, segmentName(file))
      const fh = fs.open(path, create ? constants.O_RDWR | constants.O_CREAT : constants.O_RDWR)
      const created = { fh, users: 0 }
      this.#handles.set(file, created)
      fh.catch(() => {
        if (this.#handles.get(file) === created) this.#handles.delete(file)
      })
      entry = created
    }
    entry.users++
    try {
      let fh: fs.FileHandle
      try {
        fh = await entry.fh
      } catch (err) {
        if ((err as { code?: unknown }).code === 'ENOENT') throw LedgerError.integrity(`value log ${segmentName(file)} is missing`)
        throw err
      }
      return await fn(fh)
    } finally {
      entry.users--
      this.#closeIdle()
    }
  }

  #closeIdle(): void {
    if (this.#handles.size <= MAX_OPEN_SEGMENTS) return
    for (const [file, entry] of this.#handles) {
      if (this.#handles.size <= MAX_OPEN_SEGMENTS) break
      if (entry.users > 0 || file === this.#file) continue
      this.#handles.delete(file)
      entry.fh.then((fh) => fh.close()).catch(() => undefined)
    }
  }

  #track<T>(op: Promise<T>): Promise<T> {
    this.#busy.add(op)
    const done = (): void => void this.#busy.delete(op)
    op.then(done, done)
    return op
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.allSettled([...this.#busy])
    const handles = [...this.#handles.values()]
    this.#handles.clear()
    await Promise.allSettled(handles.map(async (h) => (await h.fh).close()))
  }
}

/** Writes `parts` one after another from `offset`, however many calls `writev` needs. */
async function writeFully(fh: fs.FileHandle, offset: number, parts: Uint8Array[]): Promise<void> {
  let at = offset
  let rest = parts
  while (rest.length > 0) {
    const { bytesWritten } = await fh.writev(rest, at)
    at += bytesWritten
    let skip = bytesWritten
    const next: Uint8Array[] = []
    for (const p of rest) {
      if (skip >= p.length) {
        skip -= p.length
        continue
      }
      next.push(skip > 0 ? p.subarray(skip) : p)
      skip = 0
    }
    rest = next
  }
}
