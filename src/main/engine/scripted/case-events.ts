/**
 * The one place that turns a corpus case into timed speech-to-text provider events.
 * Pure: no clock, no I/O. The scripted providers and the wire-protocol simulators both
 * replay the list this module returns.
 *
 * Event time: every event has `audioAt`, the seconds of case audio the provider must have
 * received before it can know the event, and `delayMs`, the provider's extra latency after
 * that audio was received. A consumer releases the events in list order (a socket is
 * ordered): event k goes out at max(time the audio up to `audioAt` was received + `delayMs`,
 * time event k−1 went out). The list is sorted by `audioAt` (ties in generation order).
 *
 * Pause-based events (finals, UtteranceEnd, EagerEndOfTurn, EndOfTurn) only exist when the
 * next word has not started by their `audioAt` (it may start exactly at it).
 *
 * | mode | event          | audioAt                          | delayMs            |
 * |------|----------------|----------------------------------|--------------------|
 * | nova | SpeechStarted  | first word of a segment: start   | stt_interim_lag_ms |
 * | nova | interim        | word end                         | stt_interim_lag_ms |
 * | nova | final (speech) | word end + endpointing_ms        | stt_final_lag_ms   |
 * | nova | UtteranceEnd   | word end + utterance_end_ms      | stt_final_lag_ms   |
 * | flux | StartOfTurn    | first word of a Flux turn: start | stt_interim_lag_ms |
 * | flux | TurnResumed    | next word's start after an eager | stt_interim_lag_ms |
 * | flux | Update         | word end                         | stt_interim_lag_ms |
 * | flux | EagerEndOfTurn | word end + flux_eager_lag_ms     | 0                  |
 * | flux | EndOfTurn      | word end + flux_eot_lag_ms, or + eot_timeout_ms below eot_threshold | 0 |
 *
 * A Nova segment is the words since the previous final; a Flux turn is Flux's own (a confident
 * hold ends it, and the rest of the case turn becomes the next Flux turn).
 */
import type { SttSettings } from '../../../shared/settings';
import type { TurnEventName } from '../../../shared/timeline';
import { normalizeTranscript } from '../text/normalize';
import { finalTranscript, type CaseProfile, type CaseTurn } from './case';

/** End-of-turn confidence Flux gives an ordinary gap between words (no hold in the case). */
export const MID_TURN_EOT_CONFIDENCE = 0.05;

/** A word of the case, numbered across all turns. Times in seconds of case audio. */
export interface TimedWord {
  /** Index among all words of the case. */
  index: number;
  /** Index of the case turn it belongs to. */
  turn: number;
  /** Index within that turn's words. */
  wordInTurn: number;
  text: string;
  start: number;
  end: number;
}

export interface NovaEventOptions {
  mode: 'nova';
  endpointing_ms: number;
  utterance_end_ms: number;
  /** Emit SpeechStarted (Deepgram `vad_events`); default true. */
  vad_events?: boolean;
}

export interface FluxEventOptions {
  mode: 'flux';
  eot_threshold: number;
  /** null or undefined: no eager events (the client did not send the threshold). */
  eager_eot_threshold?: number | null;
  eot_timeout_ms: number;
}

export type CaseEventOptions = NovaEventOptions | FluxEventOptions;
export type CaseEventMode = CaseEventOptions['mode'];

export type NovaPayload =
  | { kind: 'speech_started'; timestamp: number }
  | {
      kind: 'interim';
      /** Transcript of the not-yet-finalised segment as heard (a case mis-hearing applied). */
      transcript: string;
      /** The whole case turn as heard so far (finalised words + this interim). */
      turnTranscript: string;
      /** The true words of the segment. */
      words: TimedWord[];
      misheard: boolean;
      start: number;
      end: number;
    }
  | {
      kind: 'final';
      /** True words of the segment since the previous final. */
      transcript: string;
      words: TimedWord[];
      speechFinal: boolean;
      start: number;
      end: number;
    }
  | { kind: 'utterance_end'; lastWordEnd: number };

export interface FluxPayload {
  kind: 'turn_info';
  event: TurnEventName;
  /** Flux's own turn counter (a confident hold inside a case turn starts a new Flux turn). */
  turnIndex: number;
  /** The Flux turn's transcript so far (Update may carry a mis-hearing; Eager/EndOfTurn the true words). */
  transcript: string;
  words: TimedWord[];
  misheard: boolean;
  /** End-of-turn confidence reported with the event. */
  confidence: number;
  audioWindowStart: number;
  audioWindowEnd: number;
  /** EndOfTurn only: `model` (confidence ≥ eot_threshold) or `timeout` (eot_timeout_ms of silence). */
  trigger?: 'model' | 'timeout';
}

export type CaseEventPayload = NovaPayload | FluxPayload;

