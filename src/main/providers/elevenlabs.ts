/**
 * ElevenLabs text-to-speech, two transports (settings `tts.transport`):
 *
 * - ElevenLabsHttpTts: the real SDK's streaming endpoint (`textToSpeech.stream`, raw PCM), one
 *   request per text chunk. Each request starts as soon as its chunk is available (at most
 *   `maxConcurrentRequests` at once, ElevenLabs plans limit concurrency); the audio comes out in
 *   chunk order. No alignment on this endpoint: `characters` is left out.
 * - ElevenLabsWebSocketTts: the multi-context socket (`multi-stream-input`), written with `ws`
 *   because the SDK does not wrap it (message shapes from the SDK's serialisers). One socket is
 *   kept warm across replies (opened at construction, reopened on the next reply when it has
 *   closed, kept alive before the server's inactivity timeout); one context per reply, opened with
 *   the reply's first text; text is sent as it arrives; at the end of the reply `flush` then
 *   `close_context` (ElevenLabs then renders the rest and answers `isFinal`); on abort before that,
 *   `close_context` alone, which cancels the context server-side without closing the socket.
 *   `auto_mode=true` by default: the engine sends whole clauses or sentences, and without it
 *   ElevenLabs buffers text (chunk_length_schedule, 120 characters first) before rendering. Audio
 *   comes with per-chunk character alignment, turned into `characters` (those whose audio has been
 *   delivered in full) so a barge-in truncates the history to what was heard.
 *
 * Both deliver Int16 PCM at the `tts.sample_rate` asked for (`pcm_<rate>`), stop synthesis at the
 * network level when the request's signal aborts (the iterable then ends quietly), and throw
 * ProviderError from the iterable: missing_key (no key), invalid_key (401/403, naming the setting and
 * ELEVENLABS_API_KEY), rate_limited (429, or a 401 quota_exceeded), server_error (5xx), timeout
 * (no audio for `stallTimeoutMs` while some is owed), connection, protocol (a malformed message).
 */
import type { IncomingMessage } from 'node:http';
import { ElevenLabsClient, ElevenLabsError, ElevenLabsTimeoutError } from '@elevenlabs/elevenlabs-js';
import * as wire from '@elevenlabs/elevenlabs-js/serialization/index.js';
import WebSocket, { type RawData } from 'ws';
import type { TtsSettings } from '../../shared/settings';
import { AsyncQueue } from '../engine/async-queue';
import type { Clock, TimerHandle } from '../engine/clock';
import type { TtsAudio, TtsProvider, TtsRequest } from '../engine/ports';
import { fromStatus, missingKey, ProviderError } from './errors';

export const ELEVENLABS_BASE_URL = 'https://api.elevenlabs.io';
/** Default for giving up on a request or context that owes audio and sends nothing. */
export const DEFAULT_STALL_TIMEOUT_MS = 3_000;

export interface ElevenLabsTtsOptions {
  settings: TtsSettings;
  apiKey: string | undefined;
  /** Replaces https://api.elevenlabs.io (a simulator, a proxy). */
  baseUrl?: string | undefined;
  clock: Clock;
  /** Fail with a timeout when audio is owed and nothing arrives for this long (ms). */
  stallTimeoutMs?: number;
}

export interface ElevenLabsHttpTtsOptions extends ElevenLabsTtsOptions {
  /** Requests in flight at once within a reply (default 2: the chunk playing and the next). */
  maxConcurrentRequests?: number;
}

export interface ElevenLabsVoiceSettings {
  stability?: number;
  similarityBoost?: number;
  style?: number;
  useSpeakerBoost?: boolean;
  speed?: number;
}

export interface ElevenLabsWebSocketTtsOptions extends ElevenLabsTtsOptions {
  /** `inactivity_timeout` asked of the server (s, at most 180; default 60). */
  inactivityTimeoutS?: number;
  /** Keep-alive after this long without sending anything (ms; default a third of the inactivity timeout; 0: none). */
  keepAliveMs?: number;
  /**
   * `auto_mode`: render each text message as it arrives, which ElevenLabs documents for whole
   * phrases only. Default false: the server schedules its renders (`chunkLengthSchedule`) and the
   * client flushes a reply's first text and each sentence end, so speech starts as soon as with
   * auto mode while text cut mid-phrase is rendered with what follows it.
   */
  autoMode?: boolean;
  /** `generation_config.chunk_length_schedule` sent when each context opens (without auto mode; default DEFAULT_CHUNK_LENGTH_SCHEDULE). */
  chunkLengthSchedule?: number[];
  /** Sent with the socket's first context only: ElevenLabs refuses (1008) a later context that changes them. */
  voiceSettings?: ElevenLabsVoiceSettings;
  /** Open the socket at construction (default true; false: at the first reply). */
  warm?: boolean;
}

