/**
 * VAD benchmark: cost and accuracy of the Silero models on a corpus (format:
 * ../shared/bench/CORPUS.md), against the word timings of each case.
 *
 *   npm run bench:vad -- [--corpus <dir>] [--models silero-v5,silero-v4,silero-v6]
 *                        [--noise <dBFS>] [--set <vad option>=<value>]... [--json]
 *
 * --noise adds white noise at that RMS level (e.g. -50) to every case, as a microphone
 * noise floor; --set overrides a VAD setting (e.g. --set min_speech_duration=0).
 *
 * Cost: time of each 32 ms model frame on one thread (mean and p95) and the real-time
 * factor of the whole detector. Accuracy:
 *  - frame level: precision / recall / F1 of speech, for the raw model (probability at or
 *    above the activation threshold) and for the detector's segments (with their hysteresis,
 *    minimum durations and silence hangover). Ground truth: a frame whose middle lies inside
 *    a word, or inside a gap shorter than 200 ms between words of the same turn.
 *  - segment level: each turn split at its holds is a reference segment; onset error =
 *    detected start − first word start, offset error = detected end − last word end (ms,
 *    signed mean, mean and p95 of the absolute value). A reference segment no detection
 *    overlaps is missed; a detection overlapping no reference is a false alarm; a detection
 *    spanning two reference segments (a hold shorter than min_silence_duration) is merged and
 *    not scored at that boundary.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decodeWav, resample } from '../src/main/engine/audio/wav';
import { SAMPLE_RATE, type SpeechProbabilityModel } from '../src/main/engine/ports';
import { loadSileroModel, type SileroModel, type SileroVersion } from '../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../src/main/engine/vad/voice-activity-detector';
import { parseSettings, type VadSettings } from '../src/shared/settings';

const GAP_MS = 200;
/** Slack around a reference segment when matching detections to it. */
const MATCH_SLACK_MS = 150;
const ALL_MODELS: SileroVersion[] = ['silero-v5', 'silero-v4', 'silero-v6'];

interface Word {
  start: number;
  end: number;
}
interface Turn {
  words: Word[];
  holds: number[];
}
interface Case {
  id: string;
  samples: Int16Array;
  turns: Turn[];
}
interface Interval {
  start: number;
  end: number;
}

function fail(message: string): never {
  throw new Error(message);
}

function readCase(dir: string, id: string): Case {
  const where = `case ${id}`;
  const raw = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as unknown;
  const doc = raw as { version?: unknown; turns?: unknown };
  if (doc.version !== 1) fail(`${where}: unsupported version ${String(doc.version)}`);
  if (!Array.isArray(doc.turns)) fail(`${where}: turns must be an array`);
  const turns = doc.turns.map((t: { words?: unknown; holds?: unknown }, ti): Turn => {
    if (!Array.isArray(t.words) || t.words.length === 0)
      fail(`${where}: turns[${ti}].words must be a non-empty array`);
    const words = t.words.map((w: { start?: unknown; end?: unknown }, wi) => {
      if (typeof w.start !== 'number' || typeof w.end !== 'number') {
        fail(`${where}: turns[${ti}].words[${wi}] needs numeric start and end`);
      }
      return { start: w.start * 1000, end: w.end * 1000 };
    });
    const holds = Array.isArray(t.holds)
      ? t.holds.map((h: { after?: unknown }, hi) => {
          if (typeof h.after !== 'number') fail(`${where}: turns[${ti}].holds[${hi}].after must be a number`);
          return h.after;
        })
      : [];
    return { words, holds };
  });
  const wav = decodeWav(readFileSync(join(dir, 'audio.wav')), `${where}: audio.wav`);
  let samples = wav.samples;
  if (wav.channels !== 1) {
    samples = samples.filter((_, i) => i % wav.channels === 0);
  }
  samples = resample(samples, wav.sampleRate, SAMPLE_RATE);
  return { id, samples, turns };
}

function readCorpus(dir: string): Case[] {
  const ids = readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .sort();
  if (ids.length === 0) fail(`no cases in ${dir}`);
  return ids.map((id) => readCase(join(dir, id), id));
}

