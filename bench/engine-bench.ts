/**
 * Engine benchmark: what the engine costs on one core.
 *
 *   npm run bench:engine -- [--minutes <n>] [--hour-minutes <n>] [--corpus <dir>]
 *                           [--vad-frames <n>] [--turn-calls <n>] [--json]
 *
 *  1. VAD: time of one 32 ms Silero frame (512 samples) on one thread, for the default
 *     model (settings vad.model) and the other versions, over frames of real speech from
 *     the corpus (mean, p50, p95 and the real-time factor).
 *  2. Replay speed: the corpus cases concatenated end to end (and repeated) into one case
 *     of `--minutes` of audio (default 10), replayed by replayCase with real VAD and the
 *     default settings on a virtual clock. Target: 10 minutes of audio, VAD included, in
 *     under 10 s on one core.
 *  3. Memory: the same construction for `--hour-minutes` (default 60) of always-on
 *     session; heapUsed after a forced GC at every simulated minute, compared between
 *     minute 1 and the end.
 *  4. Turn detector: time of one Smart Turn v3 decision (log-mel features of the last 8 s +
 *     inference, one thread) over `--turn-calls` calls (default 200) on the corpus turns' audio
 *     up to 300 ms after each turn's end. Runs the ~8 MB int8 stand-in model (the real weights
 *     cannot be downloaded here), and the real weights too when resources/models has them.
 *     Target: p95 under 15 ms on one core.
 *  5. The turn decision at a short pause: the `--decision-corpus` (default bench/corpus/tune,
 *     natural speech) replayed with the default settings, timing each decision made at a pause
 *     from the start of the silence to the verdict (the decision silence and the wait for a final
 *     transcript, on the virtual clock, plus the detector's own wall time), with the transcript
 *     heuristic alone and with the Whisper-tiny-shaped stand-in model beside it.
 *
 * Prints figures only: timings are never asserted (exit 0 unless something crashes).
 * Runs in this process on one core: onnxruntime is single-threaded, no workers.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { CommandLineExit, parseCommandLine, runCommand } from '../src/main/cli/command-line';
import { replayCase, type ReplayResult } from '../src/main/engine/replay';
import { SAMPLE_RATE, type SpeechProbabilityModel } from '../src/main/engine/ports';
import { buildLongCase } from './long-case';
import {
  defaultProfile,
  finalTranscript,
  loadCorpus,
  turnEnd,
  type CaseProfile,
  type ScriptCase,
} from '../src/main/engine/scripted/case';
import { SMART_TURN_SAMPLES } from '../src/main/engine/turn-detector/log-mel';
import { CombinedTurnDetector } from '../src/main/engine/turn-detector/combined-detector';
import {
  resolveSmartTurnModelPath,
  SmartTurnDetector,
  SmartTurnModel,
} from '../src/main/engine/turn-detector/smart-turn';
import {
  STAND_IN_BENCH_WEIGHT_BYTES,
  writeStandInModel,
} from '../src/main/engine/turn-detector/stand-in-model';
import { loadSileroModel, SILERO_FRAME_SAMPLES, type SileroVersion } from '../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../src/main/engine/vad/voice-activity-detector';
import { parseSettings } from '../src/shared/settings';
import type { TimelineEvent } from '../src/shared/timeline';
import { decisionLatency, type DecisionLatency } from './decision-latency';
import { outcomeFlags } from './measure';

const usage =
  'usage: npm run bench:engine -- [--minutes <n>] [--hour-minutes <n>] [--corpus <dir>] [--vad-frames <n>] ' +
  '[--turn-calls <n>] [--decision-corpus <dir>] [--json]';

const DEFAULT_CORPUS = 'test/fixtures/cases';
const DEFAULT_DECISION_CORPUS = 'bench/corpus/tune';
const ALL_MODELS: SileroVersion[] = ['silero-v6', 'silero-v5', 'silero-v4'];
const FRAME_MS = (SILERO_FRAME_SAMPLES / SAMPLE_RATE) * 1000;
/** Frames run and discarded before timing (onnxruntime's first runs are slower). */
const WARMUP_FRAMES = 100;
/** Replay speed target: this much audio ... */
const TARGET_AUDIO_MIN = 10;
/** ... in under this much wall time (s) on one core. */
const TARGET_WALL_S = 10;
/** Heap growth per hour below which memory counts as bounded. */
const BOUNDED_GROWTH_MB_PER_HOUR = 20;

const MB = 1024 * 1024;

// ---------- small helpers ----------

