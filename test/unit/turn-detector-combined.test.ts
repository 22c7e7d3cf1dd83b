/**
 * CombinedTurnDetector: the audio model and the transcript heuristic as one probability (the
 * rule), and the fallback on the heuristic when the model is not there yet, cannot be loaded
 * (missing, corrupt) or fails on a call. Real loading and inference run on the stand-in model.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../src/main/engine/audio/wav';
import type { TurnDetector, TurnDetectorInput } from '../../src/main/engine/ports';
import {
  CombinedTurnDetector,
  combineEndOfTurn,
  CONFIRM_WEIGHT,
  describeModelFailure,
  VETO_MAX,
  type CombinedTurnDetectorStatus,
} from '../../src/main/engine/turn-detector/combined-detector';
import { TurnModelUnavailableError } from '../../src/main/engine/turn-detector/model-store';
import { TurnAudioMissingError } from '../../src/main/engine/turn-detector/smart-turn';
import {
  writeCorruptModel,
  writeStandInModel,
  type CorruptModelKind,
} from '../../src/main/engine/turn-detector/stand-in-model';

const SR = 16_000;
const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** A model that answers from a script (a number, or an error to throw), and counts its calls. */
class ScriptedModel implements TurnDetector {
  readonly name = 'scripted';
  calls: TurnDetectorInput[] = [];
  constructor(private readonly answers: (number | Error)[]) {}
  predictEndOfTurn(input: TurnDetectorInput): Promise<number> {
    this.calls.push(input);
    const answer = this.answers[Math.min(this.calls.length - 1, this.answers.length - 1)]!;
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  }
}

const audio = new Int16Array(SR);
const input = (transcript: string, withAudio = true): TurnDetectorInput => ({
  transcript,
  history: [],
  ...(withAudio ? { audio } : {}),
});

function watch(detector: CombinedTurnDetector) {
  const warnings: string[] = [];
  const statuses: CombinedTurnDetectorStatus[] = [];
  detector.onWarning((message) => warnings.push(message));
  detector.subscribe((status) => statuses.push(status));
  return { warnings, statuses };
}

describe('combineEndOfTurn: the rule', () => {
  it('lets an unfinished phrase veto the model: the result is capped at the heuristic', () => {
    // "remind me to" (preposition, 0.15): a confident model is overruled.
    expect(combineEndOfTurn(0.82, 0.15)).toEqual({ probability: 0.15, vetoed: true });
    expect(combineEndOfTurn(0.999, 0.05)).toEqual({ probability: 0.05, vetoed: true });
    // Up to VETO_MAX inclusive ("can you", hanging, 0.20).
    expect(combineEndOfTurn(0.9, VETO_MAX)).toEqual({ probability: VETO_MAX, vetoed: true });
    // A model already below the cap keeps its own probability (nothing vetoed).
    expect(combineEndOfTurn(0.1, 0.15)).toEqual({ probability: 0.1, vetoed: false });
  });

  it('otherwise pools the log-odds, the heuristic weighted by a quarter', () => {
    const pooled = (m: number, h: number) => sigmoid(logit(m) + CONFIRM_WEIGHT * logit(h));
    expect(CONFIRM_WEIGHT).toBe(0.25);
    for (const [m, h] of [
      [0.4, 0.9],
      [0.2, 0.95],
      [0.9, 0.9],
      [0.5, 0.6],
    ] as const) {
      const result = combineEndOfTurn(m, h);
      expect(result.vetoed).toBe(false);
      expect(result.probability).toBeCloseTo(pooled(m, h), 12);
    }
    // A complete sentence tips an undecided model over 0.5 ...
    expect(combineEndOfTurn(0.4, 0.9).probability).toBeGreaterThan(0.5);
    // ... but never overrules a confident "not done".
    expect(combineEndOfTurn(0.2, 0.95).probability).toBeLessThan(0.35);
    // A trailing pause ("well,", 0.6) barely moves it.
    expect(Math.abs(combineEndOfTurn(0.5, 0.6).probability - 0.5)).toBeLessThan(0.03);
  });

  it('stays a probability at the extremes', () => {
    const high = combineEndOfTurn(1, 0.95).probability;
    const low = combineEndOfTurn(0, 0.95).probability;
    expect(high).toBeGreaterThan(0.99);
    expect(high).toBeLessThanOrEqual(1);
    expect(low).toBeGreaterThanOrEqual(0);
    expect(low).toBeLessThan(0.01);
  });
});

