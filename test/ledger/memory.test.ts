import { memoryLedger } from '../helpers/ledgers.js'
import { ledgerBasicsSuite } from '../suites/ledger-basics.js'
import { ledgerClosedSuite } from '../suites/ledger-closed.js'
import { ledgerTransactionsSuite } from '../suites/ledger-transactions.js'

ledgerBasicsSuite('memory', memoryLedger)
ledgerTransactionsSuite('memory', memoryLedger)
ledgerClosedSuite('memory', memoryLedger)
