/**
 * SmartTurnModel and SmartTurnDetector on stand-in ONNX models built into a temp dir (the real
 * Smart Turn v3 weights cannot be downloaded here): loading, inference on real fixture speech,
 * the 0.5 decision, caching, signature checks, corrupt and missing files, dispose.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WhisperLogMel } from '../../src/main/engine/turn-detector/log-mel';
import {
  resolveSmartTurnModelPath,
  signatureProblem,
  SmartTurnDetector,
  SmartTurnModel,
  TurnAudioMissingError,
  TurnModelLoadError,
} from '../../src/main/engine/turn-detector/smart-turn';
import {
  standInProbability,
  STAND_IN_BENCH_WEIGHT_BYTES,
  writeCorruptModel,
  writeStandInModel,
  type CorruptModelKind,
  type StandInModelOptions,
} from '../../src/main/engine/turn-detector/stand-in-model';
import { finished, midWord, turnFixture as fixture } from '../helpers/turn-audio';

const SR = 16_000;
const CASES = ['flight-hesitation', 'long-utterance', 'misheard-interim', 'three-turns', 'weather-question'];

let dir: string;
const path = (name: string) => join(dir, name);
function model(name: string, options: StandInModelOptions = {}): string {
  writeStandInModel(path(name), options);
  return path(name);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cue-smart-turn-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('SmartTurnModel on the stand-in', () => {
  let plain: SmartTurnModel;
  let dense: SmartTurnModel;
  const fixtures = CASES.map(fixture);
  const weather = fixtures.find((f) => f.id === 'weather-question')!;

  beforeAll(async () => {
    plain = await SmartTurnModel.load(model('plain.onnx'));
    // With a small int8 dense branch (MatMulInteger), as the bench model but 128 KB.
    dense = await SmartTurnModel.load(model('dense.onnx', { denseWeightBytes: 128_000 }));
  });
  afterAll(async () => {
    await plain.dispose();
    await dense.dispose();
  });

  it('computes what the stand-in is defined to compute, from the extracted features', async () => {
    const extractor = new WhisperLogMel();
    for (const f of fixtures) {
      for (const audio of [finished(f), midWord(f)]) {
        const expected = standInProbability(extractor.smartTurnFeatures(audio));
        expect(Math.abs((await plain.predict(audio)) - expected), f.id).toBeLessThan(1e-5);
        // The dense branch moves the logit by at most 1e-3.
        expect(Math.abs((await dense.predict(audio)) - expected), f.id).toBeLessThan(3e-4);
      }
    }
  });

  it('speech then silence: end of turn; cut mid-word: not; decided at 0.5', async () => {
    for (const f of fixtures) {
      const done = await plain.predict(finished(f));
      const notDone = await plain.predict(midWord(f));
      expect(done, `${f.id} finished`).toBeGreaterThan(0.9);
      expect(notDone, `${f.id} mid-word`).toBeLessThan(0.2);
      expect(done > 0.5 && notDone < 0.5).toBe(true);
    }
  });

  it('pure silence is not an end of turn for the stand-in (nothing was said)', async () => {
    expect(await plain.predict(new Int16Array(2 * SR))).toBeLessThan(0.01);
    expect(await plain.predict(new Int16Array(1))).toBeLessThan(0.01);
  });

  it('takes Int16 or floats, and only the last 8 s', async () => {
    const audio = finished(weather);
    const floats = Float32Array.from(audio, (v) => v / 32768);
    expect(await plain.predict(floats)).toBeCloseTo(await plain.predict(audio), 5);
    const long = new Int16Array(20 * SR);
    long.set(audio, long.length - audio.length);
    long.set(fixtures[1]!.samples.subarray(0, 5 * SR)); // speech more than 8 s before the end: ignored
    const tail = long.subarray(long.length - 8 * SR);
    expect(await plain.predict(long)).toBe(await plain.predict(tail));
  });

  it('serialises concurrent calls, each on its own audio', async () => {
    const inputs = fixtures.flatMap((f) => [finished(f), midWord(f)]);
    const one = [];
    for (const audio of inputs) one.push(await plain.predict(audio));
    // All at once; the buffers are overwritten right after the calls are made.
    const copies = inputs.map((a) => a.slice());
    const together = Promise.all(copies.map((a) => plain.predict(a)));
    for (const c of copies) c.fill(0);
    expect(await together).toEqual(one);
  });

  it('reports the time spent on features and on inference', async () => {
    const p = await plain.predictTimed(finished(weather));
    expect(p.probability).toBeGreaterThan(0.9);
    expect(p.featuresMs).toBeGreaterThan(0);
    expect(p.inferenceMs).toBeGreaterThan(0);
  });
});

describe('SmartTurnDetector', () => {
  it('implements TurnDetector on input.audio, remembers the last answer', async () => {
    const detector = await SmartTurnDetector.load(model('detector.onnx'));
    const f = fixture('weather-question');
    expect(detector.name).toBe('smart-turn-v3');
    const input = { transcript: 'ignored', history: [], audio: finished(f) };
    const p = await detector.predictEndOfTurn(input);
    expect(p).toBeGreaterThan(0.9);
    expect(detector.lastPrediction?.probability).toBe(p);
    // The same audio again (another array, same content): answered from the cache.
    expect(await detector.predictEndOfTurn({ ...input, audio: finished(f).slice() })).toBe(p);
    expect(detector.cacheHits).toBe(1);
    // Different audio: the model runs again.
    expect(await detector.predictEndOfTurn({ ...input, audio: midWord(f) })).toBeLessThan(0.2);
    expect(detector.cacheHits).toBe(1);
    await detector.dispose();
  });

  it('rejects with TurnAudioMissingError without audio', async () => {
    const detector = await SmartTurnDetector.load(model('no-audio.onnx'));
    await expect(detector.predictEndOfTurn({ transcript: 'hello', history: [] })).rejects.toBeInstanceOf(
      TurnAudioMissingError,
    );
    await expect(
      detector.predictEndOfTurn({ transcript: 'hello', history: [], audio: new Int16Array(0) }),
    ).rejects.toThrow(/audio is missing or empty/);
    await detector.dispose();
  });
});

describe('loading errors', () => {
  async function loadError(file: string): Promise<TurnModelLoadError> {
    const error = await SmartTurnModel.load(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TurnModelLoadError);
    return error as TurnModelLoadError;
  }

  it.each<[string, StandInModelOptions, string]>([
    [
      'frames',
      { inputDims: ['batch', 80, 400] },
      'expected input input_features [batch,80,800] float32, found input_features [batch,80,400] float32',
    ],
    [
      'mels',
      { inputDims: [1, 128, 800] },
      'expected input input_features [batch,80,800] float32, found input_features [1,128,800] float32',
    ],
    [
      'name',
      { inputName: 'input_values' },
      'expected input input_features [batch,80,800] float32, found input_values [batch,80,800] float32',
    ],
    [
      'type',
      { inputType: 'float16' },
      'expected input input_features [batch,80,800] float32, found input_features [batch,80,800] float16',
    ],
    [
      'output',
      { outputName: 'probabilities' },
      'expected output logits [batch,1] float32, found probabilities',
    ],
  ])('names what is wrong with the signature: %s', async (name, options, message) => {
    const file = model(`wrong-${name}.onnx`, options);
    const error = await loadError(file);
    expect(error.reason).toBe('signature');
    expect(error.modelPath).toBe(file);
    expect(error.message).toContain(file);
    expect(error.message).toContain(message);
  });

  it.each<CorruptModelKind>(['truncated', 'garbage', 'empty'])('a %s file is invalid', async (kind) => {
    const file = path(`corrupt-${kind}.onnx`);
    writeCorruptModel(file, kind);
    const error = await loadError(file);
    expect(error.reason).toBe('invalid');
    expect(error.message).toContain(file);
    expect(error.message).toMatch(kind === 'empty' ? /is empty \(0 bytes\)/ : /is not a loadable ONNX model/);
  });

  it('a missing file is missing', async () => {
    const error = await loadError(path('nope.onnx'));
    expect(error.reason).toBe('missing');
    expect(error.message).toContain(path('nope.onnx'));
  });

  it('a directory is unreadable', async () => {
    mkdirSync(path('a-directory.onnx'), { recursive: true });
    expect((await loadError(path('a-directory.onnx'))).reason).toBe('unreadable');
  });

  it('resolves the weights in <resources>/models', () => {
    const resources = path('resources');
    mkdirSync(join(resources, 'models'), { recursive: true });
    expect(() => resolveSmartTurnModelPath(resources)).toThrow(/smart-turn-v3\.2-cpu\.onnx/);
    writeStandInModel(join(resources, 'models', 'smart-turn-v3.1-cpu.onnx'));
    expect(resolveSmartTurnModelPath(resources)).toBe(join(resources, 'models', 'smart-turn-v3.1-cpu.onnx'));
  });
});

describe('signatureProblem', () => {
  const tensor = (
    name: string,
    shape: (number | string)[],
    type: Tensor.Type = 'float32',
  ): InferenceSession.ValueMetadata => ({ name, isTensor: true, type, shape });
  const output = [tensor('logits', ['batch', 1])];

  it('accepts a dynamic or fixed batch of 1, symbolic sizes, and a [batch] output', () => {
    expect(signatureProblem([tensor('input_features', ['batch', 80, 800])], output)).toBeUndefined();
    expect(signatureProblem([tensor('input_features', [1, 80, 800])], output)).toBeUndefined();
    expect(signatureProblem([tensor('input_features', ['b', 'mels', 'frames'])], output)).toBeUndefined();
    expect(
      signatureProblem([tensor('input_features', [1, 80, 800])], [tensor('logits', ['batch'])]),
    ).toBeUndefined();
  });

  it('names the problem', () => {
    expect(signatureProblem([tensor('input_features', [2, 80, 800])], output)).toBe(
      'expected input input_features [batch,80,800] float32, found input_features [2,80,800] float32',
    );
    expect(
      signatureProblem(
        [tensor('input_features', [1, 80, 800]), tensor('attention_mask', [1, 800], 'int64')],
        output,
      ),
    ).toBe(
      'expected only the input input_features [batch,80,800] float32, found also attention_mask [1,800] int64',
    );
    expect(signatureProblem([], output)).toMatch(/found no inputs$/);
    expect(signatureProblem([tensor('input_features', [1, 80, 800])], [tensor('logits', [1, 2])])).toBe(
      'expected output logits [batch,1] float32, found logits [1,2] float32',
    );
    expect(signatureProblem([{ name: 'input_features', isTensor: false }], output)).toMatch(
      /found input_features \(not a tensor\)$/,
    );
  });
});

describe('dispose', () => {
  it('waits for calls in flight, then rejects new ones; twice is fine', async () => {
    const m = await SmartTurnModel.load(model('dispose.onnx'));
    const inFlight = m.predict(new Int16Array(SR));
    await m.dispose();
    expect(await inFlight).toBeLessThan(0.01);
    await expect(m.predict(new Int16Array(SR))).rejects.toThrow(/disposed/);
    await m.dispose();
  });
});

describe('the bench-sized stand-ins', () => {
  it('carries ~8 MB of int8 weights and answers like the small one', async () => {
    const file = model('bench.onnx', { denseWeightBytes: STAND_IN_BENCH_WEIGHT_BYTES });
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(7.9e6);
    expect(size).toBeLessThan(8.2e6);
    const m = await SmartTurnModel.load(file);
    const f = fixture('three-turns');
    const expected = standInProbability(new WhisperLogMel().smartTurnFeatures(finished(f)));
    expect(Math.abs((await m.predict(finished(f))) - expected)).toBeLessThan(3e-4);
    await m.dispose();
  });

  it('the encoder-shaped one (Whisper-tiny compute) answers like the small one too', async () => {
    const file = model('encoder.onnx', { encoder: true });
    expect(statSync(file).size).toBeGreaterThan(7e6);
    const m = await SmartTurnModel.load(file);
    const extractor = new WhisperLogMel();
    for (const f of [fixture('weather-question'), fixture('flight-hesitation')]) {
      for (const audio of [finished(f), midWord(f), new Int16Array(SR)]) {
        const expected = standInProbability(extractor.smartTurnFeatures(audio));
        expect(Math.abs((await m.predict(audio)) - expected), f.id).toBeLessThan(3e-4);
      }
    }
    await m.dispose();
  });
});
