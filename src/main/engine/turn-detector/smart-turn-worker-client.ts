/**
 * Smart Turn v3 in a worker thread, as the engine's TurnDetector: the same surface as
 * SmartTurnDetector (load, predictEndOfTurn, lastPrediction, cacheHits, dispose), but the log-mel
 * features and the onnxruntime inference run in smart-turn-worker.ts, off the main thread.
 * onnxruntime-node's InferenceSession.run is asynchronous only in name: it runs the session
 * synchronously inside a setImmediate, so on the main thread every prediction (~30 ms with
 * Whisper-tiny's compute) held the event loop, and audio, IPC and timers waited for it. Here the
 * main thread spends ~0.4 ms per prediction: a fingerprint of the audio, a copy of its last 8 s
 * (whose buffer is transferred to the worker, the caller's array is untouched) and a message.
 *
 * One prediction is in the worker at a time; calls made meanwhile wait in order (first in, first
 * out) and each is answered for its own audio. Nothing is superseded: an end of speech comes at
 * most every few hundred ms and a prediction takes tens, so the queue holds at most one call in
 * practice, and the turn tracker already ignores answers it no longer waits for. As in
 * SmartTurnDetector, asking again about the same audio answers from the last result.
 *
 * Failures: a model that cannot be loaded rejects load() with a TurnModelLoadError of the same
 * reason as in-thread loading, and the worker exits. A worker that cannot start, or dies (an
 * uncaught error, an exit), rejects load(), the pending calls and every later call with a
 * SmartTurnWorkerError saying so: the CombinedTurnDetector counts those as failed calls and falls
 * back on the heuristic. A prediction not answered within predictTimeoutMs (10 s: a stuck worker)
 * rejects the same way, and its late answer is ignored. dispose() lets the prediction in the
 * worker finish, rejects the calls still waiting, has the worker release the session and waits for
 * the thread to end (terminating it after DISPOSE_TIMEOUT_MS); later calls reject.
 *
 * Where the worker is: beside this module. Built (out/main/index.js and its chunks, in out/main
 * as electron.vite.config.ts puts them), that is out/main/smart-turn-worker.js, its own entry of
 * the main build. Run from the TypeScript sources (vitest, tsx), it is smart-turn-worker.ts, which
 * Node 20 cannot load by itself: the worker registers tsx's loader first (smartTurnWorkerEntry).
 */
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TurnDetector, TurnDetectorInput } from '../ports';
import { SMART_TURN_SAMPLES } from './log-mel';
import { LastPrediction, TurnModelLoadError, type SmartTurnPrediction } from './smart-turn';
import type { SmartTurnWorkerData, SmartTurnWorkerReply, SmartTurnWorkerRequest } from './smart-turn-worker';

/** How long dispose() waits for the worker to release the session and exit before terminating it. */
export const DISPOSE_TIMEOUT_MS = 2_000;
/** How long load() waits for the worker to load the model (default). */
export const DEFAULT_LOAD_TIMEOUT_MS = 60_000;
/**
 * How long a prediction in the worker may take before its call is rejected (default): tens of
 * ms is usual, so only a stuck worker reaches it, and a replay waiting for the answer on a
 * virtual clock would otherwise wait forever.
 */
export const DEFAULT_PREDICT_TIMEOUT_MS = 10_000;

/** The worker could not be started, died, timed out or was disposed. */
export class SmartTurnWorkerError extends Error {
  override name = 'SmartTurnWorkerError';
}

/** A prediction's timings: the worker's, and the whole call as the main thread saw it. */
export interface SmartTurnWorkerPrediction extends SmartTurnPrediction {
  /** From predictEndOfTurn to its answer (ms): waiting for an earlier call, messages, features, inference. */
  totalMs: number;
}

export interface SmartTurnWorkerEntry {
  /** The worker's module. */
  url: URL;
  /**
   * When it is TypeScript, the script that starts it (run with `eval: true`): it registers tsx's
   * loader in the worker thread, then imports the module.
   */
  bootstrap?: string;
}

/**
 * The worker module beside the module at `moduleUrl`: smart-turn-worker.js in a build, or
 * smart-turn-worker.ts, loaded through tsx, when running from the TypeScript sources.
 */