type PcmFormat = 'pcm_16000' | 'pcm_22050' | 'pcm_24000';

function pcmFormat(settings: TtsSettings): { format: PcmFormat; sampleRate: number } {
  return { format: `pcm_${settings.sample_rate}`, sampleRate: Number(settings.sample_rate) };
}

// ---------- errors ----------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{detail: {status, message}}` (or `{detail: "..."}`, or any JSON) → its status and message. */
function errorDetail(body: unknown): { status?: string; message: string } {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return { message: body.slice(0, 300) || 'no details' };
    }
  }
  const detail = isRecord(parsed) ? parsed.detail : undefined;
  if (isRecord(detail)) {
    const status = typeof detail.status === 'string' ? detail.status : undefined;
    const message = typeof detail.message === 'string' ? detail.message : JSON.stringify(detail);
    return { status, message };
  }
  if (typeof detail === 'string') return { message: detail };
  if (isRecord(parsed) && typeof parsed.message === 'string') return { message: parsed.message };
  return { message: parsed === undefined ? 'no details' : JSON.stringify(parsed).slice(0, 300) };
}

/** An HTTP error status from ElevenLabs (request or socket upgrade) as a ProviderError. */
export function elevenLabsStatusError(status: number, body: unknown): ProviderError {
  const detail = errorDetail(body);
  if (detail.status === 'quota_exceeded') {
    return new ProviderError(
      'ElevenLabs',
      'rate_limited',
      `character quota exceeded (${status}): ${detail.message}`,
      false,
      status,
    );
  }
  return fromStatus('ElevenLabs', status, detail.message);
}

/** Any failure of a request as a ProviderError. */
export function toElevenLabsError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof ElevenLabsTimeoutError) {
    return new ProviderError('ElevenLabs', 'timeout', 'the request timed out', true);
  }
  if (error instanceof ElevenLabsError && error.statusCode !== undefined) {
    return elevenLabsStatusError(error.statusCode, error.body);
  }
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return new ProviderError('ElevenLabs', 'connection', `connection failed: ${message}${cause}`, true);
}

// ---------- shared pieces ----------

/** Little-endian 16-bit PCM bytes → samples, keeping an odd trailing byte for the next piece. */
class PcmDecoder {
  private carry: number | undefined;

  decode(bytes: Uint8Array): Int16Array {
    let buf = bytes;
    if (this.carry !== undefined) {
      buf = new Uint8Array(bytes.length + 1);
      buf[0] = this.carry;
      buf.set(bytes, 1);
    }
    const n = buf.length >> 1;
    const view = new DataView(buf.buffer, buf.byteOffset, n * 2);
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
    this.carry = buf.length & 1 ? buf[buf.length - 1] : undefined;
    return out;
  }
}

/** A timer on the clock that fires unless kicked within `ms`. */
class Watchdog {
  private handle: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly ms: number,
    private readonly onStall: () => void,
  ) {}

  kick(): void {
    this.stop();
    if (this.ms > 0) this.handle = this.clock.setTimeout(() => this.onStall(), this.ms);
  }

  stop(): void {
    this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }
}

function stalled(ms: number, what: string): ProviderError {
  return new ProviderError('ElevenLabs', 'timeout', `no audio for ${ms / 1000} s (${what})`, true);
}

// ---------- HTTP ----------

/** Characters of earlier text sent as `previous_text`, for continuity across requests. */
const PREVIOUS_TEXT_CHARS = 500;

/** One request of a reply: its chunk's audio, in a queue the reply drains in order. */
class HttpChunkRequest {
  readonly audio = new AsyncQueue<TtsAudio>();
  state: 'waiting' | 'running' | 'done' = 'waiting';
  private readonly controller = new AbortController();

