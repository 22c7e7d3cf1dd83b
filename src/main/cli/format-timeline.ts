import type { TurnReport } from '../../shared/report';
import type { TimelineEvent } from '../../shared/timeline';

const seconds = (ms: number) => `${(ms / 1000).toFixed(3)}s`;
const ms = (value: number) => `${Math.round(value)} ms`;
const quote = (text: string) => `"${text.length > 70 ? `${text.slice(0, 67)}...` : text}"`;

/** One readable line for a timeline event, or null for events too fine-grained to print. */
export function describeEvent(event: TimelineEvent): string | null {
  switch (event.type) {
    case 'session_started':
      return 'session started';
    case 'session_stopped':
      return 'session stopped';
    case 'vad_probability':
      return null;
    case 'user_speech_started':
      return `user speech started (audio at ${seconds(event.at)})`;
    case 'user_speech_ended':
      return `user speech ended (audio at ${seconds(event.at)}, ${ms(event.duration)} of speech)`;
    case 'user_paused':
      return `user paused (silent since audio ${seconds(event.at)})`;
    case 'transcript_interim':
      return `interim    ${quote(event.text)}`;
    case 'transcript_final':
      return `final      ${quote(event.text)}${event.speech_final ? ' (speech_final)' : ''}`;
    case 'turn_event':
      if (event.event === 'Update') return null;
      return `${event.event}${event.transcript ? ` ${quote(event.transcript)}` : ''}${
        event.confidence === undefined ? '' : ` (confidence ${event.confidence.toFixed(2)})`
      }`;
    case 'turn_detector_decision':
      return `turn detector (${event.source}): p=${event.probability.toFixed(2)} ${
        event.likely_end ? '>=' : '<'
      } ${event.threshold} -> ${event.likely_end ? 'likely end' : 'not done'}`;
    case 'endpointing_wait_started':
      return `endpointing wait ${ms(event.delay)} until ${seconds(event.until)} (${event.reason})`;
    case 'endpointing_wait_cancelled':
      return `endpointing wait cancelled (${event.reason})`;
    case 'preemptive_started':
      return `speculation #${event.request} started on ${event.trigger} ${quote(event.transcript)}`;
    case 'preemptive_skipped':
      return `speculation skipped (${event.reason})`;
    case 'preemptive_cancelled':
      return `speculation #${event.request} cancelled (${event.reason})`;
    case 'preemptive_reused':
      return `speculation #${event.request} REUSED (started ${ms(event.lead)} before the commit)`;
    case 'preemptive_discarded':
      return `speculation #${event.request} discarded (${event.reason})`;
    case 'llm_request':
      return `LLM request #${event.request}${event.preemptive ? ' (speculative)' : ''}`;
    case 'llm_first_token':
      return `LLM #${event.request} first token (TTFT ${ms(event.ttft)})`;
    case 'llm_done':
      return `LLM #${event.request} done: ${event.completion_tokens} tokens`;
    case 'llm_aborted':
      return `LLM #${event.request} aborted (${event.reason})`;
    case 'tts_request':
      return `TTS #${event.request} started`;
    case 'tts_first_audio':
      return `TTS #${event.request} first audio (TTFB ${ms(event.ttfb)})`;
    case 'tts_done':
      return `TTS #${event.request} done: ${event.characters} chars, ${ms(event.audio_ms)} of audio`;
    case 'tts_aborted':
      return `TTS #${event.request} aborted (${event.reason})`;
    case 'agent_speech_started':
      return `AGENT AUDIBLE #${event.request}`;
    case 'agent_speech_ended':
      return `agent speech #${event.request} ${event.interrupted ? 'INTERRUPTED' : 'finished'} after ${ms(
        event.played_ms,
      )}: ${quote(event.spoken_text)}`;
    case 'agent_speech_paused':
      return `agent speech #${event.request} paused`;
    case 'agent_speech_resumed':
      return `agent speech #${event.request} resumed`;
    case 'interruption':
      return `interruption ${event.kind} (${event.reason})`;
    case 'turn_committed':
      return `turn committed ${quote(event.transcript)}${event.speculation_reused ? ' (speculation reused)' : ''}`;
    case 'error':
      return `ERROR ${event.source}: ${event.message}`;
    case 'settings_changed':
      return `settings changed: ${event.changes
        .map((c) => `${c.path} ${String(c.from)} -> ${String(c.to)}${c.live ? '' : ' (at the next start)'}`)
        .join(', ')}`;
  }
}

export function formatEventLine(event: TimelineEvent): string | null {
  const text = describeEvent(event);
  return text === null ? null : `  ${seconds(event.t).padStart(9)}  ${text}`;
}

/** The per-turn latency breakdown, one line. */
export function formatTurnMetrics(turn: TurnReport): string {
  const part = (label: string, value: number | null) => (value === null ? null : `${label} ${ms(value)}`);
  return [
    part('e2e', turn.e2e_latency_ms),
    part('end-of-turn delay', turn.end_of_turn_delay_ms),
    part('transcript lag', turn.transcript_lag_ms),
    part('preemptive lead', turn.preemptive_lead_ms),
    part('LLM TTFT', turn.llm_ttft_ms),
    part('TTS TTFB', turn.tts_ttfb_ms),
    `requests ${turn.llm_requests} (${turn.llm_requests_wasted} wasted)`,
  ]
    .filter((s): s is string => s !== null)
    .join(' | ');
}
