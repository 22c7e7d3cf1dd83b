import type { SessionReport } from './report';
import type { Settings } from './settings';
import type { TimelineEvent } from './timeline';

/**
 * Recorded sessions as the renderer sees them: the sessions list, one session's recorded
 * timeline, and a replay under other settings compared turn by turn with the recording. Every
 * time here is in ms on the recording's audio axis (0 = the first microphone sample the engine
 * received), so the recorded and replayed timelines line up.
 */

/** One recorded session in the sessions list. */
export interface RecordingSummary {
  /** Folder name; also the id the requests use. */
  id: string;
  /** ISO time the recording began. */
  created_at: string;
  /** Ms of microphone audio recorded. */
  duration_ms: number;
  turns: number;
  e2e_p50_ms: number | null;
  /** Replies that became audible before the user had finished (judged on the recorded transcripts). */
  cut_ins: number;
  /** Bytes on disk. */
  bytes: number;
  /** Set when the recording is incomplete or could not be read: what was lost, or why it is refused. */
  problem: string | null;
  /** The recording cannot be opened at all (foreign, damaged, or a format this Cue does not read). */
  unreadable: boolean;
}

/** An option whose change alters what a provider itself would have sent, so a replay can only approximate it. */
export interface ApproximateOption {
  path: string;
  reason: string;
}

/** One side of a turn in the comparison. */
export interface TurnSide {
  transcript: string;
  started_ms: number;
  committed_ms: number | null;
  first_audio_ms: number | null;
  e2e_ms: number | null;
  end_of_turn_delay_ms: number | null;
  cut_in: boolean;
  llm_requests: number;
  llm_requests_wasted: number;
}

/** A turn as recorded beside the same stretch of audio as replayed (null where one side has no turn). */
export interface TurnComparison {
  index: number;
  recorded: TurnSide | null;
  replayed: TurnSide | null;
}

export interface SideTotals {
  turns: number;
  e2e_p50_ms: number | null;
  e2e_p95_ms: number | null;
  cut_ins: number;
  llm_requests: number;
  llm_requests_wasted: number;
}

export interface RecordedSession {
  summary: RecordingSummary;
  settings: Settings;
  /** The timeline as recorded (no per-frame VAD probabilities), on the audio axis. */
  events: TimelineEvent[];
  /** The session report as recorded (null when the session ended without one), on the audio axis. */
  report: SessionReport | null;
}

export interface ReplayComparison {
  session: string;
  /** The options that differ from the recording's, dotted path with both values. */
  changed: { path: string; from: string | number | boolean; to: string | number | boolean }[];
  /** Changed options the replay can only approximate, with why. Empty: the replay is exact. */
  approximate: ApproximateOption[];
  /** How each provider was replayed, in words, for the user. */
  fidelity: string[];
  /** The settings the replay ran under (what "Apply" applies). */
  settings: Settings;
  recorded: { events: TimelineEvent[]; totals: SideTotals };
  replayed: { events: TimelineEvent[]; totals: SideTotals };
  turns: TurnComparison[];
  /** Ms of audio replayed and the wall time the replay took. */
  audio_ms: number;
  elapsed_ms: number;
}

/**
 * Options that change what a provider itself would have sent. The recorded STT events cannot say
 * what another model, endpointing or threshold would have given, so a replay that changes one of
 * these re-simulates the transcripts from the recorded words (by the simulator's rules).
 */
export const APPROXIMATE_OPTIONS: readonly { prefix: string; reason: string }[] = [
  {
    prefix: 'stt.provider',
    reason:
      'another speech-to-text provider sends other events; they are re-simulated from the recorded words',
  },
  {
    prefix: 'stt.nova.model',
    reason: 'another model would have heard the audio differently; the recorded words are reused',
  },
  {
    prefix: 'stt.flux.model',
    reason: 'another model would have heard the audio differently; the recorded words are reused',
  },
  {
    prefix: 'stt.nova.endpointing_ms',
    reason: 'Deepgram decides when to finalise; the finals are re-simulated from the recorded word times',
  },
  {
    prefix: 'stt.nova.utterance_end_ms',
    reason: 'Deepgram decides when to send UtteranceEnd; it is re-simulated from the recorded word times',
  },
  {
    prefix: 'stt.nova.smart_format',
    reason: 'formatting is done by Deepgram; the finals are re-simulated from the recorded words',
  },
  {
    prefix: 'stt.flux.',
    reason: 'Flux decides its turn events by these thresholds; they are re-simulated from the recorded words',
  },
];

/** The approximate options among changed paths (each path once, with its reason). */
export function approximateOptions(
  changedPaths: readonly string[],
  fluxEagerChanged = false,
): ApproximateOption[] {
  const out: ApproximateOption[] = [];
  for (const path of changedPaths) {
    const rule = APPROXIMATE_OPTIONS.find((r) => path === r.prefix || path.startsWith(r.prefix));
    if (rule) out.push({ path, reason: rule.reason });
  }
  if (fluxEagerChanged && !out.some((o) => o.path === 'turn_handling.preemptive_generation.enabled')) {
    out.push({
      path: 'turn_handling.preemptive_generation.enabled',
      reason:
        'with Flux, preemptive generation decides whether EagerEndOfTurn is asked for; the turn events are re-simulated from the recorded words',
    });
  }
  return out;
}