  constructor(
    private readonly client: ElevenLabsClient,
    private readonly options: ElevenLabsHttpTtsOptions,
    private readonly text: string,
    private readonly previousText: string,
    private readonly replySignal: AbortSignal,
  ) {
    const abort = () => this.abort();
    if (replySignal.aborted) abort();
    else replySignal.addEventListener('abort', abort, { once: true });
  }

  async run(): Promise<void> {
    this.state = 'running';
    const { settings, clock } = this.options;
    const { format, sampleRate } = pcmFormat(settings);
    const stallMs = this.options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    let stall: ProviderError | undefined;
    const watchdog = new Watchdog(clock, stallMs, () => {
      stall = stalled(stallMs, 'HTTP stream');
      this.controller.abort();
    });
    watchdog.kick();
    try {
      const stream = await this.client.textToSpeech.stream(
        settings.voice_id,
        {
          text: this.text,
          modelId: settings.model_id,
          outputFormat: format,
          previousText: this.previousText || undefined,
        },
        { abortSignal: this.controller.signal, maxRetries: 0 },
      );
      const reader = stream.getReader();
      const decoder = new PcmDecoder();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          watchdog.kick();
          const samples = decoder.decode(value);
          if (samples.length) this.audio.push({ samples, sampleRate });
        }
      } finally {
        reader.releaseLock();
      }
      this.audio.close();
    } catch (error) {
      if (stall) this.audio.fail(stall);
      else if (this.replySignal.aborted) this.audio.close();
      else this.audio.fail(toElevenLabsError(error));
    } finally {
      watchdog.stop();
      this.state = 'done';
    }
  }

  /** Cancels the request (a request not started yet ends at once, empty). */
  abort(): void {
    this.controller.abort();
    if (this.state === 'waiting') {
      this.state = 'done';
      this.audio.close();
    }
  }
}

/** ElevenLabs over HTTP streaming, through the SDK: one request per text chunk. */
export class ElevenLabsHttpTts implements TtsProvider {
  private readonly client: ElevenLabsClient | undefined;

  constructor(private readonly options: ElevenLabsHttpTtsOptions) {
    if (options.apiKey) {
      this.client = new ElevenLabsClient({
        apiKey: options.apiKey,
        baseUrl: options.baseUrl ?? ELEVENLABS_BASE_URL,
        maxRetries: 0,
      });
    }
  }

  synthesize(request: TtsRequest): AsyncIterable<TtsAudio> {
    return this.run(request);
  }

