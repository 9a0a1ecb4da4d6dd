import { CarWriter } from '@ipld/car/writer'
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { CID } from '../../codec/index.js'
import type { Ledger } from '../../index.js'
import { engineOf } from '../../ledger/index.js'
import { fileFailure } from '../failure.js'
import { encodeManifest } from './manifest.js'
import { reachableBlocks } from './reachable.js'

/** What an export wrote. */
export interface ExportStats {
  heads: string[]
  commits: number
  /** Blocks written, the manifest included. */
  blocks: number
  /** Bytes of block data written (the CAR framing adds a little). */
  bytes: number
}

/**
 * Writes the page's history as a CARv1 file: roots are `[manifest, ...heads]`, the manifest first
 * among the blocks, then every block reachable from the heads (see `reachableBlocks`). The file
 * appears only when complete (written beside it, then renamed); `-` writes to standard output.
 */
export async function exportPage(
  ledger: Ledger,
  pageId: Uint8Array,
  file: string,
  options: { lazy: boolean },
): Promise<ExportStats> {
  const engine = engineOf(ledger)
  const page = await ledger.page(pageId) // validates the id
  await page.waitForConflictResolution()
  await page.close()
  const heads = await engine.withPageState(pageId, (state) => state.heads.filter((h) => h.generation > 0).map((h) => h.cid))
  const manifest = encodeManifest({ page: pageId, heads })
  const stats: ExportStats = { heads: heads.map(String), commits: 0, blocks: 1, bytes: manifest.bytes.length }
  const { writer, out } = CarWriter.create([manifest.cid, ...heads])
  const toStdout = file === '-'
  const target = toStdout ? file : `${file}.${process.pid}.tmp`
  const sink = toStdout ? process.stdout : createWriteStream(target)
  const produce = async (): Promise<void> => {
    await writer.put(manifest)
    const source = (cid: CID): Promise<Uint8Array | undefined> => engine.store.getBlock(cid)
    for await (const block of reachableBlocks(source, engine.tree, heads, options)) {
      await writer.put({ cid: block.cid, bytes: block.bytes })
      stats.blocks++
      stats.bytes += block.bytes.length
      if (block.kind === 'commit') stats.commits++
    }
    await writer.close()
  }
  const consume = async (): Promise<void> => {
    try {
      await pipeline(Readable.from(out), sink, { end: !toStdout })
    } catch (err) {
      throw fileFailure(file, err)
    }
  }
  try {
    // Either side failing ends the export at once (the writer waits for its reader, so a failed
    // file would otherwise leave it waiting).
    await Promise.all([produce(), consume()])
    if (!toStdout) await rename(target, file).catch((err: unknown) => Promise.reject(fileFailure(file, err)))
  } catch (err) {
    if (!toStdout) {
      sink.destroy()
      await rm(target, { force: true })
    }
    throw err
  }
  return stats
}
