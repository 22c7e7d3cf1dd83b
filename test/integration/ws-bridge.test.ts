/**
 * The web bridge (src/main/bridge/ws-bridge.ts) on 127.0.0.1 with a fake ContractHandler, driven
 * by `ws` clients that set their Origin as a browser would, and by the renderer's own
 * WebSocket client (src/renderer/src/platform/ws-client.ts) with `ws` as its socket.
 * Everything waits on events (frames, handler calls, socket events); nothing sleeps.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TIMELINE_BATCH_MAX_DELAY_MS } from '../../src/main/app/timeline-batcher';
import type { ContractHandler } from '../../src/main/app/types';
import { MIC_PATH, startWebBridge, type WebBridge } from '../../src/main/bridge/ws-bridge';
import { VirtualClock } from '../../src/main/engine/clock';
import { createMicSender, type MicSenderSocket } from '../../src/renderer/src/platform/mic-sender';
import {
  connectWebBridge,
  type MicWorkerLike,
  type WebSocketLike,
} from '../../src/renderer/src/platform/ws-client';
import { decodeAudioDown, encodeAudioUp } from '../../src/shared/audio-wire';
import {
  EVENT_NAMES,
  parseRequest,
  type AppState,
  type AudioDown,
  type AudioUp,
  type EventName,
  type Events,
  type Notice,
  type RequestName,
} from '../../src/shared/contract';
import type { TimelineEvent } from '../../src/shared/timeline';
import { appState } from '../helpers/app-state';

const INDEX_HTML = readFileSync(join(import.meta.dirname, '../../src/renderer/index.html'), 'utf8');
const META_CSP = /content="(default-src[^"]*)"/.exec(INDEX_HTML)![1]!;

const STATE: AppState = appState();

/** Resolves when `test` holds for a value pushed later (or already pushed). */
class Inbox<T> {
  private readonly items: T[] = [];
  private readonly waiters: { test: (item: T) => boolean; resolve: (item: T) => void }[] = [];

  push(item: T): void {
    const waiter = this.waiters.find((w) => w.test(item));
    if (waiter) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(item);
    } else {
      this.items.push(item);
    }
  }

  next(test: (item: T) => boolean = () => true): Promise<T> {
    const index = this.items.findIndex(test);
    if (index >= 0) return Promise.resolve(this.items.splice(index, 1)[0]!);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  get pending(): readonly T[] {
    return this.items;
  }
}

/** A stand-in for the app core: validates like it, answers from a table, records everything. */
class FakeHandler implements ContractHandler {
  readonly calls: { name: RequestName; payload: unknown }[] = [];
  readonly audioIn = new Inbox<AudioUp>();
  private readonly listeners = new Set<<E extends EventName>(name: E, payload: Events[E]) => void>();
  private readonly audioListeners = new Set<(message: AudioDown) => void>();
  /** Requests that never answer (for the client's timeout). */
  hang = new Set<RequestName>();

  async request<K extends RequestName>(name: K, payload: unknown): Promise<never> {
    this.calls.push({ name, payload });
    const input = parseRequest(name, payload) as Record<string, unknown>;
    if (this.hang.has(name)) return new Promise<never>(() => {});
    const answers: Partial<Record<RequestName, () => unknown>> = {
      'app:state': () => STATE,
      'session:mute': () => ({ ...STATE, muted: input.muted }),
      'session:start': () => {
        throw new Error('Deepgram API key missing: set keys.deepgram');
      },
    };
    const answer = answers[name];
    if (!answer) throw new Error(`fake handler: no answer for ${name}`);
    return answer() as never;
  }

  subscribe(listener: <E extends EventName>(name: E, payload: Events[E]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  audioUp(message: AudioUp): void {
    this.audioIn.push(message);
  }

  onAudioDown(listener: (message: AudioDown) => void): () => void {
    this.audioListeners.add(listener);
    return () => this.audioListeners.delete(listener);
  }

  emit<E extends EventName>(name: E, payload: Events[E]): void {
    for (const listener of this.listeners) listener(name, payload);
  }

  sendDown(message: AudioDown): void {
    for (const listener of this.audioListeners) listener(message);
  }

  get subscribers(): { events: number; audio: number } {
    return { events: this.listeners.size, audio: this.audioListeners.size };
  }
}

type TextFrame = Record<string, unknown> & { kind: string };

/** A raw `ws` client on the bridge that collects its text and binary frames. */
class Peer {
  readonly texts = new Inbox<TextFrame>();
  readonly binaries = new Inbox<Buffer>();
  readonly closed: Promise<{ code: number; reason: string }>;
  private nextId = 1;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      if (isBinary) this.binaries.push(buffer);
      else this.texts.push(JSON.parse(buffer.toString('utf8')) as TextFrame);
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  async request(name: string, payload?: unknown): Promise<TextFrame> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ kind: 'request', id, name, payload }));
    return this.texts.next((f) => f.kind === 'response' && f.id === id);
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'cue-ws-bridge-'));
const staticDir = join(tmp, 'renderer');
let bridge: WebBridge;
let handler: FakeHandler;
/** The VAD batches' deadline timers. */
let clock: VirtualClock;
const logs = new Inbox<string>();
const open: { close(): void }[] = [];

