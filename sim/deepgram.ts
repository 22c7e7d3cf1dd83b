/**
 * Deepgram streaming simulator: the live transcription WebSockets `/v1/listen` (Nova) and
 * `/v2/listen` (Flux) on 127.0.0.1, following a corpus case with Deepgram's wire protocol
 * (see PROTOCOLS.md). The events and their timing come from case-events.ts, released by the
 * shared CaseEventScheduler from the audio actually received, on the simulator's clock.
 *
 * - Auth as Deepgram: `Authorization: Token <key>` (or `Bearer <key>`), or the browsers'
 *   subprotocol `token, <key>` / `bearer, <key>`. A missing or wrong key is refused at the
 *   upgrade with 401 and `{"err_code":"INVALID_AUTH","err_msg":"Invalid credentials.","request_id"}`.
 * - Query values are checked (`encoding` must be linear16 with a `sample_rate`: the simulator
 *   counts audio time from it; Flux thresholds within Deepgram's ranges); a bad one is refused
 *   with 400 and `{"err_code":"INVALID_QUERY_PARAMETER","err_msg","request_id"}`.
 * - v1 sends `Results` (interims when `interim_results=true`, finals with `speech_final` from
 *   `endpointing`, `from_finalize` in answer to a `Finalize` when speech is buffered: Deepgram
 *   documents that the answer "typically occurs when there is a noticeable amount of audio
 *   buffered", and with nothing but silence since the last final none comes), `SpeechStarted` (`vad_events=true`),
 *   `UtteranceEnd` (`utterance_end_ms`), and `Metadata` before closing on `CloseStream`. It
 *   closes with 1011 (NET-0001) after 10 s without audio or a text message (`KeepAlive`).
 * - v2 sends `Connected`, `TurnInfo`, `ConfigureSuccess` / `ConfigureFailure` (for `Configure`)
 *   and `Error`, each with a rising `sequence_id`.
 * - Audio is placed on the case by what it is, when the case's audio is known (`caseData.audio`,
 *   16 kHz, and a 16 kHz stream): a client may withhold silence, as LiveKit's Deepgram plugin
 *   does (it stops sending after 1 s below an energy floor). Deepgram transcribes what it
 *   receives, so a chunk that is not the case audio right after the previous one is looked for
 *   further on, and the case time in between counts as gone by (its events are released); the
 *   wire timestamps, as Deepgram's, count only the audio received. A stream that is not the case
 *   audio verbatim (resampled, replayed, synthetic) is counted sample by sample, as before.
 * - A connection that carries the `x-deepgram-session-id` of a connection that ended abnormally
 *   (dropped, not closed with 1000) resumes the case: its first sample is taken to be the case
 *   audio just after the last final (Nova) or EndOfTurn (Flux) the dropped connection sent,
 *   which is where a client that replays its unfinalised audio starts.
 *
 * Faults (FaultPlan): `status` (refuse the next upgrade with that status and Deepgram's body),
 * `delay` (answer the next upgrade `ms` later on the sim clock), `drop` (terminate a connection
 * once it has received `afterAudioSeconds` of audio), `malformed` (one non-JSON text frame after
 * `afterChunks` messages of a connection, default 0).
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../src/main/engine/clock';
import {
  caseEvents,
  DEEPGRAM_STT,
  flattenWords,
  type CaseEvent,
  type FluxEventOptions,
  type NovaEventOptions,
  type SttBehaviour,
  type TimedWord,
} from '../src/main/engine/scripted/case-events';
import { CaseEventScheduler, type ReleasedSttEvent } from '../src/main/engine/scripted/event-scheduler';
import type { ScriptCase } from '../src/main/engine/scripted/case';
import { finalFormat, type FinalFormat } from '../src/main/engine/scripted/smart-format';
import { SAMPLE_RATE } from '../src/main/engine/ports';
import {
  FaultPlan,
  sendJson,
  SIM_API_KEY,
  simClock,
  startHttpServer,
  type RunningSim,
  type SimOptions,
} from './common';

/** Deepgram closes a v1 stream after this long without audio or a text message. */
export const INACTIVITY_TIMEOUT_MS = 10_000;
/** Close reason of the inactivity timeout (Deepgram's NET-0001). */
export const INACTIVITY_CLOSE_REASON =
  'NET-0001: Deepgram did not receive audio data or a text message within the timeout window.';
/** Frames kept in each connection's `sent` log. */
const SENT_LOG_LIMIT = 10_000;
const MALFORMED_FRAME = '{"type":"Results","channel_index":[0,1],"duration":';
const WORD_CONFIDENCE = 0.99;
const MISHEARD_CONFIDENCE = 0.62;

export type DeepgramApi = 'v1' | 'v2';

/** The body of every Deepgram HTTP error, including refused upgrades. */
export interface DeepgramErrorBody {
  err_code: string;
  err_msg: string;
  request_id: string;
}

