import { UsageError } from './failure.js'

const HEX_PREFIX = 'hex:'
const encoder = new TextEncoder()
const strictDecoder = new TextDecoder('utf-8', { fatal: true })

/**
 * How byte strings (page ids, keys, values) are written on the command line and shown:
 * UTF-8 text, or `hex:` followed by hex digits. With `--hex` every such argument is plain hex.
 */
export interface BytesSyntax {
  /** Every byte argument is hex (no prefix needed), and bytes are shown as plain hex. */
  readonly hex: boolean
}

function parseHex(text: string, what: string): Uint8Array {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new UsageError(`${what} is not valid hex: ${text.slice(0, 40)}`)
  }
  return new Uint8Array(Buffer.from(text, 'hex'))
}

/** A page id, key or value argument as bytes: `hex:…` (or anything under `--hex`) is hex, the rest UTF-8. */
export function parseBytes(text: string, syntax: BytesSyntax, what: string): Uint8Array {
  if (syntax.hex) return parseHex(text.startsWith(HEX_PREFIX) ? text.slice(HEX_PREFIX.length) : text, what)
  if (text.startsWith(HEX_PREFIX)) return parseHex(text.slice(HEX_PREFIX.length), what)
  return encoder.encode(text)
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** True for text a terminal line shows as itself: no control characters, no `hex:` prefix. */
function isPlainText(text: string): boolean {
  if (text.startsWith(HEX_PREFIX)) return false
  // C0 and C1 controls, DEL, and line/paragraph separators would break one-line output.
  return !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(text)
}

/**
 * Bytes as the command line accepts them back: UTF-8 text when it is valid, printable and not
 * `hex:`-prefixed, else `hex:` + hex. Under `--hex`, plain hex.
 */
export function showBytes(bytes: Uint8Array, syntax: BytesSyntax): string {
  if (syntax.hex) return toHex(bytes)
  let text: string
  try {
    text = strictDecoder.decode(bytes)
  } catch {
    return HEX_PREFIX + toHex(bytes)
  }
  return isPlainText(text) ? text : HEX_PREFIX + toHex(bytes)
}

function showHead(head: Uint8Array, syntax: BytesSyntax): string {
  if (syntax.hex) return toHex(head)
  try {
    // stream: a character cut at the end is held back instead of failing the decode
    const text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true })
    if (isPlainText(text)) return text
  } catch {
    // not UTF-8: shown as hex
  }
  return HEX_PREFIX + toHex(head)
}

/** Like `showBytes`, shortened to about `max` characters with the total size noted. */
export function showBytesShort(bytes: Uint8Array, syntax: BytesSyntax, max = 80): string {
  if (bytes.length <= max) {
    const shown = showBytes(bytes, syntax)
    if (shown.length <= max) return shown
  }
  return `${showHead(bytes.subarray(0, max), syntax).slice(0, max)}… (${bytes.length} bytes)`
}