export interface CaseEvent<P extends CaseEventPayload = CaseEventPayload> {
  /** Seconds of case audio that must have been received. */
  audioAt: number;
  /** Extra latency (ms) after that audio was received. */
  delayMs: number;
  /** The case turn the event belongs to (of its last word). */
  caseTurn: number;
  payload: P;
}

export type NovaEvent = CaseEvent<NovaPayload>;
export type FluxEvent = CaseEvent<FluxPayload>;

export interface CaseScript {
  turns: readonly CaseTurn[];
  profile: CaseProfile;
}

/** Options for a case replay from the STT settings. `eager: false` leaves out eager events (preemptive generation off). */
export function caseEventOptions(
  stt: SttSettings,
  options: { eager?: boolean; vadEvents?: boolean } = {},
): CaseEventOptions {
  if (stt.provider === 'deepgram-flux') {
    return {
      mode: 'flux',
      eot_threshold: stt.flux.eot_threshold,
      eager_eot_threshold: options.eager === false ? null : stt.flux.eager_eot_threshold,
      eot_timeout_ms: stt.flux.eot_timeout_ms,
    };
  }
  return {
    mode: 'nova',
    endpointing_ms: stt.nova.endpointing_ms,
    utterance_end_ms: stt.nova.utterance_end_ms,
    vad_events: options.vadEvents ?? true,
  };
}

/** All words of the case in time order, numbered across turns. */
export function flattenWords(turns: readonly CaseTurn[]): TimedWord[] {
  let index = 0;
  return turns.flatMap((turn, t) =>
    turn.words.map((w, i) => ({
      index: index++,
      turn: t,
      wordInTurn: i,
      text: w.text,
      start: w.start,
      end: w.end,
    })),
  );
}

/** The words among `words` whose end is within the first `audioAt` seconds of audio. */
export function wordsHeardBy(words: readonly TimedWord[], audioAt: number): TimedWord[] {
  return words.filter((w) => w.end <= audioAt + EPSILON);
}

export function joinWords(words: readonly { text: string }[]): string {
  return words.map((w) => w.text).join(' ');
}

/** The timed provider events of a case, sorted by `audioAt`. */
export function caseEvents(script: CaseScript, options: NovaEventOptions): NovaEvent[];
export function caseEvents(script: CaseScript, options: FluxEventOptions): FluxEvent[];
export function caseEvents(script: CaseScript, options: CaseEventOptions): CaseEvent[];
export function caseEvents(script: CaseScript, options: CaseEventOptions): CaseEvent[] {
  const events = options.mode === 'nova' ? novaEvents(script, options) : fluxEvents(script, options);
  // Stable: ties keep generation order.
  return events.sort((a, b) => a.audioAt - b.audioAt);
}

/** Expected LLM replies of a case: normalised final transcript of each turn → its reply (the first turn wins on duplicates). */
export function expectedReplies(script: Pick<CaseScript, 'turns'>): Map<string, string> {
  const replies = new Map<string, string>();
  for (const turn of script.turns) {
    const key = normalizeTranscript(finalTranscript(turn));
    if (!replies.has(key)) replies.set(key, turn.reply);
  }
  return replies;
}

// ---------- Nova ----------

function novaEvents(script: CaseScript, options: NovaEventOptions): NovaEvent[] {
  const { profile, turns } = script;
  const words = flattenWords(turns);
  const events: NovaEvent[] = [];
  const push = (audioAt: number, delayMs: number, caseTurn: number, payload: NovaPayload) =>
    events.push({ audioAt: round(audioAt), delayMs, caseTurn, payload });
  let segmentStart = 0;

  words.forEach((word, i) => {
    const next = words[i + 1];
    if (i === segmentStart && options.vad_events !== false) {
      push(word.start, profile.stt_interim_lag_ms, word.turn, {
        kind: 'speech_started',
        timestamp: word.start,
      });
    }
    const segment = words.slice(segmentStart, i + 1);
    const heard = heardText(segment, turns);
    const finalisedInTurn = words.slice(0, segmentStart).filter((w) => w.turn === word.turn);
    push(word.end, profile.stt_interim_lag_ms, word.turn, {
      kind: 'interim',
      transcript: heard.transcript,
      turnTranscript: [joinWords(finalisedInTurn), heard.turnPart].filter(Boolean).join(' '),
      words: segment,
      misheard: heard.misheard,
      start: segment[0]!.start,
      end: word.end,
    });
    const finalAt = word.end + options.endpointing_ms / 1000;
    if (silentUntil(next, finalAt)) {
      push(finalAt, profile.stt_final_lag_ms, word.turn, {
        kind: 'final',
        transcript: joinWords(segment),
        words: segment,
        speechFinal: true,
        start: segment[0]!.start,
        end: word.end,
      });
      segmentStart = i + 1;
    }
    const utteranceEndAt = word.end + options.utterance_end_ms / 1000;
    if (silentUntil(next, utteranceEndAt)) {
      push(utteranceEndAt, profile.stt_final_lag_ms, word.turn, {
        kind: 'utterance_end',
        lastWordEnd: word.end,
      });
    }
  });
  return events;
}

