import type { ReplySettings } from '../../shared/settings';
import type { ChatMessage, RequestRecord } from '../../shared/report';
import type { SpeculationTrigger } from '../../shared/timeline';
import { AsyncQueue } from './async-queue';
import type { Clock } from './clock';
import type { LlmProvider, TtsAudio, TtsProvider } from './ports';
import { TextChunker } from './text/chunker';
import type { TimelineBus } from './timeline-bus';

/** Receives a reply's audio once the reply has been chosen to be spoken. */
export interface ReplySink {
  audio(audio: TtsAudio): void;
  /** No more audio will come (synthesis finished, failed, or the reply had no text). */
  end(): void;
}

export interface ReplyDeps {
  clock: Clock;
  bus: TimelineBus;
  llm: LlmProvider;
  tts: TtsProvider;
  chunking: ReplySettings;
}

export interface ReplyOptions {
  id: number;
  turn: number;
  transcript: string;
  messages: ChatMessage[];
  preemptive: boolean;
  trigger: RequestRecord['trigger'];
  /** Start synthesis at once (preemptive TTS, or a reply that is spoken as soon as possible). */
  synthesize: boolean;
  /** Fixed text to speak without asking the LLM (the greeting). */
  fixedText?: string;
}

/** Fallback speaking rate for mapping played audio to text when the TTS gives no alignment. */
const FALLBACK_MS_PER_CHAR = 65;
/**
 * What preemptive TTS synthesises of a speculation before it is committed: chunks up to about
 * this many characters (two to three seconds of speech), enough for it to start playing at the
 * commit while the rest is synthesised. Every character synthesised is billed, and a
 * speculation is often discarded.
 */
export const SPECULATIVE_TTS_LEAD_CHARS = 40;

interface AlignmentPoint {
  audioMs: number;
  characters: number;
}

/**
 * One LLM request and its speech: streams LLM tokens, chunks them into clauses or
 * sentences, streams those into TTS, and holds the audio until the reply is chosen
 * to be spoken. Cancelling aborts the LLM and TTS requests at the network level.
 */
export class Reply {
  readonly id: number;
  readonly turn: number;
  readonly transcript: string;
  readonly preemptive: boolean;
  readonly trigger: RequestRecord['trigger'];
  /** When the LLM request was sent (or the reply created, until then). */
  startedAt: number;

  text = '';
  llmDone = false;
  llmFailed = false;
  ttsDone = false;
  /** Synthesis failed: the rest of the reply is delivered as text only. */
  ttsFailed = false;
  cancelled = false;
  cancelReason: string | undefined;
  ttft: number | null = null;
  ttsTtfb: number | null = null;
  promptTokens = 0;
  completionTokens = 0;
  ttsCharacters = 0;

  private readonly abort = new AbortController();
  private readonly buffered: TtsAudio[] = [];
  private sink: ReplySink | undefined;
  private sinkEnded = false;
  private ttsQueue: AsyncQueue<string> | undefined;
  private chunker: TextChunker | undefined;
  private ttsStarted = false;
  private firstTextAt: number | null = null;
  private audioMs = 0;
  private readonly alignment: AlignmentPoint[] = [];
  private alignmentReported = false;
  /** Released once the LLM request is over, so finished replies hold no copy of the history. */
  private messages: ChatMessage[];
  private readonly fixedText: string | undefined;
  private readonly synthesizeAtStart: boolean;
  private started = false;
  /** A speculation chosen to be spoken (always true for other replies). */
  private committed: boolean;
  /** A speculation's text held back from TTS until it is committed, and whether its text has ended. */
  private readonly heldForCommit: string[] = [];
  private textEndHeld = false;

  constructor(
    private readonly deps: ReplyDeps,
    options: ReplyOptions,
  ) {
    this.id = options.id;
    this.turn = options.turn;
    this.transcript = options.transcript;
    this.preemptive = options.preemptive;
    this.trigger = options.trigger;
    this.messages = options.messages;
    this.startedAt = deps.clock.now();
    this.fixedText = options.fixedText;
    this.synthesizeAtStart = options.synthesize;
    this.committed = !options.preemptive;
  }

  /**
   * The speculation will be spoken: the text held back from TTS (beyond its lead) goes now, and so
   * does the end of its text.
   */
  commit(): void {
    if (this.committed) return;
    this.committed = true;
    for (const chunk of this.heldForCommit.splice(0)) this.sendToTts(chunk);
    if (this.textEndHeld) this.ttsQueue?.close();
  }

