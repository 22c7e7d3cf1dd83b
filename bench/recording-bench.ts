/**
 * npm run bench:recording [-- --minutes 10 --corpus test/fixtures/cases --json]
 *
 * Replay speed of a recorded session: the corpus cases end to end (as bench:engine builds its
 * long case) are recorded as the app records a session (engine/recording/, on the virtual clock
 * with the scripted providers, written to a temporary folder), read back, then replayed with the
 * recording's own settings and with turn_handling.endpointing.min_delay raised by 0.5 s, real
 * Silero VAD included. Prints the recording's size, the read time and each replay's wall time
 * and speed (audio time / wall time). The figure depends on the machine; it is a benchmark, not
 * a test.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandLineExit, parseCommandLine, runCommand } from '../src/main/cli/command-line';
import { RecordingFileSink } from '../src/main/engine/recording/file-sink';
import { RECORDING_FILE } from '../src/main/engine/recording/format';
import { readRecording } from '../src/main/engine/recording/reader';
import { recordScriptedCase } from '../src/main/engine/recording/record-scripted';
import { replayRecording } from '../src/main/engine/recording/replay-recording';
import { loadCorpus } from '../src/main/engine/scripted/case';
import { loadSileroModel } from '../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../src/main/engine/vad/voice-activity-detector';
import { applyOverrides, defaultSettings } from '../src/shared/settings';
import { buildLongCase } from './long-case';

const usage = 'usage: npm run bench:recording -- [--minutes 10] [--corpus <dir>] [--json]';

async function main(): Promise<number> {
  const args = parseCommandLine(
    {
      minutes: { type: 'string', default: '10' },
      corpus: { type: 'string', default: 'test/fixtures/cases' },
      json: { type: 'boolean', default: false },
    },
    usage,
  );
  const minutes = Number(args.minutes);
  if (!(minutes > 0))
    throw new CommandLineExit(2, `--minutes: must be a number above 0 (got ${args.minutes})\n${usage}`);
  const cases = await loadCorpus(args.corpus);
  const long = buildLongCase(cases, minutes, cases[0]!.profile).data;
  const model = await loadSileroModel(defaultSettings().vad.model);
  const dir = mkdtempSync(join(tmpdir(), 'cue-bench-recording-'));
  try {
    const folder = join(dir, 'session');
    const sink = new RecordingFileSink(folder, { maxBytes: Number.MAX_SAFE_INTEGER, flushMs: 0 });
    let started = performance.now();
    const recorded = await recordScriptedCase(long, {
      vad: new VoiceActivityDetector(model, defaultSettings().vad),
      sink,
      keepEvents: false,
    });
    sink.close();
    const recordMs = performance.now() - started;
    const bytes = statSync(join(folder, RECORDING_FILE)).size;
    started = performance.now();
    const recording = readRecording(folder);
    const readMs = performance.now() - started;
    const runs: {
      label: string;
      wall_ms: number;
      speed: number;
      turns: number;
      e2e_p50_ms: number | null;
    }[] = [];
    const minDelay = recording.settings.turn_handling.endpointing.min_delay;
    for (const [label, assignments] of [
      ['same settings', []],
      [
        `min_delay ${minDelay} -> ${minDelay + 0.5} s`,
        [`turn_handling.endpointing.min_delay=${minDelay + 0.5}`],
      ],
    ] as const) {
      const settings = applyOverrides(recording.settings, assignments);
      model.reset();
      const vad = new VoiceActivityDetector(model, settings.vad);
      started = performance.now();
      const result = await replayRecording(recording, { settings, vad, keepEvents: false });
      const wall = performance.now() - started;
      runs.push({
        label,
        wall_ms: Math.round(wall),
        speed: Math.round(recording.durationMs / wall),
        turns: result.report.totals.turns,
        e2e_p50_ms: result.report.totals.e2e_p50_ms,
      });
    }
    const out = {
      audio_min: Math.round((recording.durationMs / 60_000) * 100) / 100,
      recorded_turns: recorded.report.totals.turns,
      recording_mb: Math.round((bytes / 1e6) * 10) / 10,
      record_wall_ms: Math.round(recordMs),
      read_ms: Math.round(readMs),
      replays: runs,
    };
    if (args.json) console.log(JSON.stringify(out, null, 2));
    else {
      console.log(
        `recorded session: ${out.audio_min} min of audio, ${out.recorded_turns} turns, ${out.recording_mb} MB on disk ` +
          `(recorded on the virtual clock in ${(out.record_wall_ms / 1000).toFixed(1)} s), read back in ${out.read_ms} ms`,
      );
      for (const r of runs) {
        console.log(
          `replay, ${r.label}: ${(r.wall_ms / 1000).toFixed(2)} s wall, ${r.speed}x real time, ` +
            `${r.turns} turns, e2e p50 ${r.e2e_p50_ms ?? '-'} ms`,
        );
      }
    }
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await model.dispose();
  }
}

runCommand(main);
