/**
 * Scripted providers: STT, LLM and TTS test doubles driven by a corpus case on an injected
 * clock. The STT replays the case's timed events (case-events.ts) as the audio arrives; the
 * LLM answers the case's replies; the TTS turns text into a quiet tone of the scripted length.
 * With a VirtualClock a whole conversation replays deterministically and without waiting.
 */
import type { ChatMessage } from '../../../shared/report';
import type { SttSettings } from '../../../shared/settings';
import { delay, type Clock } from '../clock';
import {
  SAMPLE_RATE,
  type LlmChunk,
  type LlmProvider,
  type LlmRequest,
  type SttEvent,
  type SttProvider,
  type SttStream,
  type TtsAudio,
  type TtsProvider,
  type TtsRequest,
} from '../ports';
import { normalizeTranscript } from '../text/normalize';
import type { CaseProfile } from './case';
import {
  caseEventOptions,
  caseEvents,
  DEEPGRAM_STT,
  expectedReplies,
  flattenWords,
  type CaseEvent,
  type CaseEventOptions,
  type CaseScript,
  type TimedWord,
} from './case-events';
import { CaseEventScheduler, type ReleasedSttEvent } from './event-scheduler';
import { finalFormat, type FinalFormat } from './smart-format';
import { markVoice } from './voice-mark';

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
    /** How finals are written (Nova `smart_format`); unformatted by default. */
    private readonly finalFormat: FinalFormat = 'none',
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
      this.finalFormat,
    );
    this.streams.push(stream);
    return stream;
  }
}

/**
 * One STT connection. Time on the case audio is the count of samples received; an event is
 * scheduled once the audio up to its `audioAt` has been received, `delayMs` later, and events
 * go out in order (never before the one before them), as on a socket (event-scheduler.ts).
 */
export class ScriptedSttStream implements SttStream {
  /** The most recent events sent (at most EMITTED_LOG_LIMIT), with the clock time each was sent. */
  readonly emitted: { at: number; event: SttEvent }[] = [];
  private readonly scheduler: CaseEventScheduler;

  constructor(
    private readonly clock: Clock,
    events: readonly CaseEvent[],
    words: readonly TimedWord[],
    private readonly profile: CaseProfile,
    private readonly onEvent: (event: SttEvent) => void,
    private readonly flux: boolean,
    finalFormat: FinalFormat = 'none',
  ) {
    this.scheduler = new CaseEventScheduler({
      clock,
      events,
      words,
      finalFormat: flux ? 'none' : finalFormat,
      onRelease: (event) => this.deliver(event),
    });
  }

  /** Samples of case audio received (the stream's time on the case). */
  get receivedSamples(): number {
    return this.scheduler.receivedSamples;
  }

  /** Seconds of case audio received. */
  get receivedSeconds(): number {
    return this.scheduler.caseSeconds;
  }

  get isClosed(): boolean {
    return this.scheduler.isClosed;
  }

  sendAudio(samples: Int16Array): void {
    this.scheduler.receive(samples.length);
  }

  /**
   * Nova: a final (speechFinal false, fromFinalize) for the words heard but not yet finalised,
   * when speech is buffered; nothing otherwise (event-scheduler.ts). Flux has no Finalize: no-op.
   */
  finalize(): void {
    if (this.flux) return;
    this.scheduler.finalize(this.profile.stt_final_lag_ms);
  }

  async close(): Promise<void> {
    this.scheduler.close();
  }

  private deliver(event: ReleasedSttEvent): void {
    switch (event.kind) {
      case 'speech_started':
        this.emit({ type: 'speech_started' });
        return;
      case 'utterance_end':
        this.emit({ type: 'utterance_end' });
        return;
      case 'turn_info':
        this.emit({
          type: 'turn',
          event: event.payload.event,
          turnIndex: event.payload.turnIndex,
          transcript: event.payload.transcript,
          confidence: event.payload.confidence,
        });
        return;
      case 'interim':
        this.emit({
          type: 'interim',
          transcript: event.transcript,
          words: event.heard.map((w) => ({ word: w.text, start: w.start, end: w.end })),
        });
        return;
      case 'final':
        this.emit({
          type: 'final',
          transcript: event.transcript,
          speechFinal: event.speechFinal,
          words: event.tokens.map((t) => ({
            word: t.punctuated,
            start: event.words[t.from]!.start,
            end: event.words[t.to - 1]!.end,
          })),
          ...(event.fromFinalize ? { fromFinalize: true as const } : {}),
        });
        return;
    }
  }

  private emit(event: SttEvent): void {
    this.emitted.push({ at: this.clock.now(), event });
    if (this.emitted.length > EMITTED_LOG_LIMIT) this.emitted.shift();
    this.onEvent(event);
  }
}

// ---------- LLM ----------

export type RequestOutcome = 'pending' | 'completed' | 'aborted';

