import { decodeCbor, encodeBlock } from '../codec/index.js'
import { LedgerError } from '../errors/index.js'

interface TokenBody {
  c: string
  k: Uint8Array
}

/** An opaque token naming where `getEntries` resumes, bound to one snapshot's commit. */
export function encodeToken(commitId: string, nextKey: Uint8Array): string {
  return Buffer.from(encodeBlock({ c: commitId, k: nextKey } satisfies TokenBody).bytes).toString('base64url')
}

export function decodeToken(token: unknown, commitId: string): Uint8Array {
  if (typeof token !== 'string' || token.length === 0 || token.length > 8192) throw invalid()
  let body: unknown
  try {
    body = decodeCbor(new Uint8Array(Buffer.from(token, 'base64url')))
  } catch {
    throw invalid()
  }
  const b = body as Partial<TokenBody> | null
  if (b === null || typeof b !== 'object' || b.c !== commitId || !(b.k instanceof Uint8Array)) throw invalid()
  return b.k
}

function invalid(): LedgerError {
  return new LedgerError('INVALID_TOKEN', 'unknown paging token')
}
