/**
 * The benchmark's measures (CORPUS.md "Measures"), the same for every system. They read only
 * two things: what the benchmark's speaker heard (bench/speaker.ts: every sample played, with
 * the time it became audible) and what the provider simulators saw (LLM requests with the user's
 * words and the reply, syntheses with their text and voice mark). The scripted voice carries a
 * mark of its synthesis in every sample (voice-mark.ts), so the speaker's samples say which
 * synthesis was heard, from when and for how long, without asking the system anything.
 */
import { caseEvents, DEEPGRAM_STT } from '../src/main/engine/scripted/case-events';
import { finalTranscript, turnEnd, type ScriptCase } from '../src/main/engine/scripted/case';
import { ttsCharsCompleted } from '../src/main/engine/scripted/providers';
import { readVoiceMarks } from '../src/main/engine/scripted/voice-mark';
import { SAMPLE_RATE } from '../src/main/engine/ports';
import type { ReplayResult } from '../src/main/engine/replay';
import { normalizeTranscript } from '../src/main/engine/text/normalize';
import type { SimulatorSet } from '../sim/index';
import type { HeardStretch } from './speaker';

/** Nothing audible within this long after `t_end` is a missed turn. */
export const MISSED_AFTER_MS = 10_000;
/**
 * A reply stopped after less audio than this was not audible (a fraction of a millisecond can
 * reach a speaker before a pause lands); it still counts as an LLM request whose output was not heard.
 */
export const MIN_AUDIBLE_MS = 20;
/** Deepgram's default endpointing: the earliest final any client can ask for (the oracle's). */
export const ORACLE_ENDPOINTING_MS = 10;

export interface TurnMeasure {
  case: string;
  turn: number;
  t_end_ms: number;
  /** First audible sample of the reply − t_end (null when nothing was heard in the turn). */
  e2e_ms: number | null;
  false_cutin: boolean;
  /**
   * The cut-in came in a scripted pause after an unfinished phrase (a hold whose end-of-turn
   * confidence is below 0.5, "remind me to …"): the worst kind.
   */
  cutin_after_unfinished?: boolean;
  wrong_reply: boolean;
  missed: boolean;
  llm_requests: number;
  /** Requests whose output was never heard. */
  wasted_llm_requests: number;
  tts_characters: number;
  tts_characters_wasted: number;
  /** The text of the reply judged for the turn (the LLM reply its audio was made from). */
  spoken: string;
  /** Why the turn is marked a false cut-in, a wrong reply or missed (absent when it is none). */
  cause?: string;
  /** What the system itself explained about this turn (e.g. a peer's own fault, from its logs). */
  notes?: string[];
}

/** One LLM request as the simulator saw it (clock ms). */
export interface LlmRecord {
  receivedAt: number;
  /** The user's words since the last reply (CORPUS.md's rule). */
  userWords: string;
  onScript: boolean;
  /** The whole reply it streamed (the case reply, or the off-script marker). */
  reply: string;
}

/** One synthesis (an HTTP request or a WebSocket context) as the simulator saw it (clock ms). */
export interface SynthesisRecord {
  voiceMark: number;
  /** When its first text arrived (a context may be opened with no text before its reply exists). */
  textAt: number;
  text: string;
  charactersSynthesized: number;
}

/** What the simulators recorded, in clock ms (the same clock as the run's `startedAt`). */
export interface ProviderRecords {
  llmRequests: readonly LlmRecord[];
  syntheses: readonly SynthesisRecord[];
}

export function providerRecords(sims: SimulatorSet): ProviderRecords {
  return {
    llmRequests: sims.openai.stats.requests.map((r) => ({
      receivedAt: r.receivedAt,
      userWords: r.userWords,
      onScript: r.onScript,
      reply: r.reply,
    })),
    syntheses: sims.elevenlabs.stats.syntheses.map((s) => ({
      voiceMark: s.voiceMark,
      textAt: s.firstTextAt ?? s.receivedAt,
      text: s.text,
      charactersSynthesized: s.charactersSynthesized,
    })),
  };
}

/** What the scripted providers were asked, as the simulators record it. */
/** (For replays on the virtual clock.) */
export function scriptedRecords(
  caseData: Pick<ScriptCase, 'profile'>,
  result: ReplayResult,
): ProviderRecords {
  return {
    llmRequests: result.records.llm.map((r) => ({
      receivedAt: r.startedAt,
      userWords: r.userWords,
      onScript: r.onScript,
      reply: r.reply,
    })),
    syntheses: result.records.tts.map((r) => ({
      voiceMark: r.index,
      textAt: r.firstTextAt ?? r.startedAt,
      text: r.text,
      charactersSynthesized: ttsCharsCompleted(caseData.profile, r.samplesSent, SAMPLE_RATE),
    })),
  };
}