  private async *run(request: TtsRequest): AsyncGenerator<TtsAudio> {
    const client = this.client;
    if (!client) throw missingKey('ElevenLabs');
    const { signal } = request;
    if (signal.aborted) return;
    const maxInFlight = Math.max(1, this.options.maxConcurrentRequests ?? 2);
    const reply = new AbortController();
    const requests: HttpChunkRequest[] = [];
    const input = { done: false, error: undefined as unknown, wake: () => {} };
    const changed = () =>
      new Promise<void>((resolve) => {
        input.wake = resolve;
        if (reply.signal.aborted) resolve();
      });
    const onAbort = () => {
      reply.abort();
      input.wake();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const startWaiting = () => {
      let running = requests.filter((r) => r.state === 'running').length;
      for (const r of requests) {
        if (running >= maxInFlight) break;
        if (r.state !== 'waiting') continue;
        running++;
        void r.run().then(startWaiting);
      }
    };

    void (async () => {
      let previous = '';
      try {
        for await (const text of request.text) {
          if (reply.signal.aborted) break;
          if (!text.trim()) continue; // nothing to say; ElevenLabs refuses blank text
          requests.push(
            new HttpChunkRequest(
              client,
              this.options,
              text,
              previous.slice(-PREVIOUS_TEXT_CHARS),
              reply.signal,
            ),
          );
          previous += text;
          startWaiting();
          input.wake();
        }
      } catch (error) {
        input.error = error;
      } finally {
        input.done = true;
        input.wake();
      }
    })();

    try {
      for (let i = 0; ; i++) {
        while (i >= requests.length && !input.done && !reply.signal.aborted) await changed();
        if (reply.signal.aborted) return;
        const next = requests[i];
        if (!next) break;
        for await (const audio of next.audio) {
          if (reply.signal.aborted) return;
          yield audio;
        }
      }
      if (input.error !== undefined) throw input.error;
    } catch (error) {
      if (signal.aborted) return;
      throw toElevenLabsError(error);
    } finally {
      signal.removeEventListener('abort', onAbort);
      // Whatever is still in flight (the consumer left, or a request failed) is cancelled.
      reply.abort();
      for (const r of requests) r.abort();
    }
  }
}

// ---------- WebSocket ----------

const DEFAULT_INACTIVITY_TIMEOUT_S = 60;
const MAX_INACTIVITY_TIMEOUT_S = 180;
/** Contexts one multi-context socket may hold at once: ElevenLabs' documented limit. */
export const MAX_CONTEXTS_PER_SOCKET = 5;
/**
 * The server frees a closed context's slot when it has finished closing it, and then sends its
 * isFinal. One that never comes is given up on after this long.
 */
export const CONTEXT_RELEASE_TIMEOUT_MS = 5_000;
/** Renders once 50 characters are buffered (ElevenLabs' smallest step), then in growing steps. */
export const DEFAULT_CHUNK_LENGTH_SCHEDULE: readonly number[] = [50, 120, 160, 250];
/** Tolerance (ms) when deciding that a character's audio has been delivered (alignment is in whole ms). */
const ALIGNMENT_TOLERANCE_MS = 1;
/** A text that ends a sentence (what follows it starts a new phrase). */
const SENTENCE_END = /[.!?…]["'’”)\]]*\s*$/;

interface Alignment {
  chars: string[];
  starts: number[];
  durations: number[];
}

function parseAlignment(value: unknown): Alignment | undefined {
  if (!isRecord(value)) return undefined;
  const chars = value.chars;
  const starts = value.charStartTimesMs;
  const durations = value.charDurationsMs ?? value.charsDurationsMs;
  if (!Array.isArray(chars) || !Array.isArray(starts) || !Array.isArray(durations)) return undefined;
  const n = Math.min(chars.length, starts.length, durations.length);
  return {
    chars: chars.slice(0, n).map(String),
    starts: starts.slice(0, n).map(Number),
    durations: durations.slice(0, n).map(Number),
  };
}

/** `eleven_v3` has no multi-context socket (ElevenLabs documents it). */
export function hasMultiContextSocket(modelId: string): boolean {
  return !modelId.trim().toLowerCase().startsWith('eleven_v3');
}

/**
 * Why the server closed a socket, as a ProviderError. ElevenLabs refuses a wrong key or voice, a
 * changed voice_settings, a sixth context or an exhausted quota with a 1008 close whose reason
 * says which (the error message it sent just before, if any, is `detail`).
 */
export function socketCloseError(code: number, reason: string, detail = ''): ProviderError {
  const why = [reason, detail].filter(Boolean).join('; ');
  const text = `the TTS socket closed (${code}${why ? ` ${why}` : ''})`;
  if (code === 1008) {
    if (/voice_settings/i.test(why)) return new ProviderError('ElevenLabs', 'protocol', text, false);
    if (/api[ _-]?key|unauthori[sz]ed|authoriz/i.test(why)) {
      return new ProviderError('ElevenLabs', 'invalid_key', `${code} ${why}`, false);
    }
    if (/voice/i.test(why)) {
      return new ProviderError('ElevenLabs', 'bad_request', `${text}; check the voice (tts.voice_id)`, false);
    }
    if (/model/i.test(why)) {
      return new ProviderError('ElevenLabs', 'bad_request', `${text}; check tts.model_id`, false);
    }
    if (/quota/i.test(why)) return new ProviderError('ElevenLabs', 'rate_limited', text, false);
  }
  return new ProviderError('ElevenLabs', 'connection', text, true);
}

/**
 * One reply on the socket. It holds one of the socket's slots from its opening until the server
 * says it is closed (its isFinal), which for a cancelled context comes after the consumer has
 * stopped listening.
 */
class TtsContext {
  /**
   * open: taking text; closing: flush and close_context sent, its audio still coming; cancelled:
   * close_context sent and nobody listening, waiting for the server to finish closing it; done:
   * its slot is free.
   */
  state: 'open' | 'closing' | 'cancelled' | 'done' = 'open';
  private readonly decoder = new PcmDecoder();
  private audioMs = 0;
  /** End times (ms into the context's audio) of aligned characters not yet delivered in full. */
  private pendingEnds: number[] = [];
  private aligned = false;
  private readonly watchdog: Watchdog;
  private readonly releaseTimer: Watchdog;
  private textSent = false;

  constructor(
    readonly id: string,
    private readonly socket: TtsSocket,
    private readonly out: AsyncQueue<TtsAudio>,
    private readonly sampleRate: number,
    clock: Clock,
    stallMs: number,
    private readonly autoMode: boolean,
  ) {
    this.watchdog = new Watchdog(clock, stallMs, () => {
      this.fail(stalled(stallMs, `context ${id} after the end of its text`));
    });
    this.releaseTimer = new Watchdog(clock, CONTEXT_RELEASE_TIMEOUT_MS, () => this.release());
  }

  /** Without auto mode, the reply's first text and each sentence end are flushed (rendered now). */
  sendText(text: string): void {
    const flush = !this.autoMode && (!this.textSent || SENTENCE_END.test(text));
    this.textSent = true;
    this.socket.send(wire.SendTextMulti.jsonOrThrow({ text, contextId: this.id, flush }));
  }

  /** The reply's text is complete: render the rest, and close so that isFinal follows the last audio. */
  end(): void {
    if (this.state !== 'open') return;
    this.socket.send({ context_id: this.id, flush: true });
    this.socket.send(wire.CloseContext.jsonOrThrow({ contextId: this.id, closeContext: true }));
    this.state = 'closing';
    this.watchdog.kick();
  }

  /**
   * The consumer stops listening (abort, or it left): an open context is closed server-side (what
   * was not rendered is not), and the iterable ends quietly, or with `error`. The slot stays taken
   * until the server has finished closing the context.
   */
  cancel(error?: unknown): void {
    if (this.state === 'done' || this.state === 'cancelled') return;
    if (!this.socket.isOpen) {
      this.fail(error);
      return;
    }
    // After flush + close_context ElevenLabs renders the flushed text whatever we send: only its
    // isFinal is awaited then.
    if (this.state === 'open') {
      try {
        this.socket.send(wire.CloseContext.jsonOrThrow({ contextId: this.id, closeContext: true }));
      } catch {
        // the socket is going away: nothing more will be rendered for it anyway
      }
    }
    this.state = 'cancelled';
    this.watchdog.stop();
    this.releaseTimer.kick();
    if (error === undefined) this.out.close();
    else this.out.fail(error);
  }

  /** Fails the consumer and frees the slot (the socket is going away, or the context is stuck). */
  fail(error?: unknown): void {
    if (this.state === 'done') return;
    const listening = this.state !== 'cancelled';
    this.release();
    if (!listening) return;
    if (error === undefined) this.out.close();
    else this.out.fail(error);
  }

  /** Stops sending keep-alives for it, and lets go of its slot. */
  private release(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.watchdog.stop();
    this.releaseTimer.stop();
    this.socket.released(this);
  }

  onMessage(message: Record<string, unknown>): void {
    if (this.state === 'done') return;
    const final = message.isFinal === true || message.is_final === true;
    if (this.state === 'cancelled') {
      if (final) this.release();
      return;
    }
    if (this.state === 'closing') this.watchdog.kick();
    if (typeof message.audio === 'string' && message.audio.length) this.onAudio(message);
    if (final) {
      this.release();
      this.out.close();
    }
  }

  private onAudio(message: Record<string, unknown>): void {
    const samples = this.decoder.decode(Buffer.from(message.audio as string, 'base64'));
    const alignment = parseAlignment(message.alignment) ?? parseAlignment(message.normalizedAlignment);
    if (alignment) {
      this.aligned = true;
      for (let i = 0; i < alignment.chars.length; i++) {
        this.pendingEnds.push(this.audioMs + alignment.starts[i]! + alignment.durations[i]!);
      }
    }
    this.audioMs += (samples.length / this.sampleRate) * 1000;
    let characters: number | undefined;
    if (this.aligned) {
      const heard = this.audioMs + ALIGNMENT_TOLERANCE_MS;
      const before = this.pendingEnds.length;
      this.pendingEnds = this.pendingEnds.filter((end) => end > heard);
      characters = before - this.pendingEnds.length;
    }
    if (samples.length || characters) {
      this.out.push(
        characters === undefined
          ? { samples, sampleRate: this.sampleRate }
          : { samples, sampleRate: this.sampleRate, characters },
      );
    }
  }
}

/**
 * One multi-context socket: opening, routing by context id, keep-alive, the slots its contexts
 * hold (at most MAX_CONTEXTS_PER_SOCKET, counted until the server has closed each), and what its
 * close means for the contexts on it.
 */
class TtsSocket {
  readonly opened: Promise<void>;
  closed = false;
  private readonly ws: WebSocket;
  private readonly contexts = new Map<string, TtsContext>();
  /** Slots promised to replies that are waiting for the socket to open. */
  private reserved = 0;
  private contextsOpened = 0;
  private readonly keepAlive: Watchdog;
  /** The last error the server sent without naming a context: it explains the close that follows. */
  private lastError = '';

  constructor(
    url: string,
    apiKey: string,
    private readonly clock: Clock,
    keepAliveMs: number,
    private readonly options: ElevenLabsWebSocketTtsOptions,
    private readonly onIdle: (socket: TtsSocket) => void,
  ) {
    this.keepAlive = new Watchdog(clock, keepAliveMs, () => this.sendKeepAlive());
    this.ws = new WebSocket(url, { headers: { 'xi-api-key': apiKey } });
    this.opened = new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => {
        this.keepAlive.kick();
        resolve();
      });
      this.ws.once('unexpected-response', (req, res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', () => {});
        res.on('end', () => {
          reject(elevenLabsStatusError(status, Buffer.concat(chunks).toString('utf8')));
          this.markClosed();
          this.ws.terminate();
        });
      });
      this.ws.on('error', (error) => {
        reject(
          new ProviderError(
            'ElevenLabs',
            'connection',
            `could not open the TTS socket: ${error.message}`,
            true,
          ),
        );
      });
      this.ws.on('close', (code, reason) => reject(socketCloseError(code, reason.toString('utf8'))));
    });
    this.opened.catch(() => this.markClosed());
    this.ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.ws.on('close', (code, reason) => this.onClose(code, reason.toString('utf8')));
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  /** Contexts holding a slot, and slots promised. */
  get slotsInUse(): number {
    return this.contexts.size + this.reserved;
  }