  /** Sends the LLM request (and starts TTS at once when asked to). */
  start(): void {
    if (this.started || this.cancelled) return;
    this.started = true;
    this.startedAt = this.deps.clock.now();
    if (this.fixedText !== undefined) {
      this.text = this.fixedText;
      this.llmDone = true;
    } else {
      void this.runLlm();
    }
    if (this.synthesizeAtStart) this.startSynthesis();
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get hasAudio(): boolean {
    return this.audioMs > 0;
  }

  /** Ms of audio synthesised so far. */
  get audioDurationMs(): number {
    return this.audioMs;
  }

  get synthesizing(): boolean {
    return this.ttsStarted;
  }

  /** Starts TTS on what the LLM has produced so far and everything it produces next. */
  startSynthesis(): void {
    if (this.ttsStarted || this.cancelled) return;
    this.ttsStarted = true;
    this.ttsQueue = new AsyncQueue<string>();
    this.chunker = new TextChunker(this.deps.chunking);
    if (this.text) this.pushText(this.text);
    if (this.llmDone || this.llmFailed) this.finishText();
    void this.runTts(this.ttsQueue);
  }

  /** Routes the reply's audio (buffered and future) to the sink, starting synthesis if needed. */
  attach(sink: ReplySink): void {
    this.sink = sink;
    this.startSynthesis();
    for (const audio of this.buffered.splice(0)) sink.audio(audio);
    const textOnlyDone = this.ttsFailed && (this.llmDone || this.llmFailed);
    if (
      (this.ttsDone && !this.ttsFailed) ||
      textOnlyDone ||
      this.cancelled ||
      (this.llmFailed && !this.text)
    ) {
      this.endSink();
    }
  }

  cancel(reason: string): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.cancelReason = reason;
    this.abort.abort(new Error(reason));
    if (!this.llmDone && !this.llmFailed) {
      this.deps.bus.emit({ type: 'llm_aborted', request: this.id, reason, turn: this.turn });
    }
    if (this.ttsStarted && !this.ttsDone) {
      this.deps.bus.emit({ type: 'tts_aborted', request: this.id, reason, turn: this.turn });
    }
    this.ttsQueue?.close();
    this.buffered.length = 0;
    this.messages = [];
    this.endSink();
  }

  /** The part of the reply's text heard after `playedMs` of its audio, cut back to a whole word. */
  spokenText(playedMs: number): string {
    if (playedMs <= 0) return '';
    const synthesized = this.ttsCharactersText();
    if (playedMs >= this.audioMs && this.ttsDone) return synthesized;
    // The epsilon keeps float error in the alignment from losing a character heard in full.
    const chars = Math.min(synthesized.length, Math.floor(this.charactersAt(playedMs) + 1e-6));
    if (chars >= synthesized.length) return synthesized;
    const cut = synthesized.slice(0, chars);
    if (/^\s/.test(synthesized.slice(chars))) return cut.trimEnd();
    const boundary = /\s\S*$/.exec(cut);
    return (boundary ? cut.slice(0, boundary.index) : '').trimEnd();
  }

  private ttsCharactersText(): string {
    return this.text.slice(0, this.ttsCharacters);
  }

  private charactersAt(ms: number): number {
    if (this.alignmentReported && this.alignment.length) {
      let previous: AlignmentPoint = { audioMs: 0, characters: 0 };
      for (const point of this.alignment) {
        if (point.audioMs >= ms) {
          const span = point.audioMs - previous.audioMs;
          const fraction = span > 0 ? (ms - previous.audioMs) / span : 1;
          return previous.characters + fraction * (point.characters - previous.characters);
        }
        previous = point;
      }
      return previous.characters;
    }
    if (this.ttsDone && this.audioMs > 0) return (ms / this.audioMs) * this.ttsCharacters;
    return ms / FALLBACK_MS_PER_CHAR;
  }

