/**
 * Replays a recorded session through the engine on the virtual clock, through the same replay
 * loop as a corpus case (engine/replay.ts): the recorded microphone is the audio (real VAD on
 * it), the recorded STT events come at the audio times they arrived, the LLM and TTS answer by
 * their recorded timing (recorded-providers.ts). When the settings change what the STT itself
 * would have sent (approximateOptions), its events are re-simulated from the recorded words
 * instead, and the result says so.
 */
import {
  approximateOptions,
  type ApproximateOption,
  type RecordedSession,
  type RecordingSummary,
  type ReplayComparison,
  type SideTotals,
  type TurnComparison,
  type TurnSide,
} from '../../../shared/recording';
import type { SessionReport, TurnReport } from '../../../shared/report';
import { parseSettings, settingLeaves, type Settings, type SettingsInput } from '../../../shared/settings';
import type { TimelineEvent } from '../../../shared/timeline';
import { judgeOutcomes, replayCase, type CaseTurnOutcome, type ReplayResult } from '../replay';
import type { ReplayAction } from '../replay';
import { createScriptedProviders, ScriptedTts } from '../scripted/providers';
import { percentile } from '../session-recorder';
import type { VadStage } from '../session';
import type { TurnDetector } from '../ports';
import { RecordedLlm, RecordedStt } from './recorded-providers';
import type { Recording } from './reader';
import { measuredProfile, recordingScript, type RecordingScript } from './script';

export interface RecordingReplayOptions {
  /** The settings to replay under (default: the recording's own). */
  settings?: SettingsInput;
  vad: VadStage;
  turnDetector?: TurnDetector & { idle?(): Promise<void> };
  onEvent?: (event: TimelineEvent) => void;
  keepEvents?: boolean;
}

export interface RecordingReplayResult extends ReplayResult {
  /** Options that differ from the recording's. */
  changed: ReplayComparison['changed'];
  approximate: ApproximateOption[];
  fidelity: string[];
  script: RecordingScript;
  /** LLM requests answered with a reply recorded for other words. */
  llmApproximated: number;
}

/** Silence fed after the recorded audio, so a reply still due can play. */
const TAIL_MS = 3000;

export async function replayRecording(
  recording: Recording,
  options: RecordingReplayOptions,
): Promise<RecordingReplayResult> {
  const settings = parseSettings(options.settings ?? recording.settings);
  const changed = settingsDiff(recording.settings, settings);
  const fluxEagerChanged =
    recording.header.stt_turn_events &&
    settings.stt.provider === 'deepgram-flux' &&
    recording.settings.turn_handling.preemptive_generation.enabled !==
      settings.turn_handling.preemptive_generation.enabled;
  const approximate = approximateOptions(
    changed.map((c) => c.path),
    fluxEagerChanged,
  );
  const script = recordingScript(recording);
  const resimulate = approximate.length > 0 && script.case.turns.length > 0;
  let llm: RecordedLlm | undefined;
  const fidelity: string[] = [];
  const actions: ReplayAction[] = recording.actions.map((action) => ({
    atMs: action.a,
    run: (session) => {
      if (action.action === 'push_to_talk') session.pushToTalk(action.value);
      else session.setMuted(action.value);
    },
  }));
  const outputLatencyMs = recordedOutputLatency(recording.timeline);
  const result = await replayCase(script.case, {
    settings,
    vad: options.vad,
    tailMs: TAIL_MS,
    outputLatencyMs,
    actions,
    ...(options.turnDetector ? { turnDetector: options.turnDetector } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.keepEvents === undefined ? {} : { keepEvents: options.keepEvents }),
    providers: (clock, s) => {
      const stt = resimulate
        ? createScriptedProviders(script.case, clock, s.stt, {
            eager: s.turn_handling.preemptive_generation.enabled,
          }).stt
        : new RecordedStt(recording.stt, clock, recording.header.stt_turn_events);
      llm = new RecordedLlm(recording.llm, clock);
      const tts = new ScriptedTts(measuredProfile(recording), clock);
      return { stt, llm, tts, records: () => ({ llm: llm!.records, tts: tts.records }) };
    },
  });
  if (resimulate) {
    fidelity.push(
      'Speech to text: re-simulated from the recorded words by the Deepgram simulator’s rules, because ' +
        `${approximate.map((a) => a.path).join(', ')} changed what the provider would have sent (approximate).`,
    );
  } else if (approximate.length) {
    fidelity.push(
      'Speech to text: the recorded events, though the changed options would have changed them (approximate: the recording holds no timed words to re-simulate from).',
    );
  } else {
    fidelity.push('Speech to text: the recorded events, each at the audio time it arrived (exact).');
  }
  const approximated = llm?.approximated ?? 0;
  fidelity.push(
    `LLM: the recorded replies at their recorded token times` +
      (approximated
        ? `; ${approximated} request${approximated === 1 ? '' : 's'} the recording never made got the recorded reply closest in words (approximate).`
        : ' (exact).'),
  );
  fidelity.push(
    'TTS: the first audio and the audio length per character as measured in the recording (timing, not the voice).',
  );
  fidelity.push(
    `Speaker: each reply becomes audible ${Math.round(outputLatencyMs)} ms after it may play, the output delay measured in the recording (median over its replies).`,
  );
  if (script.skipped.length)
    fidelity.push(`Cut-ins are judged on the recorded words; left out: ${script.skipped.join('; ')}.`);
  return { ...result, changed, approximate, fidelity, script, llmApproximated: approximated };
}