  get hasFreeSlot(): boolean {
    return !this.closed && this.slotsInUse < MAX_CONTEXTS_PER_SOCKET;
  }

  reserve(): void {
    this.reserved++;
  }

  unreserve(): void {
    this.reserved = Math.max(0, this.reserved - 1);
    if (this.slotsInUse === 0) this.onIdle(this);
  }

  /** Opens a context in a reserved slot. Voice settings go with the socket's first context only. */
  openContext(id: string, out: AsyncQueue<TtsAudio>): TtsContext {
    const options = this.options;
    const { sampleRate } = pcmFormat(options.settings);
    const autoMode = options.autoMode ?? false;
    const context = new TtsContext(
      id,
      this,
      out,
      sampleRate,
      this.clock,
      options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
      autoMode,
    );
    this.reserved = Math.max(0, this.reserved - 1);
    this.contexts.set(id, context);
    const first = this.contextsOpened++ === 0;
    const schedule = options.chunkLengthSchedule ?? (autoMode ? undefined : DEFAULT_CHUNK_LENGTH_SCHEDULE);
    this.send(
      wire.InitializeConnectionMulti.jsonOrThrow({
        text: ' ',
        contextId: id,
        ...(first && options.voiceSettings ? { voiceSettings: options.voiceSettings } : {}),
        ...(schedule ? { generationConfig: { chunkLengthSchedule: [...schedule] } } : {}),
      }),
    );
    return context;
  }