// ---------- Flux ----------

function fluxEvents(script: CaseScript, options: FluxEventOptions): FluxEvent[] {
  const { profile, turns } = script;
  const words = flattenWords(turns);
  const events: FluxEvent[] = [];
  const eager = options.eager_eot_threshold ?? null;
  let turnIndex = -1;
  let turnStart = -1; // index of the Flux turn's first word; -1 between turns
  let eagerPending = false;

  const push = (
    event: TurnEventName,
    audioAt: number,
    delayMs: number,
    turnWords: TimedWord[],
    extra: {
      transcript?: string;
      misheard?: boolean;
      confidence?: number;
      trigger?: 'model' | 'timeout';
    } = {},
  ) => {
    const last = turnWords[turnWords.length - 1];
    const payload: FluxPayload = {
      kind: 'turn_info',
      event,
      turnIndex,
      transcript: extra.transcript ?? joinWords(turnWords),
      words: turnWords,
      misheard: extra.misheard ?? false,
      confidence: extra.confidence ?? MID_TURN_EOT_CONFIDENCE,
      audioWindowStart: words[turnStart]!.start,
      audioWindowEnd: round(Math.max(audioAt, last?.end ?? 0)),
    };
    if (extra.trigger) payload.trigger = extra.trigger;
    events.push({ audioAt: round(audioAt), delayMs, caseTurn: (last ?? words[turnStart]!).turn, payload });
  };

  words.forEach((word, i) => {
    const next = words[i + 1];
    const lag = profile.stt_interim_lag_ms;
    if (turnStart < 0) {
      turnIndex++;
      turnStart = i;
      push('StartOfTurn', word.start, lag, []);
    } else if (eagerPending) {
      push('TurnResumed', word.start, lag, words.slice(turnStart, i));
      eagerPending = false;
    }
    const turnWords = words.slice(turnStart, i + 1);
    const heard = heardText(turnWords, turns);
    push('Update', word.end, lag, turnWords, { transcript: heard.transcript, misheard: heard.misheard });

    const confidence = pauseConfidence(turns, word);
    const byModel = confidence >= options.eot_threshold;
    const endAt = word.end + (byModel ? profile.flux_eot_lag_ms : options.eot_timeout_ms) / 1000;
    const eagerAt = word.end + profile.flux_eager_lag_ms / 1000;
    if (eager !== null && confidence >= eager && eagerAt < endAt && silentUntil(next, eagerAt)) {
      push('EagerEndOfTurn', eagerAt, 0, turnWords, { confidence });
      eagerPending = true;
    }
    if (silentUntil(next, endAt)) {
      push('EndOfTurn', endAt, 0, turnWords, { confidence, trigger: byModel ? 'model' : 'timeout' });
      turnStart = -1;
      eagerPending = false;
    }
  });
  return events;
}

/** The end-of-turn confidence of the pause after a word: its hold's, the turn's end, or mid-turn. */
function pauseConfidence(turns: readonly CaseTurn[], word: TimedWord): number {
  const turn = turns[word.turn]!;
  if (word.wordInTurn === turn.words.length - 1) return turn.end_eot_confidence;
  return turn.holds.find((h) => h.after === word.wordInTurn)?.eot_confidence ?? MID_TURN_EOT_CONFIDENCE;
}

// ---------- shared ----------

const EPSILON = 1e-6;

function round(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

/** True when the next word (if any) has not started before `at`. */
function silentUntil(next: TimedWord | undefined, at: number): boolean {
  return !next || next.start >= at - EPSILON;
}

/**
 * What a provider hears for a run of words ending at the last one: the true words, unless the
 * case has a mis-hearing for the prefix of the last word's turn that ends at this word. The
 * mis-hearing covers the turn from its first word; when the run starts later in that turn,
 * the mis-heard text's first words stand for the words already finalised and are dropped.
 */
function heardText(
  run: readonly TimedWord[],
  turns: readonly CaseTurn[],
): { transcript: string; turnPart: string; misheard: boolean } {
  const last = run[run.length - 1]!;
  const ownTurn = run.filter((w) => w.turn === last.turn);
  const otherTurns = joinWords(run.filter((w) => w.turn !== last.turn));
  const interim = turns[last.turn]!.interims.find((m) => m.after === last.wordInTurn);
  let turnPart = joinWords(ownTurn);
  if (interim) {
    const misheard = interim.text.trim().split(/\s+/);
    turnPart = misheard.slice(Math.min(ownTurn[0]!.wordInTurn, misheard.length - 1)).join(' ');
  }
  return {
    transcript: [otherTurns, turnPart].filter(Boolean).join(' '),
    turnPart,
    misheard: interim !== undefined,
  };
}