describe('CombinedTurnDetector with a model', () => {
  it('combines the model and the heuristic, naming both in the source', async () => {
    const detector = new CombinedTurnDetector();
    detector.attachModel(new ScriptedModel([0.9, 0.45, 0.2]));
    expect(detector.status).toEqual({ state: 'active' });
    expect(detector.name).toBe('smart-turn-v3 + heuristic');

    expect(await detector.explainEndOfTurn(input('remind me to'))).toEqual({
      probability: 0.15,
      source: 'smart-turn-v3 0.90 + heuristic 0.15 (preposition): veto',
    });
    const confirmed = await detector.explainEndOfTurn(input('what time is it'));
    expect(confirmed.source).toBe('smart-turn-v3 0.45 + heuristic 0.90 (complete)');
    expect(confirmed.probability).toBeCloseTo(sigmoid(logit(0.45) + 0.25 * logit(0.9)), 12);
    expect(confirmed.probability).toBeGreaterThan(0.5);
    expect(await detector.predictEndOfTurn(input('what time is it?'))).toBeLessThan(0.5);
  });

  it('calls the model off the caller’s stack, and idle() waits for it', async () => {
    const model = new ScriptedModel([0.8]);
    const detector = new CombinedTurnDetector();
    detector.attachModel(model);
    const verdict = detector.explainEndOfTurn(input('turn it on'));
    expect(model.calls).toHaveLength(0);
    await detector.idle();
    expect(model.calls).toHaveLength(1);
    expect((await verdict).source).toBe('smart-turn-v3 0.80 + heuristic 0.90 (complete)');
  });

  it('falls back on the heuristic for a call that throws, warning once per run of failures', async () => {
    const boom = new Error('onnxruntime: bad alloc');
    const model = new ScriptedModel([boom, boom, 0.7, boom, 0.6]);
    const detector = new CombinedTurnDetector();
    const { warnings } = watch(detector);
    detector.attachModel(model);
    const first = await detector.explainEndOfTurn(input('turn it on'));
    expect(first).toEqual({ probability: 0.9, source: 'heuristic 0.90 (complete); smart-turn-v3 failed' });
    expect(warnings).toEqual([
      'Turn model smart-turn-v3 failed (onnxruntime: bad alloc): that decision used the transcript heuristic alone.',
    ]);
    await detector.explainEndOfTurn(input('turn it on'));
    expect(warnings).toHaveLength(1);
    // A success ends the run; the next failure warns again.
    expect((await detector.explainEndOfTurn(input('turn it on'))).source).toMatch(/^smart-turn-v3 0\.70/);
    await detector.explainEndOfTurn(input('turn it on'));
    expect(warnings).toHaveLength(2);
    expect(detector.status.state).toBe('active');
  });

  it('drops a model that keeps failing, says why, and stops calling it', async () => {
    const model = new ScriptedModel([new Error('session lost')]);
    const detector = new CombinedTurnDetector({ maxFailures: 3 });
    const { warnings, statuses } = watch(detector);
    detector.attachModel(model);
    for (let i = 0; i < 3; i++) await detector.explainEndOfTurn(input('book a table'));
    expect(detector.status).toMatchObject({
      state: 'fallback',
      reason: 'failed 3 times',
      detail: 'session lost',
    });
    expect(warnings.at(-1)).toBe(
      'Turn model unavailable (failed 3 times): using the transcript heuristic and silence instead. session lost',
    );
    expect(statuses.map((s) => s.state)).toEqual(['waiting', 'active', 'fallback']);
    const after = await detector.explainEndOfTurn(input('book a table'));
    expect(after).toEqual({
      probability: 0.9,
      source: 'heuristic 0.90 (complete); smart-turn-v3 unavailable (failed 3 times)',
    });
    expect(model.calls).toHaveLength(3);
    expect(detector.name).toBe('heuristic');
  });

  it('answers with the heuristic alone, without a warning, when there is no audio', async () => {
    const model = new ScriptedModel([new TurnAudioMissingError('no audio')]);
    const detector = new CombinedTurnDetector();
    const { warnings } = watch(detector);
    detector.attachModel(model);
    for (let i = 0; i < 4; i++) {
      expect(await detector.explainEndOfTurn(input('turn it on', false))).toEqual({
        probability: 0.9,
        source: 'heuristic 0.90 (complete); no audio for smart-turn-v3',
      });
    }
    expect(warnings).toEqual([]);
    expect(detector.status.state).toBe('active');
  });
});