  send(message: unknown): void {
    if (!this.isOpen) throw new ProviderError('ElevenLabs', 'connection', 'the TTS socket is closed', true);
    this.ws.send(JSON.stringify(message));
    this.keepAlive.kick();
  }

  /** The server has closed the context (or it was given up on): its slot is free. */
  released(context: TtsContext): void {
    if (this.contexts.get(context.id) === context) this.contexts.delete(context.id);
    if (this.slotsInUse === 0) this.onIdle(this);
  }

  /** close_socket, then close; the contexts still open end quietly. */
  shutdown(): void {
    this.keepAlive.stop();
    for (const context of [...this.contexts.values()]) context.fail();
    if (this.isOpen) {
      this.ws.send(JSON.stringify(wire.CloseSocket.jsonOrThrow({ closeSocket: true })));
      this.ws.close(1000);
    } else {
      this.ws.terminate();
    }
    this.markClosed();
  }

  /**
   * Each open context's own inactivity timer is reset; with none open, a context-less `{"text":""}`
   * keeps the socket alive (a keep-alive naming a context would open it, and it would hold a slot).
   */
  private sendKeepAlive(): void {
    if (!this.isOpen) return;
    const open = [...this.contexts.values()].filter((c) => c.state === 'open');
    if (!open.length) {
      this.send({ text: '' });
      return;
    }
    for (const context of open)
      this.send(wire.KeepContextAlive.jsonOrThrow({ text: '', contextId: context.id }));
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    let message: unknown;
    const text = isBinary ? '' : String(data);
    try {
      message = JSON.parse(text);
    } catch {
      message = undefined;
    }
    if (!isRecord(message)) {
      const preview = text.length > 60 ? `${text.slice(0, 60)}…` : text;
      this.terminate(
        new ProviderError(
          'ElevenLabs',
          'protocol',
          `malformed message on the TTS socket${isBinary ? ' (binary)' : `: ${preview}`}`,
          true,
        ),
      );
      return;
    }
    const id =
      typeof message.contextId === 'string'
        ? message.contextId
        : typeof message.context_id === 'string'
          ? message.context_id
          : undefined;
    const context = id !== undefined ? this.contexts.get(id) : undefined;
    const isError =
      message.audio === undefined && message.isFinal === undefined && message.is_final === undefined;
    if (isError && (typeof message.error === 'string' || typeof message.message === 'string')) {
      const detail = [message.error, message.message].filter((v) => typeof v === 'string').join(': ');
      // An error is about its context only (LiveKit handles it so too); one about a context no
      // longer tracked concerns nobody; one naming none may explain a close that follows.
      if (id === undefined) this.lastError = detail;
      else
        context?.fail(
          new ProviderError('ElevenLabs', 'protocol', `the TTS socket reported: ${detail}`, true),
        );
      return;
    }
    context?.onMessage(message); // messages for a context already closed are dropped
  }

