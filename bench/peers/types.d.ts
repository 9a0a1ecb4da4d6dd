// Minimal declarations for the peers that ship no types (only what bench/peers uses).

declare module 'prolly-trees/map' {
  import type { CID } from 'multiformats/cid'
  export interface ProllyBlock { cid: CID; bytes: Uint8Array; value: unknown }
  export interface ProllyEntry { key: string; value: unknown }
  export interface ProllyCache {
    has(cid: CID): boolean
    get(cid: CID): ProllyNode
    set(node: ProllyNode): Promise<void> | void
  }
  export interface ProllyOptions {
    get: (cid: CID) => Promise<ProllyBlock>
    cache: ProllyCache
    chunker: (entry: unknown, distance: number) => Promise<boolean>
    codec: unknown
    hasher: unknown
    compare: (a: string, b: string) => number
  }
  export interface ProllyNode {
    address: CID | Promise<CID>
    block: ProllyBlock | Promise<ProllyBlock>
    get(key: string): Promise<{ result: unknown }>
    getAllEntries(): Promise<{ result: ProllyEntry[] }>
    bulk(ops: Array<{ key: string; value?: unknown; del?: boolean }>): Promise<{ root: ProllyNode; blocks: ProllyBlock[] }>
  }
  export function create(options: ProllyOptions & { list: ProllyEntry[]; sorted?: boolean }): AsyncGenerator<ProllyNode>
  export function load(options: ProllyOptions & { cid: CID }): Promise<ProllyNode>
}

declare module 'prolly-trees/utils' {
  export function bf(factor: number): (entry: unknown, distance: number) => Promise<boolean>
  export function simpleCompare(a: string, b: string): number
}

declare module 'random-access-memory' {
  class RAM {
    constructor()
    length: number
  }
  export default RAM
}

declare module 'hypercore' {
  import type { EventEmitter } from 'node:events'
  import type { Duplex } from 'node:stream'
  class Hypercore extends EventEmitter {
    constructor(storage: (name: string) => unknown, key?: Uint8Array | null, options?: Record<string, unknown>)
    readonly key: Uint8Array
    readonly length: number
    readonly byteLength: number
    ready(): Promise<void>
    close(): Promise<void>
    treeHash(length?: number): Promise<Uint8Array>
    replicate(isInitiator: boolean, options?: Record<string, unknown>): Duplex
    download(range?: { start?: number; end?: number; linear?: boolean }): { done(): Promise<void>; destroy(): void }
    update(options?: { wait?: boolean }): Promise<boolean>
  }
  export default Hypercore
}

declare module 'hyperbee' {
  import type Hypercore from 'hypercore'
  interface Node { seq: number; key: Uint8Array; value: Uint8Array }
  interface Batch {
    put(key: Uint8Array, value: Uint8Array): Promise<void>
    del(key: Uint8Array): Promise<void>
    flush(): Promise<void>
  }
  class Hyperbee {
    constructor(core: Hypercore, options?: { keyEncoding?: string; valueEncoding?: string })
    readonly version: number
    ready(): Promise<void>
    close(): Promise<void>
    get(key: Uint8Array): Promise<Node | null>
    batch(): Batch
    createReadStream(range?: Record<string, unknown>): AsyncIterable<Node>
    createDiffStream(otherVersion: number, range?: Record<string, unknown>): AsyncIterable<{ left: Node | null; right: Node | null }>
    checkout(version: number): Hyperbee
  }
  export default Hyperbee
}