interface Stats {
  frames: number;
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
  /** Compute time / audio time of the frames (below 1 keeps up with real time). */
  real_time_factor: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

function stats(costs: readonly number[]): Stats {
  const sorted = [...costs].sort((a, b) => a - b);
  const total = costs.reduce((sum, c) => sum + c, 0);
  return {
    frames: costs.length,
    mean_ms: total / costs.length,
    p50_ms: percentile(sorted, 50),
    p95_ms: percentile(sorted, 95),
    max_ms: sorted.at(-1) ?? Number.NaN,
    real_time_factor: total / (costs.length * FRAME_MS),
  };
}

const round = (v: number, digits = 3) => Number(v.toFixed(digits));
const mb = (bytes: number) => bytes / MB;

function positiveNumber(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`--${name} must be a number above 0 (got "${value}")`);
  return n;
}

class UsageError extends Error {}

/** Forces a full GC when possible: --expose-gc, else the V8 flag set at run time. */
function findGc(): { gc: (() => void) | undefined; how: string } {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return { gc: exposed, how: 'global.gc (--expose-gc)' };
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc === 'function')
      return { gc: gc as () => void, how: 'v8.setFlagsFromString("--expose-gc")' };
  } catch {
    // fall through
  }
  return { gc: undefined, how: 'unavailable: heap figures are without forced GC' };
}

// ---------- 1. VAD cost ----------

/** Model frames (512 samples, as float) inside the turns of every case: real speech. */
function speechFrames(cases: readonly ScriptCase[]): Float32Array[] {
  const frames: Float32Array[] = [];
  for (const c of cases) {
    for (const turn of c.turns) {
      const from = Math.floor(turn.words[0]!.start * SAMPLE_RATE);
      const to = Math.min(c.audio.length, Math.ceil(turnEnd(turn) * SAMPLE_RATE));
      for (let at = from; at + SILERO_FRAME_SAMPLES <= to; at += SILERO_FRAME_SAMPLES) {
        const frame = new Float32Array(SILERO_FRAME_SAMPLES);
        for (let i = 0; i < SILERO_FRAME_SAMPLES; i++) frame[i] = c.audio[at + i]! / 32768;
        frames.push(frame);
      }
    }
  }
  return frames;
}

interface VadCost extends Stats {
  model: SileroVersion;
  default: boolean;
  load_ms: number;
  /** Distinct speech frames (cycled through to reach `frames`). */
  distinct_frames: number;
}

async function measureVad(
  version: SileroVersion,
  isDefault: boolean,
  frames: readonly Float32Array[],
  count: number,
): Promise<VadCost> {
  const t0 = performance.now();
  const model = await loadSileroModel(version);
  const loadMs = performance.now() - t0;
  try {
    for (let i = 0; i < WARMUP_FRAMES; i++) await model.predict(frames[i % frames.length]!);
    model.reset();
    const costs: number[] = [];
    for (let i = 0; i < count; i++) {
      const frame = frames[i % frames.length]!;
      const start = performance.now();
      await model.predict(frame);
      costs.push(performance.now() - start);
    }
    return {
      model: version,
      default: isDefault,
      load_ms: loadMs,
      distinct_frames: frames.length,
      ...stats(costs),
    };
  } finally {
    await model.dispose();
  }
}

// ---------- replays ----------

/** Sums the time spent in the model, to split replay time into VAD and the rest. */
class TimedModel implements SpeechProbabilityModel {
  readonly frameSamples: number;
  totalMs = 0;
  frames = 0;
  constructor(private readonly inner: SpeechProbabilityModel) {
    this.frameSamples = inner.frameSamples;
  }
  async predict(frame: Float32Array): Promise<number> {
    const t0 = performance.now();
    const p = await this.inner.predict(frame);
    this.totalMs += performance.now() - t0;
    this.frames++;
    return p;
  }
  reset(): void {
    this.inner.reset();
  }
}

interface Health {
  turns_scripted: number;
  turns_reported: number;
  answered: number;
  missed: number;
  wrong_reply: number;
  false_cutin: number;
  /** Case outcome e2e (first audio − t_end). */
  e2e_p50_ms: number | null;
  e2e_p95_ms: number | null;
  e2e_max_ms: number | null;
  /** The engine report's own e2e. */
  report_e2e_p50_ms: number | null;
  report_e2e_p95_ms: number | null;
  llm_requests: number;
  llm_requests_wasted: number;
  tts_characters_wasted: number;
  interruptions: number;
  false_interruptions: number;
  errors: number;
  turns_dropped_from_report: number;
  /** First few bad outcomes, for a look. */
  first_problems: string[];
}

