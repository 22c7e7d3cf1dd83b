import type { Settings } from './settings';
import type { SpeculationTrigger } from './timeline';

/** One LLM request of a turn, speculative or not, and what became of it. */
export interface RequestRecord {
  id: number;
  preemptive: boolean;
  trigger: SpeculationTrigger | 'end_of_turn' | 'greeting';
  transcript: string;
  started_ms: number;
  /** spoken: its audio (or part of it) was played; wasted: nothing of it was ever heard. */
  outcome: 'spoken' | 'wasted' | 'pending';
  reason?: string;
  ttft_ms: number | null;
  prompt_tokens: number;
  completion_tokens: number;
  tts_characters: number;
  tts_characters_played: number;
}

/** Per-turn latency breakdown. Times are ms on the session clock; null where the step did not happen. */
export interface TurnMetrics {
  /** End of the user's last speech frame as the VAD saw it. */
  vad_end_of_speech_ms: number | null;
  /** Final transcript arrival − end of speech. */
  transcript_lag_ms: number | null;
  /** Turn commit (EndOfTurn) − end of speech. */
  end_of_turn_delay_ms: number | null;
  /** Turn commit − start of the reused speculation (how far ahead preemption began). */
  preemptive_lead_ms: number | null;
  llm_ttft_ms: number | null;
  tts_ttfb_ms: number | null;
  /** First audible sample of the reply − end of the user's speech. */
  e2e_latency_ms: number | null;
  llm_requests: number;
  llm_requests_wasted: number;
  tts_characters: number;
  tts_characters_wasted: number;
}

export interface TurnReport extends TurnMetrics {
  index: number;
  transcript: string;
  reply: string;
  /** What the user actually heard of the reply (shorter when interrupted). */
  spoken_reply: string;
  interrupted: boolean;
  speculation_reused: boolean;
  started_ms: number;
  committed_ms: number | null;
  first_audio_ms: number | null;
  requests: RequestRecord[];
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  /** Set on assistant messages cut short by a barge-in. */
  interrupted?: boolean;
}

export interface SessionTotals {
  turns: number;
  llm_requests: number;
  llm_requests_wasted: number;
  prompt_tokens: number;
  completion_tokens: number;
  completion_tokens_wasted: number;
  tts_characters: number;
  tts_characters_wasted: number;
  interruptions: number;
  false_interruptions: number;
  errors: number;
  e2e_p50_ms: number | null;
  e2e_p95_ms: number | null;
}

export interface SessionReport {
  version: 1;
  options: Settings;
  duration_ms: number;
  turns: TurnReport[];
  /** Turns dropped from `turns` to keep memory bounded in very long sessions (totals still count them). */
  turns_dropped: number;
  history: ChatMessage[];
  totals: SessionTotals;
  errors: { t: number; source: string; message: string }[];
}
