import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/main/engine/clock';
import type { TurnModelDescriptor } from '../../src/main/engine/turn-detector/model-catalog';
import { DEFAULT_TURN_MODEL } from '../../src/main/engine/turn-detector/model-catalog';
import {
  sha256File,
  TurnModelStore,
  TurnModelUnavailableError,
  type TurnModelStatus,
  type TurnModelStoreOptions,
} from '../../src/main/engine/turn-detector/model-store';

/** Deterministic stand-in bytes: the store never looks inside the file. */
function makeBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

const MODEL_BYTES = makeBytes(512 * 1024, 1);
const MODEL_SHA256 = createHash('sha256').update(MODEL_BYTES).digest('hex');
const FILE_NAME = 'stand-in-turn.onnx';

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** A local HTTP server with per-test routes that records every request path. */
class TestServer {
  readonly requests: string[] = [];
  readonly routes = new Map<string, Handler>();
  private readonly server: Server;
  private readonly requestWaiters: (() => void)[] = [];
  base = '';

  constructor() {
    this.server = createServer((req, res) => {
      this.requests.push(req.url ?? '');
      for (const wake of this.requestWaiters.splice(0)) wake();
      const handler = this.routes.get(req.url ?? '');
      if (!handler) {
        res.writeHead(404).end('not found');
        return;
      }
      void Promise.resolve(handler(req, res)).catch(() => res.destroy());
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Resolves once `count` requests have arrived. */
  async waitForRequests(count: number): Promise<void> {
    while (this.requests.length < count) {
      await new Promise<void>((resolve) => this.requestWaiters.push(resolve));
    }
  }
}

/** Sends `bytes` in 16 KB writes, each flushed before the next, so the client sees many chunks. */
async function sendBytes(res: ServerResponse, bytes: Buffer): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) });
  for (let offset = 0; offset < bytes.length; offset += 16 * 1024) {
    await new Promise<void>((resolve, reject) =>
      res.write(bytes.subarray(offset, offset + 16 * 1024), (error) => (error ? reject(error) : resolve())),
    );
  }
  res.end();
}

/** Announces the whole file, sends its first `sent` bytes and then stops sending; resolves when the client hangs up. */
async function sendPartAndHold(res: ServerResponse, sent: number): Promise<void> {
  const closed = new Promise<void>((resolve) => res.on('close', resolve));
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(MODEL_BYTES.length),
  });
  res.write(MODEL_BYTES.subarray(0, sent));
  await closed;
}

/** Resolves with the first status (current or later) that satisfies `predicate`. */
function waitForStatus(
  store: TurnModelStore,
  predicate: (status: TurnModelStatus) => boolean,
): Promise<TurnModelStatus> {
  return new Promise((resolve) => {
    let done = false;
    const unsubscribe = store.subscribe((status) => {
      if (done || !predicate(status)) return;
      done = true;
      // The listener may run inside subscribe(), before `unsubscribe` is assigned.
      queueMicrotask(() => unsubscribe());
      resolve(status);
    });
  });
}

async function rejection(promise: Promise<unknown>): Promise<TurnModelUnavailableError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TurnModelUnavailableError);
    return error as TurnModelUnavailableError;
  }
  throw new Error('expected the promise to reject');
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

let server: TestServer;
let root: string;
let cacheDir: string;
let resourcesDir: string;

beforeEach(async () => {
  server = new TestServer();
  await server.start();
  server.routes.set('/model.onnx', (_req, res) => sendBytes(res, MODEL_BYTES));
  root = mkdtempSync(join(tmpdir(), 'cue-turn-model-'));
  cacheDir = join(root, 'cache', 'models');
  resourcesDir = join(root, 'resources');
});

