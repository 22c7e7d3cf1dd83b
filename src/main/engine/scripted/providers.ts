/**
 * Scripted providers: STT, LLM and TTS test doubles driven by a corpus case on an injected
 * clock. The STT replays the case's timed events (case-events.ts) as the audio arrives; the
 * LLM answers the case's replies; the TTS turns text into a quiet tone of the scripted length.
 * With a VirtualClock a whole conversation replays deterministically and without waiting.
 */
import type { ChatMessage } from '../../../shared/report';
import type { SttSettings } from '../../../shared/settings';
import { delay, type Clock, type TimerHandle } from '../clock';
import {
  SAMPLE_RATE,
  type LlmChunk,
  type LlmProvider,
  type LlmRequest,
  type SttEvent,
  type SttProvider,
  type SttStream,
  type SttWord,
  type TtsAudio,
  type TtsProvider,
  type TtsRequest,
} from '../ports';
import { normalizeTranscript } from '../text/normalize';
import type { CaseProfile } from './case';
import {
  caseEventOptions,
  caseEvents,
  expectedReplies,
  flattenWords,
  joinWords,
  wordsHeardBy,
  type CaseEvent,
  type CaseEventOptions,
  type CaseScript,
  type TimedWord,
} from './case-events';

// ---------- STT ----------

/** Events kept in a stream's `emitted` log, so hour-long replays stay bounded. */
const EMITTED_LOG_LIMIT = 1000;

/** Replays the case's STT events; `turnEvents` (Flux) when created with flux options. */
export class ScriptedStt implements SttProvider {
  readonly turnEvents: boolean;
  /** Every stream opened, in order. */
  readonly streams: ScriptedSttStream[] = [];
  /** The events each stream replays, sorted by `audioAt`. */
  readonly events: readonly CaseEvent[];
  private readonly words: readonly TimedWord[];

  constructor(
    private readonly script: CaseScript,
    private readonly clock: Clock,
    readonly options: CaseEventOptions,
  ) {
    this.turnEvents = options.mode === 'flux';
    this.events = caseEvents(script, options);
    this.words = flattenWords(script.turns);
  }

  async connect(onEvent: (event: SttEvent) => void): Promise<ScriptedSttStream> {
    const stream = new ScriptedSttStream(
      this.clock,
      this.events,
      this.words,
      this.script.profile,
      onEvent,
      this.turnEvents,
    );
    this.streams.push(stream);
    return stream;
  }
}

/**
 * One STT connection. Time on the case audio is the count of samples received; an event is
 * scheduled once the audio up to its `audioAt` has been received, `delayMs` later, and events
 * go out in order (never before the one before them), as on a socket.
 */
export class ScriptedSttStream implements SttStream {
  private received = 0;
  private closed = false;
  /** Everything sent to the listener, with the clock time it was sent. */
  /** The most recent events sent (at most EMITTED_LOG_LIMIT), for tests and diagnostics. */
  readonly emitted: { at: number; event: SttEvent }[] = [];
  private nextEvent = 0;
  private lastReleaseAt = Number.NEGATIVE_INFINITY;
  /** Index of the last word covered by a final sent so far. */
  private finalizedThrough = -1;
  private readonly timers = new Set<TimerHandle>();

  constructor(
    private readonly clock: Clock,
    private readonly events: readonly CaseEvent[],
    private readonly words: readonly TimedWord[],
    private readonly profile: CaseProfile,
    private readonly onEvent: (event: SttEvent) => void,
    private readonly flux: boolean,
  ) {}

  /** Samples of case audio received (the stream's time on the case). */
  get receivedSamples(): number {
    return this.received;
  }

