/**
 * Speech-to-text through Deepgram's streaming API with the official `@deepgram/sdk`: Nova on
 * `/v1/listen` (interim and final Results, SpeechStarted, UtteranceEnd) or Flux on `/v2/listen`
 * (TurnInfo turn events), chosen by `stt.provider`.
 *
 * What the SDK does, and what this class does about it (read from @deepgram/sdk 5.13):
 * - `listen.vN.connect()` returns a closed socket; `connect()` opens it and `waitForOpen()`
 *   resolves on open. A refused upgrade (401, 400, ...) surfaces only as an error whose message
 *   is `Unexpected server response: <status>` (the JSON body is not exposed), preceded by a
 *   synthetic close with code 1000; the status is mapped to a ProviderError here.
 * - An error mid-session is reported the same way: a synthetic close 1000, then the error. A
 *   dropped connection closes with its real code (1006 when the TCP connection just died).
 * - A text frame that is not JSON reaches the message handler as a raw string.
 * - The SDK would reconnect by itself on any close but 1000 (up to 30 times, on wall-clock
 *   timers, replaying nothing): that is switched off (`reconnectAttempts: 0`, `shouldReconnect`
 *   false) and this class reconnects on the injected clock instead, with backoff, replaying the
 *   audio not yet finalised (since the last final / EndOfTurn) plus the audio sent while
 *   disconnected, bounded to `replaySeconds`. The same client (hence the same
 *   `x-deepgram-session-id`) is used for every connection of a stream.
 *
 * Nova interims carry only the text since the last final, as the service sends them; the
 * engine's turn tracker joins the finals and the current interim.
 */
import { DeepgramClient } from '@deepgram/sdk';
import type { SttSettings } from '../../shared/settings';
import type { TurnEventName } from '../../shared/timeline';
import { delay, type Clock, type TimerHandle } from '../engine/clock';
import type { SttEvent, SttProvider, SttStream, SttWord } from '../engine/ports';
import { fromStatus, missingKey, ProviderError } from './errors';

/** KeepAlive is sent when no audio went out for this long (Deepgram closes after 10 s). */
export const KEEPALIVE_INTERVAL_MS = 3000;
/** Most audio kept for a replay after a reconnect. */
export const REPLAY_SECONDS = 30;
/** First reconnect backoff; doubled per failed attempt up to RECONNECT_MAX_DELAY_MS. */
export const RECONNECT_INITIAL_DELAY_MS = 250;
export const RECONNECT_MAX_DELAY_MS = 5000;
/** Reconnect attempts in a row before the stream gives up. */
export const RECONNECT_ATTEMPTS = 6;
/** Flux gets its audio in chunks of this length: Deepgram recommends about 80 ms for Flux. */
export const FLUX_CHUNK_MS = 80;
/** How long close() waits for Deepgram to flush its last results after CloseStream. */
export const CLOSE_TIMEOUT_MS = 2000;

export interface DeepgramSttOptions {
  settings: SttSettings;
  /** The API key (settings or DEEPGRAM_API_KEY, resolved by the caller). */
  apiKey: string | undefined;
  /** Replaces Deepgram's own base URL (a simulator, a proxy); http(s) and ws(s) both work. */
  baseUrl?: string | undefined;
  /** KeepAlive, reconnect backoff and close timeout run on this clock. */
  clock: Clock;
  /** Preemptive generation is on: Flux is asked for EagerEndOfTurn (`eager_eot_threshold`). */
  eager: boolean;
  /** Sample rate of the 16-bit mono audio given to `sendAudio`. */
  sampleRate: number;
  keepAliveIntervalMs?: number;
  replaySeconds?: number;
  reconnect?: { attempts?: number; initialDelayMs?: number; maxDelayMs?: number };
  closeTimeoutMs?: number;
  /** The SDK's connection timeout (wall clock), seconds. */
  connectTimeoutSeconds?: number;
}

/** Flux thresholds that `configure()` can change mid-stream. */
export interface FluxThresholds {
  eot_threshold?: number;
  eager_eot_threshold?: number;
  eot_timeout_ms?: number;
}

export class DeepgramStt implements SttProvider {
  readonly turnEvents: boolean;

  constructor(private readonly options: DeepgramSttOptions) {
    this.turnEvents = options.settings.provider === 'deepgram-flux';
  }

