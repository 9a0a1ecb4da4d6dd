export { LedgerError, type ErrorCode } from './ledger-error.js'
