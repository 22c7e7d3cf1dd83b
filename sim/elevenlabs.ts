/**
 * ElevenLabs text-to-speech simulator on 127.0.0.1, speaking the real wire formats with the
 * scripted voice of the corpus profile (the quiet tone of ScriptedTts: toneStream in
 * src/main/engine/scripted/providers.ts):
 *
 * - HTTP `POST /v1/text-to-speech/{voice}/stream?output_format=pcm_16000|pcm_22050|pcm_24000`
 *   (body `{text, model_id, ...}`): raw little-endian 16-bit PCM at the requested rate, streamed
 *   (chunked) as it is produced: the headers and first bytes `tts_ttfb_ms` after the request,
 *   `tts_ms_per_char` of audio per character, one 100 ms chunk per 100 × `tts_realtime_factor` ms.
 * - WebSocket `/v1/text-to-speech/{voice}/stream-input` and the multi-context
 *   `/v1/text-to-speech/{voice}/multi-stream-input` (query `model_id`, `output_format`,
 *   `inactivity_timeout` (s, default 20, at most 180), `auto_mode`). Client messages:
 *   `{"text":" ", voice_settings?, generation_config?}` opens a context, `{"text":"… "}` adds text,
 *   `flush: true` renders what is buffered; on stream-input `{"text":""}` ends the input (the rest is
 *   rendered, `isFinal` sent, the socket closed). On multi-stream-input every message names its
 *   context (`context_id`, or `contextId`; none means the context "default"),
 *   `{"context_id","close_context":true}` closes one context and `{"close_socket":true}` all of
 *   them, then the socket. `{"text":""}` keeps the socket alive, and the context it names when that
 *   context is open; naming an unknown context opens it, as any message does (Pipecat keeps its
 *   idle keep-alives context-less for that reason), and such a context holds a slot. Server
 *   messages are built with the SDK's serialisers: `{"audio":"<base64>","alignment":{chars,
 *   charStartTimesMs,charDurationsMs},"normalizedAlignment":{…}, "contextId"?}` per chunk, then
 *   `{"isFinal":true, "contextId"?}`. Multi-context sockets are refused for `eleven_v3` (400 at the
 *   upgrade: ElevenLabs documents that the model has none).
 *
 * Buffering, as ElevenLabs documents it: text is added to the context's buffer and rendered when
 * the buffer holds enough (`generation_config.chunk_length_schedule`, default [120, 160, 250, 290]
 * characters: the first render once 120 characters are buffered, the next after 160 more, …),
 * on `flush`, or at the end of the input. With `auto_mode=true` (the schedule off: recommended for
 * whole phrases) every text message is rendered as it arrives. The first audio of a context comes
 * `tts_ttfb_ms` after its first text was rendered (so buffering adds to the time to first audio).
 *
 * close_context: after an explicit `flush` with no text since, the flushed text is still rendered
 * and `isFinal` follows ("if it has already been set to flush it will continue flushing"); otherwise
 * the context is cancelled at once (nothing more of its audio is sent: barge-in), and the server
 * finishes closing it after the generation step in flight (the first audio's `tts_ttfb_ms`, or one
 * chunk's production time), then sends its `isFinal`. A context holds one of the socket's 5 slots
 * until then (ElevenLabs limits a connection to 5 concurrent contexts); a context opened while 5 are
 * held gets ElevenLabs' `max_active_conversations` error and the socket closes with 1008 (LiveKit
 * agents-js #1985 shows this under barge-in churn). A context id can be reused afterwards for a new,
 * unrelated context.
 * Voice settings belong to the socket's first context: a later message may leave them out or repeat
 * them; changing them closes the socket with 1008 "voice_settings field must be provided in the first
 * message and then either be not provided or not change." (ElevenLabs' close, quoted in Pipecat #4541).
 * Inactivity: the socket closes (1008) when no client message arrived for `inactivity_timeout` s;
 * the simulator applies it to the socket as a whole, which is what a client's keep-alive defends.
 *
 * Authentication: HTTP takes the `xi-api-key` header (missing or wrong → 401 with ElevenLabs' body,
 * `needs_authorization` / `invalid_api_key`). A socket takes the key in the upgrade's header or in
 * the first message (`xi_api_key`), so the upgrade is accepted and a missing or wrong key closes
 * the socket with 1008 at the first message, as does an unknown voice when `voiceIds` lists the
 * voices (Pipecat #1006: a wrong key or voice id arrives as a 1008 close; the close reasons are the
 * HTTP API's messages). Over HTTP an unknown voice is a 404 `voice_not_found`. Latencies run on the
 * simulator's clock (a VirtualClock in tests).
 *
 * Faults (FaultPlan; `status` and `delay` are taken by HTTP requests and socket upgrades /
 * contexts, `cut` by a request or context, `drop` and `malformed` by a request or socket):
 * - `status` 401/403/429/500/503: that status with ElevenLabs' error body (HTTP response or upgrade);
 * - `delay`: HTTP: the response starts `ms` later; WebSocket: the context's first audio is `ms` later;
 * - `cut` after N chunks: HTTP: the connection is closed without the chunked body's terminating
 *   chunk (a raw PCM stream cannot end "cleanly but halfway" in a way a client could notice);
 *   WebSocket: nothing more is sent for that context (no more audio, no isFinal);
 * - `drop` after N chunks: the TCP connection is destroyed (HTTP request or the whole socket);
 * - `malformed` after N chunks: WebSocket only: one text frame that is not JSON, then it carries on.
 *   Over HTTP the audio is raw bytes without frames, so this fault is not honoured there.
 * - `context_error` after N chunks: WebSocket only: an error message naming `contextId` (as
 *   `{"message","error","code","context_id"}`), whichever context that is; the socket carries on.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import * as wire from '@elevenlabs/elevenlabs-js/serialization';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { delay, type Clock, type TimerHandle } from '../src/main/engine/clock';
import type { CaseProfile } from '../src/main/engine/scripted/case';
import {
  toneStream,
  TTS_CHUNK_MS,
  ttsCharsCompleted,
  ttsSamplesFor,
  type ToneChunk,
  type ToneInput,
} from '../src/main/engine/scripted/providers';
import {
  FaultPlan,
  readBody,
  sendJson,
  SIM_API_KEY,
  simClock,
  startHttpServer,
  type Fault,
  type RunningSim,
  type SimOptions,
} from './common';

// ---------- records ----------

export type ElevenLabsSimOutcome = 'pending' | 'completed' | 'cancelled' | 'failed';

/** One synthesis: an HTTP request, or a context of a socket. */
export interface ElevenLabsSimSynthesis {
  index: number;
  /**
   * The mark its audio carries (voice-mark.ts), unique among all requests and contexts of the
   * simulator, so a speaker that hears the audio can tell which synthesis it is.
   */
  voiceMark: number;
  transport: 'http' | 'websocket';
  voiceId: string;
  modelId: string | null;
  outputFormat: string;
  sampleRate: number;
  /** Index of the socket (WebSocket), null for HTTP. */
  socket: number | null;
  /** The context id (multi-stream-input), "default" (stream-input), null for HTTP. */
  contextId: string | null;
  /** Sim clock time the request (with its body) or the context's first message arrived. */
  receivedAt: number;
  /** The text received (the request body's text for HTTP). */
  text: string;
  /** Characters handed to the generator (buffering holds the rest back). */
  rendered: number;
  firstTextAt: number | null;
  firstAudioAt: number | null;
  endedAt: number | null;
  flushes: number;
  keepAlives: number;
  chunksSent: number;
  samplesSent: number;
  /** Characters whose audio has been sent in full. */
  charactersSynthesized: number;
  /** The fault injected into it, if any. */
  fault: Fault['kind'] | null;
  /** completed: all audio (and isFinal) sent; cancelled: close_context, close_socket or the client left; failed: an injected fault or the socket closed under it. */
  outcome: ElevenLabsSimOutcome;
  /** What ended it when it did not complete. */
  reason: string | null;
  /** When its slot on the socket became free again (WebSocket; cancelled contexts take a while to close). */
  slotFreedAt: number | null;
  /** When the client's close_context (or close_socket) for it arrived (WebSocket). */
  closeContextAt: number | null;
  /** `voice_settings` and `generation_config` of the message that opened it, as sent (undefined: absent). */
  voiceSettings?: unknown;
  generationConfig?: unknown;
}

