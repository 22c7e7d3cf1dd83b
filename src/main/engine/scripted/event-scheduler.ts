/**
 * Releases a case's timed speech-to-text events (case-events.ts) as the audio arrives, on a
 * clock. Shared by the scripted STT (which hands the events to the engine directly) and the
 * Deepgram simulator (which puts them on the wire), so both follow one set of timing rules:
 *
 * - time on the case is the count of samples received (from `startAt` seconds of case audio);
 * - an event is scheduled once the audio up to its `audioAt` has been received, `delayMs` later;
 * - events go out in order, never before the one before them (a socket is ordered);
 * - a final covers only words no earlier final (or Finalize) covered, and an interim only
 *   words not finalised yet;
 * - a Finalize is answered (a final marked from_finalize) only when speech is buffered: words
 *   heard, or being spoken, that no final sent so far covers. Deepgram
 *   documents that the answer "typically occurs when there is a noticeable amount of audio
 *   buffered"; with nothing but silence since the last final, no answer comes.
 */
import type { Clock, TimerHandle } from '../clock';
import { SAMPLE_RATE } from '../ports';
import {
  joinWords,
  wordsHeardBy,
  type CaseEvent,
  type FluxPayload,
  type HeardWord,
  type TimedWord,
} from './case-events';
import { formatFinal, tokensText, type FinalFormat, type FormattedToken } from './smart-format';

/** An event at the moment it is released, with the words already finalised taken out. */
export type ReleasedSttEvent =
  | { kind: 'speech_started'; timestamp: number; audioAt: number }
  | {
      kind: 'interim';
      /** Transcript of the words not finalised yet, as heard (mis-hearings and tip guesses applied). */
      transcript: string;
      /** The true words not finalised yet whose audio has been heard. */
      words: TimedWord[];
      /** The words as the interim reads them. */
      heard: HeardWord[];
      /** Some words read wrong. */
      misheard: boolean;
      audioAt: number;
    }
  | {
      kind: 'final';
      /** As written (formatted when the client asked for it). */
      transcript: string;
      words: TimedWord[];
      /** The written tokens over `words` (a token may stand for several words: a number). */
      tokens: FormattedToken[];
      speechFinal: boolean;
      /** Released in answer to `finalize()`. */
      fromFinalize: boolean;
      /** Case audio (s) the final covers up to. */
      audioAt: number;
    }
  | { kind: 'utterance_end'; lastWordEnd: number; audioAt: number }
  | { kind: 'turn_info'; payload: FluxPayload; audioAt: number };

export interface CaseEventSchedulerOptions {
  clock: Clock;
  /** The case's events, sorted by `audioAt` (as caseEvents() returns them). */
  events: readonly CaseEvent[];
  /** All words of the case (flattenWords()). */
  words: readonly TimedWord[];
  /** Receives each event when it is due. */
  onRelease: (event: ReleasedSttEvent) => void;
  /** Samples per second of the audio counted by `receive` (default 16 kHz). */
  sampleRate?: number;
  /**
   * Seconds of case audio that precede the first sample received (default 0): a connection
   * that resumes a case mid-way. Events before it are skipped, and words that end by then
   * count as finalised.
   */
  startAt?: number;
  /** How finals are written (the client's `smart_format` / `punctuate`); default unformatted. */
  finalFormat?: FinalFormat;
}

const EPSILON = 1e-6;

/** Events that mark a pause after speech: at a resume point they belong to the audio before it. */
function isPauseEvent(event: CaseEvent): boolean {
  const p = event.payload;
  if (p.kind === 'final' || p.kind === 'utterance_end') return true;
  return p.kind === 'turn_info' && (p.event === 'EndOfTurn' || p.event === 'EagerEndOfTurn');
}

export class CaseEventScheduler {
  private received = 0;
  private closed = false;
  private events: readonly CaseEvent[];
  private nextEvent = 0;
  private lastReleaseAt = Number.NEGATIVE_INFINITY;
  /** Index of the last word covered by a final released so far. */
  private finalizedThrough = -1;
  /**
   * Flux: the last turn whose EndOfTurn was released. Flux sends nothing more about a turn after
   * its EndOfTurn; an Update timed before it but released after it (the two have different lags,
   * and a real-time release can swap them) is dropped.
   */
  private fluxEndedTurn = -1;
  private readonly timers = new Set<TimerHandle>();
  private readonly clock: Clock;
  private readonly words: readonly TimedWord[];
  private readonly onRelease: (event: ReleasedSttEvent) => void;
  readonly sampleRate: number;
  /** Seconds of case audio before the first sample received. */
  readonly startAt: number;
  private readonly finalFormat: FinalFormat;

  constructor(options: CaseEventSchedulerOptions) {
    this.clock = options.clock;
    this.events = options.events;
    this.words = options.words;
    this.onRelease = options.onRelease;
    this.sampleRate = options.sampleRate ?? SAMPLE_RATE;
    this.startAt = options.startAt ?? 0;
    this.finalFormat = options.finalFormat ?? 'none';
    if (this.startAt > 0) {
      while (this.events[this.nextEvent] && this.events[this.nextEvent]!.audioAt < this.startAt - EPSILON) {
        this.nextEvent++;
      }
      for (const w of this.words) if (w.end <= this.startAt + EPSILON) this.finalizedThrough = w.index;
    }
  }

  /** Samples received. */
  get receivedSamples(): number {
    return this.received;
  }

  /** Seconds of case audio heard: `startAt` plus the audio received. */
  get caseSeconds(): number {
    return this.startAt + this.received / this.sampleRate;
  }

  /** Index (among all words of the case) of the last word a final has covered; -1 for none. */
  get finalizedThroughIndex(): number {
    return this.finalizedThrough;
  }