/** One WebSocket connection, as the simulator saw and answered it. */
export interface DeepgramSimConnection {
  index: number;
  api: DeepgramApi;
  /** Sim clock time the upgrade was accepted. */
  openedAt: number;
  /** The query parameters as sent. */
  query: Record<string, string>;
  /** How the key was presented. */
  auth: 'token' | 'bearer' | 'subprotocol';
  /** The client's `x-deepgram-session-id` header (the SDK sends one per client), if any. */
  sessionId: string | null;
  requestId: string;
  /** Seconds of case audio before this connection's first sample (non-zero when it resumes a dropped one). */
  startAt: number;
  /** Audio received on this connection, in seconds at its `sample_rate`. */
  audioSeconds: number;
  /** JSON messages sent (the malformed frame not counted). */
  messagesSent: number;
  /** Every frame sent (parsed messages; a malformed frame as its raw text), with its sim clock time. */
  sent: { at: number; message: unknown }[];
  keepAlives: number;
  finalizes: number;
  /** Finalize messages answered with a from_finalize result (those that found speech buffered). */
  finalizesAnswered: number;
  configures: number;
  closeStreams: number;
  /** The fault injected into this connection, if any. */
  fault: 'drop' | 'malformed' | null;
  closed: boolean;
  closedAt: number | null;
  closeCode: number | null;
  closeReason: string;
}

/** A refused upgrade. */
export interface DeepgramSimRefusal {
  at: number;
  path: string;
  status: number;
  body: DeepgramErrorBody;
}

/** What the simulator has seen, with event-driven barriers to await conditions on it. */
export class DeepgramSimStats {
  readonly connections: DeepgramSimConnection[] = [];
  readonly refused: DeepgramSimRefusal[] = [];
  /** Upgrades held back by a `delay` fault (counted when the delay starts). */
  delayed = 0;
  private waiters: { test: () => boolean; resolve: () => void }[] = [];

  /** Connection `index`, or the latest one when not given. */
  connection(index?: number): DeepgramSimConnection | undefined {
    return index === undefined ? this.connections.at(-1) : this.connections[index];
  }

  /** Resolves once `test` holds (checked now and after every change the simulator records). */
  waitFor(test: (stats: DeepgramSimStats) => boolean): Promise<void> {
    if (test(this)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test: () => test(this), resolve }));
  }

  /** Resolves once connection `index` (default: the latest at each check) has received `seconds` of audio. */
  waitForAudio(seconds: number, index?: number): Promise<void> {
    return this.waitFor((s) => (s.connection(index)?.audioSeconds ?? 0) >= seconds - 1e-9);
  }

  /** Resolves once `count` connections have been accepted. */
  waitForConnections(count: number): Promise<void> {
    return this.waitFor((s) => s.connections.length >= count);
  }

  /** Resolves once connection `index` (default latest) has received `count` KeepAlive messages. */
  waitForKeepAlives(count: number, index?: number): Promise<void> {
    return this.waitFor((s) => (s.connection(index)?.keepAlives ?? 0) >= count);
  }

  /** Resolves once connection `index` has sent `count` messages. */
  waitForMessages(count: number, index?: number): Promise<void> {
    return this.waitFor((s) => (s.connection(index)?.messagesSent ?? 0) >= count);
  }

  /** Resolves with connection `index` once it has closed. */
  async waitForClose(index: number): Promise<DeepgramSimConnection> {
    await this.waitFor((s) => s.connections[index]?.closed === true);
    return this.connections[index]!;
  }

  /** @internal Called by the simulator after each change. */
  changed(): void {
    if (!this.waiters.length) return;
    const ready = this.waiters.filter((w) => w.test());
    if (!ready.length) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}

export type RunningDeepgramSim = RunningSim & { stats: DeepgramSimStats };

/** The case may carry its audio (a loaded ScriptCase does): then received audio is placed by content. */
export interface DeepgramSimOptions extends SimOptions {
  caseData: SimOptions['caseData'] & Partial<Pick<ScriptCase, 'audio'>>;
  /** How results read (DEEPGRAM_STT by default; IDEAL_STT for protocol tests that need one interim per word). */
  behaviour?: SttBehaviour;
}

interface Context {
  clock: Clock;
  apiKey: string;
  faults: FaultPlan;
  caseData: DeepgramSimOptions['caseData'];
  behaviour: SttBehaviour;
  words: readonly TimedWord[];
  stats: DeepgramSimStats;
  live: Set<SimConnection>;
  /** Session ids of connections that ended abnormally → case time their successor resumes at. */
  resumable: Map<string, number>;
}