afterEach(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

function descriptor(overrides: Partial<TurnModelDescriptor> = {}): TurnModelDescriptor {
  return {
    id: 'stand-in',
    name: 'Stand-in Turn',
    fileName: FILE_NAME,
    url: `${server.base}/model.onnx`,
    sha256: MODEL_SHA256,
    sizeBytes: MODEL_BYTES.length,
    license: 'BSD-2-Clause',
    ...overrides,
  };
}

function makeStore(
  overrides: Partial<TurnModelStoreOptions> = {},
  model: Partial<TurnModelDescriptor> = {},
): { store: TurnModelStore; statuses: TurnModelStatus[] } {
  const store = new TurnModelStore({ model: descriptor(model), cacheDir, resourcesDir, ...overrides });
  const statuses: TurnModelStatus[] = [];
  store.subscribe((status) => statuses.push(status));
  return { store, statuses };
}

const cachePath = () => join(cacheDir, FILE_NAME);
const cacheEntries = () => (existsSync(cacheDir) ? readdirSync(cacheDir).sort() : []);

describe('TurnModelStore: local copies', () => {
  it('uses the copy in <resourcesDir>/models without downloading, ahead of the cache', async () => {
    mkdirSync(join(resourcesDir, 'models'), { recursive: true });
    const shipped = join(resourcesDir, 'models', FILE_NAME);
    writeFileSync(shipped, MODEL_BYTES);
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(cachePath(), MODEL_BYTES);
    const { store, statuses } = makeStore();

    const resolved = await store.resolve();

    expect(resolved).toEqual({ modelId: 'stand-in', path: shipped, source: 'resources' });
    expect(server.requests).toEqual([]);
    expect(statuses).toEqual([
      { state: 'idle' },
      { state: 'checking' },
      { state: 'ready', source: 'resources', path: shipped },
    ]);
  });

  it('uses a cached copy whose SHA-256 matches, without downloading', async () => {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(cachePath(), MODEL_BYTES);
    const { store, statuses } = makeStore();

    const resolved = await store.resolve();

    expect(resolved).toEqual({ modelId: 'stand-in', path: cachePath(), source: 'cache' });
    expect(server.requests).toEqual([]);
    expect(statuses.at(-1)).toEqual({ state: 'ready', source: 'cache', path: cachePath() });
  });

  it('deletes a cached copy with the wrong SHA-256 and downloads the file again', async () => {
    mkdirSync(cacheDir, { recursive: true });
    const corrupt = Buffer.from(MODEL_BYTES);
    corrupt[1000] = (corrupt[1000] ?? 0) ^ 0xff; // same size, one byte flipped
    writeFileSync(cachePath(), corrupt);
    const { store, statuses } = makeStore();

    const resolved = await store.resolve();

    expect(resolved.source).toBe('download');
    expect(server.requests).toEqual(['/model.onnx']);
    expect(readFileSync(cachePath()).equals(MODEL_BYTES)).toBe(true);
    expect(statuses.some((s) => s.state === 'downloading')).toBe(true);
  });

  it('refuses a descriptor without a SHA-256', () => {
    expect(() => makeStore({}, { sha256: '' })).toThrow(/sha256 must be 64 hex digits/);
  });

  it('pins the published Smart Turn model by SHA-256', () => {
    expect(DEFAULT_TURN_MODEL.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(DEFAULT_TURN_MODEL.url).toMatch(
      /^https:\/\/huggingface\.co\/pipecat-ai\/smart-turn-v3\/resolve\//,
    );
    expect(DEFAULT_TURN_MODEL.url.endsWith(`/${DEFAULT_TURN_MODEL.fileName}`)).toBe(true);
    expect(DEFAULT_TURN_MODEL.license).toBe('BSD-2-Clause');
  });
});

describe('TurnModelStore: download', () => {
  it('downloads into a temporary file, reports progress, and renames the verified file into place', async () => {
    const { store, statuses } = makeStore();
    // Checked synchronously at every progress report, while the download is under way.
    const duringDownload: { receivedBytes: number; finalExists: boolean; parts: number }[] = [];
    store.subscribe((status) => {
      if (status.state !== 'downloading') return;
      duringDownload.push({
        receivedBytes: status.receivedBytes,
        finalExists: existsSync(cachePath()),
        parts: cacheEntries().filter((name) => name.endsWith('.part')).length,
      });
    });

    const resolved = await store.resolve();

    expect(resolved).toEqual({ modelId: 'stand-in', path: cachePath(), source: 'download' });
    expect(server.requests).toEqual(['/model.onnx']);
    expect(readFileSync(cachePath()).equals(MODEL_BYTES)).toBe(true);
    expect(await sha256File(cachePath())).toBe(MODEL_SHA256);
    expect(cacheEntries()).toEqual([FILE_NAME]);

    const progress = statuses.flatMap((s) => (s.state === 'downloading' ? [s] : []));
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress[0]).toEqual({ state: 'downloading', receivedBytes: 0, totalBytes: MODEL_BYTES.length });
    expect(progress.at(-1)).toEqual({
      state: 'downloading',
      receivedBytes: MODEL_BYTES.length,
      totalBytes: MODEL_BYTES.length,
    });
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.receivedBytes).toBeGreaterThan(progress[i - 1]!.receivedBytes);
    }
    expect(duringDownload.length).toBe(progress.length);
    expect(duringDownload.every((d) => !d.finalExists)).toBe(true);
    // Bytes go to exactly one temporary file.
    expect(duringDownload.filter((d) => d.receivedBytes > 0).every((d) => d.parts === 1)).toBe(true);
    expect(statuses.at(-1)).toEqual({ state: 'ready', source: 'download', path: cachePath() });
  });

  it('throttles progress reports to the configured step when time does not move', async () => {
    const { store, statuses } = makeStore({ clock: new VirtualClock(), progressStep: 0.25 });

    await store.resolve();

    const received = statuses.flatMap((s) => (s.state === 'downloading' ? [s.receivedBytes] : []));
    const total = MODEL_BYTES.length;
    expect(received[0]).toBe(0);
    expect(received.at(-1)).toBe(total);
    // Between the first and the final report, each report is at least a quarter further on.
    for (let i = 1; i < received.length - 1; i++) {
      expect(received[i]! - received[i - 1]!).toBeGreaterThanOrEqual(total / 4);
    }
    expect(received.length).toBeGreaterThanOrEqual(3);
    expect(received.length).toBeLessThanOrEqual(6);
  });

  it('follows redirects to the final location', async () => {
    server.routes.set('/resolve/model.onnx', (_req, res) => {
      res.writeHead(302, { location: `${server.base}/cdn/step` }).end();
    });
    server.routes.set('/cdn/step', (_req, res) => {
      res.writeHead(307, { location: '/cdn/model.onnx' }).end();
    });
    server.routes.set('/cdn/model.onnx', (_req, res) => sendBytes(res, MODEL_BYTES));
    const { store } = makeStore({}, { url: `${server.base}/resolve/model.onnx` });

    const resolved = await store.resolve();

    expect(resolved.source).toBe('download');
    expect(server.requests).toEqual(['/resolve/model.onnx', '/cdn/step', '/cdn/model.onnx']);
    expect(readFileSync(cachePath()).equals(MODEL_BYTES)).toBe(true);
  });

  it('shares one download between concurrent callers', async () => {
    const { store } = makeStore();

    const [a, b] = await Promise.all([store.resolve(), store.resolve()]);

    expect(a).toEqual(b);
    expect(a.source).toBe('download');
    expect(server.requests).toEqual(['/model.onnx']);
    // Once ready, the next call answers from memory.
    expect(await store.resolve()).toEqual(a);
    expect(server.requests).toEqual(['/model.onnx']);
  });

  it('keeps a shared download going when only one of its callers aborts', async () => {
    let release: (() => void) | undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    server.routes.set('/model.onnx', async (_req, res) => {
      res.writeHead(200, { 'content-length': String(MODEL_BYTES.length) });
      res.write(MODEL_BYTES.subarray(0, 1000));
      await released;
      res.end(MODEL_BYTES.subarray(1000));
    });
    const { store } = makeStore({ progressStep: 0 });
    const controller = new AbortController();
    const first = store.resolve({ signal: controller.signal });
    const second = store.resolve();
    await waitForStatus(store, (s) => s.state === 'downloading' && s.receivedBytes > 0);

    controller.abort();
    expect((await rejection(first)).reason).toBe('aborted');
    release?.();

    expect((await second).source).toBe('download');
    expect(readFileSync(cachePath()).equals(MODEL_BYTES)).toBe(true);
    expect(server.requests).toEqual(['/model.onnx']);
  });
});

