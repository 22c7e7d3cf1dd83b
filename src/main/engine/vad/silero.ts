/**
 * Silero voice activity models (v5, v6 and the legacy v4) on onnxruntime-node, as a
 * frame-wise SpeechProbabilityModel: 512 samples (32 ms) at 16 kHz per frame.
 *
 * The engine runs on one core, so every session uses one intra-op and one inter-op thread.
 * Input, state and sample-rate tensors are allocated once and reused for every frame.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { SAMPLE_RATE, type SpeechProbabilityModel } from '../ports';

/** Silero versions Cue can run. `silero-v6` has v5's inputs and outputs (used by the bench). */
export type SileroVersion = 'silero-v5' | 'silero-v4' | 'silero-v6';

/** Samples per frame at 16 kHz, for every Silero version. */
export const SILERO_FRAME_SAMPLES = 512;
/** Samples of the previous frame that v5/v6 see in front of each new frame. */
const CONTEXT_SAMPLES = 64;

/** The package that ships Silero weights, and its file name for each version. */
const WEIGHTS_PACKAGE = '@ricky0123/vad-web';
const PACKAGE_FILES: Record<SileroVersion, string> = {
  'silero-v5': 'silero_vad_v5.onnx',
  'silero-v6': 'silero_vad_v6.onnx',
  'silero-v4': 'silero_vad_legacy.onnx',
};
/** File names looked for in `<resourcesDir>/models/`, in order. */
const RESOURCE_FILES: Record<SileroVersion, readonly string[]> = {
  'silero-v5': ['silero_vad_v5.onnx'],
  'silero-v6': ['silero_vad_v6.onnx'],
  'silero-v4': ['silero_vad_v4.onnx', 'silero_vad_legacy.onnx'],
};

export class SileroModelNotFoundError extends Error {
  override name = 'SileroModelNotFoundError';
}

/** Directory of the weights package, or undefined when it is not installed. */
function weightsPackageDir(): string | undefined {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve(`${WEIGHTS_PACKAGE}/package.json`));
  } catch {
    // An exports map may hide package.json: resolve the entry point and walk up to the package root.
  }
  try {
    let dir = dirname(require.resolve(WEIGHTS_PACKAGE));
    for (;;) {
      if (existsSync(join(dir, 'package.json')) && dir.endsWith(join('@ricky0123', 'vad-web'))) return dir;
      const parent = dirname(dir);
      if (parent === dir) return undefined;
      dir = parent;
    }
  } catch {
    return undefined;
  }
}

/**
 * Where the weights of a Silero version are: `<resourcesDir>/models/` first (default
 * resourcesDir: `./resources` of the working directory), then the dist folder of the
 * @ricky0123/vad-web package. Throws SileroModelNotFoundError naming both places.
 */
export function resolveSileroModelPath(version: SileroVersion, resourcesDir?: string): string {
  const files = RESOURCE_FILES[version];
  if (!files) throw new SileroModelNotFoundError(`unknown Silero version "${String(version)}"`);
  const modelsDir = join(resolve(resourcesDir ?? 'resources'), 'models');
  for (const file of files) {
    const candidate = join(modelsDir, file);
    if (existsSync(candidate)) return candidate;
  }
  const packageDir = weightsPackageDir();
  const packageFile = packageDir ? join(packageDir, 'dist', PACKAGE_FILES[version]) : undefined;
  if (packageFile && existsSync(packageFile)) return packageFile;
  throw new SileroModelNotFoundError(
    `Silero VAD weights for ${version} not found: looked in ${files.map((f) => join(modelsDir, f)).join(', ')} ` +
      `and in the ${WEIGHTS_PACKAGE} package (${packageFile ?? 'package not installed'})`,
  );
}

export interface SileroLoadOptions {
  /** Directory holding `models/` with the weights; defaults to `./resources`. */
  resourcesDir?: string;
  /** Explicit path to the .onnx file; skips the lookup. */
  modelPath?: string;
}

interface Io {
  /** Tensors over the reused input, state and sample-rate buffers. */
  feeds: Record<string, ort.Tensor>;
  stateOutputs: readonly [string, Float32Array][];
}

/** A loaded Silero model. Calls to predict() are serialised: each sees the state left by the one before. */
export class SileroModel implements SpeechProbabilityModel {
  readonly frameSamples = SILERO_FRAME_SAMPLES;
  /** Model input: [context | frame] for v5/v6, [frame] for v4. */
  private readonly input: Float32Array;
  private readonly contextSamples: number;
  private readonly io: Io;
  private readonly states: Float32Array[];
  private queue: Promise<unknown> = Promise.resolve();
  /** Predictions and resets requested but not finished. */
  private pending = 0;
  private disposed = false;