function health(caseData: ScriptCase, result: ReplayResult): Health {
  const o = result.outcomes;
  const e2e = o
    .map((x) => x.e2e_from_t_end_ms)
    .filter((v): v is number => v !== null)
    .sort((a, b) => a - b);
  const t = result.report.totals;
  const problems = o
    .filter((x) => x.missed || x.wrong_reply || x.false_cutin)
    .slice(0, 5)
    .map(
      (x) =>
        `turn ${x.index} (t_end ${(x.t_end_ms / 1000).toFixed(1)} s, "${x.transcript}"): ` +
        outcomeFlags(x).join(', ') +
        ` → spoken ${JSON.stringify(x.spoken_reply)}`,
    );
  return {
    turns_scripted: caseData.turns.length,
    turns_reported: t.turns,
    answered: o.filter((x) => !x.missed && !x.wrong_reply && !x.false_cutin).length,
    missed: o.filter((x) => x.missed).length,
    wrong_reply: o.filter((x) => x.wrong_reply).length,
    false_cutin: o.filter((x) => x.false_cutin).length,
    e2e_p50_ms: e2e.length ? percentile(e2e, 50) : null,
    e2e_p95_ms: e2e.length ? percentile(e2e, 95) : null,
    e2e_max_ms: e2e.at(-1) ?? null,
    report_e2e_p50_ms: t.e2e_p50_ms,
    report_e2e_p95_ms: t.e2e_p95_ms,
    llm_requests: t.llm_requests,
    llm_requests_wasted: t.llm_requests_wasted,
    tts_characters_wasted: t.tts_characters_wasted,
    interruptions: t.interruptions,
    false_interruptions: t.false_interruptions,
    errors: t.errors,
    turns_dropped_from_report: result.report.turns_dropped,
    first_problems: problems,
  };
}

interface SpeedResult {
  case_id: string;
  cases_laid: number;
  repetitions: number;
  audio_min: number;
  /** Silence replayCase adds after the case (processed too, in the wall time). */
  tail_s: number;
  wall_s: number;
  cpu_s: number;
  /** CPU time / wall time of the process during the replay (≈ 1: one core). */
  cores_used: number;
  x_real_time: number;
  vad_s: number;
  vad_frames: number;
  vad_share: number;
  /** Wall time scaled to 10 minutes of case audio. */
  wall_s_per_10_min: number;
  target: 'PASS' | 'MISS';
  min_turn_gap_ms: number;
  min_reply_headroom_ms: number;
  health: Health;
}

const TAIL_MS = 12_000;

async function replaySpeed(cases: readonly ScriptCase[], minutes: number, profile: CaseProfile) {
  const synthetic = buildLongCase(cases, minutes, profile);
  const settings = parseSettings({});
  const model = await loadSileroModel(settings.vad.model);
  const timed = new TimedModel(model);
  const vad = new VoiceActivityDetector(timed, settings.vad);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await replayCase(synthetic.data, { settings, vad, tailMs: TAIL_MS });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await model.dispose();
  const audioMin = synthetic.data.durationMs / 60_000;
  const wallS = wallMs / 1000;
  const per10 = (wallS * TARGET_AUDIO_MIN) / audioMin;
  const speed: SpeedResult = {
    case_id: synthetic.data.id,
    cases_laid: synthetic.sources.length,
    repetitions: round(synthetic.repetitions, 2),
    audio_min: audioMin,
    tail_s: TAIL_MS / 1000,
    wall_s: wallS,
    cpu_s: (cpu.user + cpu.system) / 1e6,
    cores_used: (cpu.user + cpu.system) / 1e3 / wallMs,
    x_real_time: (synthetic.data.durationMs + TAIL_MS) / wallMs,
    vad_s: timed.totalMs / 1000,
    vad_frames: timed.frames,
    vad_share: timed.totalMs / wallMs,
    wall_s_per_10_min: per10,
    target: per10 < TARGET_WALL_S ? 'PASS' : 'MISS',
    min_turn_gap_ms: synthetic.min_gap_ms,
    min_reply_headroom_ms: synthetic.min_reply_headroom_ms,
    health: health(synthetic.data, result),
  };
  return speed;
}

interface HeapSample {
  minute: number;
  heap_used_mb: number;
}