export function smartTurnWorkerEntry(moduleUrl: string): SmartTurnWorkerEntry {
  const file = fileURLToPath(moduleUrl);
  const dir = dirname(file);
  if (!/^\.[mc]?ts$/.test(extname(file))) {
    // Packaged, the worker is unpacked beside app.asar (electron-builder.yml asarUnpack), so the
    // thread loads it, and onnxruntime-node, from plain files.
    const unpacked = dir.replace(/([\\/])app\.asar(?=[\\/]|$)/, '$1app.asar.unpacked');
    return { url: pathToFileURL(join(unpacked, 'smart-turn-worker.js')) };
  }
  // Node 20 loads no .ts by itself, and `--import tsx` in the worker's execArgv does not reach
  // the worker's own entry module there: register tsx's ESM loader from inside the thread.
  // tsx is a dev dependency, only looked for when running from source.
  const tsxDir = dirname(createRequire(moduleUrl).resolve('tsx/package.json'));
  const tsxApi = pathToFileURL(join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href;
  const url = pathToFileURL(join(dir, 'smart-turn-worker.ts'));
  const bootstrap =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return { url, bootstrap };
}

export interface SmartTurnWorkerOptions {
  /** How long to wait for the worker to load the model (ms, default 60 s). */
  loadTimeoutMs?: number;
  /** How long one prediction in the worker may take before its call is rejected (ms, default 10 s). */
  predictTimeoutMs?: number;
}

interface Call {
  id: number;
  /** The last 8 s, a copy whose buffer goes to the worker. */
  audio: Int16Array;
  calledAt: number;
  /** Rejects the call if the worker has not answered in time (set once it is in the worker). */
  deadline?: ReturnType<typeof setTimeout>;
  resolve(prediction: SmartTurnWorkerPrediction): void;
  reject(error: Error): void;
}

export class SmartTurnWorkerDetector implements TurnDetector {
  readonly name = 'smart-turn-v3';
  /** Timings of the last prediction that ran the model. */
  lastPrediction: SmartTurnWorkerPrediction | undefined;
  private readonly memo = new LastPrediction<SmartTurnWorkerPrediction>((p) => (this.lastPrediction = p));
  private readonly waiting: Call[] = [];
  private inWorker: Call | undefined;
  private nextId = 1;
  /** Why calls are refused: the worker died, or dispose() was called. */
  private gone: SmartTurnWorkerError | undefined;
  private disposing: Promise<void> | undefined;
  private readonly exited: Promise<void>;
  private threadAlive = true;

  private constructor(
    readonly modelPath: string,
    private readonly worker: Worker,
    private readonly predictTimeoutMs: number,
  ) {
    worker.on('message', (reply: SmartTurnWorkerReply) => this.onReply(reply));
    worker.on('error', (error: Error) => {
      this.stop(new SmartTurnWorkerError(`Smart Turn worker crashed: ${error.message}`, { cause: error }));
    });
    this.exited = new Promise((resolve) => {
      worker.once('exit', (code: number) => {
        this.threadAlive = false;
        this.stop(new SmartTurnWorkerError(`Smart Turn worker exited unexpectedly (exit code ${code})`));
        resolve();
      });
    });
    worker.unref(); // idle, it does not keep the process alive
  }

  /**
   * Starts a worker that loads the model at `modelPath`. Rejects with the TurnModelLoadError of
   * SmartTurnModel.load (same reasons) when the model cannot be loaded, and with a
   * SmartTurnWorkerError when the worker cannot start, dies or takes longer than loadTimeoutMs.
   */
  static load(modelPath: string, options: SmartTurnWorkerOptions = {}): Promise<SmartTurnWorkerDetector> {
    return new Promise((resolve, reject) => {
      let worker: Worker;
      try {
        const entry = smartTurnWorkerEntry(import.meta.url);
        const workerData: SmartTurnWorkerData = { kind: 'cue-smart-turn', modelPath };
        worker = entry.bootstrap
          ? new Worker(entry.bootstrap, { eval: true, workerData })
          : new Worker(entry.url, { workerData });
      } catch (error) {
        reject(
          new SmartTurnWorkerError(`Smart Turn worker could not start: ${(error as Error).message}`, {
            cause: error,
          }),
        );
        return;
      }
      const fail = (error: Error) => {
        done();
        worker.on('error', () => undefined); // whatever it says now: it is being terminated
        void worker.terminate();
        reject(error);
      };
      const onMessage = (reply: SmartTurnWorkerReply) => {
        if (reply.type === 'ready') {
          done();
          resolve(
            new SmartTurnWorkerDetector(
              modelPath,
              worker,
              options.predictTimeoutMs ?? DEFAULT_PREDICT_TIMEOUT_MS,
            ),
          );
        } else if (reply.type === 'load-error') {
          fail(new TurnModelLoadError(reply.modelPath, reply.reason, reply.message));
        }
      };
      const onError = (error: Error) =>
        fail(
          new SmartTurnWorkerError(`Smart Turn worker failed loading ${modelPath}: ${error.message}`, {
            cause: error,
          }),
        );
      const onExit = (code: number) =>
        fail(new SmartTurnWorkerError(`Smart Turn worker exited (code ${code}) before loading ${modelPath}`));
      const timeoutMs = options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
      const timer = setTimeout(
        () =>
          fail(
            new SmartTurnWorkerError(`Smart Turn worker did not load ${modelPath} within ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      const done = () => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
  }

  /** Whether the worker thread is still running (false once it has exited, disposed or crashed). */
  get alive(): boolean {
    return this.threadAlive;
  }

  /** Calls answered from the remembered result. */
  get cacheHits(): number {
    return this.memo.hits;
  }

  predictEndOfTurn(input: TurnDetectorInput): Promise<number> {
    if (this.gone) return Promise.reject(this.gone);
    return this.memo.predict(input, (audio) => {
      const copy = audio.slice(Math.max(0, audio.length - SMART_TURN_SAMPLES));
      return new Promise<SmartTurnWorkerPrediction>((resolve, reject) => {
        this.waiting.push({ id: this.nextId++, audio: copy, calledAt: performance.now(), resolve, reject });
        this.sendNext();
      });
    });
  }

  /**
   * Lets the prediction in the worker finish, rejects the calls still waiting, frees the session
   * and ends the thread (terminated if it has not exited after DISPOSE_TIMEOUT_MS). Later calls reject.
   */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      const running = !this.gone;
      this.stop(new SmartTurnWorkerError(`Smart Turn model ${this.modelPath} has been disposed`), {
        keepInWorker: true,
      });
      this.worker.ref(); // until it has exited
      if (running) this.send({ type: 'dispose' });
      const timer = setTimeout(() => void this.worker.terminate(), DISPOSE_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    })();
    return this.disposing;
  }

  /**
   * Test hook: makes the worker die, by an uncaught error ('throw') or process.exit ('exit'),
   * as a crash would.
   */
  simulateCrash(how: 'throw' | 'exit' = 'throw'): void {
    this.send({ type: 'crash', how });
  }

  private send(request: SmartTurnWorkerRequest, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(request, transfer);
  }

  private sendNext(): void {
    if (this.inWorker || this.gone) return;
    const call = this.waiting.shift();
    if (!call) {
      this.worker.unref();
      return;
    }
    this.inWorker = call;
    this.worker.ref(); // a call is waiting for the worker: keep the process alive until it answers
    call.deadline = setTimeout(() => {
      if (this.inWorker !== call) return;
      // Its answer, if it ever comes, is ignored; the next call goes to the worker behind it.
      this.inWorker = undefined;
      call.reject(
        new SmartTurnWorkerError(`Smart Turn worker did not answer within ${this.predictTimeoutMs} ms`),
      );
      this.sendNext();
    }, this.predictTimeoutMs);
    this.send({ type: 'predict', id: call.id, audio: call.audio }, [call.audio.buffer as ArrayBuffer]);
  }

  private onReply(reply: SmartTurnWorkerReply): void {
    if (reply.type !== 'result' && reply.type !== 'error') return;
    const call = this.inWorker;
    if (!call || call.id !== reply.id) return;
    clearTimeout(call.deadline);
    this.inWorker = undefined;
    if (reply.type === 'result') {
      const { probability, featuresMs, inferenceMs } = reply;
      call.resolve({ probability, featuresMs, inferenceMs, totalMs: performance.now() - call.calledAt });
    } else {
      const error = new Error(reply.message);
      error.name = reply.name;
      call.reject(error);
    }
    this.sendNext();
  }

  /** From now on calls reject with `error` (the first reason given); pending ones now. */
  private stop(error: SmartTurnWorkerError, options: { keepInWorker?: boolean } = {}): void {
    this.gone ??= error;
    this.memo.forget();
    const calls = this.waiting.splice(0);
    if (this.inWorker && !options.keepInWorker) {
      calls.unshift(this.inWorker);
      this.inWorker = undefined;
    }
    for (const call of calls) {
      clearTimeout(call.deadline);
      call.reject(this.gone);
    }
  }
}
