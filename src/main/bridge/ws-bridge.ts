/**
 * The local web bridge: carries the renderer ↔ main contract over a WebSocket so the built
 * renderer runs in an ordinary browser (and e2e tests) against the real app core.
 *
 * One HTTP server on 127.0.0.1:
 * - GET/HEAD of the built renderer (staticDir): `/` is index.html, files by extension with
 *   their content type, the renderer's own Content-Security-Policy (read from the meta tag of
 *   index.html) as a response header, no directory listings, anything that resolves outside
 *   staticDir (`..`, encoded or not, symlinks) refused with 403.
 * - `/bridge`, the WebSocket endpoint. The upgrade is accepted only with the bridge's own
 *   Origin (http://127.0.0.1:PORT), Host, and the per-run random token as the `token` query
 *   parameter (the page gets it from its own URL, `?token=`); anything else gets a 403.
 *
 * Frames on /bridge:
 * - text, client → server: `{kind:'request', id, name, payload}`
 * - text, server → client: `{kind:'response', id, ok:true, value}` | `{kind:'response', id, ok:false, error}`
 *   and `{kind:'event', name, payload}` for every contract event (the VAD trace's per-frame
 *   events in `timeline:batch` events at most ~100 ms apart, see app/timeline-batcher.ts)
 * - binary both ways: the audio channel, encoded with src/shared/audio-wire.ts
 *
 * `/bridge/mic`, accepted on the same terms: binary `mic` frames only (anything else is
 * dropped, a text frame closes it with 1008), from the page's mic worker, so microphone audio
 * does not pass through the page's main thread. One at a time, like the client; it is closed
 * (4000) when a newer one opens and when another page's client replaces the current one (a
 * page names itself with a random `page` parameter on both sockets, so its reconnects do not).
 *
 * Request names are checked against the contract before the handler sees them; the handler
 * validates payloads and its errors come back as ok:false with their message. One client at a
 * time: a new authenticated connection (a reload, a reconnect) replaces the previous one, which
 * is closed with code 4000. The bridge only carries: it adds nothing to what the handler
 * answers (API keys never leave the handler).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { resolve } from 'node:path';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { decodeAudioUp, encodeAudioDown } from '../../shared/audio-wire';
import { isRequestName, type AudioDown, type EventName, type Events } from '../../shared/contract';
import { subscribeBatched, type TimelineBatchOptions } from '../app/timeline-batcher';
import type { ContractHandler } from '../app/types';
import {
  contentTypeOf,
  isInside,
  REFUSAL_CSP,
  rendererCsp,
  rendererPath,
  securityHeaders,
} from '../shell/renderer-files';

export const BRIDGE_PATH = '/bridge';
/** The microphone's own socket (src/renderer/src/platform/mic-worker.ts). */
export const MIC_PATH = '/bridge/mic';
/** Close code sent to a client replaced by a newer connection (it should not reconnect). */
export const CLOSE_REPLACED = 4000;
/** Close code for a client that broke the frame protocol. */
export const CLOSE_PROTOCOL = 1008;

/** Biggest frame accepted from the client (settings patches and 20 ms mic frames are far smaller). */
const MAX_FRAME_BYTES = 1 << 20;
/** A client that answers no ping for this long is dropped. */
const HEARTBEAT_MS = 15_000;

export interface WebBridgeOptions {
  handler: ContractHandler;
  /** The built renderer (out/renderer). */
  staticDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Only loopback: the bridge refuses any other address. */
  host?: '127.0.0.1';
  /**
   * The per-run secret. Random (32 bytes) unless given; give one only to restart a bridge
   * on the same URL (tests).
   */
  token?: string;
  /** Diagnostics (malformed frames, handler errors on audio); silent by default. */
  log?: (message: string) => void;
  /** How the VAD trace is batched (tests: a virtual clock). */
  timelineBatch?: TimelineBatchOptions;
}