beforeAll(() => {
  mkdirSync(join(staticDir, 'assets', 'nested'), { recursive: true });
  writeFileSync(join(staticDir, 'index.html'), INDEX_HTML);
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log("cue");\n');
  writeFileSync(join(staticDir, 'assets', 'app.css'), 'body { color: red }\n');
  writeFileSync(join(staticDir, 'assets', 'nested', 'model.onnx'), Buffer.from([1, 2, 3]));
  writeFileSync(join(tmp, 'secret.txt'), 'TOP SECRET');
  symlinkSync(join(tmp, 'secret.txt'), join(staticDir, 'assets', 'link.txt'));
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function start(options: { port?: number; token?: string } = {}): Promise<WebBridge> {
  handler = new FakeHandler();
  clock = new VirtualClock();
  bridge = await startWebBridge({
    handler,
    staticDir,
    host: '127.0.0.1',
    log: (message) => logs.push(message),
    timelineBatch: { clock },
    ...options,
  });
  return bridge;
}

afterEach(async () => {
  for (const item of open.splice(0)) item.close();
  await bridge?.close();
});

/** Opens a raw client; resolves with the Peer, or with the HTTP status the upgrade was refused with. */
function dial(
  options: {
    origin?: string | null;
    token?: string | null;
    path?: string;
    host?: string;
    page?: string;
  } = {},
): Promise<Peer | number> {
  const url = new URL(options.path ?? '/bridge', `ws://127.0.0.1:${bridge.port}`);
  const token = options.token === undefined ? bridge.token : options.token;
  if (token !== null) url.searchParams.set('token', token);
  if (options.page !== undefined) url.searchParams.set('page', options.page);
  const origin = options.origin === undefined ? bridge.origin : options.origin;
  const ws = new WebSocket(url, {
    ...(origin === null ? {} : { origin }),
    ...(options.host ? { headers: { host: options.host } } : {}),
  });
  open.push({ close: () => ws.terminate() });
  const peer = new Peer(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(peer));
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

async function connected(page?: string): Promise<Peer> {
  const peer = await dial(page === undefined ? {} : { page });
  if (typeof peer === 'number') throw new Error(`upgrade refused with ${peer}`);
  // One round trip: the bridge has set the connection up.
  await peer.request('app:state', {});
  return peer;
}

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTP request with the path sent exactly as given (no URL normalisation). */
function http(path: string, options: { method?: string; host?: string } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: bridge.port,
        path,
        method: options.method ?? 'GET',
        ...(options.host ? { headers: { host: options.host } } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('web bridge: requests', () => {
  it('binds to 127.0.0.1 and hands out an address with a random token', async () => {
    const first = await start();
    expect(first.origin).toBe(`http://127.0.0.1:${first.port}`);
    expect(first.url).toBe(`${first.origin}/?token=${encodeURIComponent(first.token)}`);
    expect(first.token.length).toBeGreaterThanOrEqual(40);
    const other = await startWebBridge({ handler, staticDir, host: '127.0.0.1' });
    expect(other.token).not.toBe(first.token);
    await other.close();
    await expect(startWebBridge({ handler, staticDir, host: '0.0.0.0' as '127.0.0.1' })).rejects.toThrow(
      /127\.0\.0\.1 only/,
    );
  });

  it('round-trips requests to the handler and back', async () => {
    await start();
    const peer = await connected();
    expect(await peer.request('app:state', {})).toEqual({ kind: 'response', id: 2, ok: true, value: STATE });
    const muted = await peer.request('session:mute', { muted: true });
    expect(muted).toMatchObject({ kind: 'response', ok: true, value: { ...STATE, muted: true } });
    expect(handler.calls.at(-1)).toEqual({ name: 'session:mute', payload: { muted: true } });
  });

  it('answers validation and handler errors as ok:false with the message', async () => {
    await start();
    const peer = await connected();
    const invalid = await peer.request('session:mute', { muted: 'yes' });
    expect(invalid).toMatchObject({ kind: 'response', ok: false });
    expect(invalid.error).toMatch(/^session:mute: muted: /);
    const extra = await peer.request('app:state', { sneaky: 1 });
    expect(extra).toMatchObject({ ok: false, error: expect.stringMatching(/^app:state: /) as unknown });
    expect(await peer.request('session:start', {})).toMatchObject({
      ok: false,
      error: 'Deepgram API key missing: set keys.deepgram',
    });
  });

  it('refuses names outside the contract without reaching the handler', async () => {
    await start();
    const peer = await connected();
    const before = handler.calls.length;
    for (const name of ['fs:read', '__proto__', 'constructor', 'toString', 42, null]) {
      const answer = await peer.request(name as string, {});
      expect(answer).toMatchObject({
        kind: 'response',
        ok: false,
        error: `unknown request "${String(name)}"`,
      });
    }
    expect(handler.calls.length).toBe(before);
  });

  it('answers malformed frames and keeps serving', async () => {
    await start();
    const peer = await connected();
    peer.ws.send('{not json');
    expect(await peer.texts.next()).toEqual({
      kind: 'response',
      id: null,
      ok: false,
      error: 'frame is not valid JSON',
    });
    peer.ws.send(JSON.stringify({ kind: 'request', name: 'app:state' }));
    expect(await peer.texts.next()).toMatchObject({ kind: 'response', id: null, ok: false });
    peer.ws.send(JSON.stringify({ kind: 'subscribe', id: 9 }));
    expect(await peer.texts.next()).toMatchObject({ kind: 'response', id: 9, ok: false });
    expect(await peer.request('app:state', {})).toMatchObject({ ok: true });
  });
});

const vad = (t: number): TimelineEvent => ({
  type: 'vad_probability',
  t,
  turn: 0,
  probability: 0.25,
  speaking: false,
});
const interim: TimelineEvent = { type: 'transcript_interim', t: 50, turn: 0, text: 'hello' };

describe('web bridge: events and audio', () => {
  it('forwards every contract event', async () => {
    await start();
    const peer = await connected();
    const samples: { [E in EventName]: Events[E] } = {
      timeline: { type: 'session_started', t: 1 } as unknown as Events['timeline'],
      'timeline:batch': [{ type: 'session_stopped', t: 2 }] as unknown as Events['timeline:batch'],
      state: { ...STATE, status: 'listening', running: true },
      notice: { level: 'warning', message: 'Microphone muted' },
      'settings:changed': { settings: { example: true } } as unknown as Events['settings:changed'],
      turn: { index: 0 } as unknown as Events['turn'],
    };
    for (const name of EVENT_NAMES) {
      handler.emit(name, samples[name]);
      expect(await peer.texts.next((f) => f.kind === 'event')).toEqual({
        kind: 'event',
        name,
        payload: samples[name],
      });
    }
  });

  it('carries the VAD trace in batches, in order with the other events', async () => {
    await start();
    const peer = await connected();
    const events = () => peer.texts.pending.filter((f) => f.kind === 'event');
    handler.emit('timeline', vad(0));
    handler.emit('timeline', vad(32));
    handler.emit('timeline', interim);
    handler.emit('timeline', vad(64));
    // A round trip: whatever the bridge sent before its answer has arrived.
    await peer.request('app:state', {});
    expect(events()).toEqual([
      { kind: 'event', name: 'timeline:batch', payload: [vad(0), vad(32)] },
      { kind: 'event', name: 'timeline', payload: interim },
    ]);
    await clock.advanceBy(TIMELINE_BATCH_MAX_DELAY_MS);
    await peer.request('app:state', {});
    expect(events().slice(2)).toEqual([{ kind: 'event', name: 'timeline:batch', payload: [vad(64)] }]);
  });

  it('sends the batch still held when the bridge closes', async () => {
    await start();
    const peer = await connected();
    handler.emit('timeline', vad(0));
    await bridge.close();
    await peer.closed;
    expect(peer.texts.pending.filter((f) => f.kind === 'event')).toEqual([
      { kind: 'event', name: 'timeline:batch', payload: [vad(0)] },
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('carries audio both ways as binary frames', async () => {
    await start();
    const peer = await connected();
    const mic: AudioUp = { type: 'mic', samples: Int16Array.from([0, 100, -100, 32767]), ageMs: 4.5 };
    peer.ws.send(encodeAudioUp(mic));
    expect(await handler.audioIn.next()).toEqual(mic);
    const played: AudioUp = { type: 'finished', utterance: 3, ageMs: 1, playedMs: 800 };
    peer.ws.send(encodeAudioUp(played));
    expect(await handler.audioIn.next()).toEqual(played);

    const down: AudioDown[] = [
      { type: 'audio', utterance: 3, samples: Int16Array.from([1, -1, 2]), sampleRate: 24_000 },
      { type: 'clear', utterance: 3 },
      { type: 'pause' },
    ];
    for (const message of down) {
      handler.sendDown(message);
      expect(decodeAudioDown(await peer.binaries.next())).toEqual(message);
    }
  });

  it('drops malformed audio frames with a log line and carries on', async () => {
    await start();
    const peer = await connected();
    peer.ws.send(Buffer.from([9, 9, 9]));
    expect(await logs.next((l) => l.startsWith('audio frame dropped'))).toMatch(/too short: 3 bytes/);
    const mic: AudioUp = { type: 'mic', samples: Int16Array.from([5]), ageMs: 0 };
    peer.ws.send(encodeAudioUp(mic));
    expect(await handler.audioIn.next()).toEqual(mic);
  });
});

describe('web bridge: who may connect', () => {
  it('refuses a wrong or missing Origin, token or Host with 403', async () => {
    await start();
    expect(await dial({ origin: 'http://evil.example' })).toBe(403);
    expect(await dial({ origin: `http://localhost:${bridge.port}` })).toBe(403);
    expect(await dial({ origin: `https://127.0.0.1:${bridge.port}` })).toBe(403);
    expect(await dial({ origin: 'null' })).toBe(403);
    expect(await dial({ origin: null })).toBe(403);
    expect(await dial({ token: 'wrong' })).toBe(403);
    expect(await dial({ token: `${bridge.token}x` })).toBe(403);
    expect(await dial({ token: null })).toBe(403);
    expect(await dial({ host: `evil.example:${bridge.port}` })).toBe(403);
    expect(await dial({ path: '/other' })).toBe(404);
    expect(handler.subscribers).toEqual({ events: 0, audio: 0 });
    // The right Origin and token still get in.
    expect(await dial()).toBeInstanceOf(Peer);
  });

  it('serves one client at a time: a new connection replaces the old one', async () => {
    await start();
    const first = await connected();
    const second = await connected();
    expect(await first.closed).toEqual({ code: 4000, reason: 'replaced by a newer connection' });
    expect(handler.subscribers).toEqual({ events: 1, audio: 1 });
    handler.emit('notice', { level: 'info', message: 'to the second' });
    expect(await second.texts.next((f) => f.kind === 'event')).toMatchObject({ name: 'notice' });
    second.ws.close();
    await second.closed;
    // A reconnect after the close works and subscribes afresh.
    const third = await connected();
    expect(handler.subscribers).toEqual({ events: 1, audio: 1 });
    third.ws.close();
    await third.closed;
  });
});

describe('web bridge: the microphone socket', () => {
  const mic = (value: number): AudioUp => ({
    type: 'mic',
    samples: new Int16Array(320).fill(value),
    ageMs: 21,
  });

  async function micPeer(page?: string): Promise<Peer> {
    const peer = await dial(page === undefined ? { path: MIC_PATH } : { path: MIC_PATH, page });
    if (typeof peer === 'number') throw new Error(`mic upgrade refused with ${peer}`);
    return peer;
  }

  /** The next mic frame the handler gets, or how `peer` was closed if it was closed first. */
  function heard(peer: Peer): Promise<AudioUp | { code: number; reason: string }> {
    return Promise.race([handler.audioIn.next(), peer.closed]);
  }

  it('is /bridge/mic: binary mic frames reach the handler, and nothing comes back', async () => {
    await start();
    expect(MIC_PATH).toBe('/bridge/mic');
    const peer = await micPeer();
    peer.ws.send(encodeAudioUp(mic(1)));
    peer.ws.send(encodeAudioUp(mic(2)));
    expect(await heard(peer)).toEqual(mic(1));
    expect(await heard(peer)).toEqual(mic(2));
    // It is no client: it subscribed to nothing.
    expect(handler.subscribers).toEqual({ events: 0, audio: 0 });
    handler.emit('notice', { level: 'info', message: 'not for the mic' });
    handler.sendDown({ type: 'pause' });
    peer.ws.send(encodeAudioUp(mic(3)));
    expect(await heard(peer)).toEqual(mic(3));
    expect(peer.texts.pending).toEqual([]);
    expect(peer.binaries.pending).toEqual([]);
  });

  it('drops other audio messages and malformed frames, logged and counted, and carries on', async () => {
    await start();
    const peer = await micPeer();
    peer.ws.send(encodeAudioUp({ type: 'played', utterance: 1, ageMs: 2 }));
    expect(await logs.next((l) => l.startsWith('mic frame dropped'))).toBe(
      'mic frame dropped (1 so far): a "played" message on the microphone socket',
    );
    peer.ws.send(Buffer.from([9, 9, 9]));
    expect(await logs.next((l) => l.startsWith('mic frame dropped'))).toMatch(
      /^mic frame dropped \(2 so far\): .*too short: 3 bytes/,
    );
    peer.ws.send(encodeAudioUp(mic(4)));
    expect(await heard(peer)).toEqual(mic(4));
  });

  it('closes with 1008 on a text frame', async () => {
    await start();
    const peer = await micPeer();
    peer.ws.send(JSON.stringify({ kind: 'request', id: 1, name: 'app:state', payload: {} }));
    expect(await peer.closed).toEqual({
      code: 1008,
      reason: 'the microphone socket takes binary mic frames only',
    });
    expect(handler.calls).toEqual([]);
  });

  it('is refused like the client without the token, from another origin or host', async () => {
    await start();
    expect(await dial({ path: MIC_PATH, token: null })).toBe(403);
    expect(await dial({ path: MIC_PATH, token: 'wrong' })).toBe(403);
    expect(await dial({ path: MIC_PATH, origin: 'http://evil.example' })).toBe(403);
    expect(await dial({ path: MIC_PATH, origin: null })).toBe(403);
    expect(await dial({ path: MIC_PATH, host: `evil.example:${bridge.port}` })).toBe(403);
    expect(await dial({ path: `${MIC_PATH}/more` })).toBe(404);
    expect(await micPeer()).toBeInstanceOf(Peer);
  });

  it('one at a time: a newer microphone socket closes the older with 4000', async () => {
    await start();
    const first = await micPeer();
    const second = await micPeer();
    expect(await first.closed).toEqual({ code: 4000, reason: 'replaced by a newer connection' });
    second.ws.send(encodeAudioUp(mic(5)));
    expect(await heard(second)).toEqual(mic(5));
  });

  it("stays open when its own page's client reconnects (same page name), closes when another page's connects", async () => {
    await start();
    await connected('page-a');
    const micSocket = await micPeer('page-a');
    // The same page reconnects before the bridge noticed its old socket died.
    await connected('page-a');
    micSocket.ws.send(encodeAudioUp(mic(8)));
    expect(await heard(micSocket)).toEqual(mic(8));
    await connected('page-b');
    expect(await micSocket.closed).toEqual({
      code: 4000,
      reason: 'its page was replaced by a newer connection',
    });
  });

  it('is closed with 4000 when its page is replaced, not when the first client connects', async () => {
    await start();
    const micSocket = await micPeer();
    // The page's own client (the first one since the start): the microphone stays.
    await connected();
    micSocket.ws.send(encodeAudioUp(mic(6)));
    expect(await heard(micSocket)).toEqual(mic(6));
    // Another page takes over: this page's microphone goes with its client.
    const other = await connected();
    expect(await micSocket.closed).toEqual({
      code: 4000,
      reason: 'its page was replaced by a newer connection',
    });
    // The new page's microphone is welcome.
    const next = await micPeer();
    next.ws.send(encodeAudioUp(mic(7)));
    expect(await heard(next)).toEqual(mic(7));
    expect(await other.request('app:state', {})).toMatchObject({ ok: true });
  });
});

describe('web bridge: static files', () => {
  it('serves the renderer with content types and the CSP as a header', async () => {
    await start();
    const index = await http('/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.body).toBe(INDEX_HTML);
    expect(index.headers['content-security-policy']).toBe(`${META_CSP}; frame-ancestors 'none'`);
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect((await http(`/?token=${bridge.token}`)).body).toBe(INDEX_HTML);
    expect((await http('/index.html')).status).toBe(200);

    const js = await http('/assets/app.js');
    expect([js.status, js.headers['content-type'], js.body]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'console.log("cue");\n',
    ]);
    expect(js.headers['content-security-policy']).toBe(`${META_CSP}; frame-ancestors 'none'`);
    expect((await http('/assets/app.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await http('/assets/nested/model.onnx')).headers['content-type']).toBe(
      'application/octet-stream',
    );
    const head = await http('/assets/app.js', { method: 'HEAD' });
    expect([head.status, head.body, head.headers['content-length']]).toEqual([200, '', '20']);
  });

  it('lists no directories, refuses traversal, other methods and other hosts', async () => {
    await start();
    expect((await http('/missing.js')).status).toBe(404);
    expect((await http('/assets')).status).toBe(404);
    expect((await http('/assets/')).status).toBe(404);
    for (const path of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '//' + join(tmp, 'secret.txt').slice(1),
      '/assets/link.txt',
    ]) {
      const answer = await http(path);
      expect(answer.status, path).toBe(403);
      expect(answer.body, path).not.toContain('TOP SECRET');
    }
    for (const path of ['/..\\secret.txt', '/%5c..%5csecret.txt', '/a%00b', '/%E0%A4%A']) {
      expect((await http(path)).status, path).toBe(400);
    }
    expect((await http('/', { method: 'POST' })).status).toBe(405);
    expect((await http('/', { host: `evil.example:${bridge.port}` })).status).toBe(403);
    expect((await http('/bridge')).status).toBe(426);
    expect((await http(MIC_PATH)).status).toBe(426);
    expect((await http(`${MIC_PATH}?token=${bridge.token}`)).status).toBe(426);
  });
});

describe('the renderer client over the bridge', () => {
  const socketWith = (origin: string) => (url: string) =>
    new WebSocket(url, { origin }) as unknown as WebSocketLike;

  it('implements the CueApi: requests, errors, events, audio', async () => {
    await start();
    const client = await connectWebBridge(`ws://127.0.0.1:${bridge.port}/bridge`, bridge.token, {
      createSocket: socketWith(bridge.origin),
    });
    open.push(client);
    expect(client.connected).toBe(true);
    expect(await client.request('app:state', {})).toEqual(STATE);
    expect(await client.request('session:mute', { muted: true })).toMatchObject({ muted: true });
    await expect(client.request('session:start', {})).rejects.toThrow('Deepgram API key missing');
    await expect(client.request('session:mute', { muted: 'no' as unknown as boolean })).rejects.toThrow(
      /^session:mute: muted/,
    );

    const notices = new Inbox<Notice>();
    const off = client.on('notice', (n) => notices.push(n));
    handler.emit('notice', { level: 'info', message: 'hello' });
    expect(await notices.next()).toEqual({ level: 'info', message: 'hello' });
    off();

    const batches = new Inbox<TimelineEvent[]>();
    client.on('timeline:batch', (events) => batches.push(events));
    handler.emit('timeline', vad(0));
    handler.emit('timeline', vad(32));
    await clock.advanceBy(TIMELINE_BATCH_MAX_DELAY_MS);
    expect(await batches.next()).toEqual([vad(0), vad(32)]);

    const heard = new Inbox<AudioDown>();
    client.onAudio((m) => heard.push(m));
    const audio: AudioDown = {
      type: 'audio',
      utterance: 1,
      samples: Int16Array.from([7, -7]),
      sampleRate: 16_000,
    };
    handler.sendDown(audio);
    expect(await heard.next()).toEqual(audio);
    const up: AudioUp = { type: 'played', utterance: 1, ageMs: 2 };
    client.sendAudio(up);
    expect(await handler.audioIn.next()).toEqual(up);
  });

  it('fails a request that gets no answer in time', async () => {
    await start();
    handler.hang.add('session:report');
    const client = await connectWebBridge(bridge.origin, bridge.token, {
      createSocket: socketWith(bridge.origin),
      requestTimeoutMs: 50,
    });
    open.push(client);
    await expect(client.request('session:report', {})).rejects.toThrow(
      'request "session:report" timed out: no answer from Cue in 0.05 s',
    );
    expect(await client.request('app:state', {})).toEqual(STATE);
  });

  it('rejects when the first connection is refused', async () => {
    await start();
    await expect(
      connectWebBridge(bridge.origin + '/bridge', 'wrong-token', { createSocket: socketWith(bridge.origin) }),
    ).rejects.toThrow(/cannot connect to Cue at 127\.0\.0\.1:\d+\/bridge/);
  });

  it('reconnects after the connection drops, with notices and a fresh state', async () => {
    const first = await start();
    const client = await connectWebBridge(`${first.origin}/bridge`, first.token, {
      createSocket: socketWith(first.origin),
      reconnectInitialMs: 5,
      reconnectMaxMs: 20,
    });
    open.push(client);
    const notices = new Inbox<Notice>();
    const states = new Inbox<AppState>();
    client.on('notice', (n) => notices.push(n));
    client.on('state', (s) => states.push(s));

    await first.close();
    expect(await notices.next()).toEqual({
      level: 'warning',
      message: 'Lost the connection to Cue; reconnecting…',
    });
    // A request made while disconnected waits for the connection to come back.
    const answered = client.request('session:mute', { muted: true });
    await start({ port: first.port, token: first.token });
    expect(await notices.next()).toEqual({ level: 'info', message: 'Reconnected to Cue.' });
    expect(await states.next()).toEqual(STATE);
    expect(await answered).toMatchObject({ muted: true });
    expect(client.connected).toBe(true);
  });

  describe('openMicPort', () => {
    /** A mic worker whose socket opens as soon as it is told to connect (unless `opens` is false). */
    class FakeMicWorker implements MicWorkerLike {
      readonly posted: { message: unknown; transfer: Transferable[] }[] = [];
      terminated = false;
      private readonly listeners = {
        message: [] as ((e: { data: unknown }) => void)[],
        error: [] as ((e: unknown) => void)[],
      };
      constructor(private readonly opens: boolean) {}
      postMessage(message: unknown, transfer: Transferable[]): void {
        this.posted.push({ message, transfer });
        if (this.opens && (message as { type?: string }).type === 'connect')
          queueMicrotask(() => this.report({ type: 'state', open: true }));
      }
      terminate(): void {
        this.terminated = true;
      }
      addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
      addEventListener(type: 'error', listener: (event: unknown) => void): void;
      addEventListener(type: 'message' | 'error', listener: (event: never) => void): void {
        (this.listeners[type] as unknown[]).push(listener);
      }
      report(data: unknown): void {
        for (const listener of this.listeners.message) listener({ data });
      }
      fail(): void {
        for (const listener of this.listeners.error) listener(new Event('error'));
      }
    }

    async function clientWithWorker(url: string, opens = true) {
      const workers: FakeMicWorker[] = [];
      const client = await connectWebBridge(url, bridge.token, {
        createSocket: socketWith(bridge.origin),
        createMicWorker: () => {
          const worker = new FakeMicWorker(opens);
          workers.push(worker);
          return worker;
        },
      });
      open.push(client);
      return { client, workers };
    }

    /** Resolves with the next message `port` receives. */
    const nextMessage = (port: MessagePort) =>
      new Promise<unknown>((resolve) => {
        port.onmessage = (event) => resolve(event.data);
      });

    it('has none without createMicWorker', async () => {
      await start();
      const client = await connectWebBridge(bridge.origin, bridge.token, {
        createSocket: socketWith(bridge.origin),
      });
      open.push(client);
      expect('openMicPort' in client).toBe(false);
      expect(client.openMicPort).toBeUndefined();
    });

    for (const [label, url] of [
      ['the bridge URL', () => `ws://127.0.0.1:${bridge.port}/bridge`],
      ["the page's address", () => `${bridge.origin}/?token=old`],
    ] as const) {
      it(`from ${label}: starts one worker on /bridge/mic with the token, a new port each call, terminated on close`, async () => {
        await start();
        const { client, workers } = await clientWithWorker(url());
        // Nothing until a port is asked for.
        expect(workers).toEqual([]);
        const first = await client.openMicPort!();
        const second = await client.openMicPort!();
        expect(workers).toHaveLength(1);
        const worker = workers[0]!;
        expect(worker.posted).toHaveLength(3);
        expect(worker.posted[0]!.transfer).toEqual([]);
        expect((worker.posted[0]!.message as { type: string }).type).toBe('connect');
        const connect = new URL((worker.posted[0]!.message as { url: string }).url);
        expect([connect.protocol, connect.host, connect.pathname]).toEqual([
          'ws:',
          `127.0.0.1:${bridge.port}`,
          MIC_PATH,
        ]);
        expect([...connect.searchParams.keys()]).toEqual(['token', 'page']);
        expect(connect.searchParams.get('token')).toBe(bridge.token);
        expect(connect.searchParams.get('page')).toMatch(/^[0-9a-f]{18}$/);
        expect(worker.posted.slice(1).map((p) => p.message)).toEqual([{ type: 'port' }, { type: 'port' }]);
        // Each call transfers the other end of the port it returns.
        const ends = worker.posted.slice(1).map((p) => {
          expect(p.transfer).toHaveLength(1);
          return p.transfer[0] as MessagePort;
        });
        for (const port of [first, second, ...ends]) open.push(port);
        expect(ends[0]).not.toBe(ends[1]);
        const atFirst = nextMessage(ends[0]!);
        const atSecond = nextMessage(ends[1]!);
        first.postMessage('one');
        second.postMessage('two');
        expect(await atFirst).toBe('one');
        expect(await atSecond).toBe('two');

        expect(worker.terminated).toBe(false);
        client.close();
        expect(worker.terminated).toBe(true);
        await expect(client.openMicPort!()).rejects.toThrow('the connection to Cue was closed');
        expect(workers).toHaveLength(1);
        expect(worker.posted).toHaveLength(3);
      });
    }

    it('gives a port only once the worker has opened its socket, and none if the worker fails', async () => {
      await start();
      const { client, workers } = await clientWithWorker(bridge.origin, false);
      let settled = false;
      const asked = client.openMicPort!().then(
        (port) => {
          settled = true;
          return port;
        },
        (error: unknown) => {
          settled = true;
          throw error;
        },
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(settled).toBe(false);
      expect(workers[0]!.posted.map((p) => (p.message as { type: string }).type)).toEqual(['connect']);
      workers[0]!.report({ type: 'state', open: true });
      const port = await asked;
      open.push(port);
      expect(workers[0]!.posted.map((p) => (p.message as { type: string }).type)).toEqual([
        'connect',
        'port',
      ]);

      const failing = await clientWithWorker(bridge.origin, false);
      const refused = failing.client.openMicPort!();
      failing.workers[0]!.fail();
      await expect(refused).rejects.toThrow('the microphone worker failed to start');
      await expect(failing.client.openMicPort!()).rejects.toThrow('the microphone worker failed to start');
      expect(failing.workers[0]!.posted).toHaveLength(1);
    });

    it('end to end: frames posted on the port reach the handler through the mic sender and /bridge/mic', async () => {
      await start();
      const { client, workers } = await clientWithWorker(`${bridge.origin}/bridge`);
      const port = await client.openMicPort!();
      open.push(port);
      const worker = workers[0]!;
      const { url } = worker.posted[0]!.message as { url: string };
      // What mic-worker.ts does, with `ws` for the browser's WebSocket.
      const sockets: WebSocket[] = [];
      const timers: number[] = [];
      const sender = createMicSender({
        createSocket: (address) => {
          const ws = new WebSocket(address, { origin: bridge.origin });
          ws.binaryType = 'arraybuffer';
          sockets.push(ws);
          return ws as unknown as MicSenderSocket;
        },
        encode: encodeAudioUp,
        setTimer: (fn, ms) => {
          timers.push(ms);
          return setTimeout(fn, ms);
        },
        clearTimer: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
      });
      open.push(sender);
      sender.connect(url);
      const end = worker.posted[1]!.transfer[0] as MessagePort;
      open.push(end);
      sender.addPort(end);
      await new Promise((resolve) => sockets[0]!.once('open', resolve));
      // As the capture worklet posts them: the buffer transferred.
      const samples = Int16Array.from({ length: 320 }, (_, i) => i - 160);
      port.postMessage({ type: 'mic', samples, ageMs: 33.5 }, [samples.buffer]);
      expect(await handler.audioIn.next()).toEqual({
        type: 'mic',
        samples: Int16Array.from({ length: 320 }, (_, i) => i - 160),
        ageMs: 33.5,
      });
      expect(sender.counts).toEqual({ sent: 1, dropped: 0, malformed: 0 });

      // Another page takes over: its microphone socket is closed with 4000, and stays closed.
      const closed = new Promise<number>((resolve) => sockets[0]!.once('close', (code) => resolve(code)));
      const other = await connectWebBridge(bridge.origin, bridge.token, {
        createSocket: socketWith(bridge.origin),
      });
      open.push(other);
      expect(await closed).toBe(4000);
      expect(timers).toEqual([]);
      expect(sockets).toHaveLength(1);
    });
  });

  it('stays disconnected when another page takes over', async () => {
    await start();
    const options = { createSocket: socketWith(bridge.origin), reconnectInitialMs: 5 };
    const first = await connectWebBridge(bridge.origin, bridge.token, options);
    open.push(first);
    const notices = new Inbox<Notice>();
    first.on('notice', (n) => notices.push(n));
    const second = await connectWebBridge(bridge.origin, bridge.token, options);
    open.push(second);
    expect((await notices.next()).message).toMatch(/opened in another tab or window/);
    await expect(first.request('app:state', {})).rejects.toThrow('disconnected');
    expect(await second.request('app:state', {})).toEqual(STATE);
  });
});
