/**
 * Finds the turn-detection model file, downloading it on first use.
 *
 * Order: `<resourcesDir>/models/<fileName>` (shipped with the app, trusted as is), then
 * `<cacheDir>/<fileName>` (used only when its SHA-256 matches; a bad copy is deleted), then a
 * download from the published URL. The download follows redirects, streams into a temporary
 * `<fileName>.<random>.part` file in the cache directory while hashing, checks size and SHA-256,
 * and only then renames the file into place, so the cache never holds a partial or unverified
 * model. Every failure is a TurnModelUnavailableError with a reason the UI can act on.
 *
 * All timing (connect and stall timeouts, progress throttling) goes through the engine Clock,
 * and fetch, directories and the clock are injected, so tests run without the network.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { RealClock, type Clock, type TimerHandle } from '../clock';
import type { TurnModelDescriptor } from './model-catalog';

export type TurnModelSource = 'resources' | 'cache' | 'download';

/**
 * Why the model cannot be used: no network or no answer in time ('offline'), the server
 * refused ('http'), the bytes are not the published file ('checksum'), the caller cancelled
 * ('aborted'), or the cache directory could not be written ('io').
 */
export type TurnModelUnavailableReason = 'offline' | 'http' | 'checksum' | 'aborted' | 'io';

/** What the UI shows about the turn model. */
export type TurnModelStatus =
  /** Nothing asked for the model yet. */
  | { readonly state: 'idle' }
  /** Looking in resources and verifying the cached copy. */
  | { readonly state: 'checking' }
  | { readonly state: 'downloading'; readonly receivedBytes: number; readonly totalBytes: number | null }
  | { readonly state: 'ready'; readonly source: TurnModelSource; readonly path: string }
  | {
      readonly state: 'unavailable';
      readonly reason: TurnModelUnavailableReason;
      readonly message: string;
    };

export type TurnModelStatusListener = (status: TurnModelStatus) => void;

/** A model file ready to load. */
export interface ResolvedTurnModel {
  readonly modelId: string;
  readonly path: string;
  readonly source: TurnModelSource;
}

export class TurnModelUnavailableError extends Error {
  override name = 'TurnModelUnavailableError';
  /** HTTP status, for reason 'http'. */
  readonly status?: number;