export async function startDeepgramSim(options: DeepgramSimOptions): Promise<RunningDeepgramSim> {
  const ctx: Context = {
    clock: simClock(options),
    apiKey: options.apiKey ?? SIM_API_KEY,
    faults: new FaultPlan(options.faults),
    caseData: options.caseData,
    behaviour: options.behaviour ?? DEEPGRAM_STT,
    words: flattenWords(options.caseData.turns),
    stats: new DeepgramSimStats(),
    live: new Set(),
    resumable: new Map(),
  };
  const wss = new WebSocketServer({
    noServer: true,
    // Browsers authenticate with the subprotocols `token, <key>`: the server must pick one.
    handleProtocols: (protocols) => {
      for (const p of protocols) if (p.toLowerCase() === 'token' || p.toLowerCase() === 'bearer') return p;
      return protocols.values().next().value ?? false;
    },
  });
  const pendingTimers = new Set<TimerHandle>();
  // Deepgram answers every request with its id in `dg-request-id`, the 101 included.
  wss.on('headers', (headers, req) => {
    const id = requestIds.get(req);
    if (id) headers.push(`dg-request-id: ${id}`);
  });

  const http = await startHttpServer(
    options.port ?? 0,
    (req, res) => {
      const requestId = randomUUID();
      sendJson(
        res,
        405,
        {
          err_code: 'METHOD_NOT_ALLOWED',
          err_msg:
            'This simulator serves only the streaming API: open a WebSocket on /v1/listen or /v2/listen.',
          request_id: requestId,
        },
        { 'dg-request-id': requestId },
      );
    },
    (req, socket, head) => onUpgrade(ctx, wss, pendingTimers, req, socket, head),
  );

  return {
    url: http.url,
    port: http.port,
    stats: ctx.stats,
    close: async () => {
      for (const handle of pendingTimers) ctx.clock.clearTimeout(handle);
      pendingTimers.clear();
      for (const connection of ctx.live) connection.dispose();
      for (const client of wss.clients) client.terminate();
      wss.close();
      await http.close();
    },
  };
}

// ---------- the upgrade ----------

const requestIds = new WeakMap<IncomingMessage, string>();

function onUpgrade(
  ctx: Context,
  wss: WebSocketServer,
  pendingTimers: Set<TimerHandle>,
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const requestId = randomUUID();
  const refuse = (status: number, errCode: string, errMsg: string) => {
    const body: DeepgramErrorBody = { err_code: errCode, err_msg: errMsg, request_id: requestId };
    ctx.stats.refused.push({ at: ctx.clock.now(), path: url.pathname, status, body });
    refuseUpgrade(socket, status, body);
    ctx.stats.changed();
  };

  const api: DeepgramApi | null =
    url.pathname === '/v1/listen' ? 'v1' : url.pathname === '/v2/listen' ? 'v2' : null;
  if (!api) {
    refuse(
      404,
      'NOT_FOUND',
      `No such endpoint: ${url.pathname} (the simulator serves /v1/listen and /v2/listen).`,
    );
    return;
  }
  const auth = readAuth(req);
  if (!auth || auth.key !== ctx.apiKey) {
    refuse(401, 'INVALID_AUTH', 'Invalid credentials.');
    return;
  }
  const statusFault = ctx.faults.take('status');
  if (statusFault) {
    const [code, msg] = STATUS_ERRORS[statusFault.status] ?? ['ERROR', 'Error.'];
    refuse(statusFault.status, code, msg);
    return;
  }
  const params = api === 'v1' ? parseNovaQuery(url.searchParams) : parseFluxQuery(url.searchParams);
  if (typeof params === 'string') {
    refuse(400, 'INVALID_QUERY_PARAMETER', params);
    return;
  }

  const accept = () => {
    if (socket.destroyed) return;
    requestIds.set(req, requestId);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const sessionId = headerValue(req.headers['x-deepgram-session-id']);
      let startAt = 0;
      if (sessionId && ctx.resumable.has(sessionId)) {
        startAt = ctx.resumable.get(sessionId)!;
        ctx.resumable.delete(sessionId);
      }
      const connection = new SimConnection(ctx, ws, {
        api,
        params,
        query: Object.fromEntries(url.searchParams),
        auth: auth.kind,
        sessionId,
        requestId,
        startAt,
      });
      ctx.live.add(connection);
      connection.start();
    });
  };
  const delayFault = ctx.faults.take('delay');
  if (delayFault) {
    ctx.stats.delayed++;
    ctx.stats.changed();
    const handle = ctx.clock.setTimeout(() => {
      pendingTimers.delete(handle);
      accept();
    }, delayFault.ms);
    pendingTimers.add(handle);
  } else {
    accept();
  }
}

const STATUS_ERRORS: Record<number, [string, string]> = {
  401: ['INVALID_AUTH', 'Invalid credentials.'],
  403: ['INSUFFICIENT_PERMISSIONS', 'Project does not have access to the requested model.'],
  429: ['TOO_MANY_REQUESTS', 'Too many requests. Please try again later.'],
  500: ['INTERNAL_SERVER_ERROR', 'An internal server error occurred.'],
  503: ['SERVICE_UNAVAILABLE', 'The service is temporarily unavailable. Please try again later.'],
};

function refuseUpgrade(socket: Socket, status: number, body: DeepgramErrorBody): void {
  const text = JSON.stringify(body);
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(text)}`,
    `dg-request-id: ${body.request_id}`,
    `dg-error: ${body.err_msg}`,
    'connection: close',
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${text}`);
}