export interface ElevenLabsSimSocket {
  index: number;
  path: string;
  multi: boolean;
  voiceId: string;
  modelId: string | null;
  outputFormat: string;
  sampleRate: number;
  inactivityTimeoutS: number;
  autoMode: boolean;
  openedAt: number;
  closedAt: number | null;
  closeCode: number | null;
  closeReason: string | null;
  /** client: the client closed it (or asked with close_socket); inactivity: the timeout; fault: an injected drop; server: a protocol error or the end of stream-input. */
  closedBy: 'client' | 'server' | 'inactivity' | 'fault' | null;
  /** Client messages received. */
  messages: number;
  /** `{"text":""}` keep-alives received (multi-stream-input). */
  keepAlives: number;
  chunksSent: number;
  /** Context ids opened on it, in order (repeats when an id is reused). */
  contexts: string[];
  /** The most contexts that held a slot at once (open, or still being closed by the server). */
  mostContexts: number;
}

export interface ElevenLabsSimRejection {
  at: number;
  transport: 'http' | 'websocket';
  path: string;
  status: number;
  body: unknown;
}

/** What the simulator has seen, with a way to await a condition on it. */
export class ElevenLabsSimStats {
  /** HTTP stream requests, in arrival order. */
  readonly requests: ElevenLabsSimSynthesis[] = [];
  /** WebSocket contexts, in the order they were opened. */
  readonly contexts: ElevenLabsSimSynthesis[] = [];
  readonly sockets: ElevenLabsSimSocket[] = [];
  /** Requests and upgrades answered with an error status. */
  readonly rejections: ElevenLabsSimRejection[] = [];
  private marks = 0;
  private waiters: { test: () => boolean; resolve: () => void }[] = [];

  /** Characters whose audio was sent in full, over all requests and contexts. */
  get charactersSynthesized(): number {
    return [...this.requests, ...this.contexts].reduce((n, r) => n + r.charactersSynthesized, 0);
  }

  /** Every synthesis (HTTP requests and contexts), in the order they started. */
  get syntheses(): ElevenLabsSimSynthesis[] {
    return [...this.requests, ...this.contexts].sort((a, b) => a.voiceMark - b.voiceMark);
  }

  /** @internal The mark of the next synthesis. */
  nextMark(): number {
    return this.marks++;
  }

  /** Sockets closed so far. */
  get closes(): number {
    return this.sockets.filter((s) => s.closedAt !== null).length;
  }

  /** The latest context with this id. */
  context(contextId: string): ElevenLabsSimSynthesis | undefined {
    return this.contexts.findLast((c) => c.contextId === contextId);
  }

  /** Resolves once `test` holds (checked now and after every change the simulator records). */
  waitFor(test: (stats: ElevenLabsSimStats) => boolean): Promise<void> {
    if (test(this)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test: () => test(this), resolve }));
  }

  /** @internal Called by the simulator after each change. */
  changed(): void {
    const ready = this.waiters.filter((w) => w.test());
    if (!ready.length) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}

