import type { SessionReport } from '../../shared/report';
import { parseSettings, type Settings, type SettingsInput } from '../../shared/settings';
import type { TimelineEvent } from '../../shared/timeline';
import { ClockedAudioOutput } from './audio/clocked-output';
import { VirtualClock, type Clock } from './clock';
import {
  SAMPLE_RATE,
  type AudioFrame,
  type AudioOutput,
  type LlmProvider,
  type SttProvider,
  type TtsProvider,
  type TurnDetector,
} from './ports';
import { finalTranscript, turnEnd, type ScriptCase } from './scripted/case';
import type { SttBehaviour } from './scripted/case-events';
import { createScriptedProviders, type LlmRequestRecord, type TtsRequestRecord } from './scripted/providers';
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
  /**
   * Keep the whole timeline in the result (default). Off, only the events that judge the
   * outcomes are kept, so hour-long replays measure the engine's memory, not the log's.
   */
  keepEvents?: boolean;
  /** Things the user does at given audio times, e.g. pressing and releasing push-to-talk. */
  actions?: readonly ReplayAction[];
  /**
   * The turn detector of `model` mode (default: the transcript heuristic). When it has `idle()`,
   * the replay waits for its decisions in flight before moving the clock, so a real model's
   * inference takes no virtual time and the replay stays deterministic.
   */
  turnDetector?: TurnDetector & { idle?(): Promise<void> };
  /** How the scripted STT reads the words (default DEEPGRAM_STT: audio-driven interims, revised near the tip). */
  sttBehaviour?: SttBehaviour;
  /** Where the agent's audio goes (default: a ClockedAudioOutput with `outputLatencyMs`), on the replay's clock. */
  output?: (clock: Clock) => AudioOutput;
  /**
   * The providers (default: the scripted ones for the case). A recorded session replays through
   * providers that read the recording (recording/recorded-providers.ts).
   */
  providers?: (clock: Clock, settings: Settings) => ReplayProviders;
  /** Sees each microphone frame just before the engine does (a recorder's audio tap). */
  onAudio?: (frame: AudioFrame) => void;
}

/** The providers a replay runs against, with what their LLM and TTS were asked. */
export interface ReplayProviders {
  stt: SttProvider;
  llm: LlmProvider;
  tts: TtsProvider;
  records(): { llm: LlmRequestRecord[]; tts: TtsRequestRecord[] };
}

export interface ReplayAction {
  /** Audio time (ms) at which the action happens. */
  atMs: number;
  run(session: VoiceSession): void;
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
  /** What the scripted LLM and TTS were asked, as the simulators would have recorded it. */
  records: { llm: LlmRequestRecord[]; tts: TtsRequestRecord[] };
}

const MISSED_AFTER_MS = 10_000;
export const JUDGED_EVENTS = new Set<TimelineEvent['type']>([
  'agent_speech_started',
  'agent_speech_ended',
  'llm_done',
]);

/**
 * Runs a corpus case through the real engine on a virtual clock: the case audio is the
 * microphone (real VAD on it), the scripted providers follow the case script, and a
 * clocked speaker reports when each reply became audible.
 */