  private async runLlm(): Promise<void> {
    const { bus, clock, llm } = this.deps;
    bus.emit({
      type: 'llm_request',
      request: this.id,
      transcript: this.transcript,
      preemptive: this.preemptive,
      turn: this.turn,
    });
    let usageReported = false;
    try {
      for await (const chunk of llm.stream({ messages: this.messages, signal: this.abort.signal })) {
        if (this.cancelled) break;
        if (chunk.type === 'usage') {
          this.promptTokens = chunk.usage.promptTokens;
          this.completionTokens = chunk.usage.completionTokens;
          usageReported = true;
          continue;
        }
        if (!chunk.text) continue;
        if (this.ttft === null) {
          this.ttft = clock.now() - this.startedAt;
          bus.emit({ type: 'llm_first_token', request: this.id, ttft: this.ttft, turn: this.turn });
        }
        this.text += chunk.text;
        if (!usageReported) this.completionTokens++;
        if (this.ttsStarted) this.pushText(chunk.text);
      }
      if (this.cancelled) return;
      this.llmDone = true;
      if (!usageReported) this.promptTokens = estimateTokens(this.messages);
      this.messages = [];
      bus.emit({
        type: 'llm_done',
        request: this.id,
        prompt_tokens: this.promptTokens,
        completion_tokens: this.completionTokens,
        text: this.text,
        turn: this.turn,
      });
      if (this.ttsStarted) this.finishText();
      if (this.ttsFailed) this.endSink();
    } catch (error) {
      if (this.cancelled) return;
      this.llmFailed = true;
      bus.emit({
        type: 'error',
        source: 'llm',
        message: errorMessage(error),
        recoverable: true,
        turn: this.turn,
      });
      if (this.ttsStarted) this.finishText();
      if (this.ttsFailed || (!this.ttsStarted && !this.text)) this.endSink();
    }
  }

  private pushText(token: string): void {
    if (!this.chunker || !this.ttsQueue) return;
    for (const chunk of this.chunker.push(token)) this.sendToTts(chunk);
  }

  private finishText(): void {
    if (!this.chunker || !this.ttsQueue) return;
    const rest = this.chunker.flush();
    if (rest) this.sendToTts(rest);
    // An uncommitted speculation's text stays open, so cancelling it stops what was not rendered.
    if (this.committed) this.ttsQueue.close();
    else this.textEndHeld = true;
  }

  private sendToTts(chunk: string): void {
    if (this.ttsFailed) return;
    if (!this.committed && (this.heldForCommit.length || this.ttsCharacters >= SPECULATIVE_TTS_LEAD_CHARS)) {
      this.heldForCommit.push(chunk);
      return;
    }
    this.firstTextAt ??= this.deps.clock.now();
    this.ttsCharacters += chunk.length;
    this.ttsQueue!.push(chunk);
  }

  private async runTts(queue: AsyncQueue<string>): Promise<void> {
    const { bus, clock, tts } = this.deps;
    bus.emit({ type: 'tts_request', request: this.id, turn: this.turn });
    let first = true;
    try {
      for await (const audio of tts.synthesize({ text: queue, signal: this.abort.signal })) {
        if (this.cancelled) return;
        if (first) {
          first = false;
          const ttfb = clock.now() - (this.firstTextAt ?? clock.now());
          this.ttsTtfb = ttfb;
          bus.emit({ type: 'tts_first_audio', request: this.id, ttfb, turn: this.turn });
        }
        this.audioMs += (audio.samples.length / audio.sampleRate) * 1000;
        if (audio.characters !== undefined) {
          this.alignmentReported = true;
          const previous = this.alignment.at(-1)?.characters ?? 0;
          this.alignment.push({ audioMs: this.audioMs, characters: previous + audio.characters });
        }
        if (this.sink) this.sink.audio(audio);
        else this.buffered.push(audio);
      }
      if (this.cancelled) return;
      this.ttsDone = true;
      bus.emit({
        type: 'tts_done',
        request: this.id,
        characters: this.ttsCharacters,
        audio_ms: Math.round(this.audioMs),
        turn: this.turn,
      });
    } catch (error) {
      if (this.cancelled) return;
      this.ttsDone = true;
      this.ttsFailed = true;
      bus.emit({
        type: 'error',
        source: 'tts',
        message: errorMessage(error),
        recoverable: true,
        turn: this.turn,
      });
    }
    // Without speech the reply still reaches the conversation as text, once the LLM has finished.
    if (this.sink && (!this.ttsFailed || this.llmDone || this.llmFailed)) this.endSink();
  }

  private endSink(): void {
    if (!this.sink || this.sinkEnded) return;
    this.sinkEnded = true;
    this.sink.end();
  }

  /** The request's record for the session report. */
  record(outcome: RequestRecord['outcome'], played: string): RequestRecord {
    return {
      id: this.id,
      preemptive: this.preemptive,
      trigger: this.trigger,
      transcript: this.transcript,
      started_ms: Math.round(this.startedAt),
      outcome,
      ...(this.cancelReason ? { reason: this.cancelReason } : {}),
      ttft_ms: this.ttft === null ? null : Math.round(this.ttft),
      prompt_tokens: this.promptTokens,
      completion_tokens: this.completionTokens,
      tts_characters: this.ttsCharacters,
      tts_characters_played: played.length,
    };
  }
}

function estimateTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, m) => sum + Math.ceil(m.content.length / 4) + 4, 0);
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

export type { SpeculationTrigger };