describe('CombinedTurnDetector without a model', () => {
  it('uses the heuristic alone while the model is on its way, then both', async () => {
    const detector = new CombinedTurnDetector();
    const { warnings } = watch(detector);
    expect(detector.status).toEqual({ state: 'waiting' });
    expect(await detector.explainEndOfTurn(input('remind me to'))).toEqual({
      probability: 0.15,
      source: 'heuristic 0.15 (preposition); smart-turn-v3 not loaded yet',
    });
    detector.attachModel(new ScriptedModel([0.3]));
    expect((await detector.explainEndOfTurn(input('remind me to'))).source).toBe(
      'smart-turn-v3 0.30 + heuristic 0.15 (preposition): veto',
    );
    expect(warnings).toEqual([]);
  });

  it('turned off in the settings, uses the heuristic alone and does not warn', async () => {
    const model = new ScriptedModel([0.99]);
    const detector = new CombinedTurnDetector();
    const { warnings } = watch(detector);
    detector.attachModel(model);
    detector.setModelEnabled(false);
    expect(detector.status).toEqual({ state: 'off' });
    expect(await detector.explainEndOfTurn(input('what time is it'))).toEqual({
      probability: 0.9,
      source: 'heuristic 0.90 (complete)',
    });
    expect(model.calls).toHaveLength(0);
    detector.setModelEnabled(true);
    expect(detector.status).toEqual({ state: 'active' });
    expect(warnings).toEqual([]);
  });

  it('reports an unavailable model once, even when told twice, and keeps warnings for a late listener', async () => {
    const detector = new CombinedTurnDetector();
    const error = new TurnModelUnavailableError(
      'offline',
      'Could not download Smart Turn v3.2: fetch failed.',
    );
    detector.modelUnavailable(error);
    detector.modelUnavailable(error);
    const { warnings } = watch(detector);
    // Delivered on the next microtask, so whoever subscribes right after the listener hears it too.
    expect(warnings).toEqual([]);
    await Promise.resolve();
    expect(warnings).toEqual([
      'Turn model unavailable (offline): using the transcript heuristic and silence instead. Could not download Smart Turn v3.2: fetch failed.',
    ]);
    expect(detector.status).toMatchObject({ state: 'fallback', reason: 'offline' });
    expect((await detector.explainEndOfTurn(input('and'))).source).toBe(
      'heuristic 0.10 (conjunction); smart-turn-v3 unavailable (offline)',
    );
  });

  it('names the failure of every kind in a word', () => {
    expect(describeModelFailure(new TurnModelUnavailableError('checksum', 'bad bytes')).reason).toBe(
      'checksum',
    );
    expect(describeModelFailure(new Error('x'))).toEqual({ reason: 'error', detail: 'x' });
    expect(describeModelFailure('weird')).toEqual({ reason: 'error', detail: 'weird' });
  });
});