describe('TurnModelStore: failures', () => {
  it('rejects with "checksum" and leaves no file when the bytes do not match', async () => {
    const wrong = createHash('sha256').update('another file').digest('hex');
    const { store } = makeStore({}, { sha256: wrong });

    const error = await rejection(store.resolve());

    expect(error.reason).toBe('checksum');
    expect(error.message).toContain(`${server.base}/model.onnx`);
    expect(error.message).toContain(MODEL_SHA256);
    expect(cacheEntries()).toEqual([]);
    expect(store.status).toEqual({ state: 'unavailable', reason: 'checksum', message: error.message });
  });

  it('rejects with "checksum" when the server announces another size', async () => {
    const { store } = makeStore({}, { sizeBytes: MODEL_BYTES.length + 1 });

    const error = await rejection(store.resolve());

    expect(error.reason).toBe('checksum');
    expect(error.message).toMatch(/announces 524288 bytes, not 524289/);
    expect(cacheEntries()).toEqual([]);
  });

  it.each([404, 500])('rejects with "http" on HTTP %i and leaves no file', async (code) => {
    server.routes.set('/model.onnx', (_req, res) => {
      res.writeHead(code).end('nope');
    });
    const { store } = makeStore();

    const error = await rejection(store.resolve());

    expect(error.reason).toBe('http');
    expect(error.status).toBe(code);
    expect(error.message).toContain(`HTTP ${code}`);
    expect(error.message).toContain(`${server.base}/model.onnx`);
    expect(cacheEntries()).toEqual([]);
    expect(store.status).toMatchObject({ state: 'unavailable', reason: 'http' });
  });

  it('tries again on the next call after a failure', async () => {
    let fail = true;
    server.routes.set('/model.onnx', (_req, res) =>
      fail ? void res.writeHead(503).end() : sendBytes(res, MODEL_BYTES),
    );
    const { store } = makeStore();
    expect((await rejection(store.resolve())).reason).toBe('http');

    fail = false;
    expect((await store.resolve()).source).toBe('download');
    expect(server.requests).toEqual(['/model.onnx', '/model.onnx']);
  });

  it('rejects with "offline" when the connection is refused', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/model.onnx`;
    const { store } = makeStore({}, { url });

    const error = await rejection(store.resolve());

    expect(error.reason).toBe('offline');
    expect(error.message).toContain(url);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain(cacheDir);
    expect(cacheEntries()).toEqual([]);
    expect(store.status).toMatchObject({ state: 'unavailable', reason: 'offline' });
  });

  it('rejects with "aborted" when cancelled mid-download, removing the partial file', async () => {
    let hungUp: Promise<void> | undefined;
    server.routes.set('/model.onnx', (_req, res) => {
      hungUp = sendPartAndHold(res, 128 * 1024);
      return hungUp;
    });
    const { store } = makeStore();
    const controller = new AbortController();
    const pending = store.resolve({ signal: controller.signal });
    await waitForStatus(store, (s) => s.state === 'downloading' && s.receivedBytes > 0);
    expect(cacheEntries().filter((name) => name.endsWith('.part'))).toHaveLength(1);

    controller.abort();
    const error = await rejection(pending);

    expect(error.reason).toBe('aborted');
    expect(error.message).toContain(`${server.base}/model.onnx`);
    expect(cacheEntries()).toEqual([]);
    expect(store.status).toMatchObject({ state: 'unavailable', reason: 'aborted' });
    await hungUp; // the server saw the connection close
  });

  it('rejects with "offline" when the download stalls longer than the idle timeout', async () => {
    const clock = new VirtualClock();
    const sent = 1000;
    server.routes.set('/model.onnx', (_req, res) => sendPartAndHold(res, sent));
    const { store } = makeStore({ clock, idleTimeoutMs: 5000, progressStep: 0 });
    const pending = store.resolve();
    pending.catch(() => undefined);
    await waitForStatus(store, (s) => s.state === 'downloading' && s.receivedBytes === sent);

    await clock.advanceBy(4999);
    expect(store.status).toEqual({
      state: 'downloading',
      receivedBytes: sent,
      totalBytes: MODEL_BYTES.length,
    });
    await clock.advanceBy(1);
    const error = await rejection(pending);

    expect(error.reason).toBe('offline');
    expect(error.message).toMatch(/stalled \(no data for 5 s\)/);
    expect(cacheEntries()).toEqual([]);
  });

  it('rejects with "offline" when no response arrives within the connect timeout', async () => {
    const clock = new VirtualClock();
    server.routes.set('/model.onnx', () => undefined); // never answers
    const { store } = makeStore({ clock, connectTimeoutMs: 3000 });
    const pending = store.resolve();
    pending.catch(() => undefined);
    await server.waitForRequests(1);

    await clock.advanceBy(2999);
    expect(store.status).toEqual({ state: 'downloading', receivedBytes: 0, totalBytes: MODEL_BYTES.length });
    await clock.advanceBy(1);
    const error = await rejection(pending);

    expect(error.reason).toBe('offline');
    expect(error.message).toMatch(/no answer within 3 s/);
    expect(cacheEntries()).toEqual([]);
  });
});
