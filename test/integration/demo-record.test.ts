import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readRecording } from '../../src/main/engine/recording/reader';
import { replayRecording } from '../../src/main/engine/recording/replay-recording';
import { normalizeTranscript } from '../../src/main/engine/text/normalize';
import { loadSileroModel } from '../../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../../src/main/engine/vad/voice-activity-detector';

const root = join(__dirname, '..', '..');
const run = promisify(execFile);
/** A microphone frame of the demo (ms). */
const FRAME_MS = 20;

// The real demo: the real SDKs against the simulators, the case streamed in real time, recorded.
describe('npm run demo -- --record, then npm run replay -- --session', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cue-demo-record-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('records the demo session and replays it with the same turns, transcripts and commit times', async () => {
    const session = join(dir, 'session');
    await run(
      'npx',
      [
        'tsx',
        'sim/demo.ts',
        '--case',
        'bench/corpus/tune/multi-turn-pizza-yes',
        '--record',
        session,
        '--out',
        join(dir, 'demo.wav'),
      ],
      { cwd: root, timeout: 120_000 },
    );
    const recording = readRecording(session);
    expect(recording.lost).toBeNull();
    expect(recording.report).not.toBeNull();
    const recorded = recording.report!.turns;
    expect(recorded.length).toBe(2);
    expect(recording.stt.length).toBeGreaterThan(0);
    expect(recording.llm.some((r) => r.outcome === 'completed' && r.ttft_ms !== null)).toBe(true);

    const model = await loadSileroModel(recording.settings.vad.model);
    const result = await replayRecording(recording, {
      vad: new VoiceActivityDetector(model, recording.settings.vad),
    });
    await model.dispose();
    expect(result.approximate).toEqual([]);
    expect(result.report.turns.map((t) => normalizeTranscript(t.transcript))).toEqual(
      recorded.map((t) => normalizeTranscript(t.transcript)),
    );
    result.report.turns.forEach((turn, i) => {
      expect(Math.abs(turn.committed_ms! - recorded[i]!.committed_ms!)).toBeLessThanOrEqual(FRAME_MS);
    });

    // The same through the command line, as JSON shaped like a case replay.
    const { stdout } = await run('npx', ['tsx', 'bench/replay.ts', '--session', session, '--json'], {
      cwd: root,
      timeout: 120_000,
    });
    const json = JSON.parse(stdout) as {
      turns: unknown[];
      totals: unknown;
      outcomes: unknown[];
      approximate: unknown[];
    };
    expect(json.turns).toHaveLength(2);
    expect(json.outcomes).toHaveLength(2);
    expect(json.approximate).toEqual([]);
    // Two tools started with npx, the demo in real time: minutes on a loaded 2-core machine.
  }, 240_000);
});
