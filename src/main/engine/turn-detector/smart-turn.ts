/**
 * Smart Turn v3 (pipecat-ai/smart-turn, BSD-2) on onnxruntime-node: an audio end-of-turn model,
 * a Whisper-tiny encoder with a classifier head, int8 for CPU (~8 MB).
 *
 *   input  `input_features` float32 [batch, 80, 800]: Whisper log-mel of the last 8 s of 16 kHz
 *          audio, zero-padded at the start, normalised (see log-mel.ts, smartTurnFeatures)
 *   output `logits` float32 [batch, 1]: despite the name, already a sigmoid probability that the
 *          user has finished their turn (Smart Turn's own inference reads it as is, > 0.5 = done)
 *
 * The engine runs on one core: the session has one intra-op and one inter-op thread, like
 * Silero. The feature buffer and its input tensor are allocated once and reused; calls are
 * serialised. A model file that is missing, unreadable, not ONNX or of another signature fails
 * to load with a TurnModelLoadError naming the file and what is wrong.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { TurnDetector, TurnDetectorInput } from '../ports';
import {
  SMART_TURN_FEATURES,
  SMART_TURN_FRAMES,
  SMART_TURN_SAMPLES,
  WHISPER_N_MELS,
  WhisperLogMel,
  type PcmInput,
} from './log-mel';

export const SMART_TURN_INPUT_NAME = 'input_features';
export const SMART_TURN_OUTPUT_NAME = 'logits';
/** Upstream's decision threshold: probability > 0.5 means the turn is complete. */
export const SMART_TURN_THRESHOLD = 0.5;
/** File names looked for in `<resourcesDir>/models/`, in order (upstream names of the CPU builds). */
export const SMART_TURN_MODEL_FILES = [
  'smart-turn-v3.2-cpu.onnx',
  'smart-turn-v3.1-cpu.onnx',
  'smart-turn-v3.0.onnx',
  'smart-turn-v3.onnx',
] as const;

export type TurnModelLoadFailure = 'missing' | 'unreadable' | 'invalid' | 'signature';

