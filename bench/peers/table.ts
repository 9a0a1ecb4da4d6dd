// Print the markdown table of a saved peers run: npx tsx bench/peers/table.ts results.json
import { readFileSync } from 'node:fs'
import { markdownTable, type RunResult } from './lib/report.js'

const file = process.argv[2]
const text = readFileSync(file ?? 0, 'utf8')
process.stdout.write(`${markdownTable(JSON.parse(text) as RunResult)}\n`)