/** A synthesis the speaker played: when its first sample became audible, and how much of it. */
export interface HeardSynthesis {
  voiceMark: number;
  /** Clock ms. */
  audibleAt: number;
  heardMs: number;
}

/** What the speaker heard, by synthesis, and how much it heard that carried no readable mark. */
export interface Attribution {
  syntheses: HeardSynthesis[];
  unmarkedMs: number;
}

/** Reads the voice marks in everything the speaker played. */
export function attribute(stretches: readonly HeardStretch[]): Attribution {
  const byMark = new Map<number, HeardSynthesis>();
  let unmarkedMs = 0;
  for (const stretch of stretches) {
    const msPerSample = 1000 / stretch.sampleRate;
    let covered = 0;
    for (const run of readVoiceMarks(stretch.samples)) {
      covered += run.length;
      const audibleAt = stretch.at + run.at * msPerSample;
      const heard = byMark.get(run.mark);
      if (heard) {
        heard.audibleAt = Math.min(heard.audibleAt, audibleAt);
        heard.heardMs += run.length * msPerSample;
      } else {
        byMark.set(run.mark, { voiceMark: run.mark, audibleAt, heardMs: run.length * msPerSample });
      }
    }
    unmarkedMs += (stretch.samples.length - covered) * msPerSample;
  }
  return { syntheses: [...byMark.values()].sort((a, b) => a.audibleAt - b.audibleAt), unmarkedMs };
}

/** A reply that became audible: the LLM request its audio was made from, when, and how much. */
export interface HeardReply {
  /** Index of the LLM request in the records (null: audio no request produced, e.g. a fixed text). */
  request: number | null;
  /** Case ms (since the first sample of the case audio was sent). */
  audibleAtMs: number;
  heardMs: number;
  /** The whole text it was made from: the LLM reply, or the synthesis text when no request made it. */
  text: string;
  /** The user's words the LLM answered (empty when no request made it). */
  userWords: string;
  onScript: boolean;
  characters: number;
}

/**
 * The replies heard, in the order they became audible: each heard synthesis is matched to the
 * LLM request whose reply it speaks (the latest request before the synthesis began whose reply
 * starts with the synthesis's text), and syntheses of one request make one reply.
 */
export function heardReplies(
  attribution: Attribution,
  records: ProviderRecords,
  startedAt: number,
): HeardReply[] {
  const replies = new Map<string, HeardReply>();
  for (const heard of attribution.syntheses) {
    const synthesis = records.syntheses.find((s) => s.voiceMark === heard.voiceMark);
    const text = synthesis?.text ?? '';
    const spoken = normalizeTranscript(text);
    let request: number | null = null;
    if (spoken)
      records.llmRequests.forEach((r, i) => {
        if (synthesis && r.receivedAt > synthesis.textAt) return;
        if (normalizeTranscript(r.reply).startsWith(spoken)) request = i;
      });
    const key = request === null ? `synthesis ${heard.voiceMark}` : `request ${request}`;
    const existing = replies.get(key);
    const audibleAtMs = heard.audibleAt - startedAt;
    if (existing) {
      existing.audibleAtMs = Math.min(existing.audibleAtMs, audibleAtMs);
      existing.heardMs += heard.heardMs;
      existing.characters += synthesis?.text.length ?? 0;
      continue;
    }
    const llm = request === null ? undefined : records.llmRequests[request];
    replies.set(key, {
      request,
      audibleAtMs,
      heardMs: heard.heardMs,
      text: llm?.reply ?? text,
      userWords: llm?.userWords ?? '',
      onScript: llm?.onScript ?? false,
      characters: synthesis?.text.length ?? 0,
    });
  }
  return [...replies.values()].sort((a, b) => a.audibleAtMs - b.audibleAtMs);
}

/** One run of a case, as the runner hands it to the measures. */
export interface MeasuredRun {
  /** Clock time the first sample of the case audio was sent. */
  startedAt: number;
  /** Everything the benchmark's speaker played. */
  heard: readonly HeardStretch[];
}