/** The turn model could not be loaded: `reason` says which step failed, the message names the file. */
export class TurnModelLoadError extends Error {
  override name = 'TurnModelLoadError';
  constructor(
    readonly modelPath: string,
    readonly reason: TurnModelLoadFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** predictEndOfTurn was called without audio (TurnDetectorInput.audio missing or empty). */
export class TurnAudioMissingError extends Error {
  override name = 'TurnAudioMissingError';
}

/**
 * Where the Smart Turn weights are: `<resourcesDir>/models/` (default resourcesDir: `./resources`
 * of the working directory), first of SMART_TURN_MODEL_FILES found. Throws TurnModelLoadError
 * (reason 'missing') naming every path looked at.
 */
export function resolveSmartTurnModelPath(resourcesDir?: string): string {
  const modelsDir = join(resolve(resourcesDir ?? 'resources'), 'models');
  const candidates = SMART_TURN_MODEL_FILES.map((file) => join(modelsDir, file));
  const found = candidates.find((path) => existsSync(path));
  if (found) return found;
  throw new TurnModelLoadError(
    modelsDir,
    'missing',
    `Smart Turn v3 weights not found: looked for ${candidates.join(', ')}`,
  );
}

// ---------- signature ----------

type Metadata = ort.InferenceSession.ValueMetadata;

function describeValue(meta: Metadata): string {
  if (!meta.isTensor) return `${meta.name} (not a tensor)`;
  const shape = meta.shape.length ? `[${meta.shape.join(',')}]` : '[unknown shape]';
  return `${meta.name} ${shape} ${meta.type}`;
}

/** A dimension matches when it is the expected size or symbolic (a named, dynamic dimension). */
const dimMatches = (dim: number | string | undefined, expected: number) =>
  typeof dim === 'string' || dim === expected;

/** Why a session does not look like Smart Turn v3, or undefined when it does. */
export function signatureProblem(
  inputs: readonly Metadata[],
  outputs: readonly Metadata[],
): string | undefined {
  const expectedInput = `${SMART_TURN_INPUT_NAME} [batch,${WHISPER_N_MELS},${SMART_TURN_FRAMES}] float32`;
  const input = inputs.find((m) => m.name === SMART_TURN_INPUT_NAME);
  const inputOk =
    input !== undefined &&
    input.isTensor &&
    input.type === 'float32' &&
    input.shape.length === 3 &&
    dimMatches(input.shape[0], 1) &&
    dimMatches(input.shape[1], WHISPER_N_MELS) &&
    dimMatches(input.shape[2], SMART_TURN_FRAMES);
  if (!inputOk) {
    return `expected input ${expectedInput}, found ${inputs.map(describeValue).join(', ') || 'no inputs'}`;
  }
  const extra = inputs.filter((m) => m.name !== SMART_TURN_INPUT_NAME);
  if (extra.length > 0) {
    return `expected only the input ${expectedInput}, found also ${extra.map(describeValue).join(', ')}`;
  }
  const output = outputs.find((m) => m.name === SMART_TURN_OUTPUT_NAME);
  // [batch, 1], or [batch] / unknown shape: one probability per batch row either way.
  const outputOk =
    output !== undefined &&
    output.isTensor &&
    output.type === 'float32' &&
    output.shape.length <= 2 &&
    (output.shape.length < 2 || dimMatches(output.shape[1], 1));
  if (!outputOk) {
    return (
      `expected output ${SMART_TURN_OUTPUT_NAME} [batch,1] float32, ` +
      `found ${outputs.map(describeValue).join(', ') || 'no outputs'}`
    );
  }
  return undefined;
}

// ---------- the model ----------

export interface SmartTurnPrediction {
  /** Probability that the user has finished their turn, in [0, 1]. */
  probability: number;
  /** Time spent computing the log-mel features (ms). */
  featuresMs: number;
  /** Time spent in onnxruntime (ms). */
  inferenceMs: number;
}

/** A loaded Smart Turn v3 model. Calls are serialised; each reuses the same feature buffer. */
export class SmartTurnModel {
  private readonly extractor = new WhisperLogMel();
  private readonly features = new Float32Array(SMART_TURN_FEATURES);
  private readonly feeds: Record<string, ort.Tensor>;
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private disposed = false;

  private constructor(
    readonly modelPath: string,
    private readonly session: ort.InferenceSession,
  ) {
    this.feeds = {
      [SMART_TURN_INPUT_NAME]: new ort.Tensor('float32', this.features, [
        1,
        WHISPER_N_MELS,
        SMART_TURN_FRAMES,
      ]),
    };
  }

  /**
   * Loads an ONNX file into a single-threaded onnxruntime session and checks its signature.
   * Throws TurnModelLoadError: 'missing' (no such file), 'unreadable' (cannot read it),
   * 'invalid' (onnxruntime rejects it: corrupt, truncated, not ONNX) or 'signature' (loads,
   * but its input or output is not Smart Turn v3's).
   */
  static async load(modelPath: string): Promise<SmartTurnModel> {
    if (!existsSync(modelPath)) {
      throw new TurnModelLoadError(modelPath, 'missing', `Smart Turn model ${modelPath}: no such file`);
    }
    let bytes: Uint8Array;
    try {
      // Read through fs rather than handing onnxruntime the path, so weights inside an
      // Electron asar archive load too.
      bytes = readFileSync(modelPath);
    } catch (error) {
      throw new TurnModelLoadError(
        modelPath,
        'unreadable',
        `Smart Turn model ${modelPath}: cannot read it (${(error as Error).message})`,
        { cause: error },
      );
    }
    if (bytes.length === 0) {
      throw new TurnModelLoadError(modelPath, 'invalid', `Smart Turn model ${modelPath} is empty (0 bytes)`);
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (error) {
      const detail = (error as Error).message?.split('\n')[0] ?? String(error);
      throw new TurnModelLoadError(
        modelPath,
        'invalid',
        `Smart Turn model ${modelPath} (${bytes.length} bytes) is not a loadable ONNX model: ${detail}`,
        { cause: error },
      );
    }
    const problem = signatureProblem(session.inputMetadata, session.outputMetadata);
    if (problem) {
      await session.release();
      throw new TurnModelLoadError(
        modelPath,
        'signature',
        `Smart Turn model ${modelPath} does not have Smart Turn v3's signature: ${problem}`,
      );
    }
    return new SmartTurnModel(modelPath, session);
  }

  /**
   * End-of-turn probability for the user's audio so far: 16 kHz mono, Int16 or floats in
   * [-1, 1], any length (only the last 8 s count; shorter audio is padded in front).
   */
  async predict(audio: PcmInput): Promise<number> {
    return (await this.predictTimed(audio)).probability;
  }

  /** predict() with the time spent on features and on inference. */
  predictTimed(audio: PcmInput): Promise<SmartTurnPrediction> {
    if (this.disposed)
      return Promise.reject(new Error(`Smart Turn model ${this.modelPath} has been disposed`));
    // When nothing is pending the feature buffer is free: compute the features now, from the
    // caller's array. A call that has to wait keeps a copy of the last 8 s instead, since the
    // caller may reuse its buffer meanwhile.
    const idle = this.pending === 0;
    const featuresMs = idle ? this.extract(audio) : 0;
    const copy = idle ? undefined : audio.slice(Math.max(0, audio.length - SMART_TURN_SAMPLES));
    return this.enqueue(async () => {
      const ms = copy ? this.extract(copy) : featuresMs;
      const start = performance.now();
      const probability = await this.infer();
      return { probability, featuresMs: ms, inferenceMs: performance.now() - start };
    });
  }

  private extract(audio: PcmInput): number {
    const start = performance.now();
    this.extractor.smartTurnFeatures(audio, this.features);
    return performance.now() - start;
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    this.pending++;
    const done = this.queue.then(task).finally(() => this.pending--);
    this.queue = done.catch(() => undefined);
    return done;
  }

  private async infer(): Promise<number> {
    // Calls made before dispose() still run: the session is released once they are done.
    const out = await this.session.run(this.feeds);
    const value = (out[SMART_TURN_OUTPUT_NAME]?.data as Float32Array | undefined)?.[0];
    if (value === undefined || !(value >= 0 && value <= 1)) {
      throw new Error(`Smart Turn model ${this.modelPath} returned ${value}, not a probability`);
    }
    return value;
  }

  /** Waits for the calls in flight, then frees the session. Later calls reject. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue;
    await this.session.release();
  }
}

// ---------- the TurnDetector ----------

/**
 * FNV-1a over the bytes of the last 8 s (as 16- or 32-bit words), with the type and length: the
 * same audio end gives the same key. About 0.1 ms for 8 s of Int16.
 */
/** A cheap key for the last 8 s of audio, so the same audio is not judged twice. */
export function fingerprint(audio: PcmInput): string {
  const from = Math.max(0, audio.length - SMART_TURN_SAMPLES);
  const tail = audio.subarray(from);
  const words =
    tail instanceof Int16Array
      ? new Uint16Array(tail.buffer, tail.byteOffset, tail.length)
      : new Uint32Array(tail.buffer, tail.byteOffset, tail.byteLength / 4);
  let hash = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) hash = Math.imul(hash ^ words[i]!, 0x01000193);
  return `${audio.constructor.name}:${audio.length}:${(hash >>> 0).toString(16)}`;
}

/**
 * What both Smart Turn detectors (in-thread and worker) do around a prediction: refuse a call
 * without audio, and answer the same audio asked again (a decision re-run after a pause with
 * nothing new) from the last prediction instead of running the model twice. A failed prediction
 * is not remembered.
 */
export class LastPrediction<P extends { probability: number }> {
  hits = 0;
  private last: { key: string; probability: Promise<number> } | undefined;

  constructor(private readonly onPrediction: (prediction: P) => void) {}

  predict(input: TurnDetectorInput, run: (audio: Int16Array) => Promise<P>): Promise<number> {
    const audio = input.audio;
    if (!audio || audio.length === 0) {
      return Promise.reject(
        new TurnAudioMissingError(
          'Smart Turn needs the user audio: TurnDetectorInput.audio is missing or empty',
        ),
      );
    }
    const key = fingerprint(audio);
    if (this.last?.key === key) {
      this.hits++;
      return this.last.probability;
    }
    const probability = run(audio).then((prediction) => {
      this.onPrediction(prediction);
      return prediction.probability;
    });
    const entry = { key, probability };
    this.last = entry;
    probability.catch(() => {
      if (this.last === entry) this.last = undefined;
    });
    return probability;
  }

  forget(): void {
    this.last = undefined;
  }
}

/**
 * Smart Turn v3 as the engine's TurnDetector. It judges the audio only: `input.audio` must hold
 * the user's last seconds (16 kHz mono Int16, up to 8 s are used, more is fine), `transcript` and
 * `history` are ignored. Without audio (missing or empty) predictEndOfTurn rejects with a
 * TurnAudioMissingError: the caller decides what to fall back on (e.g. the text heuristic).
 * Inference errors reject as they are.
 *
 * The last result is remembered: asking again about the same audio (same length and samples in
 * the last 8 s) answers without running the model.
 */
export class SmartTurnDetector implements TurnDetector {
  readonly name = 'smart-turn-v3';
  /** Timings of the last prediction that ran the model. */
  lastPrediction: SmartTurnPrediction | undefined;
  /** Calls answered from the remembered result. */
  private readonly memo = new LastPrediction<SmartTurnPrediction>((p) => (this.lastPrediction = p));

  constructor(readonly model: SmartTurnModel) {}

  /** Calls answered from the last prediction (the same audio asked again). */
  get cacheHits(): number {
    return this.memo.hits;
  }

  /** Loads the model at `modelPath` (see SmartTurnModel.load for the errors). */
  static async load(modelPath: string): Promise<SmartTurnDetector> {
    return new SmartTurnDetector(await SmartTurnModel.load(modelPath));
  }

  predictEndOfTurn(input: TurnDetectorInput): Promise<number> {
    return this.memo.predict(input, (audio) => this.model.predictTimed(audio));
  }

  dispose(): Promise<void> {
    this.memo.forget();
    return this.model.dispose();
  }
}