  constructor(
    readonly reason: TurnModelUnavailableReason,
    message: string,
    details: { status?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    if (details.status !== undefined) this.status = details.status;
  }
}

/** The part of fetch the store uses; Node's global fetch fits. */
export type TurnModelFetch = (url: string, init: RequestInit) => Promise<Response>;

export interface TurnModelStoreOptions {
  model: TurnModelDescriptor;
  /** Where downloaded models are kept, e.g. `<userData>/models`. Created when needed. */
  cacheDir: string;
  /** The app's resources directory; `<resourcesDir>/models/<fileName>` is looked at first. */
  resourcesDir?: string;
  /** Defaults to the global fetch. */
  fetch?: TurnModelFetch;
  /** Defaults to a RealClock. */
  clock?: Clock;
  /** Longest wait for the response headers (after redirects). Default 20 s. */
  connectTimeoutMs?: number;
  /** Longest wait for the next chunk of the body. Default 30 s. */
  idleTimeoutMs?: number;
  /** Download progress is reported when this much time has passed since the last report. Default 100 ms. */
  progressIntervalMs?: number;
  /** ... or when this fraction of the total size has arrived since the last report. Default 0.01. */
  progressStep?: number;
}

export interface TurnModelResolveOptions {
  /**
   * Stops waiting. A download shared with other callers goes on until every caller
   * waiting for it has aborted; the last one's rejection comes after the partial file is removed.
   */
  signal?: AbortSignal;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const DEFAULT_PROGRESS_INTERVAL_MS = 100;
const DEFAULT_PROGRESS_STEP = 0.01;
const PART_SUFFIX = '.part';

interface Run {
  readonly controller: AbortController;
  readonly promise: Promise<ResolvedTurnModel>;
  /** Callers waiting that can still abort; Infinity once one waits without a signal. */
  waiters: number;
}

type StopCause = 'aborted' | 'connect' | 'idle';

/** Lower-case hex SHA-256 of a file. */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const stream = createReadStream(path, signal ? { signal } : {});
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The most specific description of a network failure: undici wraps the socket error as `cause`. */
function networkDetail(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const inner = cause instanceof Error ? cause : error instanceof Error ? error : undefined;
  if (!inner) return String(error);
  const code = errorCode(inner);
  return code && !inner.message.includes(code) ? `${inner.message} (${code})` : inner.message;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

export class TurnModelStore {
  private readonly model: TurnModelDescriptor;
  private readonly expectedSha256: string;
  private readonly cacheDir: string;
  private readonly resourcesDir: string | undefined;
  private readonly fetchFn: TurnModelFetch;
  private readonly clock: Clock;
  private readonly connectTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly progressIntervalMs: number;
  private readonly progressStep: number;
  private readonly listeners = new Set<TurnModelStatusListener>();
  private current: TurnModelStatus = { state: 'idle' };
  private run: Run | undefined;
  private activeController: AbortController | undefined;
  private resolved: ResolvedTurnModel | undefined;

  constructor(options: TurnModelStoreOptions) {
    const { model } = options;
    if (!/^[0-9a-f]{64}$/i.test(model.sha256 ?? '')) {
      throw new TypeError(
        `turn model ${model.id}: sha256 must be 64 hex digits, got "${String(model.sha256)}"`,
      );
    }
    this.model = model;
    this.expectedSha256 = model.sha256.toLowerCase();
    this.cacheDir = options.cacheDir;
    this.resourcesDir = options.resourcesDir;
    this.fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
    this.clock = options.clock ?? new RealClock();
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.progressIntervalMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
    this.progressStep = options.progressStep ?? DEFAULT_PROGRESS_STEP;
  }

  get descriptor(): TurnModelDescriptor {
    return this.model;
  }

  get status(): TurnModelStatus {
    return this.current;
  }

  /** Where a downloaded copy lives (whether or not it exists yet). */
  get cachePath(): string {
    return join(this.cacheDir, this.model.fileName);
  }

  /** Calls `listener` at once with the current status, then on every change. Returns an unsubscribe function. */
  subscribe(listener: TurnModelStatusListener): () => void {
    this.listeners.add(listener);
    listener(this.current);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * The model file, from resources, the cache or a download. Concurrent calls share one
   * lookup and one download. After a failure the next call tries again.
   * Rejects with TurnModelUnavailableError.
   */
  resolve(options: TurnModelResolveOptions = {}): Promise<ResolvedTurnModel> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(this.abortedError());
    // A run whose last waiter aborted is still cleaning up: start afresh rather than join it.
    const run = this.run && !this.run.controller.signal.aborted ? this.run : this.startRun();
    return new Promise<ResolvedTurnModel>((resolve, reject) => {
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        run.waiters -= 1;
        if (run.waiters > 0) {
          reject(this.abortedError());
          return;
        }
        // Nobody else waits: stop the download and answer once its partial file is gone.
        run.controller.abort();
        const answer = () => reject(this.abortedError());
        run.promise.then(answer, answer);
      };
      run.waiters = signal ? run.waiters + 1 : Number.POSITIVE_INFINITY;
      signal?.addEventListener('abort', onAbort, { once: true });
      run.promise.then(
        (model) => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          resolve(model);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          reject(error as Error);
        },
      );
    });
  }

  private startRun(): Run {
    const controller = new AbortController();
    this.activeController = controller;
    // Only the latest run speaks for the status: one that was aborted and superseded keeps quiet.
    const report = (status: TurnModelStatus) => {
      if (this.activeController === controller) this.setStatus(status);
    };
    const run: Run = {
      controller,
      waiters: 0,
      promise: this.locate(controller.signal, report).finally(() => {
        if (this.run === run) this.run = undefined;
      }),
    };
    this.run = run;
    return run;
  }

  private setStatus(status: TurnModelStatus): void {
    this.current = status;
    for (const listener of [...this.listeners]) {
      try {
        listener(status);
      } catch (error) {
        console.error('turn model status listener failed:', error);
      }
    }
  }

  private async locate(
    signal: AbortSignal,
    report: (status: TurnModelStatus) => void,
  ): Promise<ResolvedTurnModel> {
    if (this.resolved && (await this.isFile(this.resolved.path))) return this.resolved;
    this.resolved = undefined;
    report({ state: 'checking' });
    try {
      let found: ResolvedTurnModel | undefined;
      const resourcePath = this.resourcesDir
        ? join(this.resourcesDir, 'models', this.model.fileName)
        : undefined;
      if (resourcePath && (await this.isFile(resourcePath))) {
        found = { modelId: this.model.id, path: resourcePath, source: 'resources' };
      } else if (await this.verifiedCacheFile(signal)) {
        found = { modelId: this.model.id, path: this.cachePath, source: 'cache' };
      } else {
        if (signal.aborted) throw this.abortedError();
        found = { modelId: this.model.id, path: await this.download(signal, report), source: 'download' };
      }
      this.resolved = found;
      report({ state: 'ready', source: found.source, path: found.path });
      return found;
    } catch (error) {
      const failure =
        error instanceof TurnModelUnavailableError
          ? error
          : signal.aborted
            ? this.abortedError()
            : this.ioError(error, this.cachePath);
      report({ state: 'unavailable', reason: failure.reason, message: failure.message });
      throw failure;
    }
  }