function headerValue(value: string | string[] | undefined): string | null {
  if (Array.isArray(value)) return value[0] ?? null;
  return value ?? null;
}

/** The key from `Authorization: Token|Bearer <key>` or the subprotocols `token|bearer, <key>`. */
function readAuth(req: IncomingMessage): { key: string; kind: DeepgramSimConnection['auth'] } | null {
  const header = req.headers.authorization;
  if (header) {
    const match = /^(token|bearer)\s+(\S+)\s*$/i.exec(header);
    if (!match) return null;
    return { key: match[2]!, kind: match[1]!.toLowerCase() === 'token' ? 'token' : 'bearer' };
  }
  const protocols = (headerValue(req.headers['sec-websocket-protocol']) ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const at = protocols.findIndex((p) => p.toLowerCase() === 'token' || p.toLowerCase() === 'bearer');
  if (at >= 0 && protocols[at + 1]) return { key: protocols[at + 1]!, kind: 'subprotocol' };
  return null;
}

// ---------- query parameters ----------

interface NovaParams {
  api: 'v1';
  model: string;
  sampleRate: number;
  interimResults: boolean;
  /** `endpointing=false`: finals never carry speech_final (they still come, 10 ms windows). */
  speechFinal: boolean;
  endpointingMs: number;
  utteranceEndMs: number | null;
  vadEvents: boolean;
  /** How finals are written: smart_format, punctuate, or neither. */
  format: FinalFormat;
}

interface FluxParams {
  api: 'v2';
  model: string;
  sampleRate: number;
  eotThreshold: number;
  eagerEotThreshold: number | null;
  eotTimeoutMs: number;
}

type Params = NovaParams | FluxParams;

/** Deepgram's default endpointing (ms of silence) when `endpointing` is not given. */
const DEFAULT_ENDPOINTING_MS = 10;

function parseBool(q: URLSearchParams, name: string, def: boolean): boolean | string {
  const v = q.get(name);
  if (v === null) return def;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return `Invalid value for ${name}: "${v}" (expected true or false).`;
}

function parseNumber(
  q: URLSearchParams,
  name: string,
  min: number,
  max: number,
  integer: boolean,
): number | null | string {
  const v = q.get(name);
  if (v === null) return null;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    return `Invalid value for ${name}: "${v}" (expected ${integer ? 'a whole number' : 'a number'} between ${min} and ${max}).`;
  }
  return n;
}

function parseAudio(q: URLSearchParams): { sampleRate: number } | string {
  const encoding = q.get('encoding');
  if (encoding === null) {
    return 'The simulator needs raw audio: set encoding=linear16 and sample_rate.';
  }
  if (encoding !== 'linear16') {
    return `Unsupported encoding: "${encoding}" (the simulator accepts linear16).`;
  }
  const sampleRate = parseNumber(q, 'sample_rate', 8000, 48000, true);
  if (typeof sampleRate === 'string') return sampleRate;
  if (sampleRate === null) return 'sample_rate is required when encoding is set.';
  return { sampleRate };
}

function parseNovaQuery(q: URLSearchParams): NovaParams | string {
  const audio = parseAudio(q);
  if (typeof audio === 'string') return audio;
  const channels = parseNumber(q, 'channels', 1, 1, true);
  if (typeof channels === 'string') return `${channels} The simulator accepts mono audio only.`;
  const interimResults = parseBool(q, 'interim_results', false);
  const vadEvents = parseBool(q, 'vad_events', false);
  const smartFormat = parseBool(q, 'smart_format', false);
  const punctuate = parseBool(q, 'punctuate', false);
  for (const v of [interimResults, vadEvents, smartFormat, punctuate]) if (typeof v === 'string') return v;
  let speechFinal = true;
  let endpointingMs = DEFAULT_ENDPOINTING_MS;
  if (q.get('endpointing') === 'false') speechFinal = false;
  else {
    const e = parseNumber(q, 'endpointing', 0, 60_000, true);
    if (typeof e === 'string') return e;
    if (e !== null) endpointingMs = Math.max(e, 1);
  }
  const utteranceEndMs = parseNumber(q, 'utterance_end_ms', 1000, 5000, true);
  if (typeof utteranceEndMs === 'string') return utteranceEndMs;
  if (utteranceEndMs !== null && interimResults !== true) {
    return 'utterance_end_ms requires interim_results=true.';
  }
  return {
    api: 'v1',
    model: q.get('model') ?? 'base',
    sampleRate: audio.sampleRate,
    interimResults: interimResults as boolean,
    speechFinal,
    endpointingMs,
    utteranceEndMs,
    vadEvents: vadEvents as boolean,
    format: finalFormat({ smartFormat: smartFormat === true, punctuate: punctuate === true }),
  };
}

interface FluxThresholds {
  eot_threshold: number;
  eager_eot_threshold: number | null;
  eot_timeout_ms: number;
}

/**
 * Flux's ranges: eot_threshold 0.5–1.0, eager_eot_threshold 0.3–0.9 and at most eot_threshold
 * (an eager end of turn above the end of turn is refused), eot_timeout_ms 500–10000.
 */
