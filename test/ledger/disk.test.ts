import { diskLedger } from '../helpers/ledgers.js'
import { ledgerBasicsSuite } from '../suites/ledger-basics.js'
import { ledgerClosedSuite } from '../suites/ledger-closed.js'
import { ledgerTransactionsSuite } from '../suites/ledger-transactions.js'

ledgerBasicsSuite('classic-level', diskLedger)
ledgerTransactionsSuite('classic-level', diskLedger)
ledgerClosedSuite('classic-level', diskLedger)