  /** Opens a stream; rejects with a ProviderError (missing_key before any connection, invalid_key on 401/403, ...). */
  async connect(onEvent: (event: SttEvent) => void): Promise<DeepgramSttStream> {
    const key = this.options.apiKey?.trim();
    if (!key) throw missingKey('Deepgram');
    const stream = new DeepgramSttStream(this.options, key, onEvent);
    await stream.open();
    return stream;
  }
}

type Client = DeepgramClient;
type NovaSocket = Awaited<ReturnType<Client['listen']['v1']['connect']>>;
type FluxSocket = Awaited<ReturnType<Client['listen']['v2']['connect']>>;
type AnySocket = NovaSocket | FluxSocket;

/** One WebSocket connection of a stream. */
interface Link {
  socket: AnySocket;
  /** Stream sample index of the connection's first audio sample (set when it opens). */
  base: number;
  /** Flux: the stream's number of the connection's turn 0. */
  fluxTurnBase: number;
  opened: boolean;
  /** The link's end has been handled (or it failed to open). */
  dead: boolean;
  closeCode: number | null;
  closeReason: string;
  error: Error | null;
}

type State = 'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed';

/** Audio sent, kept from the last finalised point for a replay, bounded. */
class AudioHistory {
  private chunks: { start: number; samples: Int16Array }[] = [];
  private held = 0;

  constructor(private readonly limit: number) {}

  /** Stream sample index of the oldest sample held (or `fallback` when empty). */
  firstSample(fallback: number): number {
    return this.chunks[0]?.start ?? fallback;
  }

  push(start: number, samples: Int16Array): void {
    this.chunks.push({ start, samples });
    this.held += samples.length;
    while (this.held > this.limit && this.chunks.length) {
      const first = this.chunks[0]!;
      const excess = this.held - this.limit;
      if (first.samples.length <= excess) {
        this.chunks.shift();
        this.held -= first.samples.length;
      } else {
        this.chunks[0] = { start: first.start + excess, samples: first.samples.subarray(excess) };
        this.held -= excess;
      }
    }
  }

  /** Forgets audio before stream sample `cut`. */
  trimBefore(cut: number): void {
    while (this.chunks.length) {
      const first = this.chunks[0]!;
      const end = first.start + first.samples.length;
      if (end <= cut) {
        this.chunks.shift();
        this.held -= first.samples.length;
      } else {
        if (first.start < cut) {
          this.chunks[0] = { start: cut, samples: first.samples.subarray(cut - first.start) };
          this.held -= cut - first.start;
        }
        return;
      }
    }
  }

  /** The audio held, in order. */
  all(): Int16Array[] {
    return this.chunks.map((c) => c.samples);
  }
}

/** One transcription stream; survives dropped connections (see the module comment). */
export class DeepgramSttStream implements SttStream {
  private readonly client: Client;
  private readonly clock: Clock;
  private readonly flux: boolean;
  private readonly sampleRate: number;
  private readonly history: AudioHistory;
  private readonly keepAliveMs: number;
  private readonly attempts: number;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private state: State = 'connecting';
  private link: Link | null = null;
  /** Samples given to sendAudio so far. */
  private sent = 0;
  /** Stream sample index up to which Deepgram has finalised the audio. */
  private finalizedEnd = 0;
  private lastSentAt: number;
  private keepAliveTimer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private failedAttempts = 0;
  private finalizePending = false;
  /** Flux: audio waiting to make up a chunk of FLUX_CHUNK_MS. */
  private readonly fluxPending: Int16Array[] = [];
  private fluxPendingSamples = 0;
  /** Flux turns of this stream that have ended (EndOfTurn). */
  private fluxTurnsEnded = 0;
  private thresholds: FluxThresholds = {};
  private readonly configures: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private closeWaiter: (() => void) | null = null;
  private closing: Promise<void> | null = null;
  private opened = 0;