describe('CombinedTurnDetector loading the stand-in model', () => {
  let dir: string;
  const weather = (() => {
    const caseDir = join('test/fixtures/cases', 'weather-question');
    const doc = JSON.parse(readFileSync(join(caseDir, 'case.json'), 'utf8')) as {
      turns: { words: { start: number; end: number }[] }[];
    };
    return { samples: decodeWav(readFileSync(join(caseDir, 'audio.wav')), 'weather').samples, doc };
  })();
  const lastWord = weather.doc.turns[0]!.words.at(-1)!;
  /** The turn followed by 200 ms of its silence, and the turn cut in the middle of its last word. */
  const finished = weather.samples.subarray(0, Math.round((lastWord.end + 0.2) * SR));
  const midWord = weather.samples.subarray(0, Math.round(((lastWord.start + lastWord.end) / 2) * SR));

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cue-combined-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads a good file and hears the end of the turn in real speech', async () => {
    const path = join(dir, 'stand-in.onnx');
    writeStandInModel(path);
    const detector = new CombinedTurnDetector();
    const { warnings } = watch(detector);
    expect(await detector.loadModel(path)).toBe(true);
    expect(detector.status).toEqual({ state: 'active' });
    const transcript = "what's the weather like in paris today";
    const done = await detector.explainEndOfTurn({ transcript, history: [], audio: finished });
    const cut = await detector.explainEndOfTurn({ transcript, history: [], audio: midWord });
    expect(done.probability).toBeGreaterThan(0.9);
    expect(done.source).toMatch(/^smart-turn-v3 0\.9\d \+ heuristic 0\.90 \(complete\)$/);
    // Mid-word the model says "not done", and the complete-looking words do not overrule it.
    expect(cut.probability).toBeLessThan(0.5);
    expect(cut.source).toMatch(/^smart-turn-v3 0\.[01]\d \+ heuristic 0\.90 \(complete\)$/);
    // An unfinished phrase vetoes even the audio that ends in silence.
    const vetoed = await detector.explainEndOfTurn({
      transcript: 'remind me to',
      history: [],
      audio: finished,
    });
    expect(vetoed).toMatchObject({ probability: 0.15 });
    expect(vetoed.source).toMatch(/: veto$/);
    // No audio at all: the heuristic alone.
    expect((await detector.explainEndOfTurn({ transcript, history: [] })).source).toBe(
      'heuristic 0.90 (complete); no audio for smart-turn-v3',
    );
    expect(warnings).toEqual([]);
    await detector.dispose();
    expect(detector.status).toEqual({ state: 'waiting' });
  });

  it('falls back on the heuristic when the file is missing', async () => {
    const detector = new CombinedTurnDetector();
    const { warnings } = watch(detector);
    const path = join(dir, 'nowhere.onnx');
    expect(await detector.loadModel(path)).toBe(false);
    expect(detector.status).toMatchObject({ state: 'fallback', reason: 'missing' });
    expect(warnings).toEqual([
      `Turn model unavailable (missing): using the transcript heuristic and silence instead. Smart Turn model ${path}: no such file`,
    ]);
    expect(
      await detector.explainEndOfTurn({ transcript: 'remind me to', history: [], audio: finished }),
    ).toEqual({
      probability: 0.15,
      source: 'heuristic 0.15 (preposition); smart-turn-v3 unavailable (missing)',
    });
  });

  it.each<CorruptModelKind>(['truncated', 'garbage', 'empty'])(
    'falls back on the heuristic when the file is corrupt (%s)',
    async (kind) => {
      const path = join(dir, `corrupt-${kind}.onnx`);
      writeCorruptModel(path, kind);
      const detector = new CombinedTurnDetector();
      const { warnings } = watch(detector);
      expect(await detector.loadModel(path)).toBe(false);
      expect(detector.status).toMatchObject({ state: 'fallback', reason: 'corrupt' });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /^Turn model unavailable \(corrupt\): using the transcript heuristic and silence instead\. Smart Turn model .*corrupt-/,
      );
      const verdict = await detector.explainEndOfTurn({
        transcript: 'what time is it',
        history: [],
        audio: finished,
      });
      expect(verdict).toEqual({
        probability: 0.9,
        source: 'heuristic 0.90 (complete); smart-turn-v3 unavailable (corrupt)',
      });
    },
  );

  it('falls back when the file is another model (wrong signature)', async () => {
    const path = join(dir, 'other.onnx');
    writeStandInModel(path, { inputDims: ['batch', 80, 400] });
    const detector = new CombinedTurnDetector();
    expect(await detector.loadModel(path)).toBe(false);
    expect(detector.status).toMatchObject({ state: 'fallback', reason: 'not a Smart Turn v3 model' });
  });
});
