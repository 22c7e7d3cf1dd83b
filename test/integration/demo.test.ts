import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { decodeWav } from '../../src/main/engine/audio/wav';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

// The demo streams the microphone in real time by design, so this smoke test takes the case's
// length in wall time; it asserts what was said and written, never how fast.
describe('npm run demo', () => {
  it('runs a case end to end through the real SDKs and the simulators and writes the conversation', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cue-demo-')), 'conversation.wav');
    const { stdout } = await run(
      'npx',
      [
        'tsx',
        join(root, 'sim', 'demo.ts'),
        '--case',
        join(root, 'bench', 'corpus', 'tune', 'question-weather-lisbon'),
        '--out',
        out,
      ],
      { cwd: root, timeout: 60_000 },
    );
    expect(stdout).toContain('EndOfTurn "What\'s the weather going to be like in lisbon this weekend?"');
    expect(stdout).toMatch(
      /turn 0: "what's the weather going to be like in lisbon this weekend" -> "Sunny on Saturday, some rain on Sunday\."\n {2}e2e from the end of speech \d+ ms ok/,
    );
    expect(stdout).toContain('errors 0');
    const wav = decodeWav(readFileSync(out));
    expect(wav.channels).toBe(2);
    const agent = wav.samples.filter((_, i) => i % 2 === 1);
    const mic = wav.samples.filter((_, i) => i % 2 === 0);
    expect(agent.some((v) => Math.abs(v) > 100)).toBe(true);
    expect(mic.some((v) => Math.abs(v) > 100)).toBe(true);
  }, 90_000);
});