/** A synthesis record as it starts: what identifies it, nothing sent yet. */
function newSynthesis(
  start: Pick<
    ElevenLabsSimSynthesis,
    | 'index'
    | 'voiceMark'
    | 'transport'
    | 'voiceId'
    | 'modelId'
    | 'outputFormat'
    | 'sampleRate'
    | 'socket'
    | 'contextId'
    | 'receivedAt'
    | 'text'
    | 'rendered'
    | 'firstTextAt'
  >,
): ElevenLabsSimSynthesis {
  return {
    ...start,
    firstAudioAt: null,
    endedAt: null,
    flushes: 0,
    keepAlives: 0,
    chunksSent: 0,
    samplesSent: 0,
    charactersSynthesized: 0,
    fault: null,
    outcome: 'pending',
    reason: null,
    slotFreedAt: null,
    closeContextAt: null,
  };
}

export type RunningElevenLabsSim = RunningSim & { stats: ElevenLabsSimStats };

// ---------- wire facts ----------

/** ElevenLabs' error bodies. */
export const ELEVENLABS_ERROR_BODIES = {
  missingKey: {
    detail: {
      status: 'needs_authorization',
      message: 'Neither authorization header nor xi-api-key received, please provide one.',
    },
  },
  invalidKey: { detail: { status: 'invalid_api_key', message: 'Invalid API key' } },
  403: {
    detail: {
      status: 'missing_permissions',
      message: 'The API key you used is missing the permission text_to_speech to execute this operation.',
    },
  },
  429: {
    detail: {
      status: 'too_many_concurrent_requests',
      message:
        'Too many concurrent requests. Your current subscription is associated with a maximum of 2 concurrent requests (running in parallel). This is done such that a single user does not overwhelm our systems and affect other users negatively. Please upgrade your subscription or contact sales if you want to increase this limit.',
    },
  },
  500: {
    detail: {
      status: 'something_went_wrong',
      message: 'We are sorry, something went wrong. You are not charged for this request.',
    },
  },
  503: {
    detail: {
      status: 'system_busy',
      message: 'We are experiencing an unusually high volume of requests. Please try again in a few moments.',
    },
  },
} as const;

/** ElevenLabs' answer to a voice id that does not exist (HTTP 404; on a socket, the 1008 close reason). */
function voiceNotFound(voiceId: string): { detail: { status: string; message: string } } {
  return {
    detail: { status: 'voice_not_found', message: `A voice with the voice_id ${voiceId} was not found.` },
  };
}

/** The 1008 close ElevenLabs sends when a later message changes the voice settings of the socket. */
export const VOICE_SETTINGS_POLICY =
  'voice_settings field must be provided in the first message and then either be not provided or not change.';
/** The documented limit of the multi-context socket: not for eleven_v3. */
export const NO_MULTI_CONTEXT_MODEL = 'Multi-context WebSockets are not available for the eleven_v3 model.';

function statusBody(status: 401 | 403 | 429 | 500 | 503): unknown {
  return status === 401 ? ELEVENLABS_ERROR_BODIES.invalidKey : ELEVENLABS_ERROR_BODIES[status];
}

const PCM_RATES = new Set([8000, 16000, 22050, 24000, 44100, 48000]);
/** ElevenLabs' default chunk_length_schedule. */
export const DEFAULT_CHUNK_LENGTH_SCHEDULE: readonly number[] = [120, 160, 250, 290];
export const DEFAULT_INACTIVITY_TIMEOUT_S = 20;
export const MAX_INACTIVITY_TIMEOUT_S = 180;
/** Contexts a multi-stream-input socket may hold open at once. */
export const MAX_CONTEXTS = 5;

const HTTP_PATH = /^\/v1\/text-to-speech\/([^/]+)\/stream\/?$/;
const WS_PATH = /^\/v1\/text-to-speech\/([^/]+)\/(stream-input|multi-stream-input)\/?$/;

function pcmRate(format: string | null): number | null {
  const match = /^pcm_(\d+)$/.exec(format ?? '');
  const rate = match ? Number(match[1]) : NaN;
  return PCM_RATES.has(rate) ? rate : null;
}

function formatError(format: string | null): unknown {
  return {
    detail: {
      status: 'invalid_output_format',
      message: `The simulator speaks raw PCM only (output_format pcm_16000, pcm_22050, pcm_24000, …); got ${format ?? 'none'}.`,
    },
  };
}

/** Little-endian 16-bit PCM bytes of the samples. */
function pcmBytes(samples: Int16Array): Buffer {
  const out = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i]!, i * 2);
  return out;
}

// ---------- server ----------

export interface ElevenLabsSimOptions extends SimOptions {
  /** The voices that exist (any voice id when not given); others are refused as ElevenLabs does. */
  voiceIds?: readonly string[];
}

interface Shared {
  clock: Clock;
  apiKey: string;
  voiceIds: ReadonlySet<string> | null;
  faults: FaultPlan;
  profile: CaseProfile;
  stats: ElevenLabsSimStats;
  /** Production still running, stopped when the simulator closes. */
  live: Set<AbortController>;
}

