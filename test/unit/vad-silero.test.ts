/**
 * Silero v5 and v4 on real (synthesised) speech: the committed corpus fixtures, whose
 * case.json gives the time of every word.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../src/main/engine/audio/wav';
import { SAMPLE_RATE } from '../../src/main/engine/ports';
import {
  loadSileroModel,
  resolveSileroModelPath,
  type SileroModel,
  type SileroVersion,
} from '../../src/main/engine/vad/silero';
import { VoiceActivityDetector, type VadEvent } from '../../src/main/engine/vad/voice-activity-detector';
import { defaultSettings } from '../../src/shared/settings';

const CORPUS = resolve(process.env.CUE_VAD_CORPUS ?? 'test/fixtures/cases');
const TOLERANCE_MS = 150;
/** Silences at least this long must contain no speech (longer than min_silence_duration plus margins). */
const LONG_SILENCE_MS = 1000;
const VERSIONS: SileroVersion[] = ['silero-v5', 'silero-v4'];
/**
 * The fixtures' pauses are digital silence, which no microphone produces; each case also
 * runs with a quiet room's noise floor (white noise at -60 dBFS RMS).
 */
const NOISE_FLOORS = [
  { label: 'as recorded', rms: 0 },
  { label: '-60 dBFS floor', rms: 32768 * 10 ** (-60 / 20) },
];
/**
 * Measured exceptions ("<version> <noise floor> <case> <turn>" → onset tolerance, ms). After
 * digital silence, v5 gives the first 500 ms of "move the meeting" probabilities below 0.4
 * (one frame at 0.56); v4 and v6 detect it within 30 ms, and so does v5 over a noise floor.
 */
const KNOWN_LATE_ONSETS: Record<string, number> = {
  'silero-v5 as recorded three-turns 1': 600,
};

interface FixtureCase {
  id: string;
  samples: Int16Array;
  turns: { words: { start: number; end: number }[] }[];
}

let cached: FixtureCase[] | undefined;
function loadCorpus(): FixtureCase[] {
  cached ??= readdirSync(CORPUS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((id) => {
      const doc = JSON.parse(readFileSync(join(CORPUS, id, 'case.json'), 'utf8')) as {
        turns: { words: { start: number; end: number }[] }[];
      };
      const wav = decodeWav(readFileSync(join(CORPUS, id, 'audio.wav')), id);
      expect(wav.sampleRate, `${id}: sample rate`).toBe(SAMPLE_RATE);
      expect(wav.channels, `${id}: channels`).toBe(1);
      const turns = doc.turns.map((t) => ({
        words: t.words.map((w) => ({ start: w.start * 1000, end: w.end * 1000 })),
      }));
      return { id, samples: wav.samples, turns };
    });
  return cached;
}

/** Runs the detector over audio in 10 ms chunks (as the capture worklet sends it). */
async function detect(model: SileroModel, samples: Int16Array): Promise<VadEvent[]> {
  model.reset();
  const detector = new VoiceActivityDetector(model, defaultSettings().vad);
  const events: VadEvent[] = [];
  for (let i = 0; i < samples.length; i += 160) {
    events.push(...(await detector.process({ samples: samples.subarray(i, i + 160), capturedAt: i / 16 })));
  }
  return events;
}

function segments(events: VadEvent[], endMs: number) {
  const out: { start: number; end: number }[] = [];
  let open: number | undefined;
  for (const e of events) {
    if (e.type === 'speech_started') open = e.at;
    else if (e.type === 'speech_ended' && open !== undefined) {
      out.push({ start: open, end: e.at });
      open = undefined;
    }
  }
  if (open !== undefined) out.push({ start: open, end: endMs });
  return out;
}

function mix(a: Int16Array, b: Int16Array): Int16Array {
  return a.map((v, i) => Math.max(-32768, Math.min(32767, v + b[i]!)));
}

/** Deterministic white noise of the given RMS (in Int16 units). */
function noise(length: number, rms: number): Int16Array {
  let seed = 12345;
  const uniform = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const out = new Int16Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.round((uniform() - 0.5) * rms * Math.sqrt(12));
  return out;
}

describe('resolveSileroModelPath', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cue-silero-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the weights in the @ricky0123/vad-web package', () => {
    expect(resolveSileroModelPath('silero-v5', dir)).toMatch(
      /@ricky0123[/\\]vad-web[/\\]dist[/\\]silero_vad_v5\.onnx$/,
    );
    expect(resolveSileroModelPath('silero-v4', dir)).toMatch(/silero_vad_legacy\.onnx$/);
  });

  it('prefers <resourcesDir>/models', () => {
    mkdirSync(join(dir, 'models'), { recursive: true });
    copyFileSync(resolveSileroModelPath('silero-v4', dir), join(dir, 'models', 'silero_vad_v4.onnx'));
    expect(resolveSileroModelPath('silero-v4', dir)).toBe(join(dir, 'models', 'silero_vad_v4.onnx'));
  });
});