  /** Seconds of case audio received. */
  get receivedSeconds(): number {
    return this.received / SAMPLE_RATE;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  sendAudio(samples: Int16Array): void {
    if (this.closed) return;
    this.received += samples.length;
    for (;;) {
      const event = this.events[this.nextEvent];
      if (!event || Math.round(event.audioAt * SAMPLE_RATE) > this.received) break;
      this.nextEvent++;
      this.release(event.delayMs, () => this.deliver(event));
    }
  }

  /** Nova: a final (speechFinal false) for the words heard but not yet finalised, even if none. Flux has no Finalize: no-op. */
  finalize(): void {
    if (this.closed || this.flux) return;
    const heard = wordsHeardBy(this.words, this.receivedSeconds);
    this.release(this.profile.stt_final_lag_ms, () => {
      const words = heard.filter((w) => w.index > this.finalizedThrough);
      this.finalizedThrough = Math.max(this.finalizedThrough, ...words.map((w) => w.index));
      this.emit({
        type: 'final',
        transcript: joinWords(words),
        speechFinal: false,
        words: words.map(sttWord),
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const handle of this.timers) this.clock.clearTimeout(handle);
    this.timers.clear();
  }

  private release(delayMs: number, deliver: () => void): void {
    const now = this.clock.now();
    const at = Math.max(now + delayMs, this.lastReleaseAt);
    this.lastReleaseAt = at;
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(handle);
      if (!this.closed) deliver();
    }, at - now);
    this.timers.add(handle);
  }

  private deliver(event: CaseEvent): void {
    const payload = event.payload;
    switch (payload.kind) {
      case 'speech_started':
        this.emit({ type: 'speech_started' });
        return;
      case 'utterance_end':
        this.emit({ type: 'utterance_end' });
        return;
      case 'turn_info':
        this.emit({
          type: 'turn',
          event: payload.event,
          transcript: payload.transcript,
          confidence: payload.confidence,
        });
        return;
      case 'interim': {
        // A Finalize may have covered some of these words already: only the rest is interim.
        const rest = payload.words.filter((w) => w.index > this.finalizedThrough);
        if (!rest.length) return;
        const whole = rest.length === payload.words.length;
        const transcript = whole ? payload.transcript : joinWords(rest);
        const words =
          whole && payload.misheard ? transcript.split(' ').map((word) => ({ word })) : rest.map(sttWord);
        this.emit({ type: 'interim', transcript, words });
        return;
      }
      case 'final': {
        const rest = payload.words.filter((w) => w.index > this.finalizedThrough);
        if (!rest.length) return;
        this.finalizedThrough = rest[rest.length - 1]!.index;
        this.emit({
          type: 'final',
          transcript: joinWords(rest),
          speechFinal: payload.speechFinal,
          words: rest.map(sttWord),
        });
        return;
      }
    }
  }

  private emit(event: SttEvent): void {
    this.emitted.push({ at: this.clock.now(), event });
    if (this.emitted.length > EMITTED_LOG_LIMIT) this.emitted.shift();
    this.onEvent(event);
  }
}

function sttWord(w: TimedWord): SttWord {
  return { word: w.text, start: w.start, end: w.end };
}

// ---------- LLM ----------

export type RequestOutcome = 'pending' | 'completed' | 'aborted';

export interface LlmRequestRecord {
  index: number;
  startedAt: number;
  lastUserMessage: string;
  /** Whether the request matched a turn of the case. */
  onScript: boolean;
  /** The full text it answers (the case reply or the off-script marker). */
  reply: string;
  tokensSent: number;
  firstTokenAt: number | null;
  endedAt: number | null;
  outcome: RequestOutcome;
}

/** The reply an off-script request gets, so a reply built on a wrong transcript is detectable. */
export function offScriptReply(lastUserMessage: string): string {
  return `[off-script reply to "${lastUserMessage}"]`;
}

/** One token ≈ one word, each with its leading white space, so the tokens concatenate to the text. */
export function splitTokens(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

function countWords(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/**
 * Answers the case reply whose turn's final transcript equals the last user message (both
 * normalised), or an off-script marker. First token after `llm_ttft_ms`, then
 * `llm_tokens_per_s`; a usage chunk ends a completed stream. Aborting ends the stream at once.
 */
export class ScriptedLlm implements LlmProvider {
  readonly records: LlmRequestRecord[] = [];
  private readonly replies: Map<string, string>;
  private readonly profile: CaseProfile;

  constructor(
    script: Pick<CaseScript, 'turns' | 'profile'>,
    private readonly clock: Clock,
  ) {
    this.replies = expectedReplies(script);
    this.profile = script.profile;
  }

  get requests(): number {
    return this.records.length;
  }

  get aborted(): number {
    return this.records.filter((r) => r.outcome === 'aborted').length;
  }

  get completed(): number {
    return this.records.filter((r) => r.outcome === 'completed').length;
  }

  stream(request: LlmRequest): AsyncIterable<LlmChunk> {
    const lastUser = lastUserMessage(request.messages);
    const scripted = this.replies.get(normalizeTranscript(lastUser));
    const record: LlmRequestRecord = {
      index: this.records.length,
      startedAt: this.clock.now(),
      lastUserMessage: lastUser,
      onScript: scripted !== undefined,
      reply: scripted ?? offScriptReply(lastUser),
      tokensSent: 0,
      firstTokenAt: null,
      endedAt: null,
      outcome: 'pending',
    };
    this.records.push(record);
    const stop = trackAbort(request.signal, record, this.clock);
    return this.run(request, record, stop);
  }

  private async *run(
    request: LlmRequest,
    record: LlmRequestRecord,
    stop: () => void,
  ): AsyncGenerator<LlmChunk> {
    const { signal } = request;
    const tokens = splitTokens(record.reply);
    const interval = 1000 / this.profile.llm_tokens_per_s;
    try {
      for (let i = 0; i < tokens.length; i++) {
        await sleepUntil(this.clock, record.startedAt + this.profile.llm_ttft_ms + i * interval, signal);
        if (signal.aborted) return;
        record.firstTokenAt ??= this.clock.now();
        record.tokensSent++;
        yield { type: 'token', text: tokens[i]! };
      }
      if (signal.aborted) return;
      const promptTokens = request.messages.reduce((sum, m) => sum + countWords(m.content), 0);
      record.outcome = 'completed';
      record.endedAt = this.clock.now();
      yield { type: 'usage', usage: { promptTokens, completionTokens: record.tokensSent } };
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      stop();
      finishRecord(record, this.clock);
    }
  }
}

function lastUserMessage(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === 'user') return messages[i]!.content;
  }
  return '';
}

// ---------- TTS ----------

export interface TtsRequestRecord {
  index: number;
  startedAt: number;
  firstTextAt: number | null;
  firstAudioAt: number | null;
  /** Text received so far. */
  text: string;
  samplesSent: number;
  endedAt: number | null;
  outcome: RequestOutcome;
}

/** Samples per produced audio chunk (100 ms). */
export const TTS_CHUNK_SAMPLES = SAMPLE_RATE / 10;
const TONE_HZ = 220;
const TONE_AMPLITUDE = 1000;

/**
 * Consumes the text as it arrives and streams a quiet 220 Hz tone: the first audio
 * `tts_ttfb_ms` after the first text, `tts_ms_per_char` of audio per character, in 100 ms
 * chunks each taking 100 × `tts_realtime_factor` ms to produce; each chunk tells how many
 * characters its audio completes. Aborting stops it at once.
 */
export class ScriptedTts implements TtsProvider {
  readonly records: TtsRequestRecord[] = [];

  constructor(
    private readonly profile: CaseProfile,
    private readonly clock: Clock,
  ) {}

  get requests(): number {
    return this.records.length;
  }

  get aborted(): number {
    return this.records.filter((r) => r.outcome === 'aborted').length;
  }

  /** Samples of audio the given number of characters makes. */
  samplesFor(chars: number): number {
    return Math.round((chars * this.profile.tts_ms_per_char * SAMPLE_RATE) / 1000);
  }

  /** Characters whose audio lies wholly within the first `samples` samples. */
  private charsCompleted(samples: number): number {
    const perChar = (this.profile.tts_ms_per_char * SAMPLE_RATE) / 1000;
    return perChar > 0 ? Math.floor(samples / perChar + 1e-9) : 0;
  }

  synthesize(request: TtsRequest): AsyncIterable<TtsAudio> {
    const record: TtsRequestRecord = {
      index: this.records.length,
      startedAt: this.clock.now(),
      firstTextAt: null,
      firstAudioAt: null,
      text: '',
      samplesSent: 0,
      endedAt: null,
      outcome: 'pending',
    };
    this.records.push(record);
    const stop = trackAbort(request.signal, record, this.clock);
    return this.run(request, record, stop);
  }

  private async *run(
    request: TtsRequest,
    record: TtsRequestRecord,
    stop: () => void,
  ): AsyncGenerator<TtsAudio> {
    const { signal } = request;
    const input = { done: false, error: undefined as unknown, wake: () => {} };
    /** Resolves on the next text, the end of the text, or abort. */
    const changed = () =>
      new Promise<void>((resolve) => {
        input.wake = resolve;
        if (signal.aborted) resolve();
      });
    const onAbort = () => input.wake();
    signal.addEventListener('abort', onAbort, { once: true });
    void (async () => {
      try {
        for await (const text of request.text) {
          if (signal.aborted) break;
          if (text.length) record.firstTextAt ??= this.clock.now();
          record.text += text;
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
      while (record.firstTextAt === null && !input.done && !signal.aborted) await changed();
      if (record.firstTextAt !== null) {
        await sleepUntil(this.clock, record.firstTextAt + this.profile.tts_ttfb_ms, signal);
      }
      for (;;) {
        if (signal.aborted) return;
        const owed = this.samplesFor(record.text.length) - record.samplesSent;
        if (owed <= 0) {
          if (input.done) break;
          await changed();
          continue;
        }
        const n = Math.min(TTS_CHUNK_SAMPLES, owed);
        if (record.firstAudioAt !== null) {
          const productionMs = (n / SAMPLE_RATE) * 1000 * this.profile.tts_realtime_factor;
          await sleepUntil(this.clock, this.clock.now() + productionMs, signal);
          if (signal.aborted) return;
        }
        record.firstAudioAt ??= this.clock.now();
        const samples = tone(record.samplesSent, n);
        const charsBefore = this.charsCompleted(record.samplesSent);
        record.samplesSent += n;
        yield {
          samples,
          sampleRate: SAMPLE_RATE,
          characters: this.charsCompleted(record.samplesSent) - charsBefore,
        };
      }
      if (input.error !== undefined) throw input.error;
      record.outcome = 'completed';
      record.endedAt = this.clock.now();
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      stop();
      finishRecord(record, this.clock);
    }
  }
}

/** A quiet sine, phase-continuous from sample `offset`. */
function tone(offset: number, length: number): Int16Array {
  const out = new Int16Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = Math.round(TONE_AMPLITUDE * Math.sin((2 * Math.PI * TONE_HZ * (offset + i)) / SAMPLE_RATE));
  }
  return out;
}

// ---------- shared ----------

/** Waits until clock time `due` (not at all if it has passed); rejects when the signal aborts. */
async function sleepUntil(clock: Clock, due: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw signal.reason;
  const wait = due - clock.now();
  if (wait > 0) await delay(clock, wait, signal);
}

/** Marks the record aborted the moment the signal aborts; returns the listener's removal. */
function trackAbort(
  signal: AbortSignal,
  record: { outcome: RequestOutcome; endedAt: number | null },
  clock: Clock,
) {
  const onAbort = () => finishRecord(record, clock, 'aborted');
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

/** Ends a still pending record: aborted (by the signal or by the consumer leaving the stream). */
function finishRecord(
  record: { outcome: RequestOutcome; endedAt: number | null },
  clock: Clock,
  outcome: RequestOutcome = 'aborted',
): void {
  if (record.outcome !== 'pending') return;
  record.outcome = outcome;
  record.endedAt = clock.now();
}

// ---------- factory ----------

export interface ScriptedProviders {
  stt: ScriptedStt;
  llm: ScriptedLlm;
  tts: ScriptedTts;
}

/**
 * The three scripted providers for a case. The STT mode follows `sttSettings.provider`;
 * `eager: false` leaves out Flux eager events (preemptive generation off).
 */
export function createScriptedProviders(
  caseData: CaseScript,
  clock: Clock,
  sttSettings: SttSettings,
  options: { eager?: boolean; vadEvents?: boolean } = {},
): ScriptedProviders {
  return {
    stt: new ScriptedStt(caseData, clock, caseEventOptions(sttSettings, options)),
    llm: new ScriptedLlm(caseData, clock),
    tts: new ScriptedTts(caseData.profile, clock),
  };
}