  /** Fails every context and drops the socket (a new one opens for the next reply). */
  private terminate(error: ProviderError): void {
    this.markClosed();
    for (const context of [...this.contexts.values()]) context.fail(error);
    this.ws.terminate();
  }

  private onClose(code: number, reason: string): void {
    this.markClosed();
    if (!this.contexts.size) return;
    const error = socketCloseError(code, reason, this.lastError);
    for (const context of [...this.contexts.values()]) context.fail(error);
  }

  private markClosed(): void {
    this.closed = true;
    this.keepAlive.stop();
  }
}

/**
 * ElevenLabs over the multi-context WebSocket: one context per reply on a warm socket. A socket
 * holds at most MAX_CONTEXTS_PER_SOCKET contexts, counted until the server has closed each; when
 * the warm socket's slots are all taken (replies cancelled faster than the server closes them,
 * speculations), the reply goes to another socket, which is closed again once it is idle.
 */
export class ElevenLabsWebSocketTts implements TtsProvider {
  /** Open or opening sockets; the first is the warm one. */
  private sockets: TtsSocket[] = [];
  private nextContext = 1;
  /** Sockets opened so far. */
  socketsOpened = 0;

  constructor(private readonly options: ElevenLabsWebSocketTtsOptions) {
    if (options.apiKey && options.warm !== false && hasMultiContextSocket(options.settings.model_id)) {
      this.connect().catch(() => {});
    }
  }