export async function startElevenLabsSim(options: ElevenLabsSimOptions): Promise<RunningElevenLabsSim> {
  const shared: Shared = {
    clock: simClock(options),
    apiKey: options.apiKey ?? SIM_API_KEY,
    voiceIds: options.voiceIds ? new Set(options.voiceIds) : null,
    faults: new FaultPlan(options.faults),
    profile: options.caseData.profile,
    stats: new ElevenLabsSimStats(),
    live: new Set(),
  };
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<SimSocket>();

  const http = await startHttpServer(
    options.port ?? 0,
    (req, res) => {
      handleHttp(shared, req, res).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { detail: { status: 'sim_error', message: String(error) } });
        else res.destroy();
      });
    },
    (req, socket, head) => {
      const accepted = acceptUpgrade(shared, req, socket);
      if (!accepted) return;
      wss.handleUpgrade(req, socket, head, (ws) => {
        const session = new SimSocket(shared, ws, accepted);
        sockets.add(session);
        ws.on('close', () => sockets.delete(session));
      });
    },
  );

  return {
    url: http.url,
    port: http.port,
    stats: shared.stats,
    close: async () => {
      for (const controller of shared.live) controller.abort();
      for (const session of sockets) session.shutdown();
      wss.close();
      await http.close();
    },
  };
}

// ---------- HTTP ----------

function checkKey(shared: Shared, header: string | string[] | undefined): unknown {
  const key = Array.isArray(header) ? header[0] : header;
  if (!key) return ELEVENLABS_ERROR_BODIES.missingKey;
  if (key !== shared.apiKey) return ELEVENLABS_ERROR_BODIES.invalidKey;
  return null;
}

function reject(
  shared: Shared,
  transport: 'http' | 'websocket',
  path: string,
  status: number,
  body: unknown,
): void {
  shared.stats.rejections.push({ at: shared.clock.now(), transport, path, status, body });
  shared.stats.changed();
}

async function handleHttp(shared: Shared, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { clock, faults, stats, profile } = shared;
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const body = await readBody(req);
  const match = HTTP_PATH.exec(url.pathname);
  if (req.method !== 'POST' || !match) {
    sendJson(res, 404, { detail: 'Not Found' });
    return;
  }
  const keyError = checkKey(shared, req.headers['xi-api-key']);
  if (keyError) {
    reject(shared, 'http', url.pathname, 401, keyError);
    sendJson(res, 401, keyError);
    return;
  }
  const voiceId = decodeURIComponent(match[1]!);
  if (shared.voiceIds && !shared.voiceIds.has(voiceId)) {
    reject(shared, 'http', url.pathname, 404, voiceNotFound(voiceId));
    sendJson(res, 404, voiceNotFound(voiceId));
    return;
  }
  const statusFault = faults.take('status');
  if (statusFault) {
    const errorBody = statusBody(statusFault.status);
    reject(shared, 'http', url.pathname, statusFault.status, errorBody);
    sendJson(res, statusFault.status, errorBody);
    return;
  }
  const outputFormat = url.searchParams.get('output_format');
  const sampleRate = pcmRate(outputFormat);
  if (sampleRate === null) {
    reject(shared, 'http', url.pathname, 400, formatError(outputFormat));
    sendJson(res, 400, formatError(outputFormat));
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const fields = isRecord(parsed) ? parsed : {};
  if (typeof fields.text !== 'string' || !fields.text.trim()) {
    const errorBody = { detail: { status: 'invalid_text', message: 'The body needs a non-empty "text".' } };
    reject(shared, 'http', url.pathname, 400, errorBody);
    sendJson(res, 400, errorBody);
    return;
  }
  const text = fields.text;
  const record = newSynthesis({
    index: stats.requests.length,
    voiceMark: stats.nextMark(),
    transport: 'http',
    voiceId: decodeURIComponent(match[1]!),
    modelId: typeof fields.model_id === 'string' ? fields.model_id : null,
    outputFormat: outputFormat!,
    sampleRate,
    socket: null,
    contextId: null,
    receivedAt: clock.now(),
    text,
    rendered: text.length,
    firstTextAt: clock.now(),
  });
  stats.requests.push(record);
  stats.changed();

  const controller = new AbortController();
  shared.live.add(controller);
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  const finish = (outcome: ElevenLabsSimOutcome, reason: string | null) => {
    if (record.outcome !== 'pending') return;
    record.outcome = outcome;
    record.reason = reason;
    record.endedAt = clock.now();
    shared.live.delete(controller);
    stats.changed();
  };

  const delayFault = faults.take('delay');
  const cut = faults.take('cut');
  const drop = faults.take('drop');
  record.fault = cut ? 'cut' : drop ? 'drop' : delayFault ? 'delay' : null;
  try {
    if (delayFault) await delay(clock, delayFault.ms, controller.signal);
    const startAt = clock.now();
    const input: ToneInput = {
      chars: () => text.length,
      firstTextAt: () => startAt,
      ended: () => true,
      changed: () => Promise.resolve(),
    };
    const breakAfter = (fault: { afterChunks?: number } | undefined) =>
      fault !== undefined && record.chunksSent >= (fault.afterChunks ?? 0);
    if (breakAfter(cut) || breakAfter(drop)) {
      return interrupt(res, cut ? 'cut' : 'drop', finish);
    }
    for await (const chunk of toneStream(
      profile,
      clock,
      input,
      controller.signal,
      sampleRate,
      record.voiceMark,
    )) {
      if (!res.headersSent) {
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'transfer-encoding': 'chunked',
          'request-id': randomBytes(10).toString('hex'),
          'x-character-count': String(text.length),
        });
      }
      res.write(pcmBytes(chunk.samples));
      record.firstAudioAt ??= clock.now();
      record.chunksSent++;
      record.samplesSent += chunk.samples.length;
      record.charactersSynthesized = Math.min(
        text.length,
        ttsCharsCompleted(profile, record.samplesSent, sampleRate),
      );
      stats.changed();
      if (breakAfter(cut) || breakAfter(drop)) {
        return interrupt(res, cut ? 'cut' : 'drop', finish);
      }
    }
    if (controller.signal.aborted) {
      finish('cancelled', 'the client closed the connection');
      return;
    }
    res.end();
    finish('completed', null);
  } catch (error) {
    if (controller.signal.aborted) finish('cancelled', 'the client closed the connection');
    else throw error;
  }
}