  private async isFile(path: string): Promise<boolean> {
    try {
      return (await stat(path)).isFile();
    } catch {
      return false;
    }
  }

  /** True when the cached copy is intact; a damaged copy is deleted so it is downloaded again. */
  private async verifiedCacheFile(signal: AbortSignal): Promise<boolean> {
    const path = this.cachePath;
    let size: number;
    try {
      const info = await stat(path);
      if (!info.isFile()) return false;
      size = info.size;
    } catch {
      return false;
    }
    let intact = false;
    if (this.model.sizeBytes === undefined || size === this.model.sizeBytes) {
      try {
        intact = (await sha256File(path, signal)) === this.expectedSha256;
      } catch (error) {
        if (signal.aborted) throw this.abortedError();
        console.warn(`turn model: cannot read ${path}, downloading it again:`, error);
      }
    }
    if (intact) return true;
    console.warn(`turn model: ${path} does not match SHA-256 ${this.expectedSha256}; deleting it`);
    try {
      await unlink(path);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw this.ioError(error, path);
    }
    return false;
  }

  private async removeStaleParts(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.cacheDir);
    } catch {
      return;
    }
    const prefix = `${this.model.fileName}.`;
    for (const name of names) {
      if (!name.startsWith(prefix) || !name.endsWith(PART_SUFFIX)) continue;
      await unlink(join(this.cacheDir, name)).catch(() => undefined);
    }
  }

  private async download(signal: AbortSignal, report: (status: TurnModelStatus) => void): Promise<string> {
    const { url, sizeBytes } = this.model;
    const finalPath = this.cachePath;
    try {
      await mkdir(this.cacheDir, { recursive: true });
    } catch (error) {
      throw this.ioError(error, this.cacheDir);
    }
    await this.removeStaleParts();
    const tempPath = join(
      this.cacheDir,
      `${this.model.fileName}.${randomBytes(6).toString('hex')}${PART_SUFFIX}`,
    );

    const controller = new AbortController();
    let stopCause: StopCause | undefined;
    const stop = (cause: StopCause) => {
      stopCause ??= cause;
      controller.abort();
    };
    const onAbort = () => stop('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) stop('aborted');

    let timer: TimerHandle | undefined;
    let file: FileHandle | undefined;
    let committed = false;
    try {
      report({ state: 'downloading', receivedBytes: 0, totalBytes: sizeBytes ?? null });
      timer = this.clock.setTimeout(() => stop('connect'), this.connectTimeoutMs);
      let response: Response;
      try {
        response = await this.fetchFn(url, { signal: controller.signal, redirect: 'follow' });
      } catch (error) {
        throw this.networkError(error, stopCause);
      }
      this.clock.clearTimeout(timer);
      timer = undefined;
      if (stopCause) throw this.networkError(undefined, stopCause);

      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        const statusText = response.statusText ? ` ${response.statusText}` : '';
        throw new TurnModelUnavailableError(
          'http',
          `Downloading ${this.model.name} from ${url} failed: the server answered HTTP ${response.status}${statusText}. ` +
            'Try again later; if it keeps failing, the model may have moved and Cue needs an update.',
          { status: response.status },
        );
      }
      const body = response.body;
      if (!body) throw this.networkError(new Error('the response has no body'), undefined);

      // Content-Length counts encoded bytes; it is only the file size without a content encoding.
      const lengthHeader = response.headers.get('content-length');
      const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
      const contentLength =
        lengthHeader !== null && !encoded && /^\d+$/.test(lengthHeader.trim())
          ? Number(lengthHeader.trim())
          : null;
      if (sizeBytes !== undefined && contentLength !== null && contentLength !== sizeBytes) {
        await body.cancel().catch(() => undefined);
        throw this.checksumError(`the server announces ${contentLength} bytes, not ${sizeBytes}`);
      }
      const totalBytes = contentLength ?? sizeBytes ?? null;
      const limit = sizeBytes ?? contentLength ?? Number.POSITIVE_INFINITY;

      try {
        file = await open(tempPath, 'wx');
      } catch (error) {
        throw this.ioError(error, tempPath);
      }
      const hash = createHash('sha256');
      const reader = body.getReader();
      let received = 0;
      let reportedBytes = 0;
      let reportedAt = this.clock.now();
      if (totalBytes !== (sizeBytes ?? null)) report({ state: 'downloading', receivedBytes: 0, totalBytes });

      for (;;) {
        timer = this.clock.setTimeout(() => stop('idle'), this.idleTimeoutMs);
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          throw this.networkError(error, stopCause);
        } finally {
          this.clock.clearTimeout(timer);
          timer = undefined;
        }
        if (stopCause) throw this.networkError(undefined, stopCause);
        if (chunk.done) break;
        received += chunk.value.byteLength;
        if (received > limit) {
          throw this.checksumError(`the server sent more than the expected ${limit} bytes`);
        }
        hash.update(chunk.value);
        try {
          await file.write(chunk.value);
        } catch (error) {
          throw this.ioError(error, tempPath);
        }
        const now = this.clock.now();
        const stepBytes = totalBytes === null ? Number.POSITIVE_INFINITY : this.progressStep * totalBytes;
        if (now - reportedAt >= this.progressIntervalMs || received - reportedBytes >= stepBytes) {
          reportedAt = now;
          reportedBytes = received;
          report({ state: 'downloading', receivedBytes: received, totalBytes });
        }
      }
      if (reportedBytes !== received) {
        report({ state: 'downloading', receivedBytes: received, totalBytes });
      }

      if (contentLength !== null && received !== contentLength) {
        throw this.networkError(
          new Error(`the connection closed after ${received} of ${contentLength} bytes`),
          undefined,
        );
      }
      if (sizeBytes !== undefined && received !== sizeBytes) {
        throw this.checksumError(`it has ${received} bytes, not ${sizeBytes}`);
      }
      const digest = hash.digest('hex');
      if (digest !== this.expectedSha256) {
        throw this.checksumError(`its SHA-256 is ${digest}, not ${this.expectedSha256}`);
      }
      try {
        await file.sync();
        const handle = file;
        file = undefined;
        await handle.close();
      } catch (error) {
        throw this.ioError(error, tempPath);
      }
      if (stopCause) throw this.networkError(undefined, stopCause);
      try {
        await rename(tempPath, finalPath);
      } catch (error) {
        throw this.ioError(error, finalPath);
      }
      committed = true;
      return finalPath;
    } finally {
      this.clock.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      // Releases the connection when the body was not read to the end.
      controller.abort();
      if (file) await file.close().catch(() => undefined);
      if (!committed) await unlink(tempPath).catch(() => undefined);
    }
  }

  private abortedError(): TurnModelUnavailableError {
    return new TurnModelUnavailableError(
      'aborted',
      `The ${this.model.name} download from ${this.model.url} was cancelled.`,
    );
  }

  private networkError(error: unknown, cause: StopCause | undefined): TurnModelUnavailableError {
    if (cause === 'aborted') return this.abortedError();
    const { name, url } = this.model;
    const detail =
      cause === 'connect'
        ? `no answer within ${seconds(this.connectTimeoutMs)}`
        : cause === 'idle'
          ? `the download stalled (no data for ${seconds(this.idleTimeoutMs)})`
          : networkDetail(error);
    return new TurnModelUnavailableError(
      'offline',
      `Could not download ${name} from ${url}: ${detail}. ` +
        `Check the internet connection and try again, or copy ${this.model.fileName} ` +
        `(SHA-256 ${this.expectedSha256}) into ${this.cacheDir}.`,
      error === undefined ? {} : { cause: error },
    );
  }

  private checksumError(detail: string): TurnModelUnavailableError {
    return new TurnModelUnavailableError(
      'checksum',
      `The ${this.model.name} file downloaded from ${this.model.url} is not the published one: ${detail}. ` +
        'It was discarded; try again later.',
    );
  }

  private ioError(error: unknown, path: string): TurnModelUnavailableError {
    const detail = error instanceof Error ? error.message : String(error);
    return new TurnModelUnavailableError(
      'io',
      `Could not store ${this.model.name} at ${path}: ${detail}. ` +
        'Check that the folder is writable and the disk has free space.',
      { cause: error },
    );
  }
}
