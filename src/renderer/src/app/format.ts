/** Small pure formatters for the app shell. */
import type { AppState, TurnModelView } from '../../../shared/contract';
import type { TurnReport } from '../../../shared/report';
import type { ConnectionState } from './store';

/** "CommandOrControl+Shift+Space" as the user presses it: "Ctrl+Shift+Space", or "⌘⇧Space" on macOS. */
export function formatAccelerator(accelerator: string, platform: string): string {
  const mac = platform === 'darwin';
  const parts = accelerator
    .split('+')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      switch (part.toLowerCase()) {
        case 'commandorcontrol':
        case 'cmdorctrl':
          return mac ? '⌘' : 'Ctrl';
        case 'command':
        case 'cmd':
          return mac ? '⌘' : 'Cmd';
        case 'control':
        case 'ctrl':
          return mac ? '⌃' : 'Ctrl';
        case 'alt':
        case 'option':
          return mac ? '⌥' : 'Alt';
        case 'shift':
          return mac ? '⇧' : 'Shift';
        case 'super':
        case 'meta':
          return mac ? '⌘' : 'Super';
        default:
          return part;
      }
    });
  return parts.join(mac ? '' : '+');
}

/** "640 ms", "1.2 s", "—" for null. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

export type StatusTone = 'offline' | 'stopped' | 'listening' | 'thinking' | 'speaking';

export interface StatusView {
  tone: StatusTone;
  /** Short label in the pill, also what the live region announces. */
  label: string;
  /** Qualifiers (muted, talking) shown beside it. */
  detail: string | null;
}

/**
 * The status pill. `microphone` is the window's capture state: a session that runs while the
 * microphone is unavailable (unplugged, refused) is not listening, whatever main's status says.
 */
export function describeStatus(
  connection: ConnectionState,
  state: AppState | null,
  microphone: 'idle' | 'starting' | 'capturing' | 'error' = 'capturing',
): StatusView {
  if (connection.status === 'failed') return { tone: 'offline', label: 'Not connected', detail: null };
  if (connection.status === 'connecting' || !state)
    return { tone: 'offline', label: 'Connecting…', detail: null };
  if (state.running && state.status === 'listening' && microphone === 'error')
    return { tone: 'offline', label: 'Not hearing you', detail: 'microphone unavailable' };
  const details: string[] = [];
  if (state.muted) details.push('microphone muted');
  if (state.talking) details.push('push-to-talk held');
  if (state.turnModel?.state === 'downloading')
    details.push(turnModelProgress(state.turnModel).toLowerCase());
  const detail = details.length ? details.join(', ') : null;
  switch (state.status) {
    case 'listening':
      return { tone: 'listening', label: 'Listening', detail };
    case 'thinking':
      return { tone: 'thinking', label: 'Thinking', detail };
    case 'speaking':
      return { tone: 'speaking', label: 'Speaking', detail };
    default:
      return { tone: 'stopped', label: 'Stopped', detail: state.muted ? 'microphone muted' : null };
  }
}

/** The short latency line under a reply, and its longer breakdown for the tooltip. */
export function describeTurnReport(report: TurnReport): { short: string; long: string } {
  const parts = [`replied in ${formatMs(report.e2e_latency_ms)}`];
  if (report.speculation_reused) parts.push('preemptive reply reused');
  const long = [
    `End of speech → reply audible: ${formatMs(report.e2e_latency_ms)}`,
    `End-of-turn delay: ${formatMs(report.end_of_turn_delay_ms)}`,
    `Transcript lag: ${formatMs(report.transcript_lag_ms)}`,
    `LLM first token: ${formatMs(report.llm_ttft_ms)}`,
    `TTS first audio: ${formatMs(report.tts_ttfb_ms)}`,
    `LLM requests: ${report.llm_requests} (${report.llm_requests_wasted} wasted)`,
  ].join('\n');
  return { short: parts.join(' · '), long };
}

/** "Turn model downloading 43%…", or in MB when the size is unknown. */
function turnModelProgress(view: Extract<TurnModelView, { state: 'downloading' }>): string {
  const mb = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;
  if (view.totalBytes && view.totalBytes > 0) {
    const percent = Math.min(100, Math.floor((view.receivedBytes / view.totalBytes) * 100));
    return `Turn model downloading ${percent}%…`;
  }
  return `Turn model downloading ${mb(view.receivedBytes)}…`;
}

export interface TurnModelLine {
  tone: 'info' | 'ok' | 'warning';
  /** One line for the settings panel. */
  text: string;
  /** The full explanation (what went wrong, what to do), when there is one. */
  detail: string | null;
}

const SOURCE_LABEL = {
  resources: 'bundled with the app',
  cache: 'from the model cache',
  download: 'just downloaded',
} as const;

/** What the settings panel says about the end-of-turn audio model; null before any session asked for it. */
export function describeTurnModel(view: TurnModelView | undefined): TurnModelLine | null {
  if (!view) return null;
  switch (view.state) {
    case 'checking':
      return { tone: 'info', text: `Turn model: getting ${view.name} ready…`, detail: null };
    case 'downloading': {
      const size = view.totalBytes ? ` of ${(view.totalBytes / 1_000_000).toFixed(1)} MB` : '';
      return { tone: 'info', text: `${turnModelProgress(view)} (${view.name}${size})`, detail: null };
    }
    case 'ready':
      return {
        tone: 'ok',
        text: `Turn model ready: ${view.name}, ${SOURCE_LABEL[view.source]}.`,
        detail: null,
      };
    case 'unavailable':
      return {
        tone: 'warning',
        text: `Turn model unavailable (${view.reason}): using the transcript heuristic and silence instead.`,
        detail: view.message || null,
      };
    case 'off':
      return { tone: 'info', text: 'Turn model off: the transcript heuristic decides alone.', detail: null };
  }
}