/** Speech ground truth for frame scoring: words, bridged across gaps < 200 ms within a turn. */
function truthIntervals(c: Case): Interval[] {
  const out: Interval[] = [];
  for (const turn of c.turns) {
    let current: Interval | undefined;
    for (const w of turn.words) {
      if (current && w.start - current.end < GAP_MS) current.end = Math.max(current.end, w.end);
      else {
        if (current) out.push(current);
        current = { start: w.start, end: w.end };
      }
    }
    if (current) out.push(current);
  }
  return out;
}

/** Reference segments: each turn split at its holds. */
function referenceSegments(c: Case): Interval[] {
  const out: Interval[] = [];
  for (const turn of c.turns) {
    const cuts = [...new Set(turn.holds)]
      .filter((h) => h >= 0 && h < turn.words.length - 1)
      .sort((a, b) => a - b);
    let first = 0;
    for (const cut of [...cuts, turn.words.length - 1]) {
      out.push({ start: turn.words[first]!.start, end: turn.words[cut]!.end });
      first = cut + 1;
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

const inside = (t: number, intervals: readonly Interval[]) =>
  intervals.some((i) => t >= i.start && t < i.end);
const overlaps = (a: Interval, b: Interval) => a.start < b.end && b.start < a.end;

/** Times every predict() call of a model. */
class TimedModel implements SpeechProbabilityModel {
  readonly frameSamples: number;
  costs: number[] = [];
  constructor(private readonly inner: SpeechProbabilityModel) {
    this.frameSamples = inner.frameSamples;
  }
  async predict(frame: Float32Array): Promise<number> {
    const t0 = performance.now();
    const p = await this.inner.predict(frame);
    this.costs.push(performance.now() - t0);
    return p;
  }
  reset(): void {
    this.inner.reset();
  }
}

interface CaseRun {
  probabilities: { at: number; p: number }[];
  segments: Interval[];
  processMs: number;
}

async function runCase(model: TimedModel, settings: VadSettings, c: Case): Promise<CaseRun> {
  const detector = new VoiceActivityDetector(model, settings);
  const probabilities: CaseRun['probabilities'] = [];
  const segments: Interval[] = [];
  let open: number | undefined;
  const t0 = performance.now();
  for (let i = 0; i < c.samples.length; i += model.frameSamples) {
    const events = await detector.process({
      samples: c.samples.subarray(i, i + model.frameSamples),
      capturedAt: i / 16,
    });
    for (const e of events) {
      if (e.type === 'probability') probabilities.push({ at: e.at, p: e.probability });
      else if (e.type === 'speech_started') open = e.at;
      else if (open !== undefined) {
        segments.push({ start: open, end: e.at });
        open = undefined;
      }
    }
  }
  const processMs = performance.now() - t0;
  if (open !== undefined) segments.push({ start: open, end: (c.samples.length / SAMPLE_RATE) * 1000 });
  return { probabilities, segments, processMs };
}

interface Counts {
  tp: number;
  fp: number;
  fn: number;
}
const prf = ({ tp, fp, fn }: Counts) => {
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
};

interface ErrorStats {
  n: number;
  meanMs: number;
  meanAbsMs: number;
  p95AbsMs: number;
}
function errorStats(errors: number[]): ErrorStats {
  if (errors.length === 0) return { n: 0, meanMs: NaN, meanAbsMs: NaN, p95AbsMs: NaN };
  const abs = errors.map(Math.abs);
  return { n: errors.length, meanMs: mean(errors), meanAbsMs: mean(abs), p95AbsMs: percentile(abs, 0.95) };
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function percentile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

interface SegmentScore {
  onsets: number[];
  offsets: number[];
  references: number;
  missed: number;
  falseAlarms: number;
  merged: number;
}

function scoreSegments(refs: Interval[], detected: Interval[]): SegmentScore {
  const score: SegmentScore = {
    onsets: [],
    offsets: [],
    references: refs.length,
    missed: 0,
    falseAlarms: 0,
    merged: 0,
  };
  const widened = refs.map((r) => ({ start: r.start - MATCH_SLACK_MS, end: r.end + MATCH_SLACK_MS }));
  refs.forEach((ref, k) => {
    const hits = detected.filter((d) => overlaps(d, widened[k]!));
    if (hits.length === 0) {
      score.missed++;
      return;
    }
    const first = hits[0]!;
    const last = hits[hits.length - 1]!;
    const prev = widened[k - 1];
    const next = widened[k + 1];
    if (prev && overlaps(first, prev)) score.merged++;
    else score.onsets.push(first.start - ref.start);
    if (next && overlaps(last, next)) score.merged++;
    else score.offsets.push(last.end - ref.end);
  });
  score.falseAlarms = detected.filter((d) => !widened.some((r) => overlaps(d, r))).length;
  return score;
}

interface ModelResult {
  model: SileroVersion;
  cases: number;
  audioSeconds: number;
  frames: number;
  costMsMean: number;
  costMsP95: number;
  realTimeFactor: number;
  frame: { precision: number; recall: number; f1: number };
  segmentFrames: { precision: number; recall: number; f1: number };
  onset: ErrorStats;
  offset: ErrorStats;
  references: number;
  missed: number;
  falseAlarms: number;
  merged: number;
  perCase: {
    id: string;
    f1: number;
    onsetsMs: number[];
    offsetsMs: number[];
    missed: number;
    falseAlarms: number;
  }[];
}

async function benchModel(
  version: SileroVersion,
  corpus: Case[],
  settings: VadSettings,
): Promise<ModelResult> {
  const silero: SileroModel = await loadSileroModel(version);
  const model = new TimedModel(silero);
  // Warm-up, not measured.
  const noise = new Float32Array(model.frameSamples).map(() => (Math.random() - 0.5) * 0.01);
  for (let i = 0; i < 50; i++) await silero.predict(noise);
  model.costs = [];

  const frame: Counts = { tp: 0, fp: 0, fn: 0 };
  const seg: Counts = { tp: 0, fp: 0, fn: 0 };
  const onsets: number[] = [];
  const offsets: number[] = [];
  let references = 0;
  let missed = 0;
  let falseAlarms = 0;
  let merged = 0;
  let processMs = 0;
  let audioMs = 0;
  const perCase: ModelResult['perCase'] = [];
  const frameMs = (model.frameSamples / SAMPLE_RATE) * 1000;

  for (const c of corpus) {
    silero.reset();
    const run = await runCase(model, settings, c);
    processMs += run.processMs;
    audioMs += (c.samples.length / SAMPLE_RATE) * 1000;
    const truth = truthIntervals(c);
    const caseCounts: Counts = { tp: 0, fp: 0, fn: 0 };
    for (const { at, p } of run.probabilities) {
      const mid = at + frameMs / 2;
      const isSpeech = inside(mid, truth);
      const said = p >= settings.activation_threshold;
      const saidSeg = inside(mid, run.segments);
      for (const [counts, predicted] of [
        [frame, said],
        [caseCounts, said],
        [seg, saidSeg],
      ] as const) {
        if (predicted && isSpeech) counts.tp++;
        else if (predicted) counts.fp++;
        else if (isSpeech) counts.fn++;
      }
    }
    const score = scoreSegments(referenceSegments(c), run.segments);
    onsets.push(...score.onsets);
    offsets.push(...score.offsets);
    references += score.references;
    missed += score.missed;
    falseAlarms += score.falseAlarms;
    merged += score.merged;
    perCase.push({
      id: c.id,
      f1: prf(caseCounts).f1,
      onsetsMs: score.onsets.map(Math.round),
      offsetsMs: score.offsets.map(Math.round),
      missed: score.missed,
      falseAlarms: score.falseAlarms,
    });
  }
  await silero.dispose();
  return {
    model: version,
    cases: corpus.length,
    audioSeconds: audioMs / 1000,
    frames: model.costs.length,
    costMsMean: mean(model.costs),
    costMsP95: percentile(model.costs, 0.95),
    realTimeFactor: processMs / audioMs,
    frame: prf(frame),
    segmentFrames: prf(seg),
    onset: errorStats(onsets),
    offset: errorStats(offsets),
    references,
    missed,
    falseAlarms,
    merged,
    perCase,
  };
}

/** Adds deterministic white noise at `dbfs` RMS. */
function addNoise(samples: Int16Array, dbfs: number): Int16Array {
  const amplitude = 32768 * 10 ** (dbfs / 20) * Math.sqrt(12);
  let seed = 1;
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const v = samples[i]! + Math.round((seed / 2147483648 - 0.5) * amplitude);
    out[i] = Math.max(-32768, Math.min(32767, v));
  }
  return out;
}

function parseArgs(argv: string[]) {
  const args = {
    corpus: 'test/fixtures/cases',
    json: false,
    models: ALL_MODELS,
    noise: undefined as number | undefined,
    vad: {} as Record<string, number>,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') args.json = true;
    else if (a === '--noise') {
      args.noise = Number(argv[++i]);
      if (!Number.isFinite(args.noise) || args.noise >= 0)
        fail('--noise needs a level in dBFS below 0, e.g. -50');
    } else if (a === '--set') {
      const [key, value] = (argv[++i] ?? '').split('=');
      if (!key || value === undefined || !Number.isFinite(Number(value)))
        fail('--set needs <vad option>=<number>');
      args.vad[key] = Number(value);
    } else if (a === '--corpus') args.corpus = argv[++i] ?? fail('--corpus needs a directory');
    else if (a === '--models') {
      const list = (argv[++i] ?? fail('--models needs a list')).split(',');
      for (const m of list) if (!ALL_MODELS.includes(m as SileroVersion)) fail(`unknown model ${m}`);
      args.models = list as SileroVersion[];
    } else if (a === '--help' || a === '-h') {
      console.log(
        'usage: vad-bench [--corpus <dir>] [--models silero-v5,silero-v4,silero-v6] [--noise <dBFS>] [--set <vad option>=<value>]... [--json]',
      );
      process.exit(0);
    } else fail(`unknown argument ${a}`);
  }
  return args;
}

function printTable(
  corpusDir: string,
  results: ModelResult[],
  skipped: string[],
  settings: VadSettings,
  noise: number | undefined,
) {
  const r0 = results[0];
  console.log(
    `VAD bench: ${corpusDir} (${r0?.cases ?? 0} cases, ${(r0?.audioSeconds ?? 0).toFixed(1)} s of audio, ` +
      (noise === undefined ? '' : `white noise at ${noise} dBFS, `) +
      `${r0?.references ?? 0} reference segments); activation ${settings.activation_threshold}, ` +
      `deactivation ${settings.deactivation_threshold}, min speech ${settings.min_speech_duration} s, ` +
      `min silence ${settings.min_silence_duration} s`,
  );
  const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const rows = [
    [
      'model',
      'ms/frame',
      'p95',
      'RTF',
      'P',
      'R',
      'F1',
      'seg P',
      'seg R',
      'seg F1',
      'onset ms (mean, |mean|, p95)',
      'offset ms (mean, |mean|, p95)',
      'missed',
      'false',
      'merged',
    ],
    ...results.map((r) => [
      r.model,
      f(r.costMsMean, 3),
      f(r.costMsP95, 3),
      f(r.realTimeFactor, 4),
      f(r.frame.precision, 3),
      f(r.frame.recall, 3),
      f(r.frame.f1, 3),
      f(r.segmentFrames.precision, 3),
      f(r.segmentFrames.recall, 3),
      f(r.segmentFrames.f1, 3),
      `${f(r.onset.meanMs, 0)}, ${f(r.onset.meanAbsMs, 0)}, ${f(r.onset.p95AbsMs, 0)}`,
      `${f(r.offset.meanMs, 0)}, ${f(r.offset.meanAbsMs, 0)}, ${f(r.offset.p95AbsMs, 0)}`,
      String(r.missed),
      String(r.falseAlarms),
      String(r.merged),
    ]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  for (const row of rows) console.log(row.map((cell, col) => cell.padEnd(widths[col]!)).join('  '));
  for (const s of skipped) console.log(`skipped ${s}`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const corpusDir = resolve(args.corpus);
  const corpus = readCorpus(corpusDir);
  if (args.noise !== undefined) for (const c of corpus) c.samples = addNoise(c.samples, args.noise);
  const settings = parseSettings({ vad: args.vad }).vad;
  const results: ModelResult[] = [];
  const skipped: string[] = [];
  for (const version of args.models) {
    try {
      results.push(await benchModel(version, corpus, settings));
    } catch (error) {
      // v6 is run only when its inputs and outputs match v5's.
      skipped.push(`${version}: ${(error as Error).message}`);
    }
  }
  if (args.json) {
    console.log(
      JSON.stringify(
        { corpus: corpusDir, noiseDbfs: args.noise ?? null, settings, results, skipped },
        null,
        2,
      ),
    );
  } else {
    printTable(args.corpus, results, skipped, settings, args.noise);
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