/**
 * The recorded output path's delay: how long after a reply could start playing (its first audio
 * arrived and its turn was committed) it became audible, median over the recorded replies.
 */
export function recordedOutputLatency(events: readonly TimelineEvent[]): number {
  const firstAudio = new Map<number, number>();
  const committedAt = new Map<number, number>();
  const delays: number[] = [];
  for (const e of events) {
    if (e.type === 'tts_first_audio' && !firstAudio.has(e.request)) firstAudio.set(e.request, e.t);
    if (e.type === 'turn_committed') committedAt.set(e.turn, e.t);
    if (e.type === 'agent_speech_started') {
      const audio = firstAudio.get(e.request);
      if (audio === undefined) continue;
      const ready = Math.max(audio, e.turn >= 0 ? (committedAt.get(e.turn) ?? audio) : audio);
      delays.push(Math.max(0, e.t - ready));
    }
  }
  return (
    percentile(
      delays.sort((a, b) => a - b),
      0.5,
    ) ?? 0
  );
}

/** Leaf options that differ, with both values. */
export function settingsDiff(a: Settings, b: Settings): ReplayComparison['changed'] {
  const before = settingLeaves(a);
  const out: ReplayComparison['changed'] = [];
  for (const [path, to] of settingLeaves(b)) {
    const from = before.get(path);
    if (from !== undefined && !Object.is(from, to)) out.push({ path, from, to });
  }
  return out;
}

// ---------- what the app shows ----------

/** The sessions-list line of a readable recording. */
export function summarize(recording: Recording, bytes: number): RecordingSummary {
  const script = recordingScript(recording);
  const outcomes = script.case.turns.length ? judgeOutcomes(script.case, recording.timeline) : [];
  return {
    id: recording.id,
    created_at: recording.header.created_at,
    duration_ms: Math.round(recording.durationMs),
    turns:
      recording.report?.totals.turns ?? recording.timeline.filter((e) => e.type === 'turn_committed').length,
    e2e_p50_ms: recording.report?.totals.e2e_p50_ms ?? null,
    cut_ins: outcomes.filter((o) => o.false_cutin).length,
    bytes,
    problem: recording.lost,
    unreadable: false,
  };
}

export function recordedSession(recording: Recording, bytes: number): RecordedSession {
  return {
    summary: summarize(recording, bytes),
    settings: recording.settings,
    events: recording.timeline,
    report: recording.report,
  };
}