  /** No release is waiting on the clock. */
  get idle(): boolean {
    return this.timers.size === 0;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Counts `samples` more samples received and schedules every event that became known. */
  receive(samples: number): void {
    if (this.closed) return;
    this.received += samples;
    for (;;) {
      const event = this.events[this.nextEvent];
      if (!event || !this.isHeard(event)) break;
      this.nextEvent++;
      if (this.skipAtResume(event)) continue;
      this.release(event.delayMs, () => this.deliver(event));
    }
  }

  /**
   * Answers a Finalize: when speech is buffered (hasBufferedSpeech), a final (not speech-final)
   * for the words heard so far and not finalised yet, released `delayMs` later (after anything
   * already scheduled); otherwise nothing. Returns whether an answer is on its way.
   */
  finalize(delayMs: number): boolean {
    if (this.closed || !this.hasBufferedSpeech()) return false;
    const heardSeconds = this.caseSeconds;
    const heard = wordsHeardBy(this.words, heardSeconds);
    this.release(delayMs, () => {
      const words = heard.filter((w) => w.index > this.finalizedThrough);
      this.finalizedThrough = Math.max(this.finalizedThrough, ...words.map((w) => w.index));
      this.onRelease({
        ...this.written(words, false),
        kind: 'final',
        fromFinalize: true,
        audioAt: heardSeconds,
      });
    });
    return true;
  }

  /**
   * Some word has been heard, or is being spoken, that no final sent so far covers (a final on its
   * way still counts as buffered: the provider holds that audio until it sends the result).
   */
  hasBufferedSpeech(): boolean {
    const heardSeconds = this.caseSeconds;
    return this.words.some((w) => w.index > this.finalizedThrough && w.start < heardSeconds - EPSILON);
  }

  /**
   * A final (not speech-final) for the words heard and not finalised yet, at once (a stream
   * closing); null when every word heard is final.
   */
  finalizeNow(): Extract<ReleasedSttEvent, { kind: 'final' }> | null {
    const heardSeconds = this.caseSeconds;
    const words = wordsHeardBy(this.words, heardSeconds).filter((w) => w.index > this.finalizedThrough);
    if (!words.length) return null;
    this.finalizedThrough = words[words.length - 1]!.index;
    return { ...this.written(words, false), kind: 'final', fromFinalize: false, audioAt: heardSeconds };
  }

  /**
   * Follows another event list from now on (e.g. Flux thresholds changed mid-stream): events of
   * the new list whose audio was already received are not sent.
   */
  replaceEvents(events: readonly CaseEvent[]): void {
    this.events = events;
    let i = 0;
    while (i < events.length && this.isHeard(events[i]!)) i++;
    this.nextEvent = i;
  }

  /** Runs `deliver` `delayMs` from now, but never before anything released earlier. */
  release(delayMs: number, deliver: () => void): void {
    if (this.closed) return;
    const now = this.clock.now();
    const at = Math.max(now + delayMs, this.lastReleaseAt);
    this.lastReleaseAt = at;
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(handle);
      if (!this.closed) deliver();
    }, at - now);
    this.timers.add(handle);
  }

  /** Stops counting and cancels everything scheduled. */
  close(): void {
    this.closed = true;
    for (const handle of this.timers) this.clock.clearTimeout(handle);
    this.timers.clear();
  }

  /** The audio up to the event's `audioAt` has been received. */
  private isHeard(event: CaseEvent): boolean {
    return Math.round((event.audioAt - this.startAt) * this.sampleRate) <= this.received;
  }

  /** At a resume point, what belongs to the audio before it is not sent again. */
  private skipAtResume(event: CaseEvent): boolean {
    if (this.startAt <= 0) return false;
    if (Math.abs(event.audioAt - this.startAt) <= EPSILON && isPauseEvent(event)) return true;
    const p = event.payload;
    return p.kind === 'utterance_end' && p.lastWordEnd < this.startAt - EPSILON;
  }

  private deliver(event: CaseEvent): void {
    const payload = event.payload;
    const audioAt = event.audioAt;
    switch (payload.kind) {
      case 'speech_started':
        this.onRelease({ kind: 'speech_started', timestamp: payload.timestamp, audioAt });
        return;
      case 'utterance_end':
        this.onRelease({ kind: 'utterance_end', lastWordEnd: payload.lastWordEnd, audioAt });
        return;
      case 'turn_info':
        if (payload.turnIndex <= this.fluxEndedTurn) return;
        if (payload.event === 'EndOfTurn') this.fluxEndedTurn = payload.turnIndex;
        this.onRelease({ kind: 'turn_info', payload, audioAt });
        return;
      case 'interim': {
        // A Finalize may have covered some of these words already: only the rest is interim.
        const heard = payload.heard.filter((w) => w.index > this.finalizedThrough);
        if (!heard.length) return;
        this.onRelease({
          kind: 'interim',
          transcript: joinWords(heard),
          words: payload.words.filter((w) => w.index > this.finalizedThrough),
          heard,
          misheard: heard.some((w) => !w.exact),
          audioAt,
        });
        return;
      }
      case 'final': {
        const rest = payload.words.filter((w) => w.index > this.finalizedThrough);
        if (!rest.length) return;
        this.finalizedThrough = rest[rest.length - 1]!.index;
        this.onRelease({
          ...this.written(rest, payload.speechFinal),
          kind: 'final',
          fromFinalize: false,
          audioAt,
        });
        return;
      }
    }
  }

  /** A final's words as the client asked them written. */
  private written(words: TimedWord[], speechFinal: boolean) {
    const tokens = formatFinal(
      words.map((w) => w.text),
      this.finalFormat,
      speechFinal,
    );
    return { transcript: tokensText(tokens), words, tokens, speechFinal };
  }
}