function checkThresholds(t: FluxThresholds): string | null {
  if (!(t.eot_threshold >= 0.5 && t.eot_threshold <= 1)) {
    return `Invalid value for eot_threshold: ${t.eot_threshold} (expected a number between 0.5 and 1.0).`;
  }
  if (t.eager_eot_threshold !== null) {
    if (!(t.eager_eot_threshold >= 0.3 && t.eager_eot_threshold <= 0.9)) {
      return `Invalid value for eager_eot_threshold: ${t.eager_eot_threshold} (expected a number between 0.3 and 0.9).`;
    }
    if (t.eager_eot_threshold > t.eot_threshold) {
      return `Invalid value for eager_eot_threshold: ${t.eager_eot_threshold} (must not exceed eot_threshold ${t.eot_threshold}).`;
    }
  }
  if (!(Number.isInteger(t.eot_timeout_ms) && t.eot_timeout_ms >= 500 && t.eot_timeout_ms <= 10_000)) {
    return `Invalid value for eot_timeout_ms: ${t.eot_timeout_ms} (expected a whole number between 500 and 10000).`;
  }
  return null;
}

function parseFluxQuery(q: URLSearchParams): FluxParams | string {
  const model = q.get('model');
  if (!model) return 'model is required (e.g. flux-general-en).';
  if (!model.startsWith('flux-'))
    return `Unsupported model for /v2/listen: "${model}" (expected a Flux model).`;
  const audio = parseAudio(q);
  if (typeof audio === 'string') return audio;
  const t: FluxThresholds = { eot_threshold: 0.7, eager_eot_threshold: null, eot_timeout_ms: 5000 };
  for (const name of ['eot_threshold', 'eager_eot_threshold', 'eot_timeout_ms'] as const) {
    const v = q.get(name);
    if (v === null) continue;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n))
      return `Invalid value for ${name}: "${v}" (expected a number).`;
    t[name] = n;
  }
  const problem = checkThresholds(t);
  if (problem) return problem;
  return {
    api: 'v2',
    model,
    sampleRate: audio.sampleRate,
    eotThreshold: t.eot_threshold,
    eagerEotThreshold: t.eager_eot_threshold,
    eotTimeoutMs: t.eot_timeout_ms,
  };
}

// ---------- one connection ----------

interface ConnectionInit {
  api: DeepgramApi;
  params: Params;
  query: Record<string, string>;
  auth: DeepgramSimConnection['auth'];
  sessionId: string | null;
  requestId: string;
  startAt: number;
}

class SimConnection {
  readonly record: DeepgramSimConnection;
  private readonly scheduler: CaseEventScheduler;
  private params: Params;
  private sequence = 0;
  /** v1: connection time (s) where the next Results window starts (the end of the last final). */
  private windowStart = 0;
  /** Case time (s) of the end of the last final (v1) or EndOfTurn (v2) sent: where a resume starts. */
  private finalizedEnd: number;
  /** Flux turn_index of the first turn seen on this connection (a resumed connection counts from 0). */
  private turnBase: number | null = null;
  private oddByte: number | null = null;
  private samples = 0;
  /** Locates received audio in the case audio (null: unknown audio or another sample rate). */
  private readonly aligner: AudioAligner | null;
  /** Stretches of case audio the client did not send: where they start and how long (s). */
  private readonly skips: { at: number; seconds: number }[] = [];
  private lastActivity: number;
  private inactivityTimer: TimerHandle | undefined;
  private dropAfter: number | null = null;
  private malformedAfter: number | null = null;
  private closing = false;
  private abnormal = false;

  constructor(
    private readonly ctx: Context,
    private readonly ws: WebSocket,
    init: ConnectionInit,
  ) {
    this.params = init.params;
    this.finalizedEnd = init.startAt;
    const audio = ctx.caseData.audio;
    this.aligner = audio && init.params.sampleRate === SAMPLE_RATE ? new AudioAligner(audio) : null;
    this.lastActivity = ctx.clock.now();
    this.record = {
      index: ctx.stats.connections.length,
      api: init.api,
      openedAt: ctx.clock.now(),
      query: init.query,
      auth: init.auth,
      sessionId: init.sessionId,
      requestId: init.requestId,
      startAt: init.startAt,
      audioSeconds: 0,
      messagesSent: 0,
      sent: [],
      keepAlives: 0,
      finalizes: 0,
      finalizesAnswered: 0,
      configures: 0,
      closeStreams: 0,
      fault: null,
      closed: false,
      closedAt: null,
      closeCode: null,
      closeReason: '',
    };
    ctx.stats.connections.push(this.record);
    this.scheduler = new CaseEventScheduler({
      clock: ctx.clock,
      events: this.events(),
      words: ctx.words,
      sampleRate: init.params.sampleRate,
      startAt: init.startAt,
      finalFormat: init.params.api === 'v1' && ctx.behaviour.formatsFinals ? init.params.format : 'none',
      onRelease: (event) => this.deliver(event),
    });
  }