/** Judges one run of a case turn by turn. */
export function measureRun(
  caseData: Pick<ScriptCase, 'id' | 'turns' | 'profile'>,
  run: MeasuredRun,
  records: ProviderRecords,
): TurnMeasure[] {
  const onCaseAxis = (t: number) => t - run.startedAt;
  const replies = heardReplies(attribute(run.heard), records, run.startedAt).filter(
    (r) => r.heardMs >= MIN_AUDIBLE_MS,
  );
  return caseData.turns.map((turn, index) => {
    const start = turn.words[0]!.start * 1000;
    const tEnd = turnEnd(turn) * 1000;
    const next = caseData.turns[index + 1]?.words[0]?.start;
    const windowEnd = next === undefined ? Number.POSITIVE_INFINITY : next * 1000;
    const within = (t: number) => t >= start && t < windowEnd;

    const heard = replies.filter((r) => within(r.audibleAtMs));
    const answer = heard.find((r) => r.audibleAtMs >= tEnd) ?? heard.at(-1);
    const requests = records.llmRequests.flatMap((r, i) => (within(onCaseAxis(r.receivedAt)) ? [i] : []));
    const heardRequests = new Set(heard.map((r) => r.request));
    const syntheses = records.syntheses.filter((s) => within(onCaseAxis(s.textAt)));
    const ttsCharacters = syntheses.reduce((n, s) => n + s.charactersSynthesized, 0);
    const heardCharacters = heard.reduce(
      (n, r) => n + charactersHeard(r, caseData.profile.tts_ms_per_char),
      0,
    );
    const e2e = answer ? answer.audibleAtMs - tEnd : null;
    const cutIn = firstCutIn(turn, heard, tEnd);
    const measure: TurnMeasure = {
      case: caseData.id,
      turn: index,
      t_end_ms: Math.round(tEnd),
      e2e_ms: e2e === null ? null : Math.round(e2e),
      false_cutin: cutIn !== undefined,
      wrong_reply: !answer || normalizeTranscript(answer.text) !== normalizeTranscript(turn.reply),
      missed: e2e === null || e2e > MISSED_AFTER_MS,
      llm_requests: requests.length,
      wasted_llm_requests: requests.filter((i) => !heardRequests.has(i)).length,
      tts_characters: ttsCharacters,
      tts_characters_wasted: Math.max(0, Math.round(ttsCharacters - heardCharacters)),
      spoken: answer?.text ?? '',
    };
    if (cutIn) {
      const hold = turn.holds.find((h) => h.after === cutIn.wordsBefore.length - 1);
      measure.cutin_after_unfinished = hold !== undefined && hold.eot_confidence < 0.5;
    }
    const cause = causeOf(measure, { turn, caseData, cutIn, answer, records, requests });
    if (cause) measure.cause = cause;
    return measure;
  });
}

type ScriptTurn = ScriptCase['turns'][number];

/** A cut-in: the first reply heard before the user finished the turn, and the words said before it. */
interface CutIn {
  early: HeardReply;
  wordsBefore: ScriptTurn['words'];
}

function firstCutIn(turn: ScriptTurn, heard: readonly HeardReply[], tEndMs: number): CutIn | undefined {
  const early = heard.find((r) => r.audibleAtMs < tEndMs);
  if (!early) return undefined;
  return { early, wordsBefore: turn.words.filter((w) => w.end * 1000 <= early.audibleAtMs) };
}