/** Ends an HTTP response abruptly: `cut` closes the connection without the chunked terminator, `drop` destroys it. */
function interrupt(
  res: ServerResponse,
  kind: 'cut' | 'drop',
  finish: (outcome: ElevenLabsSimOutcome, reason: string) => void,
): void {
  finish('failed', `fault: ${kind}`);
  if (kind === 'drop' || !res.headersSent) res.socket?.destroy();
  else res.socket?.end();
}

// ---------- WebSocket ----------

interface SocketParams {
  path: string;
  multi: boolean;
  voiceId: string;
  modelId: string | null;
  outputFormat: string;
  sampleRate: number;
  inactivityTimeoutS: number;
  autoMode: boolean;
  /** The `xi-api-key` header of the upgrade (the key may come with the first message instead). */
  headerKey: string | undefined;
}

/**
 * Checks an upgrade; answers it with an error status and returns null when refused. The key is
 * not checked here: ElevenLabs takes it in the header or in the first message (`xi_api_key`),
 * so a wrong or missing key is answered at the first message, with a 1008 close.
 */
function acceptUpgrade(shared: Shared, req: IncomingMessage, socket: Socket): SocketParams | null {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const refuse = (status: number, body: unknown) => {
    reject(shared, 'websocket', url.pathname, status, body);
    const text = JSON.stringify(body);
    socket.end(
      [
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
        'content-type: application/json',
        `content-length: ${Buffer.byteLength(text)}`,
        'connection: close',
        '',
        text,
      ].join('\r\n'),
    );
    return null;
  };
  const match = WS_PATH.exec(url.pathname);
  if (!match) return refuse(404, { detail: 'Not Found' });
  const statusFault = shared.faults.take('status');
  if (statusFault) return refuse(statusFault.status, statusBody(statusFault.status));
  const outputFormat = url.searchParams.get('output_format');
  const sampleRate = pcmRate(outputFormat);
  if (sampleRate === null) return refuse(400, formatError(outputFormat));
  const multi = match[2] === 'multi-stream-input';
  const modelId = url.searchParams.get('model_id');
  if (multi && modelId?.startsWith('eleven_v3')) {
    return refuse(400, { detail: { status: 'invalid_model', message: NO_MULTI_CONTEXT_MODEL } });
  }
  const header = req.headers['xi-api-key'];
  const timeout = Number(url.searchParams.get('inactivity_timeout') ?? DEFAULT_INACTIVITY_TIMEOUT_S);
  return {
    headerKey: Array.isArray(header) ? header[0] : header,
    path: url.pathname,
    multi,
    voiceId: decodeURIComponent(match[1]!),
    modelId,
    outputFormat: outputFormat!,
    sampleRate,
    inactivityTimeoutS: Number.isFinite(timeout)
      ? Math.min(MAX_INACTIVITY_TIMEOUT_S, Math.max(1, Math.round(timeout)))
      : DEFAULT_INACTIVITY_TIMEOUT_S,
    autoMode: url.searchParams.get('auto_mode') === 'true',
  };
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length ? value : undefined;
}

/** One client socket (stream-input or multi-stream-input). */
class SimSocket {
  readonly record: ElevenLabsSimSocket;
  /** Contexts that take text, by id. */
  private readonly contexts = new Map<string, SimContext>();
  /** Contexts cancelled by close_context that the server is still closing: they hold their slot. */
  private readonly closing = new Set<SimContext>();
  private inactivity: TimerHandle | undefined;
  private readonly drop: Extract<Fault, { kind: 'drop' }> | undefined;
  private malformed: Extract<Fault, { kind: 'malformed' }> | undefined;
  private contextError: Extract<Fault, { kind: 'context_error' }> | undefined;
  private closingAll = false;
  /** The key and voice have been checked (at the first message). */
  private admitted = false;
  /** The voice settings of the socket's first context-opening message (null: none); undefined before it. */
  private voiceSettings: string | null | undefined;

  constructor(
    private readonly shared: Shared,
    private readonly ws: WebSocket,
    readonly params: SocketParams,
  ) {
    const { stats, clock, faults } = shared;
    this.record = {
      index: stats.sockets.length,
      path: params.path,
      multi: params.multi,
      voiceId: params.voiceId,
      modelId: params.modelId,
      outputFormat: params.outputFormat,
      sampleRate: params.sampleRate,
      inactivityTimeoutS: params.inactivityTimeoutS,
      autoMode: params.autoMode,
      openedAt: clock.now(),
      closedAt: null,
      closeCode: null,
      closeReason: null,
      closedBy: null,
      messages: 0,
      keepAlives: 0,
      chunksSent: 0,
      contexts: [],
      mostContexts: 0,
    };
    stats.sockets.push(this.record);
    this.drop = faults.take('drop');
    this.malformed = faults.take('malformed');
    this.contextError = faults.take('context_error');
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', (code, reason) => this.onClose(code, reason.toString()));
    ws.on('error', () => {});
    this.armInactivity();
    stats.changed();
  }

  get open(): boolean {
    return this.record.closedAt === null;
  }

  /** Contexts holding a slot: those open, and those the server is still closing. */
  get slotsInUse(): number {
    return this.contexts.size + this.closing.size;
  }

  /** Sends a server message (JSON). */
  send(message: unknown): void {
    if (this.open) this.ws.send(JSON.stringify(message));
  }

