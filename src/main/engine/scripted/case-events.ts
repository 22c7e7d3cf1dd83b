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
 * | nova | interim        | an interim tick (see below)      | stt_interim_lag_ms |
 * | nova | final (speech) | word end + endpointing_ms        | stt_final_lag_ms   |
 * | nova | UtteranceEnd   | word end + utterance_end_ms      | stt_final_lag_ms   |
 * | flux | StartOfTurn    | first word of a Flux turn: start | stt_interim_lag_ms |
 * | flux | TurnResumed    | next word's start after an eager | stt_interim_lag_ms |
 * | flux | Update         | an update tick (see below)       | stt_interim_lag_ms |
 * | flux | EagerEndOfTurn | word end + flux_eager_lag_ms     | 0                  |
 * | flux | EndOfTurn      | word end + flux_eot_lag_ms, or + eot_timeout_ms below eot_threshold | 0 |
 *
 * A Nova segment is the words since the previous final; a Flux turn is Flux's own (a confident
 * hold ends it, and the rest of the case turn becomes the next Flux turn).
 *
 * How the results read (SttBehaviour; DEEPGRAM_STT by default, from what Deepgram documents):
 * - Interims come at an audio-driven cadence, not per word: Deepgram's documented example sends
 *   one per second of audio, and audio reaches it "in irregular pieces", so a Nova interim tick
 *   falls every 0.5–1.0 s of received audio; Flux sends an Update about every 250 ms while a
 *   turn is open. A tick shows the words whose audio has been received; a word still being
 *   spoken may be guessed at the tip, and the last word or two near the tip may be wrong and
 *   put right by a later result ("in the speech analyst" → "in the speech analytics space").
 * - A case's own mis-hearing (`interims`) is shown by an interim made once its words are heard.
 * - Finals and Flux's EagerEndOfTurn / EndOfTurn carry the true words; a final is formatted
 *   when the client asks for it (smart_format: numerals, times, percentages, punctuation;
 *   see smart-format.ts), interims are not.
 * Everything random is drawn from a generator seeded by the case's own words and times, so a
 * case gives the same results to every system and every run.
 */
import type { SttSettings } from '../../../shared/settings';
import type { TurnEventName } from '../../../shared/timeline';
import { normalizeTranscript } from '../text/normalize';
import { finalTranscript, type CaseProfile, type CaseTurn } from './case';

/** End-of-turn confidence Flux gives an ordinary gap between words (no hold in the case). */
export const MID_TURN_EOT_CONFIDENCE = 0.05;

/** How the simulated speech-to-text service reads the audio (see the header). */
export interface SttBehaviour {
  /**
   * Nova interims: `'word'`, one per word at its end (an idealised STT, for tests that need
   * one interim per word); otherwise the seconds of audio between interim ticks, drawn for each
   * tick from [min, max].
   */
  novaInterimPeriod: 'word' | readonly [number, number];
  /** Flux Update: `'word'`, one per word at its end; otherwise seconds of audio between updates. */
  fluxUpdatePeriod: 'word' | number;
  /** Chance that the last word heard, if it ended less than REVISION_WINDOW_S before the tick, reads wrong. */
  revisionProbability: number;
  /** Chance that a word still being spoken at the tick (TIP_MIN_HEARD of it heard) is guessed at the tip. */
  tipProbability: number;
  /** Finals are written as the client asked (smart_format, punctuate); false: always the bare words. */
  formatsFinals: boolean;
}

/** Deepgram as documented: audio-driven interims and updates, revised near the tip. */
export const DEEPGRAM_STT: SttBehaviour = {
  novaInterimPeriod: [0.5, 1.0],
  fluxUpdatePeriod: 0.25,
  revisionProbability: 0.35,
  tipProbability: 0.6,
  formatsFinals: true,
};

/** An idealised STT: one interim (or Update) per word at its end, never revised. */
export const IDEAL_STT: SttBehaviour = {
  novaInterimPeriod: 'word',
  fluxUpdatePeriod: 'word',
  revisionProbability: 0,
  tipProbability: 0,
  formatsFinals: true,
};

/** A word that ended less than this before a tick is near the tip, where it may read wrong. */
export const REVISION_WINDOW_S = 0.3;
/** Share of a word that must have been heard before it can be guessed at the tip. */
export const TIP_MIN_HEARD = 0.4;

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