  private constructor(
    readonly version: SileroVersion,
    readonly modelPath: string,
    private readonly session: ort.InferenceSession,
  ) {
    const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(SAMPLE_RATE)]), []);
    if (version === 'silero-v4') {
      this.contextSamples = 0;
      this.input = new Float32Array(SILERO_FRAME_SAMPLES);
      const h = new Float32Array(2 * 64);
      const c = new Float32Array(2 * 64);
      this.states = [h, c];
      this.io = {
        feeds: {
          input: new ort.Tensor('float32', this.input, [1, SILERO_FRAME_SAMPLES]),
          sr,
          h: new ort.Tensor('float32', h, [2, 1, 64]),
          c: new ort.Tensor('float32', c, [2, 1, 64]),
        },
        stateOutputs: [
          ['hn', h],
          ['cn', c],
        ],
      };
    } else {
      this.contextSamples = CONTEXT_SAMPLES;
      this.input = new Float32Array(CONTEXT_SAMPLES + SILERO_FRAME_SAMPLES);
      const state = new Float32Array(2 * 128);
      this.states = [state];
      this.io = {
        feeds: {
          input: new ort.Tensor('float32', this.input, [1, this.input.length]),
          state: new ort.Tensor('float32', state, [2, 1, 128]),
          sr,
        },
        stateOutputs: [['stateN', state]],
      };
    }
    const missing = Object.keys(this.io.feeds).filter((name) => !session.inputNames.includes(name));
    const missingOut = ['output', ...this.io.stateOutputs.map(([name]) => name)].filter(
      (name) => !session.outputNames.includes(name),
    );
    if (missing.length > 0 || missingOut.length > 0) {
      throw new Error(
        `${modelPath} does not look like ${version}: inputs [${session.inputNames.join(', ')}], ` +
          `outputs [${session.outputNames.join(', ')}]`,
      );
    }
  }

  /** Loads the weights into a single-threaded onnxruntime session. */
  static async load(version: SileroVersion, options: SileroLoadOptions = {}): Promise<SileroModel> {
    const modelPath = options.modelPath ?? resolveSileroModelPath(version, options.resourcesDir);
    // Read through fs rather than handing onnxruntime the path, so weights inside an
    // Electron asar archive load too.
    const session = await ort.InferenceSession.create(readFileSync(modelPath), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    try {
      return new SileroModel(version, modelPath, session);
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  predict(frame: Float32Array): Promise<number> {
    if (frame.length !== SILERO_FRAME_SAMPLES) {
      return Promise.reject(
        new RangeError(`Silero expects frames of ${SILERO_FRAME_SAMPLES} samples, got ${frame.length}`),
      );
    }
    // When nothing is pending the input buffer is free: copy the frame into it now. A call
    // that has to wait keeps its own copy, since the caller may reuse its buffer meanwhile.
    const idle = this.pending === 0;
    if (idle) this.load(frame);
    const copy = idle ? undefined : frame.slice();
    return this.enqueue(() => {
      if (copy) this.load(copy);
      return this.infer();
    });
  }

  /**
   * Zeroes the recurrent state and the context, as at the start of a stream. Predictions
   * requested before the reset still see the old state.
   */
  reset(): void {
    if (this.pending === 0) this.clear();
    else void this.enqueue(async () => this.clear());
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    this.pending++;
    const done = this.queue.then(task).finally(() => this.pending--);
    this.queue = done.catch(() => undefined);
    return done;
  }

  private load(frame: Float32Array): void {
    const c = this.contextSamples;
    // v5/v6: the last 64 samples of the previous frame go in front of the new one.
    if (c > 0) this.input.copyWithin(0, this.input.length - c);
    this.input.set(frame, c);
  }

  private async infer(): Promise<number> {
    if (this.disposed) throw new Error('Silero model has been disposed');
    const out = await this.session.run(this.io.feeds);
    for (const [name, state] of this.io.stateOutputs) state.set(out[name]!.data as Float32Array);
    return (out.output!.data as Float32Array)[0]!;
  }

  private clear(): void {
    this.input.fill(0);
    for (const state of this.states) state.fill(0);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue;
    await this.session.release();
  }
}

/** Loads a Silero model (see resolveSileroModelPath for where the weights are looked for). */
export async function loadSileroModel(
  version: SileroVersion,
  options?: SileroLoadOptions,
): Promise<SileroModel> {
  return SileroModel.load(version, options);
}