  /** Called after each audio chunk sent on the socket: the socket-wide faults. */
  afterChunk(): void {
    this.record.chunksSent++;
    const sent = this.record.chunksSent;
    if (this.malformed && sent >= (this.malformed.afterChunks ?? 0)) {
      this.malformed = undefined;
      if (this.open) this.ws.send('{"audio": "AAAA", "isFinal": fal');
    }
    if (this.contextError && sent >= (this.contextError.afterChunks ?? 0)) {
      const { contextId } = this.contextError;
      this.contextError = undefined;
      this.send({
        message: `Context ${contextId} has been closed.`,
        error: 'context_closed',
        code: 1008,
        context_id: contextId,
      });
    }
    if (this.drop && sent >= (this.drop.afterChunks ?? 0)) {
      this.record.closedBy ??= 'fault';
      this.failContexts('fault: drop');
      this.ws.terminate();
    }
  }

  /** Closes by the server's choice. */
  closeBy(by: ElevenLabsSimSocket['closedBy'], code: number, reason: string): void {
    if (!this.open) return;
    this.record.closedBy ??= by;
    this.ws.close(code, reason);
  }

  /** The simulator is closing: stop everything. */
  shutdown(): void {
    this.failContexts('the simulator closed');
    this.clearInactivity();
    this.ws.terminate();
  }

  /** A context has ended: forget it; finish a pending close_socket; stream-input closes after its one context. */
  ended(context: SimContext): void {
    if (this.contexts.get(context.id) === context) this.contexts.delete(context.id);
    if (!this.params.multi && context.record.outcome === 'completed') this.closeBy('server', 1000, '');
    else this.closeIfDone();
  }

  /** A context cancelled by close_context: it takes no more text, and holds its slot until closed. */
  closingStarted(context: SimContext): void {
    if (this.contexts.get(context.id) === context) this.contexts.delete(context.id);
    this.closing.add(context);
  }

  /** The server has finished closing the context: its slot is free. */
  closingFinished(context: SimContext): void {
    this.closing.delete(context);
    this.closeIfDone();
  }

  private closeIfDone(): void {
    if (this.closingAll && this.slotsInUse === 0) this.closeBy('client', 1000, '');
  }

  private armInactivity(): void {
    this.clearInactivity();
    const seconds = this.params.inactivityTimeoutS;
    this.inactivity = this.shared.clock.setTimeout(() => {
      this.inactivity = undefined;
      this.failContexts('inactivity timeout');
      this.closeBy(
        'inactivity',
        1008,
        `Have not received a new text input within the timeout of ${seconds} seconds.`,
      );
    }, seconds * 1000);
  }

  private clearInactivity(): void {
    this.shared.clock.clearTimeout(this.inactivity);
    this.inactivity = undefined;
  }

  private failContexts(reason: string): void {
    for (const context of [...this.contexts.values(), ...this.closing]) context.stop('failed', reason);
    this.contexts.clear();
    this.closing.clear();
  }

  private onClose(code: number, reason: string): void {
    this.clearInactivity();
    for (const context of [...this.contexts.values(), ...this.closing]) {
      context.stop(this.record.closedBy ? 'failed' : 'cancelled', 'the socket closed');
    }
    this.contexts.clear();
    this.closing.clear();
    this.record.closedBy ??= 'client';
    this.record.closedAt = this.shared.clock.now();
    this.record.closeCode = code;
    this.record.closeReason = reason;
    this.shared.stats.changed();
  }

  /**
   * The first message: the key (the upgrade's `xi-api-key` header, or this message's `xi_api_key`)
   * and the voice are checked now, and a socket that fails closes with 1008 and ElevenLabs' message.
   */
  private admit(message: Json): boolean {
    if (this.admitted) return true;
    const key = this.params.headerKey ?? str(message.xi_api_key);
    const keyError = checkKey(this.shared, key) as { detail: { message: string } } | null;
    const voices = this.shared.voiceIds;
    const refusal = keyError
      ? keyError.detail.message
      : voices && !voices.has(this.params.voiceId)
        ? voiceNotFound(this.params.voiceId).detail.message
        : null;
    if (refusal) {
      reject(this.shared, 'websocket', this.params.path, 1008, { reason: refusal });
      this.closeBy('server', 1008, refusal);
      return false;
    }
    this.admitted = true;
    return true;
  }

