/**
 * Timeline events: one typed record for every step the engine takes. Every event
 * carries `t`, milliseconds on the session clock (0 = session start), and `turn`,
 * the index of the user turn it belongs to (-1 before the first turn: the greeting).
 * Names follow Deepgram Flux (turn events) and LiveKit (options) so the timeline,
 * the settings panel and the docs read alike.
 */

export type TurnEventName = 'StartOfTurn' | 'Update' | 'EagerEndOfTurn' | 'TurnResumed' | 'EndOfTurn';

export type SpeculationTrigger = 'interim' | 'final' | 'eager_end_of_turn';

export type ProviderKind = 'stt' | 'llm' | 'tts' | 'vad' | 'turn_detector';

/** One option changed by the user mid-session; `live`: applied at once (else at the next start). */
export interface SettingChange {
  path: string;
  from: string | number | boolean;
  to: string | number | boolean;
  live: boolean;
}

interface Base {
  t: number;
  turn: number;
}

export type TimelineEvent = Base &
  (
    | { type: 'session_started' }
    | { type: 'session_stopped' }
    /** Per VAD frame (32 ms): for the live lane; never stored in the report. */
    | { type: 'vad_probability'; probability: number; speaking: boolean }
    /** `at` is when speech began in the audio (prefix padding excluded); `t` when the VAD decided. */
    | { type: 'user_speech_started'; at: number }
    /** `at` is the end of the last speech frame; `t` when min_silence_duration confirmed it. */
    | { type: 'user_speech_ended'; at: number; duration: number }
    /**
     * The user has been silent since `at` for decision_silence, though the VAD has not ended
     * their speech yet: the turn detector judges the turn now (model mode).
     */
    | { type: 'user_paused'; at: number }
    | { type: 'transcript_interim'; text: string }
    | { type: 'transcript_final'; text: string; speech_final: boolean }
    | { type: 'turn_event'; event: TurnEventName; transcript: string; confidence?: number }
    | {
        type: 'turn_detector_decision';
        probability: number;
        threshold: number;
        likely_end: boolean;
        source: string;
      }
    | { type: 'endpointing_wait_started'; delay: number; until: number; reason: string }
    | { type: 'endpointing_wait_cancelled'; reason: string }
    | { type: 'preemptive_started'; request: number; trigger: SpeculationTrigger; transcript: string }
    | { type: 'preemptive_skipped'; reason: 'max_retries' | 'max_speech_duration' | 'disabled' }
    | { type: 'preemptive_cancelled'; request: number; reason: string }
    | { type: 'preemptive_reused'; request: number; lead: number }
    | { type: 'preemptive_discarded'; request: number; reason: string }
    | { type: 'llm_request'; request: number; transcript: string; preemptive: boolean }
    | { type: 'llm_first_token'; request: number; ttft: number }
    | {
        type: 'llm_done';
        request: number;
        prompt_tokens: number;
        completion_tokens: number;
        text: string;
      }
    | { type: 'llm_aborted'; request: number; reason: string }
    | { type: 'tts_request'; request: number }
    | { type: 'tts_first_audio'; request: number; ttfb: number }
    | { type: 'tts_done'; request: number; characters: number; audio_ms: number }
    | { type: 'tts_aborted'; request: number; reason: string }
    | { type: 'agent_speech_started'; request: number; text_so_far: string }
    | {
        type: 'agent_speech_ended';
        request: number;
        interrupted: boolean;
        played_ms: number;
        spoken_text: string;
      }
    | { type: 'agent_speech_paused'; request: number }
    | { type: 'agent_speech_resumed'; request: number }
    | {
        type: 'interruption';
        kind: 'detected' | 'true' | 'false' | 'resumed' | 'ignored';
        reason: string;
      }
    | { type: 'turn_committed'; transcript: string; speculation_reused: boolean }
    | { type: 'error'; source: ProviderKind | 'engine'; message: string; recoverable: boolean }
    /** The settings changed while the session runs: the turns after it run under the new ones. */
    | { type: 'settings_changed'; changes: SettingChange[] }
  );

export type TimelineEventType = TimelineEvent['type'];
export type TimelineEventOf<K extends TimelineEventType> = Extract<TimelineEvent, { type: K }>;
