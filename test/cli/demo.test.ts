/** `npm run demo` end to end: it runs to the end, and every step shows what it claims. */
import { describe, expect, it } from 'vitest'
import { demo, tempDir } from './run-cli.js'

describe('the demo', () => {
  it('runs every step of the mission on disk and says what happened', async () => {
    const dir = tempDir()
    const r = await demo(dir)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const out = r.stdout
    // Steps in order, each with the outcome it promises.
    const steps = [
      /a peer with the wrong token is refused: UNAUTHORIZED/,
      /bob pulls: received 2 commits/,
      /\[bob's watcher\] remote change: colour, greeting, shape changed/,
      /same commit on both: true/,
      /conflict record: key colour: left green, right red → winner left/,
      /\[resolver\] milk:/,
      /bob {2}: \{ bread=rye bread, eggs=a dozen eggs, milk=buy oat milk, 2 litres \}/,
      // Which side is left depends on the two replicas' clocks (same millisecond: the commit ids).
      /bob {2}: \{ lunch=(sushi \+ pizza|pizza \+ sushi) \}/,
      /bob's get → NEEDS_FETCH/,
      /fetchPartial\(-16, 8\) → 8 bytes/,
      /fetch → 3145728 bytes, equal to alice's: true/,
      /alice notes: \{ colour=green, greeting=hello from alice, size=large \}/,
      /^done\.$/m,
    ]
    let at = 0
    for (const step of steps) {
      const m = step.exec(out.slice(at))
      expect(m, `demo output lacks ${step} after offset ${at}:\n${out}`).not.toBeNull()
      at += m!.index + m![0].length
    }
    expect(out).not.toMatch(/- deleted|- changed/)
  })
})