  constructor(
    private readonly options: DeepgramSttOptions,
    apiKey: string,
    private readonly onEvent: (event: SttEvent) => void,
  ) {
    this.clock = options.clock;
    this.flux = options.settings.provider === 'deepgram-flux';
    this.sampleRate = options.sampleRate;
    this.history = new AudioHistory(
      Math.round((options.replaySeconds ?? REPLAY_SECONDS) * options.sampleRate),
    );
    this.keepAliveMs = options.keepAliveIntervalMs ?? KEEPALIVE_INTERVAL_MS;
    this.attempts = options.reconnect?.attempts ?? RECONNECT_ATTEMPTS;
    this.initialDelayMs = options.reconnect?.initialDelayMs ?? RECONNECT_INITIAL_DELAY_MS;
    this.maxDelayMs = options.reconnect?.maxDelayMs ?? RECONNECT_MAX_DELAY_MS;
    this.lastSentAt = this.clock.now();
    this.client = new DeepgramClient({
      apiKey,
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    });
    if (this.flux) {
      const flux = options.settings.flux;
      this.thresholds = { eot_threshold: flux.eot_threshold, eot_timeout_ms: flux.eot_timeout_ms };
      if (options.eager) this.thresholds.eager_eot_threshold = flux.eager_eot_threshold;
    }
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Connections attempted so far (1 + reconnect attempts). */
  get connections(): number {
    return this.opened;
  }

  /** @internal The first connection; DeepgramStt.connect() awaits it. */
  async open(): Promise<void> {
    try {
      await this.openLink();
    } catch (error) {
      this.state = 'closed';
      throw error;
    }
    this.armKeepAlive();
  }

  /**
   * Audio to transcribe. Nova gets it as it comes; Flux in chunks of FLUX_CHUNK_MS (what Deepgram
   * recommends for Flux), the remainder going out with the stream's close.
   */
  sendAudio(samples: Int16Array): void {
    if (this.state === 'closing' || this.state === 'closed' || samples.length === 0) return;
    if (!this.flux) {
      // A copy: the caller may reuse its buffer, and the history must keep what was sent.
      this.forward(samples.slice());
      return;
    }
    this.fluxPending.push(samples.slice());
    this.fluxPendingSamples += samples.length;
    const chunk = Math.round((FLUX_CHUNK_MS * this.sampleRate) / 1000);
    while (this.fluxPendingSamples >= chunk) this.forward(this.takeFluxPending(chunk));
  }

  /** Audio handed on: kept for a replay, sent when the socket is open. */
  private forward(samples: Int16Array): void {
    this.history.push(this.sent, samples);
    this.sent += samples.length;
    this.lastSentAt = this.clock.now();
    if (this.state === 'open' && this.link) this.sendMedia(this.link, samples);
  }

  /** The first `count` samples waiting to go to Flux (all of them when fewer wait). */
  private takeFluxPending(count: number): Int16Array {
    const n = Math.min(count, this.fluxPendingSamples);
    const out = new Int16Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.fluxPending[0]!;
      const take = Math.min(head.length, n - filled);
      out.set(head.subarray(0, take), filled);
      filled += take;
      if (take === head.length) this.fluxPending.shift();
      else this.fluxPending[0] = head.subarray(take);
    }
    this.fluxPendingSamples -= n;
    return out;
  }

  /** Nova: Deepgram finalises what it has heard (the next Results carry `from_finalize`). Flux: nothing. */
  finalize(): void {
    if (this.flux || this.state === 'closing' || this.state === 'closed') return;
    if (
      this.state === 'open' &&
      this.link &&
      this.trySend(() => (this.link!.socket as NovaSocket).sendFinalize({ type: 'Finalize' }))
    ) {
      return;
    }
    this.finalizePending = true;
  }

  /** Flux: retunes the end-of-turn thresholds mid-stream; resolves on ConfigureSuccess, rejects on ConfigureFailure. */
  configure(thresholds: FluxThresholds): Promise<void> {
    if (!this.flux) {
      return Promise.reject(
        new ProviderError('Deepgram', 'bad_request', 'Configure is a Flux (v2) message', false),
      );
    }
    if (this.state !== 'open' || !this.link) {
      return Promise.reject(new ProviderError('Deepgram', 'connection', 'the stream is not connected', true));
    }
    const socket = this.link.socket as FluxSocket;
    return new Promise<void>((resolve, reject) => {
      this.configures.push({
        resolve: () => {
          this.thresholds = { ...this.thresholds, ...thresholds };
          resolve();
        },
        reject,
      });
      if (!this.trySend(() => socket.sendConfigure({ type: 'Configure', thresholds }))) {
        this.configures.pop();
        reject(new ProviderError('Deepgram', 'connection', 'the stream is not connected', true));
      }
    });
  }