describe.each(VERSIONS)('%s', (version) => {
  let model: SileroModel;
  beforeAll(async () => {
    model = await loadSileroModel(version);
  });
  afterAll(async () => {
    await model.dispose();
  });

  it('predicts 512-sample frames and rejects other sizes', async () => {
    expect(model.frameSamples).toBe(512);
    await expect(model.predict(new Float32Array(480))).rejects.toThrow(/512/);
    const p = await model.predict(new Float32Array(512));
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(0.1);
  });

  it('is reproducible after reset()', async () => {
    const [first] = loadCorpus();
    const audio = first!.samples;
    const run = async () => {
      model.reset();
      const out: number[] = [];
      const frame = new Float32Array(512);
      for (let i = 0; i + 512 <= Math.min(audio.length, 16_000 * 4); i += 512) {
        for (let j = 0; j < 512; j++) frame[j] = audio[i + j]! / 32768;
        out.push(await model.predict(frame));
      }
      return out;
    };
    const a = await run();
    expect(await run()).toEqual(a);
    expect(Math.max(...a)).toBeGreaterThan(0.5);
  });

  it('serialises overlapping predictions and resets, in call order', async () => {
    const audio = loadCorpus()[0]!.samples.subarray(0, 16_000 * 2);
    const frames = Math.floor(audio.length / 512);
    const buffer = new Float32Array(512);
    const fill = (k: number) => {
      for (let j = 0; j < 512; j++) buffer[j] = audio[k * 512 + j]! / 32768;
    };
    model.reset();
    const sequential: number[] = [];
    for (let k = 0; k < frames; k++) {
      fill(k);
      sequential.push(await model.predict(buffer));
    }
    // The same frames twice through one reused buffer, nothing awaited, with a reset in between.
    const pending: Promise<number>[] = [];
    for (const _pass of [1, 2]) {
      model.reset();
      for (let k = 0; k < frames; k++) {
        fill(k);
        pending.push(model.predict(buffer));
      }
    }
    expect(await Promise.all(pending)).toEqual([...sequential, ...sequential]);
  });

  it('hears no speech in silence or low noise', async () => {
    for (const audio of [new Int16Array(16_000 * 5), noise(16_000 * 5, 60), noise(16_000 * 5, 300)]) {
      const events = await detect(model, audio);
      expect(events.filter((e) => e.type !== 'probability')).toEqual([]);
    }
  });

  describe('on the corpus fixtures', () => {
    const corpus = loadCorpus();

    it('has cases', () => {
      expect(corpus.length).toBeGreaterThan(0);
    });

    const cases = NOISE_FLOORS.flatMap((floor) =>
      corpus.map((c) => [c.id, floor.label, c, floor.rms] as const),
    );
    it.each(cases)(
      '%s (%s): detects every turn on time and no speech in long silences',
      async (id, label, c, rms) => {
        const audio = rms > 0 ? mix(c.samples, noise(c.samples.length, rms)) : c.samples;
        const events = await detect(model, audio);
        const duration = (c.samples.length / SAMPLE_RATE) * 1000;
        const starts = events.filter((e) => e.type === 'speech_started').map((e) => e.at);
        const ends = events.filter((e) => e.type === 'speech_ended').map((e) => e.at);
        const nearest = (times: number[], target: number) =>
          times.reduce((best, t) => (Math.abs(t - target) < Math.abs(best - target) ? t : best), Infinity);

        for (const [k, turn] of c.turns.entries()) {
          const first = turn.words[0]!.start;
          const last = turn.words[turn.words.length - 1]!.end;
          const onsetTolerance = KNOWN_LATE_ONSETS[`${version} ${label} ${id} ${k}`] ?? TOLERANCE_MS;
          const start = nearest(starts, first);
          expect(
            Math.abs(start - first),
            `turn ${k}: speech_started ${start} vs first word ${first}`,
          ).toBeLessThanOrEqual(onsetTolerance);
          const end = nearest(ends, last);
          expect(
            Math.abs(end - last),
            `turn ${k}: speech_ended ${end} vs last word end ${last}`,
          ).toBeLessThanOrEqual(TOLERANCE_MS);
        }

        const speech = segments(events, duration);
        const words = c.turns.flatMap((t) => t.words).sort((a, b) => a.start - b.start);
        const silences = [
          { start: 0, end: words[0]!.start },
          ...words.slice(1).map((w, i) => ({ start: words[i]!.end, end: w.start })),
          { start: words[words.length - 1]!.end, end: duration },
        ].filter((s) => s.end - s.start >= LONG_SILENCE_MS);
        for (const s of silences) {
          const from = s.start + TOLERANCE_MS;
          const to = s.end - TOLERANCE_MS;
          const intruders = speech.filter((seg) => seg.start < to && seg.end > from);
          expect(intruders, `speech in the silence ${Math.round(s.start)}–${Math.round(s.end)} ms`).toEqual(
            [],
          );
        }
        // Every detection starts near a word.
        for (const seg of speech) {
          expect(
            words.some((w) => seg.start >= w.start - TOLERANCE_MS && seg.start <= w.end + TOLERANCE_MS),
            `speech_started at ${seg.start} ms is near no word`,
          ).toBe(true);
        }
      },
    );
  });
});