/** A word as a result reads it, with the true word it stands for. */
export interface HeardWord {
  text: string;
  start: number;
  end: number;
  /** Index (among all words of the case) of the true word it stands for. */
  index: number;
  /** It reads as the true word. */
  exact: boolean;
}

interface BehaviourOption {
  /** How results read; DEEPGRAM_STT when not given. */
  behaviour?: SttBehaviour;
}

export interface NovaEventOptions extends BehaviourOption {
  mode: 'nova';
  endpointing_ms: number;
  utterance_end_ms: number;
  /** Emit SpeechStarted (Deepgram `vad_events`); default true. */
  vad_events?: boolean;
}

export interface FluxEventOptions extends BehaviourOption {
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
      /** Transcript of the not-yet-finalised segment as heard (mis-hearings and tip guesses applied). */
      transcript: string;
      /** The whole case turn as heard so far (finalised words + this interim). */
      turnTranscript: string;
      /** The true words of the segment whose audio has been heard. */
      words: TimedWord[];
      /** The words as this interim reads them. */
      heard: HeardWord[];
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
  /** The Flux turn's transcript so far (an Update may read words wrong; Eager/EndOfTurn carry the true words). */
  transcript: string;
  /** The true words of the turn whose audio has been heard. */
  words: TimedWord[];
  /** The words as this event reads them. */
  heard: HeardWord[];
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
  options: { eager?: boolean; vadEvents?: boolean; behaviour?: SttBehaviour } = {},
): CaseEventOptions {
  const behaviour = options.behaviour ? { behaviour: options.behaviour } : {};
  if (stt.provider === 'deepgram-flux') {
    return {
      mode: 'flux',
      eot_threshold: stt.flux.eot_threshold,
      eager_eot_threshold: options.eager === false ? null : stt.flux.eager_eot_threshold,
      eot_timeout_ms: stt.flux.eot_timeout_ms,
      ...behaviour,
    };
  }
  return {
    mode: 'nova',
    endpointing_ms: stt.nova.endpointing_ms,
    utterance_end_ms: stt.nova.utterance_end_ms,
    vad_events: options.vadEvents ?? true,
    ...behaviour,
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

/** The seed of a case's random draws: a hash of its words and their times. */
export function caseSeed(turns: readonly CaseTurn[]): number {
  let hash = 0x811c9dc5;
  for (const turn of turns)
    for (const w of turn.words)
      for (const ch of `${w.text}@${w.start}-${w.end};`)
        hash = Math.imul(hash ^ ch.charCodeAt(0), 0x01000193);
  return hash >>> 0;
}

/** A small seeded generator (mulberry32): uniform numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------- reading the words at a tick ----------

/** Short words a recogniser confuses with others that sound the same. */
const SOUND_ALIKE: Record<string, string> = {
  to: 'two',
  too: 'to',
  two: 'to',
  for: 'four',
  four: 'for',
  right: 'write',
  write: 'right',
  there: 'their',
  their: 'there',
  hour: 'our',
  our: 'hour',
  no: 'know',
  know: 'no',
  by: 'buy',
  buy: 'by',
  see: 'sea',
  be: 'bee',
  won: 'one',
  one: 'won',
  eight: 'ate',
  weather: 'whether',
  whether: 'weather',
  new: 'knew',
  meet: 'meat',
  mail: 'male',
  week: 'weak',
  sun: 'son',
  "it's": 'its',
  i: 'eye',
};

/**
 * A plausible wrong reading of a word: its sound-alike when it has one, otherwise the word cut
 * short (the recogniser has heard only its beginning: "analytics" read as "analy"), or with a
 * wrong ending. Never the word itself.
 */
export function misreading(word: string, random: () => number): string {
  const lower = word.toLowerCase();
  const alike = SOUND_ALIKE[lower];
  if (alike) return alike;
  if (lower.length >= 5)
    return lower.slice(0, Math.max(3, Math.round(lower.length * (0.5 + random() * 0.2))));
  if (lower.length >= 3)
    return random() < 0.5 ? `${lower}s` : `${lower.slice(0, -1)}${lower.endsWith('e') ? 'a' : 'e'}`;
  return `${lower}h`;
}

interface TickReading {
  heard: HeardWord[];
  /** The true words whose audio has been heard (the run's words up to the tick). */
  complete: TimedWord[];
  /** A case mis-hearing applied. */
  caseMisheard: boolean;
}

/**
 * How a result made at `tick` reads the run of words from `from` (the first word not yet
 * finalised, or the first of the Flux turn) up to `to` (exclusive: the first word of the next
 * segment or turn, or the end). `undefined` when nothing of the run has been heard yet.
 */
function readAt(
  words: readonly TimedWord[],
  turns: readonly CaseTurn[],
  from: number,
  to: number,
  tick: number,
  behaviour: SttBehaviour,
  random: () => number,
): TickReading | undefined {
  const run = words.slice(from, to);
  const complete = run.filter((w) => w.end <= tick + EPSILON);
  const inProgress = run.find((w) => w.start < tick - EPSILON && w.end > tick + EPSILON);
  // Draws happen whatever the outcome, so one decision never shifts the draws of the next.
  const reviseDraw = random();
  const tipDraw = random();
  const tipRightDraw = random();
  const wrongDraw = random();
  if (!complete.length && !inProgress) return undefined;

  let heard: HeardWord[] = complete.map((w) => exactWord(w));
  let caseMisheard = false;
  const last = complete.at(-1);
  if (last) {
    const caseInterim = turns[last.turn]!.interims.find((m) => m.after === last.wordInTurn);
    if (caseInterim && !inProgress) {
      heard = caseMisreading(complete, caseInterim.text);
      caseMisheard = true;
    } else if (tick - last.end < REVISION_WINDOW_S && reviseDraw < behaviour.revisionProbability) {
      heard[heard.length - 1] = {
        ...exactWord(last),
        text: misreading(last.text, () => wrongDraw),
        exact: false,
      };
    }
  }
  if (inProgress && !caseMisheard) {
    const share = (tick - inProgress.start) / (inProgress.end - inProgress.start);
    if (share >= TIP_MIN_HEARD && tipDraw < behaviour.tipProbability) {
      const right = tipRightDraw < 0.5;
      heard.push({
        text: right ? inProgress.text : misreading(inProgress.text, () => wrongDraw),
        start: inProgress.start,
        end: round(tick),
        index: inProgress.index,
        exact: right,
      });
    }
  }
  if (!heard.length) return undefined;
  return { heard, complete, caseMisheard };
}

function exactWord(w: TimedWord): HeardWord {
  return { text: w.text, start: w.start, end: w.end, index: w.index, exact: true };
}

/**
 * A case mis-hearing covers its turn from the first word; when the run starts later in that
 * turn, the mis-heard text's first words stand for the words already finalised and are
 * dropped. The mis-heard words are spread over the true ones' time and stand for the run's
 * last word.
 */
function caseMisreading(complete: readonly TimedWord[], text: string): HeardWord[] {
  const last = complete.at(-1)!;
  const ownTurn = complete.filter((w) => w.turn === last.turn);
  const before = complete.filter((w) => w.turn !== last.turn).map((w) => exactWord(w));
  const misheard = text.trim().split(/\s+/);
  const texts = misheard.slice(Math.min(ownTurn[0]!.wordInTurn, misheard.length - 1));
  const from = ownTurn[0]!.start;
  const step = (last.end - from) / Math.max(1, texts.length);
  return [
    ...before,
    ...texts.map((t, i) => ({
      text: t,
      start: round(from + i * step),
      end: round(from + (i + 1) * step),
      index: last.index,
      exact: false,
    })),
  ];
}

/** Tick times in [from, to): the first at a random phase of `period`, then one `period` apart. */
function ticks(from: number, to: number, period: () => number, random: () => number): number[] {
  const out: number[] = [];
  for (let t = from + random() * period(); t < to; t += period()) out.push(round(t));
  return out;
}

// ---------- Nova ----------

function novaEvents(script: CaseScript, options: NovaEventOptions): NovaEvent[] {
  const { profile, turns } = script;
  const behaviour = options.behaviour ?? DEEPGRAM_STT;
  const random = seededRandom(caseSeed(turns));
  const words = flattenWords(turns);
  const events: NovaEvent[] = [];
  const push = (audioAt: number, delayMs: number, caseTurn: number, payload: NovaPayload) =>
    events.push({ audioAt: round(audioAt), delayMs, caseTurn, payload });

  // Finals (and the segments they close), SpeechStarted and UtteranceEnd follow the pauses.
  const finals: { at: number; through: number }[] = [];
  let segmentStart = 0;
  words.forEach((word, i) => {
    const next = words[i + 1];
    if (i === segmentStart && options.vad_events !== false) {
      push(word.start, profile.stt_interim_lag_ms, word.turn, {
        kind: 'speech_started',
        timestamp: word.start,
      });
    }
    const finalAt = word.end + options.endpointing_ms / 1000;
    if (silentUntil(next, finalAt)) {
      const segment = words.slice(segmentStart, i + 1);
      push(finalAt, profile.stt_final_lag_ms, word.turn, {
        kind: 'final',
        transcript: joinWords(segment),
        words: segment,
        speechFinal: true,
        start: segment[0]!.start,
        end: word.end,
      });
      finals.push({ at: round(finalAt), through: i });
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

  // Interims: at every tick, the words not finalised yet as heard by then.
  const interimAt = (tick: number, reading: TickReading, from: number) => {
    const { heard, complete } = reading;
    const lastIndex = heard.at(-1)!.index;
    const caseTurn = words[lastIndex]!.turn;
    const finalisedInTurn = words.slice(0, from).filter((w) => w.turn === caseTurn);
    const ownTurn = heard.filter((h) => words[h.index]!.turn === caseTurn);
    push(tick, profile.stt_interim_lag_ms, caseTurn, {
      kind: 'interim',
      transcript: joinWords(heard),
      turnTranscript: [joinWords(finalisedInTurn), joinWords(ownTurn)].filter(Boolean).join(' '),
      words: complete,
      heard,
      misheard: heard.some((h) => !h.exact),
      start: heard[0]!.start,
      end: heard.at(-1)!.end,
    });
  };
  const segmentAt = (tick: number) => {
    let from = 0;
    for (const f of finals) if (f.at <= tick + EPSILON) from = f.through + 1;
    let to = words.length;
    const closing = finals.find((f) => f.through >= from);
    if (closing) to = closing.through + 1;
    return { from, to };
  };

  if (behaviour.novaInterimPeriod === 'word') {
    for (const word of words) {
      const { from, to } = segmentAt(word.end - EPSILON);
      const reading = readAt(words, turns, from, to, word.end, behaviour, random);
      if (reading) interimAt(word.end, reading, from);
    }
    return events;
  }
  const [min, max] = behaviour.novaInterimPeriod;
  const tickTimes = new Set(
    ticks(0, (words.at(-1)?.end ?? 0) + max, () => min + random() * (max - min), random),
  );
  // A case's own mis-hearing is read once its words are heard.
  for (const w of words)
    if (turns[w.turn]!.interims.some((m) => m.after === w.wordInTurn)) tickTimes.add(w.end);
  let previous = '';
  for (const tick of [...tickTimes].sort((a, b) => a - b)) {
    const { from, to } = segmentAt(tick);
    const reading = readAt(words, turns, from, to, tick, behaviour, random);
    if (!reading) continue;
    const text = `${from}:${joinWords(reading.heard)}`;
    if (text === previous) continue; // nothing new since the last interim
    previous = text;
    interimAt(tick, reading, from);
  }
  return events;
}

// ---------- Flux ----------

function fluxEvents(script: CaseScript, options: FluxEventOptions): FluxEvent[] {
  const { profile, turns } = script;
  const behaviour = options.behaviour ?? DEEPGRAM_STT;
  const random = seededRandom(caseSeed(turns));
  const words = flattenWords(turns);
  const events: FluxEvent[] = [];
  const eager = options.eager_eot_threshold ?? null;
  const lag = profile.stt_interim_lag_ms;
  /** Flux turns: first and last word (index), when the turn opened and closed (case seconds). */
  const fluxTurns: { first: number; last: number; openAt: number; closeAt: number }[] = [];
  /** From an EagerEndOfTurn to the TurnResumed after it (or the end): the transcript is final then. */
  const drafts: { turnIndex: number; from: number; to: number }[] = [];
  let turnStart = -1; // index of the Flux turn's first word; -1 between turns
  let eagerPending = false;

  const push = (
    turnIndex: number,
    event: TurnEventName,
    audioAt: number,
    delayMs: number,
    first: number,
    heard: HeardWord[],
    extra: { confidence?: number; trigger?: 'model' | 'timeout' } = {},
  ) => {
    const last = words[heard.at(-1)?.index ?? first]!;
    const complete = heard.length ? words.slice(first, last.index + 1) : [];
    const payload: FluxPayload = {
      kind: 'turn_info',
      event,
      turnIndex,
      transcript: joinWords(heard),
      words: complete.filter((w) => w.end <= audioAt + EPSILON),
      heard,
      misheard: heard.some((h) => !h.exact),
      confidence: extra.confidence ?? MID_TURN_EOT_CONFIDENCE,
      audioWindowStart: words[first]!.start,
      audioWindowEnd: round(Math.max(audioAt, heard.length ? last.end : 0)),
    };
    if (extra.trigger) payload.trigger = extra.trigger;
    events.push({ audioAt: round(audioAt), delayMs, caseTurn: last.turn, payload });
  };
  const exactRun = (from: number, through: number) => words.slice(from, through + 1).map((w) => exactWord(w));

  words.forEach((word, i) => {
    const next = words[i + 1];
    if (turnStart < 0) {
      turnStart = i;
      fluxTurns.push({ first: i, last: i, openAt: word.start, closeAt: Number.POSITIVE_INFINITY });
      push(fluxTurns.length - 1, 'StartOfTurn', word.start, lag, i, []);
    } else if (eagerPending) {
      push(fluxTurns.length - 1, 'TurnResumed', word.start, lag, turnStart, exactRun(turnStart, i - 1));
      drafts.at(-1)!.to = word.start;
      eagerPending = false;
    }
    const turnIndex = fluxTurns.length - 1;
    fluxTurns[turnIndex]!.last = i;
    const confidence = pauseConfidence(turns, word);
    const byModel = confidence >= options.eot_threshold;
    const endAt = word.end + (byModel ? profile.flux_eot_lag_ms : options.eot_timeout_ms) / 1000;
    const eagerAt = word.end + profile.flux_eager_lag_ms / 1000;
    if (eager !== null && confidence >= eager && eagerAt < endAt && silentUntil(next, eagerAt)) {
      push(turnIndex, 'EagerEndOfTurn', eagerAt, 0, turnStart, exactRun(turnStart, i), { confidence });
      drafts.push({ turnIndex, from: eagerAt, to: Number.POSITIVE_INFINITY });
      eagerPending = true;
    }
    if (silentUntil(next, endAt)) {
      push(turnIndex, 'EndOfTurn', endAt, 0, turnStart, exactRun(turnStart, i), {
        confidence,
        trigger: byModel ? 'model' : 'timeout',
      });
      fluxTurns[turnIndex]!.closeAt = round(endAt);
      turnStart = -1;
      eagerPending = false;
    }
  });

  // Updates: the turn as heard, at every tick while it is open.
  const updateAt = (turnIndex: number, tick: number) => {
    const t = fluxTurns[turnIndex]!;
    const reading = readAt(words, turns, t.first, t.last + 1, tick, behaviour, random);
    if (!reading) return;
    // After an EagerEndOfTurn the transcript is final (Flux's contract) until the user goes on.
    if (drafts.some((d) => d.turnIndex === turnIndex && tick >= d.from - EPSILON && tick < d.to - EPSILON))
      reading.heard = reading.complete.map((w) => exactWord(w));
    const lastHeard = words[reading.heard.at(-1)!.index]!;
    const speaking = words
      .slice(t.first, t.last + 1)
      .some((w) => w.start < tick - EPSILON && w.end > tick + EPSILON);
    const inPause = !speaking && lastHeard.end <= tick + EPSILON;
    push(turnIndex, 'Update', tick, lag, t.first, reading.heard, {
      confidence: inPause ? pauseConfidence(turns, lastHeard) : MID_TURN_EOT_CONFIDENCE,
    });
  };
  fluxTurns.forEach((t, turnIndex) => {
    if (behaviour.fluxUpdatePeriod === 'word') {
      for (const w of words.slice(t.first, t.last + 1)) updateAt(turnIndex, w.end);
      return;
    }
    const period = behaviour.fluxUpdatePeriod;
    const close = Number.isFinite(t.closeAt) ? t.closeAt : words[t.last]!.end + options.eot_timeout_ms / 1000;
    for (const tick of ticks(t.openAt, close, () => period, random))
      if (tick < close - EPSILON) updateAt(turnIndex, tick);
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