  /** Flux: sends the settings' thresholds with Configure. Nova options need a new connection. */
  async retune(settings: SttSettings, eager: boolean): Promise<boolean> {
    if (!this.flux) return false;
    const { eot_threshold, eager_eot_threshold, eot_timeout_ms } = settings.flux;
    await this.configure({ eot_threshold, eot_timeout_ms, ...(eager ? { eager_eot_threshold } : {}) });
    return true;
  }

  /** Sends CloseStream and waits (at most `closeTimeoutMs` on the clock) for the last results and the server's close. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.fluxPendingSamples > 0) this.forward(this.takeFluxPending(this.fluxPendingSamples));
    const wasOpen = this.state === 'open';
    this.state = 'closing';
    this.clock.clearTimeout(this.keepAliveTimer);
    this.clock.clearTimeout(this.reconnectTimer);
    this.keepAliveTimer = this.reconnectTimer = undefined;
    const link = this.link;
    if (wasOpen && link && !link.dead) {
      const closed = new Promise<void>((resolve) => (this.closeWaiter = resolve));
      if (this.trySend(() => link.socket.sendCloseStream({ type: 'CloseStream' }))) {
        const timeout = new AbortController();
        await Promise.race([
          closed,
          delay(this.clock, this.options.closeTimeoutMs ?? CLOSE_TIMEOUT_MS, timeout.signal),
        ]);
        timeout.abort();
      }
      this.closeWaiter = null;
    }
    this.finish();
  }

  // ---------- connections ----------

  private async openLink(): Promise<void> {
    const socket = await this.createSocket();
    const link: Link = {
      socket,
      base: this.sent,
      fluxTurnBase: this.fluxTurnsEnded,
      opened: false,
      dead: false,
      closeCode: null,
      closeReason: '',
      error: null,
    };
    this.link = link;
    this.opened++;
    socket.on('open', () => this.onOpen(link));
    socket.on('message', (message: unknown) => this.onMessage(link, message));
    socket.on('close', (event) => this.onClose(link, event.code, event.reason));
    socket.on('error', (error) => this.onError(link, error));
    socket.connect();
    try {
      await socket.waitForOpen();
    } catch (event) {
      link.dead = true;
      if (this.link === link) this.link = null;
      try {
        socket.close();
      } catch {
        // already closed
      }
      throw connectError(event);
    }
  }

  private async createSocket(): Promise<AnySocket> {
    const common = {
      reconnectAttempts: 0,
      shouldReconnect: () => false,
      connectionTimeoutInSeconds: this.options.connectTimeoutSeconds ?? 10,
    };
    if (this.flux) {
      const flux = this.options.settings.flux;
      return this.client.listen.v2.connect({
        model: flux.model,
        encoding: 'linear16',
        sample_rate: this.sampleRate,
        ...this.thresholds,
        ...common,
      });
    }
    const nova = this.options.settings.nova;
    return this.client.listen.v1.connect({
      model: nova.model,
      encoding: 'linear16',
      sample_rate: this.sampleRate,
      channels: 1,
      interim_results: 'true',
      endpointing: nova.endpointing_ms,
      utterance_end_ms: nova.utterance_end_ms,
      vad_events: 'true',
      smart_format: nova.smart_format ? 'true' : 'false',
      ...common,
    });
  }

  /** The SDK's open event (synchronous): replay what Deepgram has not finalised, then go live. */
  private onOpen(link: Link): void {
    link.opened = true;
    if (link !== this.link || link.dead) return;
    if (this.state === 'closing' || this.state === 'closed') {
      link.dead = true;
      link.socket.close();
      return;
    }
    this.state = 'open';
    this.failedAttempts = 0;
    // The new connection's time 0 is the first sample replayed.
    link.base = this.history.firstSample(this.sent);
    for (const samples of this.history.all()) {
      if (!this.sendMedia(link, samples)) return;
    }
    if (this.finalizePending) {
      this.finalizePending = false;
      this.finalize();
    }
  }

  private onClose(link: Link, code: number, reason: string): void {
    if (link.dead || !link.opened) return; // a failed open is reported by waitForOpen
    link.closeCode ??= code;
    link.closeReason ||= reason;
    // The SDK reports an error as a close (1000) followed at once by the error: decide after both.
    queueMicrotask(() => this.linkEnded(link));
  }

  private onError(link: Link, error: Error): void {
    if (link.dead || !link.opened) return;
    link.error ??= error;
    queueMicrotask(() => this.linkEnded(link));
  }