export async function replayCase(caseData: ScriptCase, options: ReplayOptions): Promise<ReplayResult> {
  const settings = parseSettings(options.settings ?? {});
  const clock = new VirtualClock();
  const providers =
    options.providers?.(clock, settings) ?? scriptedReplayProviders(caseData, clock, settings, options);
  const output =
    options.output?.(clock) ??
    new ClockedAudioOutput(clock, { outputLatencyMs: options.outputLatencyMs ?? 0 });
  const detector = options.turnDetector;
  const session = new VoiceSession(
    {
      clock,
      vad: options.vad,
      stt: providers.stt,
      llm: providers.llm,
      tts: providers.tts,
      output,
      ...(detector ? { turnDetector: detector } : {}),
    },
    settings,
  );
  const detectorIdle = async () => {
    if (detector?.idle) await detector.idle();
  };
  const events: TimelineEvent[] = [];
  session.subscribe((event) => {
    options.onEvent?.(event);
    if (event.type === 'vad_probability') return;
    if (options.keepEvents !== false || JUDGED_EVENTS.has(event.type)) events.push(event);
  });

  await session.start();
  const chunk = Math.round(((options.chunkMs ?? 20) * SAMPLE_RATE) / 1000);
  const tail = Math.round(((options.tailMs ?? 12_000) * SAMPLE_RATE) / 1000);
  const total = caseData.audio.length + tail;
  const silence = new Int16Array(chunk);
  const actions = [...(options.actions ?? [])].sort((a, b) => a.atMs - b.atMs);
  for (let offset = 0; offset < total; offset += chunk) {
    const end = Math.min(offset + chunk, total);
    while (actions.length && actions[0]!.atMs <= (offset * 1000) / SAMPLE_RATE) {
      const action = actions.shift()!;
      await clock.advanceTo(action.atMs);
      await detectorIdle();
      action.run(session);
    }
    const samples =
      offset >= caseData.audio.length
        ? silence.subarray(0, end - offset)
        : caseData.audio.subarray(offset, Math.min(end, caseData.audio.length));
    await clock.advanceTo((end * 1000) / SAMPLE_RATE);
    await detectorIdle();
    const frame = { samples, capturedAt: (offset * 1000) / SAMPLE_RATE };
    options.onAudio?.(frame);
    await session.pushAudio(frame);
    await detectorIdle();
  }
  await clock.advanceBy(1);
  const report = session.report();
  await session.stop();
  return {
    caseId: caseData.id,
    settings,
    report,
    events,
    outcomes: judgeOutcomes(caseData, events),
    records: providers.records(),
  };
}

function scriptedReplayProviders(
  caseData: ScriptCase,
  clock: Clock,
  settings: Settings,
  options: ReplayOptions,
): ReplayProviders {
  const scripted = createScriptedProviders(caseData, clock, settings.stt, {
    eager: settings.turn_handling.preemptive_generation.enabled,
    ...(options.sttBehaviour ? { behaviour: options.sttBehaviour } : {}),
  });
  return { ...scripted, records: () => ({ llm: scripted.llm.records, tts: scripted.tts.records }) };
}

/**
 * Judges a run against the case script (e2e from t_end, false cut-ins, wrong replies, missed
 * turns) from its timeline: agent_speech_started/ended and llm_done events with times in ms since
 * the first sample of the case audio.
 */
export function judgeOutcomes(
  caseData: Pick<ScriptCase, 'turns'>,
  events: readonly TimelineEvent[],
): CaseTurnOutcome[] {
  const audible = events.filter(
    (e): e is Extract<TimelineEvent, { type: 'agent_speech_started' }> =>
      e.type === 'agent_speech_started' && e.turn >= 0,
  );
  const heard = new Map<number, string>();
  const replyText = new Map<number, string>();
  for (const e of events) {
    if (e.type === 'agent_speech_ended') heard.set(e.request, e.spoken_text);
    if (e.type === 'llm_done') replyText.set(e.request, e.text);
  }
  return caseData.turns.map((turn, index) => {
    const start = turn.words[0]!.start * 1000;
    const tEnd = turnEnd(turn) * 1000;
    const nextStart = caseData.turns[index + 1]?.words[0]?.start;
    const windowEnd = nextStart === undefined ? Number.POSITIVE_INFINITY : nextStart * 1000;
    const inTurn = audible.filter((e) => e.t >= start && e.t < windowEnd);
    const answer = inTurn.find((e) => e.t >= tEnd) ?? inTurn.at(-1);
    const firstAudio = answer?.t ?? null;
    const fullReply = answer ? (replyText.get(answer.request) ?? '') : '';
    return {
      index,
      transcript: finalTranscript(turn),
      expected_reply: turn.reply,
      t_end_ms: Math.round(tEnd),
      first_audio_ms: firstAudio === null ? null : Math.round(firstAudio),
      e2e_from_t_end_ms: firstAudio === null ? null : Math.round(firstAudio - tEnd),
      false_cutin: inTurn.some((e) => e.t < tEnd),
      wrong_reply: !answer || normalizeTranscript(fullReply) !== normalizeTranscript(turn.reply),
      missed: firstAudio === null || firstAudio - tEnd > MISSED_AFTER_MS,
      spoken_reply: answer ? (heard.get(answer.request) ?? fullReply) : '',
    };
  });
}
