/** The top bar: name, status pill, session controls, report export, theme and settings. */
import type { AppInfo, AppState } from '../../../shared/contract';
import type { AudioEngineState } from '../audio/audio-engine';
import { describeStatus, formatAccelerator } from './format';
import {
  DownloadIcon,
  MicIcon,
  MicOffIcon,
  MoonIcon,
  PlayIcon,
  SettingsIcon,
  SlidersIcon,
  StopIcon,
  SunIcon,
  SystemThemeIcon,
  WaveIcon,
} from './icons';
import { PushToTalkButton } from './PushToTalkButton';
import type { ConnectionState, CueActions, CueSnapshot } from './store';
import { nextTheme, themeLabel, type ThemeChoice } from './theme';

export interface HeaderProps {
  connection: ConnectionState;
  info: AppInfo | null;
  state: AppState | null;
  busy: CueSnapshot['busy'];
  userSpeaking: boolean;
  actions: CueActions;
  theme: ThemeChoice;
  onTheme: (choice: ThemeChoice) => void;
  onOpenSettings: () => void;
  tuningOpen: boolean;
  onToggleTuning: () => void;
  onOpenSessions: () => void;
  /** The microphone's capture state (AudioMount). */
  microphone: AudioEngineState;
}

export function Header(props: HeaderProps) {
  const { connection, info, state, busy, actions } = props;
  const connected = connection.status === 'connected' && state !== null;
  const running = state?.running ?? false;
  const status = describeStatus(connection, state, props.microphone);
  const shortcut = info?.shortcut;
  const shortcutText =
    shortcut && shortcut.registered && shortcut.accelerator
      ? `Or press ${formatAccelerator(shortcut.accelerator, info.platform)} anywhere: once to talk, again to finish.`
      : 'Hold the button, or hold Space while it has focus. Enter toggles.';

  return (
    <header className="topbar">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          <span />
          <span />
          <span />
        </span>
        <h1 className="brand-name">Cue</h1>
        {info ? <span className="brand-version">v{info.version}</span> : null}
      </div>

      <div className={`status-pill status-pill--${status.tone}`}>
        <span
          className={`status-dot${props.userSpeaking && running ? ' status-dot--hearing' : ''}`}
          aria-hidden="true"
        />
        <span role="status" aria-live="polite" aria-atomic="true" className="status-text">
          <span className="status-label">{status.label}</span>
          {status.detail ? <span className="status-detail"> · {status.detail}</span> : null}
        </span>
      </div>
      {state?.recording ? (
        <span
          className="rec-indicator"
          title="This session is being recorded on this computer (Settings → Recording)"
        >
          <span className="rec-dot" aria-hidden="true" />
          <span>Recording</span>
        </span>
      ) : null}

      <div className="controls" role="group" aria-label="Session">
        {/* One button for Start and Stop, so the focus stays on it when it changes. */}
        <button
          type="button"
          className={`btn ${running ? 'btn--stop' : 'btn--primary'}`}
          onClick={() => {
            if (busy.starting || busy.stopping) return;
            void (running ? actions.stop() : actions.start());
          }}
          disabled={!connected}
          // Busy, it stays focusable (a disabled button would drop the focus to the page).
          aria-disabled={busy.starting || busy.stopping || undefined}
        >
          {running ? <StopIcon /> : <PlayIcon />}
          <span>
            {running ? (busy.stopping ? 'Stopping…' : 'Stop') : busy.starting ? 'Starting…' : 'Start'}
          </span>
        </button>
        <button
          type="button"
          className={`btn${state?.muted ? ' btn--muted' : ''}`}
          aria-pressed={state?.muted ?? false}
          onClick={() => state && void actions.toggleMuted()}
          disabled={!connected}
        >
          {state?.muted ? <MicOffIcon /> : <MicIcon />}
          <span>{state?.muted ? 'Muted' : 'Mute'}</span>
        </button>
        <PushToTalkButton
          talking={state?.talking ?? false}
          disabled={!running}
          onChange={actions.pushToTalk}
          describedBy="ptt-hint"
        />
        <span id="ptt-hint" className="visually-hidden">
          {state?.mode === 'push-to-talk'
            ? `Push-to-talk mode: Cue listens only while you hold it. ${shortcutText}`
            : `Cue also listens without it; holding it starts a turn at once. ${shortcutText}`}
        </span>
      </div>

      <div className="toolbar" role="group" aria-label="App">
        <button
          type="button"
          className="btn btn--ghost"
          onClick={() => void actions.exportReport()}
          disabled={!connected || busy.exporting}
          title="Save the session report (turns, latencies, requests, totals) as JSON"
        >
          <DownloadIcon />
          <span>Export report</span>
        </button>
        <button
          type="button"
          className="btn btn--ghost btn--icon"
          onClick={() => props.onTheme(nextTheme(props.theme))}
          aria-label={`${themeLabel(props.theme)} (switch to ${themeLabel(nextTheme(props.theme)).toLowerCase()})`}
          title={`${themeLabel(props.theme)}: click for ${themeLabel(nextTheme(props.theme)).toLowerCase()}`}
        >
          {props.theme === 'light' ? (
            <SunIcon />
          ) : props.theme === 'dark' ? (
            <MoonIcon />
          ) : (
            <SystemThemeIcon />
          )}
        </button>
        <button
          type="button"
          className="btn btn--ghost"
          aria-expanded={props.tuningOpen}
          aria-controls="tuning-panel"
          onClick={props.onToggleTuning}
          disabled={!connected}
        >
          <SlidersIcon />
          <span>Tune</span>
        </button>
        <button
          type="button"
          className="btn btn--ghost"
          onClick={props.onOpenSessions}
          disabled={!connected}
          aria-haspopup="dialog"
          title="Recorded sessions: replay one under other settings"
        >
          <WaveIcon />
          <span>Sessions</span>
        </button>
        <button
          type="button"
          className="btn btn--ghost"
          onClick={props.onOpenSettings}
          disabled={!connected}
          aria-haspopup="dialog"
        >
          <SettingsIcon />
          <span>Settings</span>
        </button>
      </div>
    </header>
  );
}