export interface WebBridge {
  /** The page to open: http://127.0.0.1:PORT/?token=TOKEN */
  url: string;
  /** http://127.0.0.1:PORT, the only Origin accepted on /bridge. */
  origin: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/** Frames the server sends. */
export type BridgeServerFrame =
  | { kind: 'response'; id: RequestId | null; ok: true; value: unknown }
  | { kind: 'response'; id: RequestId | null; ok: false; error: string }
  | { kind: 'event'; name: EventName; payload: unknown };
export type RequestId = string | number;

export async function startWebBridge(options: WebBridgeOptions): Promise<WebBridge> {
  const { handler, port: wantedPort = 0, log = () => {} } = options;
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new Error(`the web bridge binds to 127.0.0.1 only, not ${String(host)}`);
  const token = options.token ?? randomBytes(32).toString('base64url');
  const staticRoot = await realpath(resolve(options.staticDir));
  const csp = rendererCsp(staticRoot);

  let origin = '';
  let hostHeader = '';
  const sockets = new Set<Socket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  let current: ClientLink | null = null;
  let currentMic: MicLink | null = null;
  const closeMic = (code: number, reason: string): void => {
    currentMic?.close(code, reason);
    currentMic = null;
  };

  const server = createServer((req, res) => {
    if (req.headers.host !== hostHeader) return plain(res, 403, 'Forbidden');
    void serveStatic(staticRoot, csp, req, res).catch((error: unknown) => {
      log(`static: ${(error as Error).message}`);
      if (!res.headersSent) plain(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const checked = checkUpgrade(req, { origin, hostHeader, token });
    if (!checked.ok) {
      socket.end(`HTTP/1.1 ${checked.refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    if (checked.path === MIC_PATH) {
      wss.handleUpgrade(req, socket, head, (ws) => {
        closeMic(CLOSE_REPLACED, 'replaced by a newer connection');
        const link = new MicLink(ws, handler, log);
        currentMic = link;
        ws.once('close', () => {
          link.dispose();
          if (currentMic === link) currentMic = null;
        });
      });
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const previous = current;
      current = new ClientLink(ws, handler, log, checked.page, options.timelineBatch);
      if (previous) {
        previous.close(CLOSE_REPLACED, 'replaced by a newer connection');
        // Another page's microphone must not go on feeding the session (the same page
        // reconnecting keeps its own).
        if (!checked.page || previous.page !== checked.page)
          closeMic(CLOSE_REPLACED, 'its page was replaced by a newer connection');
      }
      const link = current;
      ws.once('close', () => {
        link.dispose();
        if (current === link) current = null;
      });
    });
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(wantedPort, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  hostHeader = `${host}:${port}`;
  origin = `http://${hostHeader}`;

  let closing: Promise<void> | null = null;
  return {
    url: `${origin}/?token=${encodeURIComponent(token)}`,
    origin,
    port,
    token,
    close: () =>
      (closing ??= new Promise<void>((done) => {
        current?.close(1001, 'server shutting down');
        current?.dispose();
        current = null;
        closeMic(1001, 'server shutting down');
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.close(() => done());
        for (const socket of sockets) socket.destroy();
      })),
  };
}

/** One connected client: requests to the handler, events and audio from it. */
class ClientLink {
  private readonly unsubscribe: (() => void)[] = [];
  private readonly stopHeartbeat: () => void;
  private disposed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly handler: ContractHandler,
    private readonly log: (message: string) => void,
    /** The page's own name for itself (`page` query parameter), '' when it gave none. */
    readonly page: string,
    timelineBatch: TimelineBatchOptions | undefined,
  ) {
    ws.on('message', (data, isBinary) => this.receive(data, isBinary));
    ws.on('error', (error) => log(`client socket: ${error.message}`));
    this.unsubscribe.push(
      subscribeBatched(
        handler,
        <E extends EventName>(name: E, payload: Events[E]) => {
          this.send({ kind: 'event', name, payload });
        },
        timelineBatch,
      ),
      handler.onAudioDown((message: AudioDown) => {
        if (this.disposed || this.ws.readyState !== this.ws.OPEN) return;
        try {
          this.ws.send(encodeAudioDown(message), { binary: true });
        } catch (error) {
          this.log(`audio message dropped: ${(error as Error).message}`);
        }
      }),
    );
    this.stopHeartbeat = keepAlive(ws);
  }

  close(code: number, reason: string): void {
    this.dispose();
    closeSocket(this.ws, code, reason);
  }

  dispose(): void {
    if (this.disposed) return;
    this.stopHeartbeat();
    // Before `disposed` is set: unsubscribing sends the VAD batch still held to an open socket.
    for (const off of this.unsubscribe.splice(0)) off();
    this.disposed = true;
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (this.disposed) return;
    if (isBinary) {
      try {
        this.handler.audioUp(decodeAudioUp(toBuffer(data)));
      } catch (error) {
        this.log(`audio frame dropped: ${(error as Error).message}`);
      }
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(toBuffer(data).toString('utf8'));
    } catch {
      this.send({ kind: 'response', id: null, ok: false, error: 'frame is not valid JSON' });
      return;
    }
    void this.request(frame);
  }

  private async request(frame: unknown): Promise<void> {
    const f = (typeof frame === 'object' && frame !== null ? frame : {}) as Record<string, unknown>;
    const id = typeof f.id === 'string' || (typeof f.id === 'number' && Number.isFinite(f.id)) ? f.id : null;
    if (f.kind !== 'request' || id === null) {
      this.send({
        kind: 'response',
        id,
        ok: false,
        error: 'expected {kind:"request", id, name, payload} with a string or number id',
      });
      return;
    }
    const name = f.name;
    if (!isRequestName(name)) {
      this.send({ kind: 'response', id, ok: false, error: `unknown request "${String(name)}"` });
      return;
    }
    try {
      const value = await this.handler.request(name, f.payload);
      this.send({ kind: 'response', id, ok: true, value });
    } catch (error) {
      this.send({ kind: 'response', id, ok: false, error: errorMessage(error) });
    }
  }

  private send(frame: BridgeServerFrame): void {
    if (this.disposed || this.ws.readyState !== this.ws.OPEN) return;
    let text: string;
    try {
      text = JSON.stringify(frame);
    } catch (error) {
      // e.g. a BigInt in a payload: answer the request rather than leaving it pending.
      this.log(`unserialisable ${frame.kind}: ${(error as Error).message}`);
      if (frame.kind !== 'response') return;
      text = JSON.stringify({
        kind: 'response',
        id: frame.id,
        ok: false,
        error: 'response not serialisable',
      });
    }
    this.ws.send(text);
  }
}

/**
 * Pings `ws` every HEARTBEAT_MS and drops it when a ping went unanswered; returns the function
 * that stops this.
 */
function keepAlive(ws: WebSocket): () => void {
  let alive = true;
  ws.on('pong', () => (alive = true));
  const timer = setInterval(() => {
    if (!alive) {
      ws.terminate();
      return;
    }
    alive = false;
    ws.ping();
  }, HEARTBEAT_MS);
  timer.unref();
  return () => clearInterval(timer);
}

function closeSocket(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
}

/** The microphone's socket: binary `mic` frames to the handler, nothing back. */
class MicLink {
  private readonly stopHeartbeat: () => void;
  private disposed = false;
  private dropped = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly handler: ContractHandler,
    private readonly log: (message: string) => void,
  ) {
    ws.on('message', (data, isBinary) => this.receive(data, isBinary));
    ws.on('error', (error) => log(`mic socket: ${error.message}`));
    this.stopHeartbeat = keepAlive(ws);
  }

  close(code: number, reason: string): void {
    this.dispose();
    closeSocket(this.ws, code, reason);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stopHeartbeat();
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (this.disposed) return;
    if (!isBinary) {
      this.close(CLOSE_PROTOCOL, 'the microphone socket takes binary mic frames only');
      return;
    }
    let problem: string;
    try {
      const message = decodeAudioUp(toBuffer(data));
      if (message.type === 'mic') {
        this.handler.audioUp(message);
        return;
      }
      problem = `a "${message.type}" message on the microphone socket`;
    } catch (error) {
      problem = (error as Error).message;
    }
    this.dropped += 1;
    this.log(`mic frame dropped (${this.dropped} so far): ${problem}`);
  }
}

function checkUpgrade(
  req: IncomingMessage,
  expected: { origin: string; hostHeader: string; token: string },
): { ok: true; path: typeof BRIDGE_PATH | typeof MIC_PATH; page: string } | { ok: false; refusal: string } {
  const refuse = (refusal: string) => ({ ok: false as const, refusal });
  let url: URL;
  try {
    url = new URL(req.url ?? '/', expected.origin);
  } catch {
    return refuse('400 Bad Request');
  }
  const path = url.pathname;
  if (path !== BRIDGE_PATH && path !== MIC_PATH) return refuse('404 Not Found');
  if (req.headers.host !== expected.hostHeader) return refuse('403 Forbidden');
  if (req.headers.origin !== expected.origin) return refuse('403 Forbidden');
  const given = url.searchParams.get('token');
  if (given === null || !sameSecret(given, expected.token)) return refuse('403 Forbidden');
  return { ok: true, path, page: (url.searchParams.get('page') ?? '').slice(0, 64) };
}

function sameSecret(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function serveStatic(
  root: string,
  csp: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return plain(res, 405, 'Method Not Allowed');
  }
  const rawPath = (req.url ?? '/').split('?')[0]!.split('#')[0]!;
  if (rawPath === BRIDGE_PATH || rawPath === MIC_PATH) return plain(res, 426, 'Upgrade Required');
  const target = rendererPath(root, rawPath);
  if (!target.ok) return plain(res, target.status, target.status === 400 ? 'Bad Request' : 'Forbidden');
  let file: string;
  try {
    file = await realpath(target.file);
  } catch {
    return plain(res, 404, 'Not Found');
  }
  // A symlink out of the build is refused like `..`.
  if (!isInside(root, file)) return plain(res, 403, 'Forbidden');
  const info = await stat(file);
  if (!info.isFile()) return plain(res, 404, 'Not Found'); // directories: never listed
  const body = await readFile(file);
  res.writeHead(200, {
    ...securityHeaders(csp),
    'Content-Type': contentTypeOf(file),
    'Content-Length': body.byteLength,
    'Cache-Control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': REFUSAL_CSP,
  });
  res.end(text);
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