/** The recording beside its replay, turn by turn on the audio axis. */
export function compareReplay(
  recording: Recording,
  replay: RecordingReplayResult,
  elapsedMs: number,
): ReplayComparison {
  const script = replay.script;
  const judged = script.case.turns.length > 0;
  const recordedOutcomes = judged ? judgeOutcomes(script.case, recording.timeline) : [];
  const replayedOutcomes = judged ? judgeOutcomes(script.case, replay.events) : [];
  const recordedTurns = sides(recording.report, script, recordedOutcomes);
  const replayedTurns = sides(replay.report, script, replayedOutcomes);
  return {
    session: recording.id,
    changed: replay.changed,
    approximate: replay.approximate,
    fidelity: replay.fidelity,
    settings: replay.settings,
    recorded: { events: recording.timeline, totals: totals(recording.report, recordedTurns) },
    replayed: { events: replay.events, totals: totals(replay.report, replayedTurns) },
    turns: pairTurns(recordedTurns, replayedTurns),
    audio_ms: Math.round(recording.durationMs),
    elapsed_ms: Math.round(elapsedMs),
  };
}

function sides(
  report: SessionReport | null,
  script: RecordingScript,
  outcomes: CaseTurnOutcome[],
): TurnSide[] {
  const turns: TurnReport[] = report?.turns ?? [];
  const cutInStarts = new Set<number>();
  // A turn is cut in on when a case turn it covers was (the reply became audible before the user's last word).
  for (const o of outcomes) {
    if (!o.false_cutin) continue;
    const start = script.case.turns[o.index]!.words[0]!.start * 1000;
    const covering = turns.filter((t) => t.started_ms <= start + 1000).at(-1);
    if (covering) cutInStarts.add(covering.index);
  }
  return turns.map((t) => ({
    transcript: t.transcript,
    started_ms: t.started_ms,
    committed_ms: t.committed_ms,
    first_audio_ms: t.first_audio_ms,
    e2e_ms: t.e2e_latency_ms,
    end_of_turn_delay_ms: t.end_of_turn_delay_ms,
    cut_in: cutInStarts.has(t.index),
    llm_requests: t.llm_requests,
    llm_requests_wasted: t.llm_requests_wasted,
  }));
}

function totals(report: SessionReport | null, turns: TurnSide[]): SideTotals {
  const e2e = turns
    .map((t) => t.e2e_ms)
    .filter((v): v is number => v !== null)
    .sort((a, b) => a - b);
  return {
    turns: turns.length,
    e2e_p50_ms: report?.totals.e2e_p50_ms ?? percentile(e2e, 0.5),
    e2e_p95_ms: report?.totals.e2e_p95_ms ?? percentile(e2e, 0.95),
    cut_ins: turns.filter((t) => t.cut_in).length,
    llm_requests: report?.totals.llm_requests ?? turns.reduce((n, t) => n + t.llm_requests, 0),
    llm_requests_wasted:
      report?.totals.llm_requests_wasted ?? turns.reduce((n, t) => n + t.llm_requests_wasted, 0),
  };
}

/** Pairs each recorded turn with the replayed turn that started nearest to it (within 1.5 s), in order. */
export function pairTurns(recorded: TurnSide[], replayed: TurnSide[]): TurnComparison[] {
  const out: TurnComparison[] = [];
  let j = 0;
  for (const r of recorded) {
    while (j < replayed.length && replayed[j]!.started_ms < r.started_ms - 1500) {
      out.push({ index: out.length, recorded: null, replayed: replayed[j++]! });
    }
    const candidate = replayed[j];
    if (candidate && Math.abs(candidate.started_ms - r.started_ms) <= 1500) {
      out.push({ index: out.length, recorded: r, replayed: candidate });
      j++;
    } else out.push({ index: out.length, recorded: r, replayed: null });
  }
  while (j < replayed.length) out.push({ index: out.length, recorded: null, replayed: replayed[j++]! });
  return out;
}