/** Why a turn is marked, in words, from the case script and the records. */
function causeOf(
  m: TurnMeasure,
  ctx: {
    turn: ScriptTurn;
    caseData: Pick<ScriptCase, 'turns'>;
    cutIn: CutIn | undefined;
    answer: HeardReply | undefined;
    records: ProviderRecords;
    requests: readonly number[];
  },
): string | undefined {
  const causes: string[] = [];
  const quote = (text: string) => `“${text.length > 80 ? `${text.slice(0, 77)}…` : text}”`;
  if (ctx.cutIn) {
    const { early, wordsBefore: before } = ctx.cutIn;
    const last = before.at(-1);
    const pause = last ? Math.round(early.audibleAtMs - last.end * 1000) : 0;
    const where = last
      ? `${pause} ms into the pause after ${quote(before.map((w) => w.text).join(' '))}`
      : 'before the user said a word';
    causes.push(
      `cut in: a reply became audible ${Math.round(m.t_end_ms - early.audibleAtMs)} ms before the user finished, ${where}` +
        (early.request !== null ? `; its LLM request answered ${quote(early.userWords)}` : ''),
    );
  }
  if (m.missed) {
    const made = ctx.requests.map((i) => quote(ctx.records.llmRequests[i]!.userWords));
    causes.push(
      m.e2e_ms === null
        ? `missed: nothing audible after the turn (${ctx.requests.length} LLM request${ctx.requests.length === 1 ? '' : 's'} in the turn${made.length ? `: ${made.join(', ')}` : ''})`
        : `missed: the reply became audible only ${m.e2e_ms} ms after the turn ended`,
    );
  } else if (m.wrong_reply && ctx.answer) {
    const a = ctx.answer;
    if (a.request === null)
      causes.push(
        `wrong reply: the audio heard was made from ${quote(a.text)}, which no LLM request produced`,
      );
    else if (!a.onScript)
      causes.push(
        `wrong reply: the LLM was asked ${quote(a.userWords)}, not the whole turn ${quote(finalTranscript(ctx.turn))}`,
      );
    else {
      const other = ctx.caseData.turns.findIndex(
        (t) => normalizeTranscript(t.reply) === normalizeTranscript(a.text),
      );
      causes.push(`wrong reply: it answered turn ${other}'s words ${quote(a.userWords)}`);
    }
  }
  return causes.length ? causes.join('; ') : undefined;
}

/** What went wrong in a turn, in words: "false cut-in", "wrong reply", "missed" (empty when nothing did). */
export function outcomeFlags(o: Pick<TurnMeasure, 'false_cutin' | 'wrong_reply' | 'missed'>): string[] {
  return [o.false_cutin && 'false cut-in', o.wrong_reply && 'wrong reply', o.missed && 'missed'].filter(
    (flag): flag is string => typeof flag === 'string',
  );
}

/** Characters of a reply whose audio was played, from the simulated voice's pace. */
function charactersHeard(reply: HeardReply, msPerChar: number): number {
  if (msPerChar <= 0) return reply.characters;
  return Math.min(reply.characters, reply.heardMs / msPerChar);
}

export interface OracleTurn {
  case: string;
  turn: number;
  t_end_ms: number;
  /** When the turn's whole transcript first came out of the simulated STT, − t_end. */
  transcript_lag_ms: number;
  e2e_ms: number;
}

/**
 * The bound no system can beat, the same for every system: the end of the turn known the
 * instant the user stops, the reply requested then or the moment the turn's whole transcript first
 * comes out of the simulated STT if that is later (an interim, or a final with Deepgram's default endpointing of 10 ms,
 * the earliest a client can ask for), then the LLM's time to first token and the TTS's time to
 * first audio. The speaker adds no delay of its own.
 */
export function oracleTurns(caseData: Pick<ScriptCase, 'id' | 'turns' | 'profile'>): OracleTurn[] {
  const events = caseEvents(
    { turns: caseData.turns, profile: caseData.profile },
    { mode: 'nova', endpointing_ms: ORACLE_ENDPOINTING_MS, utterance_end_ms: 1000, behaviour: DEEPGRAM_STT },
  );
  const { llm_ttft_ms, tts_ttfb_ms } = caseData.profile;
  return caseData.turns.map((turn, index) => {
    const whole = normalizeTranscript(finalTranscript(turn));
    const tEnd = turnEnd(turn) * 1000;
    let finalised = '';
    let transcriptAt = Number.POSITIVE_INFINITY;
    for (const event of events) {
      if (event.caseTurn !== index) continue;
      const { payload } = event;
      let heard: string | null = null;
      if (payload.kind === 'interim') heard = payload.turnTranscript;
      if (payload.kind === 'final') {
        finalised = `${finalised} ${payload.transcript}`.trim();
        heard = finalised;
      }
      if (heard !== null && normalizeTranscript(heard) === whole) {
        transcriptAt = event.audioAt * 1000 + event.delayMs;
        break;
      }
    }
    if (!Number.isFinite(transcriptAt))
      throw new Error(`case "${caseData.id}" turn ${index}: the simulated STT never delivers the whole turn`);
    // A guess at the last word can complete the transcript before the user stops; the end of the
    // turn is known at t_end at the earliest.
    const lag = Math.max(0, transcriptAt - tEnd);
    return {
      case: caseData.id,
      turn: index,
      t_end_ms: Math.round(tEnd),
      transcript_lag_ms: Math.round(lag),
      e2e_ms: Math.round(lag + llm_ttft_ms + tts_ttfb_ms),
    };
  });
}
