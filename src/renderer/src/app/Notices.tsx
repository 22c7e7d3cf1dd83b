/** Notices (deduplicated and dismissable) and the pending-restart banner. */
import { memo, useRef, useState } from 'react';
import type { AppState } from '../../../shared/contract';
import type { OptionInfo } from '../../../shared/settings';
import { AlertIcon, CloseIcon, ErrorIcon, InfoIcon, RestartIcon } from './icons';
import type { NoticeAction, NoticeItem } from './notices';

export interface NoticesProps {
  notices: readonly NoticeItem[];
  onDismiss: (id: number) => void;
  onAction: (action: NoticeAction) => void;
}

/** A notice longer than this, or of several lines, shows one line until its details are asked for. */
const ONE_LINE = 90;

export const Notices = memo(function Notices({ notices, onDismiss, onAction }: NoticesProps) {
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  const list = useRef<HTMLElement>(null);
  const toggle = (id: number) =>
    setExpanded((open) => {
      const next = new Set(open);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  // Dismissing moves the focus to the next notice's dismiss button, else the previous one's,
  // else the conversation: never to the top of the page.
  const dismiss = (id: number) => {
    const index = notices.findIndex((n) => n.id === id);
    const neighbour = notices[index + 1] ?? notices[index - 1];
    onDismiss(id);
    requestAnimationFrame(() => {
      const target = neighbour
        ? list.current?.querySelector<HTMLElement>(`[data-notice="${neighbour.id}"] .notice-dismiss`)
        : document.querySelector<HTMLElement>('.conversation-scroll');
      target?.focus();
    });
  };
  return (
    <section className="notices" aria-label="Notices" aria-live="polite" ref={list}>
      {notices.map((notice) => {
        const long = notice.message.length > ONE_LINE || notice.message.includes('\n');
        const open = expanded.has(notice.id);
        const messageId = `notice-${notice.id}`;
        return (
          <div
            key={notice.id}
            data-notice={notice.id}
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
            <p
              id={messageId}
              className={`notice-message${long && !open ? ' notice-message--collapsed' : ''}`}
            >
              <span className="visually-hidden">{notice.level}: </span>
              {notice.message}
              {notice.count > 1 ? <span className="notice-count">×{notice.count}</span> : null}
            </p>
            {long ? (
              <button
                type="button"
                className="btn btn--small btn--ghost"
                aria-expanded={open}
                aria-controls={messageId}
                onClick={() => toggle(notice.id)}
              >
                {open ? 'Less' : 'Details'}
              </button>
            ) : null}
            {notice.action ? (
              <button type="button" className="btn btn--small" onClick={() => onAction(notice.action!)}>
                {notice.action.label}
              </button>
            ) : null}
            <button
              type="button"
              className="btn btn--ghost btn--icon btn--small notice-dismiss"
              onClick={() => dismiss(notice.id)}
              aria-label="Dismiss notice"
              title="Dismiss"
            >
              <CloseIcon size={16} />
            </button>
          </div>
        );
      })}
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