export interface LlmRequestRecord {
  index: number;
  startedAt: number;
  /** The user's words since the last reply (userWordsSinceReply). */
  userWords: string;
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
export function offScriptReply(userWords: string): string {
  return `[off-script reply to "${userWords}"]`;
}

/** One token ≈ one word, each with its leading white space, so the tokens concatenate to the text. */
export function splitTokens(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

function countWords(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/**
 * What the user said since the agent last spoke (CORPUS.md): the contents of the user messages
 * after the last assistant message that has content, joined in order. A turn sent as several
 * user messages (a client whose STT finalised it in pieces) reads as the one turn it is, as a
 * real LLM reading the whole context would take it. '' when there is none.
 */
export function userWordsSinceReply(messages: readonly { role: string; content: string }[]): string {
  const said: string[] = [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const { role, content } = messages[i]!;
    if (role === 'assistant' && content.trim()) break;
    if (role === 'user' && content.trim()) said.unshift(content.trim());
  }
  return said.join(' ');
}

/**
 * What a scripted LLM answers to the user's words since its last reply: the reply of the turn
 * whose final transcript they equal (both normalised; `replies` from `expectedReplies`), or
 * the off-script marker.
 */
export function scriptedAnswer(
  replies: ReadonlyMap<string, string>,
  userWords: string,
): { onScript: boolean; reply: string } {
  const scripted = replies.get(normalizeTranscript(userWords));
  return { onScript: scripted !== undefined, reply: scripted ?? offScriptReply(userWords) };
}

/** Ms after the request at which token `index` of a reply is due: `llm_ttft_ms`, then one per 1 / `llm_tokens_per_s`. */
export function tokenDueMs(
  profile: Pick<CaseProfile, 'llm_ttft_ms' | 'llm_tokens_per_s'>,
  index: number,
): number {
  return profile.llm_ttft_ms + (index * 1000) / profile.llm_tokens_per_s;
}

/** Prompt tokens as the scripted LLM counts them (one per word of every message). */
export function promptTokenCount(messages: readonly Pick<ChatMessage, 'content'>[]): number {
  return messages.reduce((sum, m) => sum + countWords(m.content), 0);
}

/**
 * Answers the case reply whose turn's final transcript equals the user's words since the last
 * reply (both normalised), or an off-script marker. First token after `llm_ttft_ms`, then
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
    const userWords = userWordsSinceReply(request.messages);
    const answer = scriptedAnswer(this.replies, userWords);
    const record: LlmRequestRecord = {
      index: this.records.length,
      startedAt: this.clock.now(),
      userWords,
      onScript: answer.onScript,
      reply: answer.reply,
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
    try {
      for (let i = 0; i < tokens.length; i++) {
        await sleepUntil(this.clock, record.startedAt + tokenDueMs(this.profile, i), signal);
        if (signal.aborted) return;
        record.firstTokenAt ??= this.clock.now();
        record.tokensSent++;
        yield { type: 'token', text: tokens[i]! };
      }
      if (signal.aborted) return;
      const promptTokens = promptTokenCount(request.messages);
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

// The scripted voice: how much audio some text makes, how it is cut into chunks and timed, and the
// tone itself. ScriptedTts and the ElevenLabs simulator (sim/elevenlabs.ts) both speak with it.

/** Length of one produced audio chunk (ms). */
export const TTS_CHUNK_MS = 100;
/** Samples per produced audio chunk at 16 kHz (100 ms). */
export const TTS_CHUNK_SAMPLES = SAMPLE_RATE / 10;
const TONE_HZ = 220;
const TONE_AMPLITUDE = 1000;

/** Samples of audio that `chars` characters make: `tts_ms_per_char` each, at `sampleRate`. */
export function ttsSamplesFor(profile: CaseProfile, chars: number, sampleRate = SAMPLE_RATE): number {
  return Math.round((chars * profile.tts_ms_per_char * sampleRate) / 1000);
}

/** Characters whose audio lies wholly within the first `samples` samples. */
export function ttsCharsCompleted(profile: CaseProfile, samples: number, sampleRate = SAMPLE_RATE): number {
  const perChar = (profile.tts_ms_per_char * sampleRate) / 1000;
  return perChar > 0 ? Math.floor(samples / perChar + 1e-9) : 0;
}

/** Samples of one produced chunk (TTS_CHUNK_MS) at `sampleRate`. */
export function ttsChunkSamples(sampleRate = SAMPLE_RATE): number {
  return Math.round((sampleRate * TTS_CHUNK_MS) / 1000);
}

/** A quiet 220 Hz sine, phase-continuous from sample `offset`. */
export function tone(offset: number, length: number, sampleRate = SAMPLE_RATE): Int16Array {
  const out = new Int16Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = Math.round(TONE_AMPLITUDE * Math.sin((2 * Math.PI * TONE_HZ * (offset + i)) / sampleRate));
  }
  return out;
}

/** Samples `offset` .. `offset + length` of the scripted voice of the synthesis marked `mark`: the tone, marked. */
export function scriptedVoice(offset: number, length: number, sampleRate: number, mark: number): Int16Array {
  return markVoice(tone(offset, length, sampleRate), mark, offset);
}

/** The text a scripted voice speaks, as it becomes available. */
export interface ToneInput {
  /** Characters available for synthesis now. */
  chars(): number;
  /** Clock time the first characters became available (null before); the first audio is due `tts_ttfb_ms` later. */
  firstTextAt(): number | null;
  /** No more text will come. */
  ended(): boolean;
  /** Resolves when any of the above may have changed, or when the signal aborts. */
  changed(): Promise<void>;
}

export interface ToneChunk {
  samples: Int16Array;
  /** Index of the chunk's first sample in the whole audio. */
  offset: number;
  /** Characters whose audio this chunk completes. */
  characters: number;
}

/**
 * Streams the scripted voice for text that may still be arriving: the first chunk
 * `tts_ttfb_ms` after the first text, `tts_ms_per_char` of audio per character, in 100 ms
 * chunks each taking 100 × `tts_realtime_factor` ms to produce; when all the text so far is
 * spoken it waits for more. Ends once the input has ended and its audio is out; rejects with
 * the signal's reason (or returns) when the signal aborts.
 */
export async function* toneStream(
  profile: CaseProfile,
  clock: Clock,
  input: ToneInput,
  signal: AbortSignal,
  sampleRate = SAMPLE_RATE,
  /** The synthesis's voice mark (voice-mark.ts), so a speaker can tell which synthesis it hears. */
  mark = 0,
): AsyncGenerator<ToneChunk> {
  while (input.firstTextAt() === null && !input.ended()) {
    if (signal.aborted) return;
    await input.changed();
  }
  const firstTextAt = input.firstTextAt();
  if (firstTextAt === null) return;
  await sleepUntil(clock, firstTextAt + profile.tts_ttfb_ms, signal);
  const chunkSamples = ttsChunkSamples(sampleRate);
  let sent = 0;
  for (;;) {
    if (signal.aborted) return;
    const owed = ttsSamplesFor(profile, input.chars(), sampleRate) - sent;
    if (owed <= 0) {
      if (input.ended()) return;
      await input.changed();
      continue;
    }
    const n = Math.min(chunkSamples, owed);
    if (sent > 0) {
      const productionMs = (n / sampleRate) * 1000 * profile.tts_realtime_factor;
      await sleepUntil(clock, clock.now() + productionMs, signal);
      if (signal.aborted) return;
    }
    const before = ttsCharsCompleted(profile, sent, sampleRate);
    const offset = sent;
    sent += n;
    yield {
      samples: scriptedVoice(offset, n, sampleRate, mark),
      offset,
      characters: ttsCharsCompleted(profile, sent, sampleRate) - before,
    };
  }
}

/**
 * Consumes the text as it arrives and streams the scripted voice (toneStream): a quiet 220 Hz
 * tone, the first audio `tts_ttfb_ms` after the first text, `tts_ms_per_char` of audio per
 * character, in 100 ms chunks each taking 100 × `tts_realtime_factor` ms to produce; each chunk
 * tells how many characters its audio completes. Aborting stops it at once.
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
    return ttsSamplesFor(this.profile, chars);
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
      const voice: ToneInput = {
        chars: () => record.text.length,
        firstTextAt: () => record.firstTextAt,
        ended: () => input.done,
        changed,
      };
      for await (const chunk of toneStream(
        this.profile,
        this.clock,
        voice,
        signal,
        SAMPLE_RATE,
        record.index,
      )) {
        record.firstAudioAt ??= this.clock.now();
        record.samplesSent += chunk.samples.length;
        yield { samples: chunk.samples, sampleRate: SAMPLE_RATE, characters: chunk.characters };
      }
      if (signal.aborted) return;
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
 * `eager: false` leaves out Flux eager events (preemptive generation off); `behaviour` chooses
 * how the STT reads the words (DEEPGRAM_STT by default).
 */
export function createScriptedProviders(
  caseData: CaseScript,
  clock: Clock,
  sttSettings: SttSettings,
  options: Parameters<typeof caseEventOptions>[1] = {},
): ScriptedProviders {
  return {
    stt: new ScriptedStt(
      caseData,
      clock,
      caseEventOptions(sttSettings, options),
      (options.behaviour ?? DEEPGRAM_STT).formatsFinals
        ? finalFormat({ smartFormat: sttSettings.nova.smart_format, punctuate: false })
        : 'none',
    ),
    llm: new ScriptedLlm(caseData, clock),
    tts: new ScriptedTts(caseData.profile, clock),
  };
}