  start(): void {
    const drop = this.ctx.faults.peek('drop');
    if (drop && drop.afterAudioSeconds !== undefined) {
      this.ctx.faults.take('drop');
      this.dropAfter = drop.afterAudioSeconds;
      this.record.fault = 'drop';
    }
    const malformed = this.ctx.faults.take('malformed');
    if (malformed) {
      this.malformedAfter = malformed.afterChunks ?? 0;
      this.record.fault ??= 'malformed';
    }
    this.ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.ws.on('close', (code, reason) => this.onClose(code, reason.toString('utf8')));
    this.ws.on('error', () => {
      this.abnormal = true;
    });
    this.maybeMalformed();
    if (this.params.api === 'v2') this.send({ type: 'Connected', request_id: this.record.requestId });
    if (this.params.api === 'v1') this.armInactivity();
    this.ctx.stats.changed();
  }

  /** Stops timers (the simulator is closing). */
  dispose(): void {
    this.scheduler.close();
    this.ctx.clock.clearTimeout(this.inactivityTimer);
    this.inactivityTimer = undefined;
  }

  /** The case's events for the current parameters. */
  private events(): CaseEvent[] {
    const script = { turns: this.ctx.caseData.turns, profile: this.ctx.caseData.profile };
    const p = this.params;
    if (p.api === 'v2') {
      const options: FluxEventOptions = {
        mode: 'flux',
        eot_threshold: p.eotThreshold,
        eager_eot_threshold: p.eagerEotThreshold,
        eot_timeout_ms: p.eotTimeoutMs,
        behaviour: this.ctx.behaviour,
      };
      return caseEvents(script, options);
    }
    const options: NovaEventOptions = {
      mode: 'nova',
      endpointing_ms: p.endpointingMs,
      utterance_end_ms: p.utteranceEndMs ?? 1000,
      vad_events: p.vadEvents,
      behaviour: this.ctx.behaviour,
    };
    return caseEvents(script, options).filter((e) => {
      if (e.payload.kind === 'interim') return p.interimResults;
      if (e.payload.kind === 'utterance_end') return p.utteranceEndMs !== null;
      return true;
    });
  }

