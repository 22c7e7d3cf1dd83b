/** Notices (deduplicated and dismissable) and the pending-restart banner. */
import { memo } from 'react';
import type { AppState } from '../../../shared/contract';
import type { OptionInfo } from '../../../shared/settings';
import { AlertIcon, CloseIcon, ErrorIcon, InfoIcon, RestartIcon } from './icons';
import type { NoticeAction, NoticeItem } from './notices';

export interface NoticesProps {
  notices: readonly NoticeItem[];
  onDismiss: (id: number) => void;
  onAction: (action: NoticeAction) => void;
}

export const Notices = memo(function Notices({ notices, onDismiss, onAction }: NoticesProps) {
  return (
    <section className="notices" aria-label="Notices" aria-live="polite">
      {notices.map((notice) => (
        <div
          key={notice.id}
          className={`notice notice--${notice.level}`}
          role={notice.level === 'error' ? 'alert' : undefined}
        >
          <span className="notice-icon">
            {notice.level === 'error' ? (
              <ErrorIcon />
            ) : notice.level === 'warning' ? (
              <AlertIcon />
            ) : (
              <InfoIcon />
            )}
          </span>
          <p className="notice-message">
            <span className="visually-hidden">{notice.level}: </span>
            {notice.message}
            {notice.count > 1 ? (
              <span className="notice-count" aria-label={`shown ${notice.count} times`}>
                ×{notice.count}
              </span>
            ) : null}
          </p>
          {notice.action ? (
            <button type="button" className="btn btn--small" onClick={() => onAction(notice.action!)}>
              {notice.action.label}
            </button>
          ) : null}
          <button
            type="button"
            className="btn btn--ghost btn--icon btn--small"
            onClick={() => onDismiss(notice.id)}
            aria-label="Dismiss notice"
            title="Dismiss"
          >
            <CloseIcon size={16} />
          </button>
        </div>
      ))}
    </section>
  );
});

export interface RestartBannerProps {
  state: AppState | null;
  options: readonly OptionInfo[];
  restarting: boolean;
  onRestart: () => void;
}

const PROVIDER_LABEL: Record<string, string> = {
  'keys.deepgram': 'Deepgram API key',
  'keys.openai': 'OpenAI API key',
  'keys.elevenlabs': 'ElevenLabs API key',
};

/** "Model (llm.model)" for an option path, a readable name for the keys. */
export function pendingLabel(path: string, options: readonly OptionInfo[]): string {
  if (PROVIDER_LABEL[path]) return PROVIDER_LABEL[path];
  const option = options.find((o) => o.path === path);
  return option ? `${option.label} (${path})` : path;
}

export function RestartBanner({ state, options, restarting, onRestart }: RestartBannerProps) {
  if (!state || !state.running || state.pendingRestart.length === 0) return null;
  return (
    <div className="restart-banner" role="status">
      <RestartIcon />
      <p>
        <strong>Restart the session to apply: </strong>
        {state.pendingRestart.map((path) => pendingLabel(path, options)).join(', ')}.
      </p>
      <button type="button" className="btn btn--small btn--primary" onClick={onRestart} disabled={restarting}>
        {restarting ? 'Restarting…' : 'Restart session'}
      </button>
    </div>
  );
}
