import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingFileSink } from '../../src/main/engine/recording/file-sink';
import { RECORDING_FILE, RecordingFormatError } from '../../src/main/engine/recording/format';
import { parseRecording, readRecording, type Recording } from '../../src/main/engine/recording/reader';
import { exportCase } from '../../src/main/engine/recording/script';
import { RecordingTap } from '../../src/main/engine/recording/tap';
import { VirtualClock } from '../../src/main/engine/clock';
import { replayCase } from '../../src/main/engine/replay';
import { loadCase } from '../../src/main/engine/scripted/case';
import { normalizeTranscript } from '../../src/main/engine/text/normalize';
import { loadSileroModel, type SileroModel } from '../../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../../src/main/engine/vad/voice-activity-detector';
import { defaultSettings } from '../../src/shared/settings';
import { recordCase } from '../helpers/record-case';

const cases = join(__dirname, '..', '..', 'bench', 'corpus', 'tune');

describe('the recording format', () => {
  let model: SileroModel;
  let text: string;
  let recording: Recording;
  let dir: string;
  beforeAll(async () => {
    model = await loadSileroModel('silero-v6');
    const caseData = await loadCase(join(cases, 'multi-turn-pizza-yes'));
    ({ text, recording } = await recordCase(
      caseData,
      new VoiceActivityDetector(model, defaultSettings().vad),
    ));
    dir = mkdtempSync(join(tmpdir(), 'cue-recording-'));
  });
  afterAll(async () => {
    await model.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const lines = () => text.split('\n').filter(Boolean);

  it('holds a header with the format version and the settings, and no key', () => {
    const header = JSON.parse(lines()[0]!) as Record<string, unknown>;
    expect(header).toMatchObject({ kind: 'header', format: 'cue-recording', version: 1, sample_rate: 16000 });
    expect(text).not.toMatch(/api[_-]?key|sk-[a-z0-9]/i);
    expect(recording.settings).toEqual(defaultSettings());
  });

  it('reads a recording cut short up to its last complete record, and says what was lost', () => {
    const all = lines();
    const cut =
      all.slice(0, Math.floor(all.length / 2)).join('\n') +
      '\n' +
      all[Math.floor(all.length / 2)]!.slice(0, 40);
    const partial = parseRecording(cut, 'cut');
    expect(partial.report).toBeNull();
    expect(partial.end).toBeNull();
    expect(partial.durationMs).toBeGreaterThan(0);
    expect(partial.durationMs).toBeLessThan(recording.durationMs);
    expect(partial.lost).toMatch(/cut short \(line \d+ was incomplete\).*s of audio.*session report is lost/);
  });

  it('reads a recording whose last line ended cleanly but has no end record as cut short', () => {
    const all = lines();
    const partial = parseRecording(all.slice(0, 20).join('\n') + '\n', 'crash');
    expect(partial.lost).toMatch(/cut short: it has no end record/);
  });

  it('refuses a damaged line that more records follow, naming the line', () => {
    const all = lines();
    all[5] = all[5]!.slice(0, 10);
    expect(() => parseRecording(all.join('\n') + '\n', 'damaged')).toThrow(
      /recording "damaged": line 6 is damaged \(not JSON\) and more records follow/,
    );
  });

  it('refuses a record of the wrong shape, naming the line and field', () => {
    const all = lines();
    const record = JSON.parse(all[3]!) as Record<string, unknown>;
    record.a = 'soon';
    all[3] = JSON.stringify(record);
    expect(() => parseRecording(all.join('\n') + '\n', 'shape')).toThrow(/line 4: a: /);
  });

  it('refuses a foreign file and other format versions by name', () => {
    expect(() => parseRecording('{"hello": 1}\n', 'foreign')).toThrow(/not a Cue recording/);
    expect(() => parseRecording('RIFF....WAVE', 'wav')).toThrow(/not a Cue recording/);
    const header = JSON.parse(lines()[0]!) as Record<string, unknown>;
    const newer = JSON.stringify({ ...header, version: 2 });
    expect(() => parseRecording(`${newer}\n`, 'newer')).toThrow(
      /recording format version 2 is newer than this Cue reads \(it reads version 1\); update Cue/,
    );
    const older = JSON.stringify({ ...header, version: 0 });
    expect(() => parseRecording(`${older}\n`, 'older')).toThrow(/version 0 is not one this Cue reads/);
    expect(() => readRecording(join(dir, 'nothing-here'))).toThrow(RecordingFormatError);
  });

  it('exports a corpus case that loads and replays to the recorded transcripts', async () => {
    const out = join(dir, 'pizza-from-recording');
    const done = exportCase(recording, out);
    expect(done.turns).toBe(recording.report!.turns.length);
    const exported = await loadCase(out);
    expect(exported.id).toBe('pizza-from-recording');
    expect(exported.turns.map((t) => t.reply)).toEqual(recording.report!.turns.map((t) => t.reply));
    const result = await replayCase(exported, {
      vad: new VoiceActivityDetector(model, defaultSettings().vad),
    });
    expect(result.report.turns.map((t) => normalizeTranscript(t.transcript))).toEqual(
      recording.report!.turns.map((t) => normalizeTranscript(t.transcript)),
    );
    expect(result.outcomes.every((o) => !o.wrong_reply && !o.missed)).toBe(true);
    expect(() => exportCase(recording, join(dir, 'Not Safe'))).toThrow(/must be folder-safe/);
  });

  it('writes whole lines to disk and stops at its size cap with an end record saying so', () => {
    const folder = join(dir, 'capped');
    const stopped: string[] = [];
    const sink = new RecordingFileSink(folder, {
      maxBytes: 40_000,
      flushMs: 0,
      onStopped: (r) => stopped.push(r),
    });
    const clock = new VirtualClock();
    const tap = new RecordingTap({ clock, sink, settings: defaultSettings(), appVersion: 'test' });
    for (let i = 0; i < 100; i++) tap.audio({ samples: new Int16Array(320).fill(i), capturedAt: i * 20 });
    tap.finish(null);
    sink.close();
    expect(stopped).toEqual([expect.stringMatching(/size cap/)]);
    const size = readFileSync(join(folder, RECORDING_FILE)).length;
    expect(size).toBeLessThanOrEqual(40_000);
    const read = readRecording(folder);
    expect(read.lost).toBe('recording stopped early: size cap reached');
    expect(read.durationMs).toBeGreaterThan(0);
    expect(read.durationMs).toBeLessThan(2000);
  });

  it('round-trips the microphone audio exactly', () => {
    const folder = join(dir, 'audio');
    const sink = new RecordingFileSink(folder, { maxBytes: 1e9, flushMs: 0 });
    const clock = new VirtualClock();
    const tap = new RecordingTap({ clock, sink, settings: defaultSettings(), appVersion: 'test' });
    const samples = Int16Array.from({ length: 16_000 }, (_, i) => ((i * 37) % 65_536) - 32_768);
    for (let i = 0; i < samples.length; i += 512)
      tap.audio({ samples: samples.subarray(i, i + 512), capturedAt: i / 16 });
    tap.finish(null);
    sink.close();
    expect(readRecording(folder).audio).toEqual(samples);
    writeFileSync(join(folder, RECORDING_FILE), 'garbage\n');
    expect(() => readRecording(folder)).toThrow(/not a Cue recording/);
  });
});
