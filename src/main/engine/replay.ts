import type { SessionReport } from '../../shared/report';
import { parseSettings, type Settings, type SettingsInput } from '../../shared/settings';
import type { TimelineEvent } from '../../shared/timeline';
import { ClockedAudioOutput } from './audio/clocked-output';
import { VirtualClock } from './clock';
import { SAMPLE_RATE } from './ports';
import { finalTranscript, turnEnd, type ScriptCase } from './scripted/case';
import { createScriptedProviders } from './scripted/providers';
import { VoiceSession, type VadStage } from './session';
import { normalizeTranscript } from './text/normalize';

export interface ReplayOptions {
  settings?: SettingsInput;
  /** A fresh VAD for this case (real Silero in replay; a fake in some tests). */
  vad: VadStage;
  /** Size of the microphone frames fed to the engine. */
  chunkMs?: number;
  /** Silence fed after the case audio so the last turn can end and its reply play. */
  tailMs?: number;
  /** Delay of the simulated output path before a sample is audible. */
  outputLatencyMs?: number;
  /** Sees every timeline event as it happens (vad_probability included). */
  onEvent?: (event: TimelineEvent) => void;
}

/** How the engine did on one turn of the case, measured against the case script. */
export interface CaseTurnOutcome {
  index: number;
  transcript: string;
  expected_reply: string;
  t_end_ms: number;
  /** First audible sample of a reply after this turn began. */
  first_audio_ms: number | null;
  /** first_audio_ms − t_end (the benchmark's e2e definition). */
  e2e_from_t_end_ms: number | null;
  /** A reply became audible after the turn started but before t_end. */
  false_cutin: boolean;
  /** The text spoken in reply differs from the case's reply. */
  wrong_reply: boolean;
  /** Nothing audible within 10 s of t_end. */
  missed: boolean;
  spoken_reply: string;
}

export interface ReplayResult {
  caseId: string;
  settings: Settings;
  report: SessionReport;
  /** Timeline without the per-frame VAD probabilities. */
  events: TimelineEvent[];
  outcomes: CaseTurnOutcome[];
}

const MISSED_AFTER_MS = 10_000;

/**
 * Runs a corpus case through the real engine on a virtual clock: the case audio is the
 * microphone (real VAD on it), the scripted providers follow the case script, and a
 * clocked speaker reports when each reply became audible.
 */
export async function replayCase(caseData: ScriptCase, options: ReplayOptions): Promise<ReplayResult> {
  const settings = parseSettings(options.settings ?? {});
  const clock = new VirtualClock();
  const providers = createScriptedProviders(caseData, clock, settings.stt, {
    eager: settings.turn_handling.preemptive_generation.enabled,
  });
  const output = new ClockedAudioOutput(clock, { outputLatencyMs: options.outputLatencyMs ?? 0 });
  const session = new VoiceSession(
    { clock, vad: options.vad, stt: providers.stt, llm: providers.llm, tts: providers.tts, output },
    settings,
  );
  const events: TimelineEvent[] = [];
  session.subscribe((event) => {
    options.onEvent?.(event);
    if (event.type !== 'vad_probability') events.push(event);
  });

  await session.start();
  const chunk = Math.round(((options.chunkMs ?? 20) * SAMPLE_RATE) / 1000);
  const tail = Math.round(((options.tailMs ?? 12_000) * SAMPLE_RATE) / 1000);
  const total = caseData.audio.length + tail;
  const silence = new Int16Array(chunk);
  for (let offset = 0; offset < total; offset += chunk) {
    const end = Math.min(offset + chunk, total);
    const samples =
      offset >= caseData.audio.length
        ? silence.subarray(0, end - offset)
        : caseData.audio.subarray(offset, Math.min(end, caseData.audio.length));
    await clock.advanceTo((end * 1000) / SAMPLE_RATE);
    await session.pushAudio({ samples, capturedAt: (offset * 1000) / SAMPLE_RATE });
  }
  await clock.advanceBy(1);
  const report = session.report();
  await session.stop();
  return { caseId: caseData.id, settings, report, events, outcomes: judge(caseData, report, events) };
}

function judge(caseData: ScriptCase, report: SessionReport, events: TimelineEvent[]): CaseTurnOutcome[] {
  const audible = events.filter(
    (e): e is Extract<TimelineEvent, { type: 'agent_speech_started' }> =>
      e.type === 'agent_speech_started' && e.turn >= 0,
  );
  const ended = new Map<number, string>();
  for (const e of events) if (e.type === 'agent_speech_ended') ended.set(e.request, e.spoken_text);
  return caseData.turns.map((turn, index) => {
    const start = turn.words[0]!.start * 1000;
    const tEnd = turnEnd(turn) * 1000;
    const nextStart = caseData.turns[index + 1]?.words[0]?.start;
    const windowEnd = nextStart === undefined ? Number.POSITIVE_INFINITY : nextStart * 1000;
    const inTurn = audible.filter((e) => e.t >= start && e.t < windowEnd);
    const cutIn = inTurn.some((e) => e.t < tEnd);
    const answer = inTurn.find((e) => e.t >= tEnd) ?? inTurn.at(-1);
    const firstAudio = answer?.t ?? null;
    const spoken = answer ? (ended.get(answer.request) ?? fullReplyText(report, answer.request)) : '';
    const spokenReply = answer ? fullReplyText(report, answer.request) : '';
    return {
      index,
      transcript: finalTranscript(turn),
      expected_reply: turn.reply,
      t_end_ms: Math.round(tEnd),
      first_audio_ms: firstAudio === null ? null : Math.round(firstAudio),
      e2e_from_t_end_ms: firstAudio === null ? null : Math.round(firstAudio - tEnd),
      false_cutin: cutIn,
      wrong_reply: !answer || normalizeTranscript(spokenReply) !== normalizeTranscript(turn.reply),
      missed: firstAudio === null || firstAudio - tEnd > MISSED_AFTER_MS,
      spoken_reply: spoken,
    };
  });
}

function fullReplyText(report: SessionReport, request: number): string {
  for (const turn of report.turns) {
    for (const r of turn.requests) if (r.id === request) return turn.reply;
  }
  return '';
}