  // ---------- input ----------

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.record.closed || this.closing) return;
    const now = this.ctx.clock.now();
    if (isBinary) {
      this.lastActivity = now;
      this.onAudio(toBuffer(data));
      return;
    }
    this.lastActivity = now;
    let message: unknown;
    try {
      message = JSON.parse(toBuffer(data).toString('utf8'));
    } catch {
      this.onUnknown('the message is not valid JSON');
      return;
    }
    const type = isRecord(message) && typeof message.type === 'string' ? message.type : null;
    const api = this.params.api;
    if (type === 'CloseStream') {
      this.record.closeStreams++;
      this.closeStream();
    } else if (api === 'v1' && type === 'KeepAlive') {
      this.record.keepAlives++;
    } else if (api === 'v1' && type === 'Finalize') {
      this.record.finalizes++;
      if (this.scheduler.finalize(this.ctx.caseData.profile.stt_final_lag_ms))
        this.record.finalizesAnswered++;
    } else if (api === 'v2' && type === 'Configure') {
      this.record.configures++;
      this.configure(message as Record<string, unknown>);
    } else {
      this.onUnknown(`unknown message type ${JSON.stringify(type)}`);
    }
    this.ctx.stats.changed();
  }

  private onAudio(bytes: Buffer): void {
    let buffer = bytes;
    if (this.oddByte !== null) {
      buffer = Buffer.concat([Buffer.from([this.oddByte]), bytes]);
      this.oddByte = null;
    }
    if (buffer.length % 2 === 1) {
      this.oddByte = buffer[buffer.length - 1]!;
      buffer = buffer.subarray(0, buffer.length - 1);
    }
    const samples = buffer.length / 2;
    this.samples += samples;
    this.record.audioSeconds = this.samples / this.params.sampleRate;
    if (this.dropAfter !== null && this.record.audioSeconds >= this.dropAfter - 1e-9) {
      this.dropAfter = null;
      this.abnormal = true;
      this.ctx.stats.changed();
      this.ws.terminate();
      return;
    }
    let skipped = 0;
    if (this.aligner) {
      const pcm = new Int16Array(samples);
      for (let i = 0; i < samples; i++) pcm[i] = buffer.readInt16LE(i * 2);
      const expected = Math.round(this.scheduler.caseSeconds * SAMPLE_RATE);
      skipped = this.aligner.skipBefore(pcm, expected);
      if (skipped > 0) this.skips.push({ at: expected / SAMPLE_RATE, seconds: skipped / SAMPLE_RATE });
    }
    this.scheduler.receive(skipped + samples);
    this.ctx.stats.changed();
  }

  /** v2 answers an unknown or unparsable message with an Error and closes; v1 ignores it. */
  private onUnknown(description: string): void {
    if (this.params.api === 'v1') return;
    this.send({
      type: 'Error',
      code: 'UNPARSABLE_CLIENT_MESSAGE',
      description: `Could not parse client message: ${description}.`,
    });
    this.closeNow(1011, 'UNPARSABLE_CLIENT_MESSAGE');
  }

  private configure(message: Record<string, unknown>): void {
    const p = this.params;
    if (p.api !== 'v2') return;
    const thresholds = isRecord(message.thresholds) ? message.thresholds : {};
    const next: FluxThresholds = {
      eot_threshold: p.eotThreshold,
      eager_eot_threshold: p.eagerEotThreshold,
      eot_timeout_ms: p.eotTimeoutMs,
    };
    let problem: string | null = null;
    for (const name of ['eot_threshold', 'eager_eot_threshold', 'eot_timeout_ms'] as const) {
      const v = thresholds[name];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) problem = `${name} must be a number`;
      else next[name] = v;
    }
    problem ??= checkThresholds(next);
    if (problem) {
      this.send({ type: 'ConfigureFailure', request_id: this.record.requestId });
      return;
    }
    this.params = {
      ...p,
      eotThreshold: next.eot_threshold,
      eagerEotThreshold: next.eager_eot_threshold,
      eotTimeoutMs: next.eot_timeout_ms,
    };
    this.scheduler.replaceEvents(this.events());
    const current: Record<string, number> = {
      eot_threshold: next.eot_threshold,
      eot_timeout_ms: next.eot_timeout_ms,
    };
    if (next.eager_eot_threshold !== null) current.eager_eot_threshold = next.eager_eot_threshold;
    this.send({
      type: 'ConfigureSuccess',
      request_id: this.record.requestId,
      thresholds: current,
      keyterms: [],
    });
  }

  /**
   * CloseStream: what was heard is finalised (v1: a last final and Metadata), after anything
   * already scheduled, then the server closes with 1000.
   */
  private closeStream(): void {
    this.closing = true;
    const finish = () => {
      if (this.params.api === 'v1') {
        this.flushFinal();
        this.send({
          type: 'Metadata',
          transaction_key: 'deprecated',
          request_id: this.record.requestId,
          sha256: '0'.repeat(64),
          created: new Date().toISOString(),
          duration: round(this.samples / this.params.sampleRate),
          channels: 1,
        });
      }
      this.closeNow(1000, '');
    };
    if (this.scheduler.idle) finish();
    else this.scheduler.release(0, finish);
  }

  /** v1: a final for the words heard and not yet finalised (none when everything is final). */
  private flushFinal(): void {
    const final = this.scheduler.finalizeNow();
    if (final) this.sendResults(final);
  }

  // ---------- output ----------

  private deliver(event: ReleasedSttEvent): void {
    if (this.record.closed) return;
    switch (event.kind) {
      case 'speech_started':
        this.send({ type: 'SpeechStarted', channel: [0], timestamp: this.connTime(event.timestamp) });
        return;
      case 'utterance_end':
        this.send({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: this.connTime(event.lastWordEnd) });
        return;
      case 'interim':
      case 'final':
        this.sendResults(event);
        return;
      case 'turn_info': {
        const p = event.payload;
        this.turnBase ??= p.turnIndex;
        const message: Record<string, unknown> = {
          type: 'TurnInfo',
          request_id: this.record.requestId,
          event: p.event,
          turn_index: p.turnIndex - this.turnBase,
          audio_window_start: this.connTime(p.audioWindowStart),
          audio_window_end: this.connTime(p.audioWindowEnd),
          transcript: p.transcript,
          words: p.heard.map((w) => ({
            word: w.text,
            confidence: w.exact ? WORD_CONFIDENCE : MISHEARD_CONFIDENCE,
          })),
          end_of_turn_confidence: p.confidence,
        };
        if (p.trigger) message.trigger = p.trigger;
        if (p.event === 'EndOfTurn') this.finalizedEnd = Math.max(this.finalizedEnd, p.audioWindowEnd);
        this.send(message);
        return;
      }
    }
  }

  private sendResults(event: Extract<ReleasedSttEvent, { kind: 'interim' | 'final' }>): void {
    const p = this.params as NovaParams;
    const isFinal = event.kind === 'final';
    const end = Math.max(this.windowStart, this.connTime(event.audioAt));
    const start = this.windowStart;
    const speechFinal = isFinal && event.speechFinal && p.speechFinal;
    const wireWords: {
      word: string;
      start: number;
      end: number;
      confidence: number;
      punctuated_word?: string;
    }[] =
      event.kind === 'interim'
        ? event.heard.map((w) => ({
            word: w.text,
            start: this.connTime(w.start),
            end: this.connTime(w.end),
            confidence: w.exact ? WORD_CONFIDENCE : MISHEARD_CONFIDENCE,
          }))
        : event.tokens.map((t) => ({
            word: t.word,
            start: this.connTime(event.words[t.from]!.start),
            end: this.connTime(event.words[t.to - 1]!.end),
            confidence: WORD_CONFIDENCE,
            ...(p.format === 'none' ? {} : { punctuated_word: t.punctuated }),
          }));
    const transcript = wireWords.map((w) => w.punctuated_word ?? w.word).join(' ');
    if (isFinal) {
      this.windowStart = end;
      this.finalizedEnd = Math.max(this.finalizedEnd, event.audioAt);
    }
    this.send({
      type: 'Results',
      channel_index: [0, 1],
      duration: round(end - start),
      start: round(start),
      is_final: isFinal,
      speech_final: speechFinal,
      channel: {
        alternatives: [
          {
            transcript,
            confidence: wireWords.length ? WORD_CONFIDENCE : 0,
            words: wireWords,
          },
        ],
      },
      metadata: {
        request_id: this.record.requestId,
        model_info: { name: p.model, version: 'sim', arch: 'sim' },
        model_uuid: '00000000-0000-4000-8000-000000000000',
      },
      from_finalize: isFinal && event.fromFinalize,
    });
  }

  private send(message: Record<string, unknown>): void {
    if (this.record.closed || this.ws.readyState !== this.ws.OPEN) return;
    const body = this.params.api === 'v2' ? { ...message, sequence_id: this.sequence++ } : message;
    this.ws.send(JSON.stringify(body));
    this.record.messagesSent++;
    this.log(body);
    this.maybeMalformed();
    this.ctx.stats.changed();
  }

  /** Sends the injected malformed frame once `afterChunks` messages have gone out. */
  private maybeMalformed(): void {
    if (this.malformedAfter === null || this.record.messagesSent < this.malformedAfter) return;
    this.malformedAfter = null;
    this.ws.send(MALFORMED_FRAME);
    this.log(MALFORMED_FRAME);
  }

  private log(message: unknown): void {
    this.record.sent.push({ at: this.ctx.clock.now(), message });
    if (this.record.sent.length > SENT_LOG_LIMIT) this.record.sent.shift();
  }

  /** Seconds on this connection's audio for a case time (audio the client withheld not counted). */
  private connTime(caseSeconds: number): number {
    let skipped = 0;
    for (const skip of this.skips) skipped += Math.min(Math.max(caseSeconds - skip.at, 0), skip.seconds);
    return round(caseSeconds - this.record.startAt - skipped);
  }

  // ---------- closing ----------

  private armInactivity(): void {
    const due = this.lastActivity + INACTIVITY_TIMEOUT_MS;
    this.inactivityTimer = this.ctx.clock.setTimeout(
      () => {
        this.inactivityTimer = undefined;
        if (this.record.closed || this.closing) return;
        if (this.ctx.clock.now() - this.lastActivity >= INACTIVITY_TIMEOUT_MS) {
          this.abnormal = true;
          this.closeNow(1011, INACTIVITY_CLOSE_REASON);
        } else {
          this.armInactivity();
        }
      },
      Math.max(0, due - this.ctx.clock.now()),
    );
  }

  private closeNow(code: number, reason: string): void {
    this.closing = true;
    this.dispose();
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(code, reason);
  }

  private onClose(code: number, reason: string): void {
    this.dispose();
    this.ctx.live.delete(this);
    const r = this.record;
    r.closed = true;
    r.closedAt = this.ctx.clock.now();
    r.closeCode = code;
    r.closeReason = reason;
    const sessionId = r.sessionId;
    if (sessionId) {
      if (this.abnormal || code !== 1000) this.ctx.resumable.set(sessionId, this.finalizedEnd);
      else this.ctx.resumable.delete(sessionId);
    }
    this.ctx.stats.changed();
  }
}