  /**
   * Voice settings come with the socket's first context and then never change (a later message may
   * leave them out or repeat them); otherwise ElevenLabs closes the socket with 1008.
   */
  private voiceSettingsAllowed(message: Json, opensContext: boolean): boolean {
    const given = 'voice_settings' in message ? JSON.stringify(message.voice_settings) : undefined;
    if (this.voiceSettings === undefined) {
      if (opensContext) this.voiceSettings = given ?? null;
      return true;
    }
    if (given === undefined || given === this.voiceSettings) return true;
    this.failContexts('voice_settings changed');
    this.closeBy('server', 1008, VOICE_SETTINGS_POLICY);
    return false;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (!this.open) return;
    this.record.messages++;
    this.armInactivity();
    this.shared.stats.changed();
    let message: unknown;
    try {
      message = isBinary ? undefined : JSON.parse(String(data));
    } catch {
      message = undefined;
    }
    if (!isRecord(message)) {
      this.failContexts('invalid message');
      this.closeBy('server', 1003, 'Invalid message: expected a JSON object');
      return;
    }
    if (!this.admit(message)) return;
    if (this.closingAll) return;
    const multi = this.params.multi;
    if (multi && message.close_socket === true) {
      this.closingAll = true;
      for (const context of [...this.contexts.values()]) context.closeContext();
      this.closeIfDone();
      return;
    }
    const named = str(message.context_id) ?? str(message.contextId);
    const id = multi ? (named ?? 'default') : 'default';
    let context = this.contexts.get(id);
    if (multi && message.close_context === true) {
      context?.closeContext();
      return;
    }
    const text = typeof message.text === 'string' ? message.text : undefined;
    const flush = message.flush === true;
    if (text === undefined && !flush) return;
    if (text === '' && !flush && (context || !multi || named === undefined)) {
      if (multi) {
        // Keep-alive: resets the inactivity timeout (of the socket here), of its context when it names one.
        this.record.keepAlives++;
        if (context) context.record.keepAlives++;
        this.shared.stats.changed();
      } else {
        // End of stream: render the rest, send isFinal, close.
        if (context) context.endInput();
        else this.closeBy('server', 1000, '');
      }
      return;
    }
    if (!this.voiceSettingsAllowed(message, !context)) return;
    if (!context) {
      if (!multi && this.record.contexts.length > 0) return; // stream-input holds one context
      if (this.slotsInUse >= MAX_CONTEXTS) {
        this.send({
          message: `Maximum simultaneous contexts per WebSocket connection exceeded (${MAX_CONTEXTS}). Please close an existing context before opening a new one.`,
          error: 'max_active_conversations',
          code: 1008,
        });
        this.failContexts('max_active_conversations');
        this.closeBy('server', 1008, 'max_active_conversations');
        return;
      }
      // Any message naming an unknown context opens it, a keep-alive's `{"text":""}` included: such
      // a context renders nothing and holds a slot until it is closed.
      context = new SimContext(this.shared, this, id, message);
      this.contexts.set(id, context);
      this.record.contexts.push(id);
      this.record.mostContexts = Math.max(this.record.mostContexts, this.slotsInUse);
      this.shared.stats.changed();
      if (text === ' ' || text === '') {
        if (flush) context.flush();
        return; // the opening message: settings only
      }
    }
    if (text) context.addText(text);
    if (flush) context.flush();
  }
}

/** One context: buffers text, renders it with the scripted voice, streams audio with alignment. */
class SimContext {
  readonly record: ElevenLabsSimSynthesis;
  private readonly controller = new AbortController();
  private readonly schedule: readonly number[];
  private scheduleStep = 0;
  /** Text length at the last explicit flush (-1: none). */
  private flushedAt = -1;
  private inputEnded = false;
  private firstRenderAt: number | null = null;
  private waiters: (() => void)[] = [];
  private alignedChars = 0;
  private readonly cut: Extract<Fault, { kind: 'cut' }> | undefined;
  private readonly delayMs: number;

  constructor(
    private readonly shared: Shared,
    private readonly socket: SimSocket,
    readonly id: string,
    opening: Json,
  ) {
    const { clock, stats, faults } = shared;
    const params = socket.params;
    this.record = newSynthesis({
      index: stats.contexts.length,
      voiceMark: stats.nextMark(),
      transport: 'websocket',
      voiceId: params.voiceId,
      modelId: params.modelId,
      outputFormat: params.outputFormat,
      sampleRate: params.sampleRate,
      socket: socket.record.index,
      contextId: id,
      receivedAt: clock.now(),
      text: '',
      rendered: 0,
      firstTextAt: null,
    });
    this.record.voiceSettings = opening.voice_settings;
    this.record.generationConfig = opening.generation_config;
    stats.contexts.push(this.record);
    const config = isRecord(opening.generation_config) ? opening.generation_config : {};
    const schedule = Array.isArray(config.chunk_length_schedule)
      ? config.chunk_length_schedule.filter((n): n is number => typeof n === 'number' && n > 0)
      : [];
    this.schedule = schedule.length ? schedule : DEFAULT_CHUNK_LENGTH_SCHEDULE;
    this.cut = faults.take('cut');
    const delayFault = faults.take('delay');
    this.delayMs = delayFault?.ms ?? 0;
    this.record.fault = this.cut ? 'cut' : delayFault ? 'delay' : null;
    shared.live.add(this.controller);
    void this.run();
  }

  addText(text: string): void {
    if (this.inputEnded || this.record.outcome !== 'pending') return;
    this.record.text += text;
    this.record.firstTextAt ??= this.shared.clock.now();
    if (this.socket.params.autoMode) {
      this.render(this.record.text.length);
    } else {
      const buffered = this.record.text.length - this.record.rendered;
      const threshold = this.schedule[Math.min(this.scheduleStep, this.schedule.length - 1)]!;
      if (buffered >= threshold) {
        this.scheduleStep++;
        this.render(this.record.text.length);
      }
    }
    this.shared.stats.changed();
  }

  flush(): void {
    if (this.inputEnded || this.record.outcome !== 'pending') return;
    this.record.flushes++;
    this.flushedAt = this.record.text.length;
    this.render(this.record.text.length);
    this.shared.stats.changed();
  }

  /** End of input (stream-input's `{"text":""}`, or a close after a flush): render the rest, then isFinal. */
  endInput(): void {
    if (this.record.outcome !== 'pending') return;
    this.render(this.record.text.length);
    this.inputEnded = true;
    this.wake();
  }