interface MemoryResult {
  case_id: string;
  audio_min: number;
  wall_s: number;
  gc: string;
  samples: HeapSample[];
  heap_after_1_min_mb: number;
  heap_at_end_mb: number;
  /** Simulated minute of the last sample. */
  end_minute: number;
  ratio: number;
  growth_mb: number;
  growth_mb_per_hour: number;
  /** Growth from minute 1 to the middle sample, and from there to the end: a levelling heap grows less in the second. */
  growth_first_half_mb: number;
  growth_second_half_mb: number;
  bounded: boolean;
  /** Heap after replayCase returned, its result (with the events array) still held. */
  heap_after_return_mb: number;
  events_total: number;
  vad_probability_events: number;
  /** Non-VAD events ReplayResult.events holds. */
  events_kept: number;
  /** Heap freed when the result (its events array) is dropped, measured after GC. */
  result_retained_mb: number;
  health: Health;
}

async function replayMemory(
  cases: readonly ScriptCase[],
  minutes: number,
  profile: CaseProfile,
  gc: (() => void) | undefined,
  gcHow: string,
): Promise<MemoryResult> {
  const data = buildLongCase(cases, minutes, profile).data;
  const audioMs = data.durationMs;
  const settings = parseSettings({});
  const model = await loadSileroModel(settings.vad.model);
  const vad = new VoiceActivityDetector(model, settings.vad);

  const heap = () => {
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const samples: HeapSample[] = [];
  let nextMinute = 1;
  let total = 0;
  let probabilities = 0;
  const onEvent = (event: TimelineEvent) => {
    total++;
    if (event.type === 'vad_probability') probabilities++;
    // Sample at each simulated minute while the session runs, and at the end of the case audio.
    while (event.t >= nextMinute * 60_000 && nextMinute * 60_000 <= audioMs) {
      samples.push({ minute: nextMinute, heap_used_mb: mb(heap()) });
      nextMinute++;
    }
    if (event.t >= audioMs && nextMinute !== Number.POSITIVE_INFINITY) {
      samples.push({ minute: audioMs / 60_000, heap_used_mb: mb(heap()) });
      nextMinute = Number.POSITIVE_INFINITY;
    }
  };

  // The result lives only inside run(), so the heap can be measured with and without it.
  const run = async () => {
    const t0 = performance.now();
    const result = await replayCase(data, { settings, vad, tailMs: TAIL_MS, onEvent, keepEvents: false });
    const wallMs = performance.now() - t0;
    await model.dispose();
    const afterReturn = heap();
    return { wallMs, afterReturn, healthFigures: health(data, result), kept: result.events.length };
  };
  const { wallMs, afterReturn, healthFigures, kept } = await run();
  const afterDrop = heap();

  const first = samples[0];
  const last = samples.at(-1);
  const start = first?.heap_used_mb ?? Number.NaN;
  const end = last?.heap_used_mb ?? Number.NaN;
  const endMinute = last?.minute ?? Number.NaN;
  const growth = end - start;
  const spanH = (endMinute - (first?.minute ?? 0)) / 60;
  const perHour = spanH > 0 ? growth / spanH : Number.NaN;
  const middle = samples[Math.floor((samples.length - 1) / 2)];
  const mid = middle?.heap_used_mb ?? Number.NaN;
  return {
    case_id: data.id,
    audio_min: audioMs / 60_000,
    wall_s: wallMs / 1000,
    gc: gcHow,
    samples: samples.map((s) => ({ minute: round(s.minute, 2), heap_used_mb: round(s.heap_used_mb, 2) })),
    heap_after_1_min_mb: start,
    heap_at_end_mb: end,
    end_minute: endMinute,
    ratio: end / start,
    growth_mb: growth,
    growth_mb_per_hour: perHour,
    growth_first_half_mb: mid - start,
    growth_second_half_mb: end - mid,
    bounded: growth < BOUNDED_GROWTH_MB_PER_HOUR && perHour < BOUNDED_GROWTH_MB_PER_HOUR,
    heap_after_return_mb: mb(afterReturn),
    events_total: total,
    vad_probability_events: probabilities,
    events_kept: kept,
    result_retained_mb: mb(afterReturn - afterDrop),
    health: healthFigures,
  };
}

// ---------- 4. turn detector ----------

/** Decision time target (p95, ms) of the audio turn detector on one core. */
const TURN_TARGET_P95_MS = 15;
/** Decisions run and discarded before timing. */
const TURN_WARMUP_CALLS = 20;
/** The engine asks the turn detector once the user has been silent this long. */
const TURN_ASK_AFTER_S = 0.3;

/** Audio the detector would be asked about: each corpus turn up to 300 ms past its end (≤ 8 s). */
function turnAudio(cases: readonly ScriptCase[]): Int16Array[] {
  const clips: Int16Array[] = [];
  for (const c of cases) {
    for (const turn of c.turns) {
      const to = Math.min(c.audio.length, Math.round((turnEnd(turn) + TURN_ASK_AFTER_S) * SAMPLE_RATE));
      clips.push(c.audio.slice(Math.max(0, to - SMART_TURN_SAMPLES), to));
    }
  }
  return clips;
}

interface TurnCost {
  model: string;
  model_path: string;
  model_mb: number;
  load_ms: number;
  calls: number;
  distinct_clips: number;
  /** Whole decision: features + inference, as the engine would wait for it. */
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
  mean_ms: number;
  features_p50_ms: number;
  features_p95_ms: number;
  inference_p50_ms: number;
  inference_p95_ms: number;
  /** Share of the clips judged finished (probability > 0.5). */
  finished_share: number;
  /** CPU time / wall time of the process while timing (well below 1: a busy machine, inflated figures). */
  cores_used: number;
  target: 'PASS' | 'FAIL';
}

async function measureTurn(
  label: string,
  modelPath: string,
  modelBytes: number,
  clips: readonly Int16Array[],
  count: number,
): Promise<TurnCost> {
  const t0 = performance.now();
  const model = await SmartTurnModel.load(modelPath);
  const loadMs = performance.now() - t0;
  try {
    for (let i = 0; i < TURN_WARMUP_CALLS; i++) await model.predict(clips[i % clips.length]!);
    const total: number[] = [];
    const features: number[] = [];
    const inference: number[] = [];
    let finished = 0;
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    for (let i = 0; i < count; i++) {
      const start = performance.now();
      const p = await model.predictTimed(clips[i % clips.length]!);
      total.push(performance.now() - start);
      features.push(p.featuresMs);
      inference.push(p.inferenceMs);
      if (p.probability > 0.5) finished++;
    }
    const cpu = process.cpuUsage(cpu0);
    const coresUsed = (cpu.user + cpu.system) / 1e3 / (performance.now() - wall0);
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const all = sorted(total);
    const f = sorted(features);
    const inf = sorted(inference);
    const p95 = percentile(all, 95);
    return {
      model: label,
      model_path: modelPath,
      model_mb: modelBytes / 1e6,
      load_ms: loadMs,
      calls: count,
      distinct_clips: clips.length,
      p50_ms: percentile(all, 50),
      p95_ms: p95,
      max_ms: all.at(-1) ?? Number.NaN,
      mean_ms: total.reduce((sum, v) => sum + v, 0) / total.length,
      features_p50_ms: percentile(f, 50),
      features_p95_ms: percentile(f, 95),
      inference_p50_ms: percentile(inf, 50),
      inference_p95_ms: percentile(inf, 95),
      finished_share: finished / count,
      cores_used: coresUsed,
      target: p95 < TURN_TARGET_P95_MS ? 'PASS' : 'FAIL',
    };
  } finally {
    await model.dispose();
  }
}

/**
 * The stand-ins (built into a temp dir): the 8 MB one with a flat int8 layer, whose inference
 * cost is a floor, and the encoder-shaped one with Whisper-tiny's compute (int8, ~3.6 G
 * multiply-adds), an estimate of the real model's; then the real weights when resources/models
 * has them.
 */
async function turnDetectorCosts(
  cases: readonly ScriptCase[],
  count: number,
): Promise<{ costs: TurnCost[]; real_weights: string }> {
  const clips = turnAudio(cases);
  if (clips.length === 0) throw new Error('no turns in the corpus');
  const dir = mkdtempSync(join(tmpdir(), 'cue-bench-turn-'));
  const costs: TurnCost[] = [];
  let realWeights: string;
  try {
    const flat = join(dir, 'stand-in-flat.onnx');
    const flatBytes = writeStandInModel(flat, { denseWeightBytes: STAND_IN_BENCH_WEIGHT_BYTES });
    costs.push(await measureTurn('stand-in flat', flat, flatBytes, clips, count));
    const encoder = join(dir, 'stand-in-encoder.onnx');
    const encoderBytes = writeStandInModel(encoder, { encoder: true });
    costs.push(await measureTurn('stand-in encoder', encoder, encoderBytes, clips, count));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  try {
    const real = resolveSmartTurnModelPath();
    realWeights = real;
    costs.push(await measureTurn('smart-turn-v3', real, statSync(real).size, clips, count));
  } catch (error) {
    realWeights = `not run: ${(error as Error).message}`;
  }
  return { costs, real_weights: realWeights };
}

function printTurn(result: { costs: TurnCost[]; real_weights: string }): void {
  console.log(`\n=== 4. Turn detector: Smart Turn v3 decision (features + inference), one thread ===`);
  for (const c of result.costs) {
    console.log(
      `${c.model.padEnd(17)} ${f(c.model_mb, 1)} MB  p50 ${f(c.p50_ms, 2)} ms  p95 ${f(c.p95_ms, 2)} ms  ` +
        `max ${f(c.max_ms, 2)} ms  (features p50 ${f(c.features_p50_ms, 2)} / p95 ${f(c.features_p95_ms, 2)} ms, ` +
        `inference p50 ${f(c.inference_p50_ms, 2)} / p95 ${f(c.inference_p95_ms, 2)} ms)  ` +
        `[${c.calls} calls over ${c.distinct_clips} turn clips, ${f(c.finished_share * 100, 0)}% judged finished; ` +
        `load ${f(c.load_ms, 0)} ms; ${f(c.cores_used, 2)} cores]  target "p95 under ${TURN_TARGET_P95_MS} ms": ${c.target}`,
    );
  }
  console.log(`  real weights: ${result.real_weights}`);
  console.log(
    '  stand-in flat: 8 MB of int8 weights in one MatMulInteger (~8 M multiply-adds), a floor. ' +
      "stand-in encoder: int8 layers of Whisper-tiny's shapes at 400 positions (~3.6 G multiply-adds, " +
      '7.8 MB), an estimate of the real model (upstream: "as little as 10 ms on some CPUs", ' +
      '~65 ms on a 1-vCPU cloud instance).',
  );
}

/** Section 5: the heuristic alone, then with the Whisper-tiny-shaped stand-in (in this thread). */
async function pauseDecisions(corpus: string): Promise<{ corpus: string; results: DecisionLatency[] }> {
  const cases = await loadCorpus(corpus);
  const silero = await loadSileroModel(parseSettings({}).vad.model);
  const dir = mkdtempSync(join(tmpdir(), 'cue-bench-decision-'));
  try {
    const results = [
      await decisionLatency('heuristic alone', cases, silero, new CombinedTurnDetector({ enabled: false })),
    ];
    const encoder = join(dir, 'stand-in-encoder.onnx');
    writeStandInModel(encoder, { encoder: true });
    const model = await SmartTurnDetector.load(encoder);
    const combined = new CombinedTurnDetector();
    combined.attachModel(model);
    try {
      results.push(await decisionLatency('stand-in encoder + heuristic', cases, silero, combined));
    } finally {
      await model.dispose();
    }
    return { corpus, results };
  } finally {
    await silero.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

function printDecisions(d: { corpus: string; results: DecisionLatency[] }): void {
  console.log(
    `\n=== 5. The turn decision at a short pause, from the start of the silence to the verdict (${d.corpus}) ===`,
  );
  for (const r of d.results) {
    console.log(
      `${r.detector.padEnd(29)} ${r.decisions} decisions  total p50 ${f(r.total_p50_ms, 0)} ms  p95 ${f(r.total_p95_ms, 0)} ms  ` +
        `(wait: silence + final transcript, p50 ${f(r.wait_p50_ms, 0)} / p95 ${f(r.wait_p95_ms, 0)} ms; ` +
        `detector p50 ${f(r.compute_p50_ms, 2)} / p95 ${f(r.compute_p95_ms, 2)} ms)`,
    );
  }
  console.log(
    '  the wait is virtual time (decision_silence, then the simulated final transcript); the detector time is this ' +
      "thread's wall time (the app runs the model in a worker, so the main thread stays free meanwhile).",
  );
}

// ---------- output ----------

const f = (v: number | null | undefined, digits = 1) =>
  v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits);

function printVad(costs: readonly VadCost[]): void {
  console.log(`\n=== 1. VAD cost per ${FRAME_MS} ms frame (${SILERO_FRAME_SAMPLES} samples), one thread ===`);
  for (const c of costs) {
    console.log(
      `${c.model.padEnd(9)}${c.default ? ' (default)' : '          '}  mean ${f(c.mean_ms, 3)} ms  ` +
        `p50 ${f(c.p50_ms, 3)} ms  p95 ${f(c.p95_ms, 3)} ms  max ${f(c.max_ms, 2)} ms  ` +
        `RTF ${f(c.real_time_factor, 4)} (${f(1 / c.real_time_factor, 0)}x real time)  ` +
        `[${c.frames} frames, ${c.distinct_frames} distinct speech frames; load ${f(c.load_ms, 0)} ms]`,
    );
  }
}

function printHealth(h: Health): void {
  console.log(
    `  turns: ${h.turns_scripted} scripted, ${h.turns_reported} in report; ${h.answered} answered right, ` +
      `${h.missed} missed, ${h.wrong_reply} wrong reply, ${h.false_cutin} false cut-in`,
  );
  console.log(
    `  e2e from t_end: p50 ${f(h.e2e_p50_ms, 0)} ms, p95 ${f(h.e2e_p95_ms, 0)} ms, max ${f(h.e2e_max_ms, 0)} ms ` +
      `(engine report: p50 ${f(h.report_e2e_p50_ms, 0)} ms, p95 ${f(h.report_e2e_p95_ms, 0)} ms)`,
  );
  console.log(
    `  LLM requests ${h.llm_requests} (${h.llm_requests_wasted} wasted), TTS chars wasted ${h.tts_characters_wasted}, ` +
      `interruptions ${h.interruptions} (${h.false_interruptions} false), errors ${h.errors}, ` +
      `turns dropped from report ${h.turns_dropped_from_report}`,
  );
  for (const p of h.first_problems) console.log(`  ! ${p}`);
}

function printSpeed(s: SpeedResult): void {
  console.log(`\n=== 2. Replay speed: ${s.case_id} (real VAD, default settings) ===`);
  console.log(
    `  ${s.cases_laid} fixture cases end to end (${s.repetitions}x the corpus), ${f(s.audio_min, 2)} min of audio ` +
      `+ ${s.tail_s} s tail; turn gaps >= ${f(s.min_turn_gap_ms, 0)} ms, ` +
      `reply headroom >= ${f(s.min_reply_headroom_ms, 0)} ms (estimated)`,
  );
  console.log(
    `  wall ${f(s.wall_s, 2)} s, CPU ${f(s.cpu_s, 2)} s (${f(s.cores_used, 2)} cores), ${f(s.x_real_time, 1)}x real time; ` +
      `VAD ${f(s.vad_s, 2)} s over ${s.vad_frames} frames (${f(s.vad_share * 100, 0)}% of wall)`,
  );
  console.log(
    `  target "${TARGET_AUDIO_MIN} minutes of audio, VAD included, in under ${TARGET_WALL_S} s on one core": ` +
      `${s.target} (${f(s.wall_s_per_10_min, 2)} s per ${TARGET_AUDIO_MIN} min of audio)`,
  );
  printHealth(s.health);
}

function printMemory(m: MemoryResult): void {
  console.log(`\n=== 3. Memory: ${m.case_id}, always-on session (real VAD, default settings) ===`);
  console.log(`  ${f(m.audio_min, 2)} min of audio replayed in ${f(m.wall_s, 1)} s; GC: ${m.gc}`);
  const every = Math.max(1, Math.ceil(m.samples.length / 12));
  const shown = m.samples.filter((_, i) => i % every === 0 || i === m.samples.length - 1);
  console.log(
    `  heapUsed by simulated minute: ${shown.map((s) => `${f(s.minute, 1)}: ${f(s.heap_used_mb, 1)} MB`).join(', ')}`,
  );
  console.log(
    `  heap after 1 min ${f(m.heap_after_1_min_mb, 2)} MB, at the end (minute ${f(m.end_minute, 1)}) ` +
      `${f(m.heap_at_end_mb, 2)} MB: ratio ${f(m.ratio, 3)}, growth ${f(m.growth_mb, 2)} MB ` +
      `(${f(m.growth_mb_per_hour, 2)} MB per hour) → ${m.bounded ? 'bounded' : 'NOT bounded'} ` +
      `(limit ${BOUNDED_GROWTH_MB_PER_HOUR} MB)`,
  );
  console.log(
    `  growth by half: ${f(m.growth_first_half_mb, 2)} MB (minute 1 to the middle), ` +
      `${f(m.growth_second_half_mb, 2)} MB (middle to the end)`,
  );
  console.log(
    `  events: ${m.events_total} emitted (${m.vad_probability_events} vad_probability), ` +
      `${m.events_kept} kept in ReplayResult.events; heap after replayCase returned ${f(m.heap_after_return_mb, 2)} MB, ` +
      `of which the result (events, report, outcomes) ${f(m.result_retained_mb, 2)} MB`,
  );
  printHealth(m.health);
}

// ---------- main ----------

async function main(): Promise<number> {
  const args = parseCommandLine(
    {
      minutes: { type: 'string' },
      'hour-minutes': { type: 'string' },
      corpus: { type: 'string', default: DEFAULT_CORPUS },
      'vad-frames': { type: 'string' },
      'turn-calls': { type: 'string' },
      'decision-corpus': { type: 'string', default: DEFAULT_DECISION_CORPUS },
      json: { type: 'boolean', default: false },
    },
    usage,
  );
  let minutes: number;
  let hourMinutes: number;
  let vadFrames: number;
  let turnCalls: number;
  try {
    minutes = positiveNumber(args.minutes, 'minutes', 10);
    hourMinutes = positiveNumber(args['hour-minutes'], 'hour-minutes', 60);
    vadFrames = Math.round(positiveNumber(args['vad-frames'], 'vad-frames', 4000));
    turnCalls = Math.round(positiveNumber(args['turn-calls'], 'turn-calls', 200));
  } catch (error) {
    throw new CommandLineExit(2, `${(error as Error).message}\n${usage}`);
  }
  const json = args.json;
  const log = (line: string) => {
    if (!json) console.log(line);
  };

  const { gc, how } = findGc();
  const cases = await loadCorpus(args.corpus);
  if (cases.length === 0) throw new Error(`no cases in ${args.corpus}`);
  const profile = defaultProfile();
  const overridden = cases
    .filter((c) => JSON.stringify(c.profile) !== JSON.stringify(profile))
    .map((c) => c.id);
  const defaultModel = parseSettings({}).vad.model;
  log(
    `engine bench: node ${process.version}, ${cases.length} cases from ${args.corpus} ` +
      `(${f(cases.reduce((s, c) => s + c.durationMs, 0) / 1000, 1)} s of audio, ` +
      `${cases.reduce((s, c) => s + c.turns.length, 0)} turns); one core, no workers`,
  );
  log(
    `synthetic cases use the default profile` +
      (overridden.length ? ` (replacing the own profile of: ${overridden.join(', ')})` : ''),
  );
  log(`forced GC: ${how}`);
  // Turn transcripts that two cases share must have the same reply (the scripted LLM keys on them).
  const replies = new Map<string, string>();
  for (const c of cases) {
    for (const t of c.turns) {
      const key = finalTranscript(t).toLowerCase();
      const seen = replies.get(key);
      if (seen !== undefined && seen !== t.reply)
        log(`warning: "${key}" has two different replies in the corpus`);
      replies.set(key, t.reply);
    }
  }

  // 1. VAD
  const frames = speechFrames(cases);
  if (frames.length === 0) throw new Error('no speech frames in the corpus');
  const models = [defaultModel as SileroVersion, ...ALL_MODELS.filter((m) => m !== defaultModel)];
  const vadCosts: VadCost[] = [];
  for (const m of models) vadCosts.push(await measureVad(m, m === defaultModel, frames, vadFrames));
  if (!json) printVad(vadCosts);

  // 2. Replay speed
  const speed = await replaySpeed(cases, minutes, profile);
  if (!json) printSpeed(speed);

  // 3. Memory
  const memory = await replayMemory(cases, hourMinutes, profile, gc, how);
  if (!json) printMemory(memory);

  // 4. Turn detector
  const turn = await turnDetectorCosts(cases, turnCalls);
  if (!json) printTurn(turn);

  // 5. The decision at a short pause
  const decision = await pauseDecisions(args['decision-corpus']);
  if (!json) printDecisions(decision);

  if (json) {
    console.log(
      JSON.stringify(
        {
          node: process.version,
          corpus: args.corpus,
          cases: cases.map((c) => c.id),
          default_vad_model: defaultModel,
          vad: vadCosts,
          replay_speed: {
            ...speed,
            target_audio_min: TARGET_AUDIO_MIN,
            target_wall_s: TARGET_WALL_S,
          },
          memory: { ...memory, bounded_limit_mb: BOUNDED_GROWTH_MB_PER_HOUR },
          turn_detector: { ...turn, target_p95_ms: TURN_TARGET_P95_MS },
          decision_at_pause: decision,
        },
        (_key, value: unknown) =>
          typeof value === 'number' && !Number.isInteger(value) ? round(value, 4) : value,
        2,
      ),
    );
  }
  return 0;
}

runCommand(main);