/**
 * Finds where received audio sits in the case audio. The common case, the audio right after the
 * previous chunk, costs one comparison; a chunk found further on means the client withheld the
 * audio in between. Silence cannot be located (it matches anywhere) and is taken to be where
 * expected. A client may also send silence in place of audio it keeps from the STT (LiveKit
 * does while its AEC warm-up runs), so a zero sample in a chunk matches whatever the case has
 * there. A chunk found nowhere ahead means the stream is not the case audio verbatim: the
 * aligner then stops looking, and the samples are simply counted.
 */
class AudioAligner {
  private enabled = true;

  constructor(private readonly audio: Int16Array) {}

  /** Samples of case audio between `expected` (the case sample after the last chunk) and `chunk`. */
  skipBefore(chunk: Int16Array, expected: number): number {
    if (!this.enabled || chunk.length === 0 || this.matches(chunk, expected)) return 0;
    const anchor = chunk.findIndex((v) => v !== 0);
    if (anchor < 0) return 0;
    const value = chunk[anchor];
    for (let at = expected + 1; at + anchor < this.audio.length; at++) {
      if (this.audio[at + anchor] === value && this.matches(chunk, at)) return at - expected;
    }
    this.enabled = false;
    return 0;
  }

  /** The chunk equals the case audio from `at` (silence past its end), its zero samples aside. */
  private matches(chunk: Int16Array, at: number): boolean {
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== 0 && chunk[i] !== (this.audio[at + i] ?? 0)) return false;
    }
    return true;
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function round(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}
