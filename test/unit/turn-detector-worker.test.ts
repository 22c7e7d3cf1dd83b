/**
 * SmartTurnWorkerDetector: Smart Turn v3 in a worker thread (smart-turn-worker.ts, run from the
 * TypeScript sources through tsx), on stand-in ONNX models built into a temp dir: the same
 * answers as the in-thread SmartTurnDetector, the same load errors, the main thread's event loop
 * free during inference, one call in the worker at a time, dispose, and crashes.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CombinedTurnDetector } from '../../src/main/engine/turn-detector/combined-detector';
import {
  SmartTurnDetector,
  TurnAudioMissingError,
  TurnModelLoadError,
} from '../../src/main/engine/turn-detector/smart-turn';
import { SMART_TURN_WORKER_CRASH_EXIT_CODE } from '../../src/main/engine/turn-detector/smart-turn-worker';
import {
  smartTurnWorkerEntry,
  SmartTurnWorkerDetector,
  SmartTurnWorkerError,
} from '../../src/main/engine/turn-detector/smart-turn-worker-client';
import { finished, midWord, turnFixture as fixture } from '../helpers/turn-audio';
import {
  writeCorruptModel,
  writeStandInModel,
  type CorruptModelKind,
  type StandInModelOptions,
} from '../../src/main/engine/turn-detector/stand-in-model';

const SR = 16_000;
const CASES = ['flight-hesitation', 'long-utterance', 'three-turns', 'weather-question'];

const input = (audio?: Int16Array) => ({ transcript: 'ignored', history: [], ...(audio ? { audio } : {}) });

let dir: string;
const path = (name: string) => join(dir, name);
function model(name: string, options: StandInModelOptions = {}): string {
  if (!existsSync(path(name))) writeStandInModel(path(name), options);
  return path(name);
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${String(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(Error);
  return outcome.error as Error;
}

const fixtures = CASES.map(fixture);
const weather = fixtures.find((f) => f.id === 'weather-question')!;
const clips = fixtures.flatMap((f) => [finished(f), midWord(f)]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cue-smart-turn-worker-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('where the worker is', () => {
  it('built: smart-turn-worker.js beside the bundle, started as it is', () => {
    const entry = smartTurnWorkerEntry(pathToFileURL('/app/out/main/index.js').href);
    expect(fileURLToPath(entry.url)).toBe(join('/app/out/main', 'smart-turn-worker.js'));
    expect(entry.bootstrap).toBeUndefined();
  });

  it('packaged: the unpacked copy beside app.asar', () => {
    const entry = smartTurnWorkerEntry(pathToFileURL('/opt/Cue/resources/app.asar/out/main/index.js').href);
    expect(fileURLToPath(entry.url)).toBe(
      join('/opt/Cue/resources/app.asar.unpacked/out/main', 'smart-turn-worker.js'),
    );
  });

  it('from source: smart-turn-worker.ts, through tsx registered inside the thread', () => {
    const client = new URL(
      '../../src/main/engine/turn-detector/smart-turn-worker-client.ts',
      import.meta.url,
    );
    const entry = smartTurnWorkerEntry(client.href);
    expect(fileURLToPath(entry.url)).toBe(
      fileURLToPath(new URL('../../src/main/engine/turn-detector/smart-turn-worker.ts', import.meta.url)),
    );
    expect(existsSync(entry.url)).toBe(true);
    // It imports tsx's ESM API (which must exist), registers it, then imports the worker.
    const tsxApi = /^import\("([^"]+)"\)/.exec(entry.bootstrap ?? '')?.[1];
    expect(tsxApi).toMatch(/\/tsx\/.*\.mjs$/);
    expect(existsSync(new URL(tsxApi!))).toBe(true);
    expect(entry.bootstrap).toContain('register()');
    expect(entry.bootstrap).toContain(JSON.stringify(entry.url.href));
  });
});

describe('SmartTurnWorkerDetector on the stand-in', () => {
  let worker: SmartTurnWorkerDetector;
  let inThread: SmartTurnDetector;

  beforeAll(async () => {
    worker = await SmartTurnWorkerDetector.load(model('plain.onnx'));
    inThread = await SmartTurnDetector.load(model('plain.onnx'));
  });
  afterAll(async () => {
    await worker?.dispose();
    await inThread?.dispose();
  });

  it('answers as the in-thread SmartTurnDetector on the same audio (within 1e-6)', async () => {
    const fromWorker: number[] = [];
    for (const audio of clips) {
      const expected = await inThread.predictEndOfTurn(input(audio));
      const got = await worker.predictEndOfTurn(input(audio));
      expect(Math.abs(got - expected)).toBeLessThanOrEqual(1e-6);
      fromWorker.push(got);
    }
    // The clips differ: finished turns are ends, mid-word cuts are not.
    expect(Math.max(...fromWorker)).toBeGreaterThan(0.9);
    expect(Math.min(...fromWorker)).toBeLessThan(0.2);
    // Longer than 8 s: only the last 8 s count, as in thread.
    const long = new Int16Array(12 * SR);
    long.set(fixtures[1]!.samples.subarray(0, 6 * SR));
    long.set(finished(weather), long.length - finished(weather).length);
    expect(
      Math.abs((await worker.predictEndOfTurn(input(long))) - (await inThread.predictEndOfTurn(input(long)))),
    ).toBeLessThanOrEqual(1e-6);
  });

  it("leaves the caller's array as it was (a copy goes to the worker)", async () => {
    const audio = midWord(fixtures[0]!).slice();
    const before = audio.slice();
    await worker.predictEndOfTurn(input(audio));
    expect(audio.buffer.byteLength).toBe(before.byteLength);
    expect(audio).toEqual(before);
  });

  it('reports the timings and remembers the last answer', async () => {
    const audio = finished(fixtures[2]!);
    const hits = worker.cacheHits;
    const p = await worker.predictEndOfTurn(input(audio));
    expect(worker.lastPrediction?.probability).toBe(p);
    expect(worker.lastPrediction!.featuresMs).toBeGreaterThan(0);
    expect(worker.lastPrediction!.inferenceMs).toBeGreaterThan(0);
    expect(worker.lastPrediction!.totalMs).toBeGreaterThanOrEqual(worker.lastPrediction!.inferenceMs);
    // The same audio again (another array): from the cache, without the worker.
    expect(await worker.predictEndOfTurn(input(audio.slice()))).toBe(p);
    expect(worker.cacheHits).toBe(hits + 1);
  });

  it('serves concurrent calls one at a time, in order, each on its own audio', async () => {
    const expected: number[] = [];
    for (const audio of clips) expected.push(await inThread.predictEndOfTurn(input(audio)));
    // New arrays (no cache hits), overwritten right after the calls.
    const copies = clips.map((audio) => {
      const copy = new Int16Array(audio.length + 1);
      copy.set(audio, 1);
      return copy;
    });
    const order: number[] = [];
    const all = Promise.all(
      copies.map((audio, i) =>
        worker.predictEndOfTurn(input(audio)).then((p) => {
          order.push(i);
          return p;
        }),
      ),
    );
    for (const copy of copies) copy.fill(0);
    const got = await all;
    expect(order).toEqual(copies.map((_, i) => i));
    got.forEach((p, i) => expect(Math.abs(p - expected[i]!), `clip ${i}`).toBeLessThanOrEqual(1e-6));
  });

  it('rejects with TurnAudioMissingError without audio', async () => {
    expect(await rejection(worker.predictEndOfTurn(input()))).toBeInstanceOf(TurnAudioMissingError);
    expect(await rejection(worker.predictEndOfTurn(input(new Int16Array(0))))).toBeInstanceOf(
      TurnAudioMissingError,
    );
  });
});

describe('the main thread during inference', () => {
  it('keeps its event loop running while the worker infers (whisper-shaped stand-in)', async () => {
    const detector = await SmartTurnWorkerDetector.load(model('encoder.onnx', { encoder: true }));
    try {
      await detector.predictEndOfTurn(input(finished(weather))); // warm-up
      // On the main thread, onnxruntime-node runs the session synchronously: nothing else runs for
      // the whole inference (one tick, the timeout after the answer, a gap as long as the inference).
      // In the worker, the ticks go on. A loaded machine may stall this thread; three tries, one
      // must show it.
      const tries = [];
      for (const f of fixtures.slice(0, 3)) {
        const ticks: number[] = [];
        const timer = setInterval(() => ticks.push(performance.now()), 1);
        let timeoutRan = false;
        const start = performance.now();
        const prediction = detector.predictEndOfTurn(input(finished(f)));
        setTimeout(() => (timeoutRan = true), 1);
        await prediction;
        const end = performance.now();
        clearInterval(timer);
        const times = [start, ...ticks, end];
        const longestGap = Math.max(...times.slice(1).map((t, i) => t - times[i]!));
        tries.push({
          timeoutRan,
          ticks: ticks.length,
          longestGap,
          inferenceMs: detector.lastPrediction!.inferenceMs,
        });
      }
      expect(
        tries.some((t) => t.timeoutRan && t.ticks >= 2 && t.longestGap < t.inferenceMs / 2),
        JSON.stringify(tries),
      ).toBe(true);
    } finally {
      await detector.dispose();
    }
  });
});

describe('loading errors', () => {
  async function both(file: string): Promise<[TurnModelLoadError, TurnModelLoadError]> {
    const inWorker = await rejection(SmartTurnWorkerDetector.load(file));
    const inThread = await rejection(SmartTurnDetector.load(file));
    expect(inWorker).toBeInstanceOf(TurnModelLoadError);
    return [inWorker as TurnModelLoadError, inThread as TurnModelLoadError];
  }

  it('a missing file: reason missing, as in thread', async () => {
    const [error, expected] = await both(path('nowhere.onnx'));
    expect(error.reason).toBe('missing');
    expect(error.modelPath).toBe(path('nowhere.onnx'));
    expect(error.message).toBe(expected.message);
  });

  it.each<CorruptModelKind>(['truncated', 'garbage', 'empty'])(
    'a corrupt file (%s): reason invalid, as in thread',
    async (kind) => {
      writeCorruptModel(path(`corrupt-${kind}.onnx`), kind);
      const [error, expected] = await both(path(`corrupt-${kind}.onnx`));
      expect(error.reason).toBe('invalid');
      expect(error.message).toBe(expected.message);
      expect(error.message).toContain(path(`corrupt-${kind}.onnx`));
    },
  );

  it('another model: reason signature, as in thread', async () => {
    const [error, expected] = await both(model('other.onnx', { inputName: 'audio' }));
    expect(error.reason).toBe('signature');
    expect(error.message).toBe(expected.message);
  });

  it('a worker that does not load in time: SmartTurnWorkerError', async () => {
    const error = await rejection(SmartTurnWorkerDetector.load(model('plain.onnx'), { loadTimeoutMs: 1 }));
    expect(error).toBeInstanceOf(SmartTurnWorkerError);
    expect(error.message).toMatch(/did not load .* within 1 ms/);
  });
});

describe('dispose and crashes', () => {
  it('dispose lets the call in the worker finish, rejects the waiting ones, ends the thread', async () => {
    const detector = await SmartTurnWorkerDetector.load(model('plain.onnx'));
    expect(detector.alive).toBe(true);
    const first = detector.predictEndOfTurn(input(finished(weather)));
    const waiting = detector.predictEndOfTurn(input(midWord(weather)));
    await detector.dispose();
    expect(await first).toBeGreaterThan(0.9);
    const refused = await rejection(waiting);
    expect(refused).toBeInstanceOf(SmartTurnWorkerError);
    expect(refused.message).toMatch(/has been disposed/);
    expect(detector.alive).toBe(false);
    // Later calls reject clearly, even for audio it answered before (no cached answer).
    const later = await rejection(detector.predictEndOfTurn(input(finished(weather))));
    expect(later).toBeInstanceOf(SmartTurnWorkerError);
    expect(later.message).toMatch(/has been disposed/);
    await detector.dispose(); // twice is fine
  });

  it('a worker that throws rejects the pending call and every later one', async () => {
    const detector = await SmartTurnWorkerDetector.load(model('plain.onnx'));
    detector.simulateCrash('throw');
    // Sent after the crash request, before the main thread hears of it: pending when it dies.
    const pending = detector.predictEndOfTurn(input(finished(weather)));
    const error = await rejection(pending);
    expect(error).toBeInstanceOf(SmartTurnWorkerError);
    expect(error.message).toMatch(/Smart Turn worker crashed: .*crash requested/);
    const later = await rejection(detector.predictEndOfTurn(input(midWord(weather))));
    expect(later.message).toMatch(/Smart Turn worker crashed/);
    await detector.dispose();
    expect(detector.alive).toBe(false);
  });

  it('a worker that exits rejects the pending call with its exit code', async () => {
    const detector = await SmartTurnWorkerDetector.load(model('plain.onnx'));
    detector.simulateCrash('exit');
    const error = await rejection(detector.predictEndOfTurn(input(finished(weather))));
    expect(error).toBeInstanceOf(SmartTurnWorkerError);
    expect(error.message).toBe(
      `Smart Turn worker exited unexpectedly (exit code ${SMART_TURN_WORKER_CRASH_EXIT_CODE})`,
    );
    expect(detector.alive).toBe(false);
    await detector.dispose();
  });

  it('a prediction the worker does not answer in time is rejected, and so is the call queued behind it', async () => {
    // The whisper-shaped stand-in takes tens of ms: with 1 ms allowed, the worker is "stuck".
    const detector = await SmartTurnWorkerDetector.load(model('encoder.onnx', { encoder: true }), {
      predictTimeoutMs: 1,
    });
    const first = rejection(detector.predictEndOfTurn(input(finished(weather))));
    const queued = rejection(detector.predictEndOfTurn(input(midWord(weather))));
    for (const error of [await first, await queued]) {
      expect(error).toBeInstanceOf(SmartTurnWorkerError);
      expect(error.message).toBe('Smart Turn worker did not answer within 1 ms');
    }
    // The late answers are ignored; the thread is still there and ends cleanly.
    expect(detector.alive).toBe(true);
    await detector.dispose();
    expect(detector.alive).toBe(false);
  });

  it('a crash makes the combined detector fall back on the heuristic', async () => {
    const detector = await SmartTurnWorkerDetector.load(model('plain.onnx'));
    const combined = new CombinedTurnDetector({ maxFailures: 2 });
    const warnings: string[] = [];
    combined.onWarning((message) => warnings.push(message));
    combined.attachModel(detector);
    const turn = { transcript: 'What is the weather like today?', history: [] };
    const ok = await combined.explainEndOfTurn({ ...turn, audio: finished(weather) });
    expect(ok.source).toMatch(/^smart-turn-v3 0\.\d\d \+ heuristic/);
    detector.simulateCrash('throw');
    const first = await combined.explainEndOfTurn({ ...turn, audio: midWord(weather) });
    expect(first.source).toMatch(/smart-turn-v3 failed$/);
    const second = await combined.explainEndOfTurn({ ...turn, audio: finished(fixtures[0]!) });
    expect(second.source).toMatch(/smart-turn-v3 failed$/);
    expect(combined.status).toMatchObject({ state: 'fallback', reason: 'failed 2 times' });
    expect(combined.status.state === 'fallback' && combined.status.detail).toMatch(
      /Smart Turn worker crashed/,
    );
    expect(warnings.length).toBeGreaterThan(0);
    await combined.dispose();
    await detector.dispose();
  });
});