  /** The socket URL (the key goes in the `xi-api-key` header, not here). */
  get url(): string {
    const { settings } = this.options;
    const base = (this.options.baseUrl ?? ELEVENLABS_BASE_URL).replace(/^http/, 'ws').replace(/\/+$/, '');
    const timeout = Math.min(
      MAX_INACTIVITY_TIMEOUT_S,
      Math.max(1, Math.round(this.options.inactivityTimeoutS ?? DEFAULT_INACTIVITY_TIMEOUT_S)),
    );
    const query = new URLSearchParams({
      model_id: settings.model_id,
      output_format: pcmFormat(settings).format,
      inactivity_timeout: String(timeout),
      auto_mode: String(this.options.autoMode ?? false),
    });
    return `${base}/v1/text-to-speech/${encodeURIComponent(settings.voice_id)}/multi-stream-input?${query}`;
  }

  /** Opens the warm socket unless one is open or opening; resolves when it is open. */
  async connect(): Promise<void> {
    this.prune();
    const socket = this.sockets[0] ?? this.openSocket();
    await socket.opened;
  }

  /** Closes the sockets (close_socket first); a later reply opens a new one. */
  async close(): Promise<void> {
    for (const socket of this.sockets.splice(0)) socket.shutdown();
  }

  synthesize(request: TtsRequest): AsyncIterable<TtsAudio> {
    return this.run(request);
  }

  private openSocket(): TtsSocket {
    const apiKey = this.options.apiKey!;
    const inactivityMs =
      Math.min(MAX_INACTIVITY_TIMEOUT_S, this.options.inactivityTimeoutS ?? DEFAULT_INACTIVITY_TIMEOUT_S) *
      1000;
    const socket = new TtsSocket(
      this.url,
      apiKey,
      this.options.clock,
      this.options.keepAliveMs ?? inactivityMs / 3,
      this.options,
      (idle) => this.onIdle(idle),
    );
    this.sockets.push(socket);
    this.socketsOpened++;
    return socket;
  }

  /** A socket with a free slot, the slot reserved (a new socket when every one is full). */
  private acquire(): TtsSocket {
    this.prune();
    const socket = this.sockets.find((s) => s.hasFreeSlot) ?? this.openSocket();
    socket.reserve();
    return socket;
  }

  /** An extra socket with nothing on it is closed; the warm one stays. */
  private onIdle(socket: TtsSocket): void {
    if (socket === this.sockets[0] || !this.sockets.includes(socket)) return;
    this.sockets = this.sockets.filter((s) => s !== socket);
    socket.shutdown();
  }

  private prune(): void {
    this.sockets = this.sockets.filter((s) => !s.closed);
  }

  private async *run(request: TtsRequest): AsyncGenerator<TtsAudio> {
    if (!this.options.apiKey) throw missingKey('ElevenLabs');
    const model = this.options.settings.model_id;
    if (!hasMultiContextSocket(model)) {
      throw new ProviderError(
        'ElevenLabs',
        'bad_request',
        `the model "${model}" has no multi-context WebSocket (ElevenLabs documents this); set tts.transport to "http" to use it, or choose another tts.model_id`,
        false,
      );
    }
    const { signal } = request;
    if (signal.aborted) return;
    const out = new AsyncQueue<TtsAudio>();
    let context: TtsContext | undefined;
    let pending: TtsSocket | undefined;
    const onAbort = () => {
      context?.cancel();
      pending?.unreserve();
      pending = undefined;
      out.close();
    };
    signal.addEventListener('abort', onAbort, { once: true });

    void (async () => {
      try {
        for await (const text of request.text) {
          if (signal.aborted || context?.state === 'done' || context?.state === 'cancelled') return;
          if (!text.trim()) continue; // " " opens a context and "" keeps one alive: never send them as text
          if (!context) {
            const socket = this.acquire();
            pending = socket;
            await socket.opened;
            if (signal.aborted || pending !== socket) return;
            pending = undefined;
            context = socket.openContext(`cue-${this.nextContext++}`, out);
          }
          context.sendText(text);
        }
        if (signal.aborted) return;
        if (context) context.end();
        else out.close(); // no text: nothing to say
      } catch (error) {
        pending?.unreserve();
        pending = undefined;
        if (signal.aborted) return;
        if (context) context.cancel(error);
        else out.fail(error);
      }
    })();

    try {
      for await (const audio of out) {
        if (signal.aborted) return;
        yield audio;
      }
    } catch (error) {
      if (signal.aborted) return;
      throw toElevenLabsError(error);
    } finally {
      signal.removeEventListener('abort', onAbort);
      context?.cancel(); // the consumer left early: cancel server-side too
    }
  }
}
