import { CID, decodeCbor, encodeBlock, type Block } from '../../codec/index.js'
import { LedgerError } from '../../index.js'

/** The manifest's marker and version: `{ dagkv: 'page-export', v: 1, page, heads }`. */
export const MANIFEST_KIND = 'page-export'
export const MANIFEST_VERSION = 1

/** What a page export says about itself: which page it holds and that page's heads. */
export interface Manifest {
  readonly page: Uint8Array
  readonly heads: readonly CID[]
}

/** The manifest as a dag-cbor block (the CAR's first root). */
export function encodeManifest(m: Manifest): Block {
  return encodeBlock({ dagkv: MANIFEST_KIND, v: MANIFEST_VERSION, page: m.page, heads: [...m.heads] })
}

function bad(why: string): LedgerError {
  return LedgerError.integrity(`not a dagkv page export: ${why}`)
}

/** Decodes and shape-checks a manifest block; DATA_INTEGRITY_ERROR if it is not one. */
export function decodeManifest(bytes: Uint8Array): Manifest {
  let node: unknown
  try {
    node = decodeCbor<unknown>(bytes)
  } catch {
    throw bad('its first root is not dag-cbor')
  }
  if (node === null || typeof node !== 'object' || Array.isArray(node)) throw bad('its first root is not a map')
  const m = node as Record<string, unknown>
  if (m.dagkv !== MANIFEST_KIND) throw bad('its first root is not a dagkv manifest')
  if (m.v !== MANIFEST_VERSION) throw bad(`manifest version ${String(m.v)} (this dagkv reads ${MANIFEST_VERSION})`)
  if (!(m.page instanceof Uint8Array)) throw bad('the manifest has no page id')
  if (!Array.isArray(m.heads)) throw bad('the manifest has no heads')
  const heads = m.heads.map((h) => {
    const cid = CID.asCID(h)
    if (!cid) throw bad('a head is not a CID')
    return cid
  })
  return { page: m.page, heads }
}
