/**
 * The benchmark's measures (CORPUS.md "Measures"), the same for every system: what became
 * audible comes from the system's speaker; LLM requests and TTS characters come from what the
 * simulators saw, placed on the case's time axis.
 */
import { caseEvents } from '../src/main/engine/scripted/case-events';
import { finalTranscript, turnEnd, type ScriptCase } from '../src/main/engine/scripted/case';
import { normalizeTranscript } from '../src/main/engine/text/normalize';
import type { Settings } from '../src/shared/settings';
import type { SimulatorSet } from '../sim/index';
import type { HeardReply, SystemRunResult } from './systems/types';

/** Nothing audible within this long after `t_end` is a missed turn. */
export const MISSED_AFTER_MS = 10_000;
/**
 * A reply stopped after less audio than this was not audible (a fraction of a millisecond can
 * reach a speaker before a pause lands); it still counts as an LLM request whose output was not heard.
 */
export const MIN_AUDIBLE_MS = 20;

export interface TurnMeasure {
  case: string;
  turn: number;
  t_end_ms: number;
  /** First audible sample of the reply − t_end (null when nothing was heard in the turn). */
  e2e_ms: number | null;
  false_cutin: boolean;
  wrong_reply: boolean;
  missed: boolean;
  llm_requests: number;
  /** Requests whose output was never heard. */
  wasted_llm_requests: number;
  tts_characters: number;
  tts_characters_wasted: number;
  spoken: string;
}

/** What the simulators recorded, in clock ms (the same clock as the run's `startedAt`). */
export interface ProviderRecords {
  llmRequests: readonly { receivedAt: number }[];
  ttsSyntheses: readonly { receivedAt: number; charactersSynthesized: number }[];
}

export function providerRecords(sims: SimulatorSet): ProviderRecords {
  return {
    llmRequests: [...sims.openai.stats.requests],
    ttsSyntheses: [...sims.elevenlabs.stats.requests, ...sims.elevenlabs.stats.contexts],
  };
}

/** Judges one run of a case turn by turn. */
export function measureRun(
  caseData: Pick<ScriptCase, 'id' | 'turns' | 'profile'>,
  run: Pick<SystemRunResult, 'replies' | 'startedAt'>,
  records: ProviderRecords,
): TurnMeasure[] {
  const onCaseAxis = (t: number) => t - run.startedAt;
  return caseData.turns.map((turn, index) => {
    const start = turn.words[0]!.start * 1000;
    const tEnd = turnEnd(turn) * 1000;
    const next = caseData.turns[index + 1]?.words[0]?.start;
    const windowEnd = next === undefined ? Number.POSITIVE_INFINITY : next * 1000;
    const within = (t: number) => t >= start && t < windowEnd;

    const heard = run.replies.filter((r) => within(r.audibleAtMs) && r.heardMs >= MIN_AUDIBLE_MS);
    const answer = heard.find((r) => r.audibleAtMs >= tEnd) ?? heard.at(-1);
    const requests = records.llmRequests.filter((r) => within(onCaseAxis(r.receivedAt))).length;
    const syntheses = records.ttsSyntheses.filter((s) => within(onCaseAxis(s.receivedAt)));
    const ttsCharacters = syntheses.reduce((n, s) => n + s.charactersSynthesized, 0);
    const heardCharacters = heard.reduce(
      (n, r) => n + charactersHeard(r, caseData.profile.tts_ms_per_char),
      0,
    );
    const e2e = answer ? answer.audibleAtMs - tEnd : null;
    return {
      case: caseData.id,
      turn: index,
      t_end_ms: Math.round(tEnd),
      e2e_ms: e2e === null ? null : Math.round(e2e),
      false_cutin: heard.some((r) => r.audibleAtMs < tEnd),
      wrong_reply: !answer || normalizeTranscript(answer.text) !== normalizeTranscript(turn.reply),
      missed: e2e === null || e2e > MISSED_AFTER_MS,
      llm_requests: requests,
      wasted_llm_requests: Math.max(0, requests - heard.length),
      tts_characters: ttsCharacters,
      tts_characters_wasted: Math.max(0, Math.round(ttsCharacters - heardCharacters)),
      spoken: answer?.text ?? '',
    };
  });
}

/** What went wrong in a turn, in words: "false cut-in", "wrong reply", "missed" (empty when nothing did). */
export function outcomeFlags(o: Pick<TurnMeasure, 'false_cutin' | 'wrong_reply' | 'missed'>): string[] {
  return [o.false_cutin && 'false cut-in', o.wrong_reply && 'wrong reply', o.missed && 'missed'].filter(
    (flag): flag is string => typeof flag === 'string',
  );
}

/** Characters of a reply whose audio was played, from the simulated voice's pace. */
function charactersHeard(reply: HeardReply, msPerChar: number): number {
  if (msPerChar <= 0) return reply.text.length;
  return Math.min(reply.text.length, reply.heardMs / msPerChar);
}

/**
 * The oracle for a case with the Nova endpointing of these settings (it decides when a final
 * carries the last word if an interim misheard it). Every system plays into a virtual speaker
 * that adds no delay of its own, so the output path adds nothing.
 */
export function oracleForSettings(
  caseData: Pick<ScriptCase, 'id' | 'turns' | 'profile'>,
  settings: Pick<Settings, 'stt'>,
): OracleTurn[] {
  return oracleTurns(caseData, {
    endpointingMs: settings.stt.nova.endpointing_ms,
    utteranceEndMs: settings.stt.nova.utterance_end_ms,
    outputDelayMs: 0,
  });
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
 * The bound no system can beat: the end of the turn known the instant the user stops, the reply
 * requested the moment the turn's final words first come out of the simulated STT (an interim
 * or a final, whichever is first to carry the whole turn), then the LLM's time to first token
 * and the TTS's time to first audio, plus the output path's own delay.
 */
export function oracleTurns(
  caseData: Pick<ScriptCase, 'id' | 'turns' | 'profile'>,
  options: { endpointingMs: number; utteranceEndMs: number; outputDelayMs: number },
): OracleTurn[] {
  const events = caseEvents(
    { turns: caseData.turns, profile: caseData.profile },
    { mode: 'nova', endpointing_ms: options.endpointingMs, utterance_end_ms: options.utteranceEndMs },
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
    const lag = transcriptAt - tEnd;
    return {
      case: caseData.id,
      turn: index,
      t_end_ms: Math.round(tEnd),
      transcript_lag_ms: Math.round(lag),
      e2e_ms: Math.round(lag + llm_ttft_ms + tts_ttfb_ms + options.outputDelayMs),
    };
  });
}