  private linkEnded(link: Link): void {
    if (link.dead) return;
    link.dead = true;
    if (link !== this.link) return;
    try {
      link.socket.close();
    } catch {
      // already closed
    }
    if (this.state === 'closing' || this.state === 'closed') {
      this.closeWaiter?.();
      return;
    }
    this.failConfigures(new ProviderError('Deepgram', 'connection', 'the connection was lost', true));
    if (link.closeCode === 1000 && !link.error) {
      this.emit({ type: 'error', message: 'Deepgram: the server ended the stream', recoverable: false });
      this.finish();
      return;
    }
    const why = link.error
      ? link.error.message
      : `close ${link.closeCode ?? '?'}${link.closeReason ? `: ${link.closeReason}` : ''}`;
    this.emit({
      type: 'error',
      message: `Deepgram: connection lost (${why}); reconnecting`,
      recoverable: true,
    });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.failedAttempts >= this.attempts) {
      this.emit({
        type: 'error',
        message: `Deepgram: could not reconnect after ${this.attempts} attempts`,
        recoverable: false,
      });
      this.finish();
      return;
    }
    const wait = Math.min(this.initialDelayMs * 2 ** this.failedAttempts, this.maxDelayMs);
    this.failedAttempts++;
    this.state = 'reconnecting';
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.reconnect();
    }, wait);
  }

  private async reconnect(): Promise<void> {
    if (this.state !== 'reconnecting') return;
    try {
      await this.openLink();
    } catch (error) {
      if (this.state !== 'reconnecting') return;
      const problem = error instanceof ProviderError ? error : connectError(error);
      if (!problem.retryable) {
        this.emit({ type: 'error', message: problem.message, recoverable: false });
        this.finish();
        return;
      }
      this.scheduleReconnect();
    }
  }

  private finish(): void {
    this.state = 'closed';
    this.clock.clearTimeout(this.keepAliveTimer);
    this.clock.clearTimeout(this.reconnectTimer);
    this.keepAliveTimer = this.reconnectTimer = undefined;
    this.failConfigures(new ProviderError('Deepgram', 'connection', 'the stream was closed', false));
    const link = this.link;
    this.link = null;
    if (link && !link.dead) {
      link.dead = true;
      try {
        link.socket.close();
      } catch {
        // already closed
      }
    }
  }

  // ---------- sending ----------

  private sendMedia(link: Link, samples: Int16Array): boolean {
    return this.trySend(() => link.socket.sendMedia(samples));
  }

  /** Runs a send; false when the socket is not open (the SDK throws), the close handler then takes over. */
  private trySend(send: () => void): boolean {
    try {
      send();
      return true;
    } catch {
      return false;
    }
  }

  private armKeepAlive(): void {
    if (this.flux || this.state === 'closing' || this.state === 'closed') return;
    const due = this.lastSentAt + this.keepAliveMs;
    this.keepAliveTimer = this.clock.setTimeout(
      () => {
        this.keepAliveTimer = undefined;
        const now = this.clock.now();
        if (this.state === 'open' && this.link && now - this.lastSentAt >= this.keepAliveMs) {
          const socket = this.link.socket as NovaSocket;
          if (this.trySend(() => socket.sendKeepAlive({ type: 'KeepAlive' }))) this.lastSentAt = now;
        }
        this.armKeepAlive();
      },
      Math.max(0, due - this.clock.now()),
    );
  }

  // ---------- receiving ----------

  private onMessage(link: Link, message: unknown): void {
    if (link !== this.link || this.state === 'closed') return;
    if (!isRecord(message)) {
      this.emit({
        type: 'error',
        message: `Deepgram: ignored a message that is not JSON (${preview(message)})`,
        recoverable: true,
      });
      return;
    }
    switch (message.type) {
      case 'Results':
        this.onResults(link, message);
        return;
      case 'SpeechStarted':
        this.emit({ type: 'speech_started' });
        return;
      case 'UtteranceEnd':
        this.emit({ type: 'utterance_end' });
        return;
      case 'TurnInfo':
        this.onTurnInfo(link, message);
        return;
      case 'ConfigureSuccess':
        this.configures.shift()?.resolve();
        return;
      case 'ConfigureFailure':
        this.configures
          .shift()
          ?.reject(
            new ProviderError('Deepgram', 'bad_request', 'Configure was refused (ConfigureFailure)', false),
          );
        return;
      case 'Error':
        this.emit({
          type: 'error',
          message: `Deepgram: ${str(message.code) || 'error'}: ${str(message.description)}`,
          recoverable: true,
        });
        return;
      default:
        return; // Metadata, Connected, and anything new
    }
  }

  private onResults(link: Link, message: Record<string, unknown>): void {
    const channel = isRecord(message.channel) ? message.channel : {};
    const alternatives = Array.isArray(channel.alternatives) ? channel.alternatives : [];
    const best = isRecord(alternatives[0]) ? alternatives[0] : {};
    const transcript = str(best.transcript).trim();
    const baseSeconds = link.base / this.sampleRate;
    const words: SttWord[] = (Array.isArray(best.words) ? best.words : []).filter(isRecord).map((w) => {
      const word: SttWord = { word: str(w.punctuated_word) || str(w.word) };
      if (typeof w.start === 'number') word.start = round(w.start + baseSeconds);
      if (typeof w.end === 'number') word.end = round(w.end + baseSeconds);
      if (typeof w.confidence === 'number') word.confidence = w.confidence;
      return word;
    });
    if (message.is_final === true) {
      const start = num(message.start);
      const duration = num(message.duration);
      this.markFinalized(link, start + duration);
      const speechFinal = message.speech_final === true;
      // Empty finals mark silence; only an endpoint or an answer to Finalize matters to the engine.
      const fromFinalize = message.from_finalize === true;
      if (!transcript && !speechFinal && !fromFinalize) return;
      this.emit({ type: 'final', transcript, speechFinal, words, ...(fromFinalize ? { fromFinalize } : {}) });
      return;
    }
    if (!transcript) return;
    this.emit({ type: 'interim', transcript, words });
  }

  private onTurnInfo(link: Link, message: Record<string, unknown>): void {
    const event = str(message.event);
    if (!TURN_EVENTS.has(event)) return;
    if (event === 'EndOfTurn') this.markFinalized(link, num(message.audio_window_end));
    // Flux numbers its turns per connection. A new connection replays the audio since the last
    // EndOfTurn, so its first turn is the stream's first unfinished one.
    const turnIndex = link.fluxTurnBase + Math.max(0, Math.round(num(message.turn_index)));
    if (event === 'EndOfTurn') this.fluxTurnsEnded = Math.max(this.fluxTurnsEnded, turnIndex + 1);
    const out: SttEvent = {
      type: 'turn',
      event: event as TurnEventName,
      turnIndex,
      transcript: str(message.transcript).trim(),
    };
    if (typeof message.end_of_turn_confidence === 'number') out.confidence = message.end_of_turn_confidence;
    this.emit(out);
  }

  /** Deepgram has finalised the connection's audio up to `seconds`: it needs no replay. */
  private markFinalized(link: Link, seconds: number): void {
    const cut = link.base + Math.round(seconds * this.sampleRate);
    if (cut <= this.finalizedEnd) return;
    this.finalizedEnd = Math.min(cut, this.sent);
    this.history.trimBefore(this.finalizedEnd);
  }

  private failConfigures(error: Error): void {
    for (const pending of this.configures.splice(0)) pending.reject(error);
  }

  private emit(event: SttEvent): void {
    this.onEvent(event);
  }
}

const TURN_EVENTS = new Set<string>(['StartOfTurn', 'Update', 'EagerEndOfTurn', 'TurnResumed', 'EndOfTurn']);

/** A failed connection attempt as a ProviderError: the SDK only passes on `Unexpected server response: <status>`. */
function connectError(event: unknown): ProviderError {
  if (event instanceof ProviderError) return event;
  const message =
    (isRecord(event) && typeof event.message === 'string' && event.message) ||
    (event instanceof Error ? event.message : String(event));
  const status = /Unexpected server response: (\d{3})/.exec(message);
  if (status) {
    const code = Number(status[1]);
    if (code === 400) {
      return new ProviderError(
        'Deepgram',
        'bad_request',
        'the streaming request was refused (400); check the speech-to-text settings (model and thresholds)',
        false,
        400,
      );
    }
    return fromStatus('Deepgram', code, 'the WebSocket upgrade was refused');
  }
  if (message === 'TIMEOUT') return new ProviderError('Deepgram', 'timeout', 'connection timed out', true);
  return new ProviderError('Deepgram', 'connection', `could not connect (${message})`, true);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function round(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

function preview(message: unknown): string {
  const text = typeof message === 'string' ? message : String(message);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