  /**
   * close_context (or close_socket): a flushed context renders what was flushed and then sends
   * isFinal; any other is cancelled at once (nothing more of its audio is sent), and the server
   * finishes closing it after the generation step in flight: then comes its isFinal, and only
   * then is its slot free (a client that opens contexts faster than they close meets the limit).
   */
  closeContext(): void {
    this.record.closeContextAt ??= this.shared.clock.now();
    if (this.record.outcome !== 'pending' || this.inputEnded) return;
    if (this.flushedAt >= 0 && this.flushedAt === this.record.text.length) {
      this.endInput();
      return;
    }
    this.stop('cancelled', 'close_context', false);
    this.socket.closingStarted(this);
    const finish = () => {
      this.record.slotFreedAt = this.shared.clock.now();
      if (this.socket.params.multi) {
        this.socket.send(wire.FinalOutputMulti.jsonOrThrow({ isFinal: true, contextId: this.id }));
      }
      this.socket.closingFinished(this);
      this.shared.stats.changed();
    };
    const wait = this.closingMs();
    if (wait > 0) this.shared.clock.setTimeout(finish, wait);
    else finish();
  }

  /** How long the server takes to finish closing a cancelled context: the generation step in flight. */
  private closingMs(): number {
    const { clock, profile } = this.shared;
    const rate = this.socket.params.sampleRate;
    if (this.firstRenderAt === null) return 0; // nothing was being generated
    if (this.record.firstAudioAt === null) {
      return Math.max(0, this.firstRenderAt + this.delayMs + profile.tts_ttfb_ms - clock.now());
    }
    const generating = this.record.samplesSent < ttsSamplesFor(profile, this.record.rendered, rate);
    return generating ? TTS_CHUNK_MS * profile.tts_realtime_factor : 0;
  }

  /** Ends it now: nothing more is sent for it (its slot is freed too, unless `freeSlot` is false). */
  stop(outcome: 'cancelled' | 'failed', reason: string, freeSlot = true): void {
    if (this.record.outcome !== 'pending') return;
    this.record.outcome = outcome;
    this.record.reason = reason;
    this.record.endedAt = this.shared.clock.now();
    this.controller.abort();
    this.shared.live.delete(this.controller);
    this.wake();
    if (freeSlot) {
      this.record.slotFreedAt ??= this.record.endedAt;
      this.socket.ended(this);
    }
    this.shared.stats.changed();
  }

  private render(chars: number): void {
    if (chars <= this.record.rendered) return;
    this.record.rendered = chars;
    this.firstRenderAt ??= this.shared.clock.now();
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  private async run(): Promise<void> {
    const { clock, profile } = this.shared;
    const { signal } = this.controller;
    const rate = this.socket.params.sampleRate;
    const input: ToneInput = {
      chars: () => this.record.rendered,
      firstTextAt: () => (this.firstRenderAt === null ? null : this.firstRenderAt + this.delayMs),
      ended: () => this.inputEnded,
      changed: () =>
        new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          else this.waiters.push(resolve);
        }),
    };
    try {
      for await (const chunk of toneStream(profile, clock, input, signal, rate, this.record.voiceMark)) {
        if (this.cut && this.record.chunksSent >= this.cut.afterChunks) {
          this.stop('failed', 'fault: cut');
          return;
        }
        this.sendChunk(chunk, rate);
        if (signal.aborted) return;
      }
      if (signal.aborted || this.record.outcome !== 'pending') return;
      if (this.cut && this.record.chunksSent >= this.cut.afterChunks) {
        this.stop('failed', 'fault: cut');
        return;
      }
      this.socket.send(
        this.socket.params.multi
          ? wire.FinalOutputMulti.jsonOrThrow({ isFinal: true, contextId: this.id })
          : wire.FinalOutput.jsonOrThrow({ isFinal: true }),
      );
      this.record.outcome = 'completed';
      this.record.endedAt = clock.now();
      this.record.slotFreedAt = this.record.endedAt;
      this.shared.live.delete(this.controller);
      this.socket.ended(this);
      this.shared.stats.changed();
    } catch (error) {
      if (!signal.aborted) this.stop('failed', `simulator error: ${String(error)}`);
    }
  }

  private sendChunk(chunk: ToneChunk, rate: number): void {
    const { profile, clock } = this.shared;
    const text = this.record.text;
    const perCharMs = profile.tts_ms_per_char;
    const startMs = (chunk.offset / rate) * 1000;
    const endSample = chunk.offset + chunk.samples.length;
    const endMs = (endSample / rate) * 1000;
    // Each character goes to the chunk its audio starts in (as ElevenLabs' per-chunk alignment);
    // the chunk that ends the rendered audio takes any left.
    const last = endSample >= ttsSamplesFor(profile, this.record.rendered, rate);
    const chars: string[] = [];
    const starts: number[] = [];
    const durations: number[] = [];
    while (
      this.alignedChars < this.record.rendered &&
      (last || this.alignedChars * perCharMs < endMs - 1e-9)
    ) {
      chars.push(text[this.alignedChars]!);
      starts.push(Math.max(0, Math.round(this.alignedChars * perCharMs - startMs)));
      durations.push(Math.round(perCharMs));
      this.alignedChars++;
    }
    const alignment = { chars, charStartTimesMs: starts, charDurationsMs: durations };
    const audio = pcmBytes(chunk.samples).toString('base64');
    this.socket.send(
      this.socket.params.multi
        ? wire.AudioOutputMulti.jsonOrThrow({
            audio,
            alignment,
            normalizedAlignment: alignment,
            contextId: this.id,
          })
        : wire.AudioOutput.jsonOrThrow({ audio, alignment, normalizedAlignment: alignment }),
    );
    this.record.firstAudioAt ??= clock.now();
    this.record.chunksSent++;
    this.record.samplesSent += chunk.samples.length;
    this.record.charactersSynthesized = Math.min(
      this.record.rendered,
      ttsCharsCompleted(profile, this.record.samplesSent, rate),
    );
    this.shared.stats.changed();
    this.socket.afterChunk();
  }
}
