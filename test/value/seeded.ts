import { createCipheriv } from 'node:crypto'

/** `size` pseudo-random bytes from `seed`: the AES-128-CTR keystream (stable across platforms). */
export function seededBytes(size: number, seed: number): Uint8Array {
  const key = Buffer.alloc(16)
  key.writeUInt32BE(seed >>> 0, 0)
  key.writeUInt32BE(Math.floor(seed / 2 ** 32) >>> 0, 4)
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16))
  const out = cipher.update(Buffer.alloc(size))
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}
