import type { SyncStats } from '../ledger/index.js'

/**
 * The counters of one `page.sync` call (or of background work nobody asked about). Every frame,
 * commit and block an exchange moves is added to the tally of the call that started it.
 */
export class Tally implements SyncStats {
  commitsSent = 0
  commitsReceived = 0
  blocksSent = 0
  blocksReceived = 0
  bytesSent = 0
  bytesReceived = 0
  roundTrips = 0

  /** Adds another tally's counts to this one. */
  add(other: SyncStats): this {
    this.commitsSent += other.commitsSent
    this.commitsReceived += other.commitsReceived
    this.blocksSent += other.blocksSent
    this.blocksReceived += other.blocksReceived
    this.bytesSent += other.bytesSent
    this.bytesReceived += other.bytesReceived
    this.roundTrips += other.roundTrips
    return this
  }

  /** A plain `SyncStats` copy, for the caller. */
  toStats(): SyncStats {
    return {
      commitsSent: this.commitsSent,
      commitsReceived: this.commitsReceived,
      blocksSent: this.blocksSent,
      blocksReceived: this.blocksReceived,
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      roundTrips: this.roundTrips,
    }
  }
}
