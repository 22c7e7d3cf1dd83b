/** The conversation transcript: committed turns, the live transcript, and the agent's replies. */
import { memo, useEffect, useLayoutEffect, useRef } from 'react';
import type { AppInfo, AppState } from '../../../shared/contract';
import {
  liveText,
  type AgentMessage,
  type Conversation as ConversationData,
  type ConversationEntry,
} from './conversation';
import { describeTurnReport, formatAccelerator } from './format';
import { WaveIcon } from './icons';

export interface ConversationProps {
  conversation: ConversationData;
  state: AppState | null;
  info: AppInfo | null;
}

export function Conversation({ conversation, state, info }: ConversationProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  const live = liveText(conversation.live);

  // Follow new words while the reader is at the bottom; leave them be when they scrolled up.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [conversation.entries, live]);

  // Stay at the bottom when the area shrinks (a notice or banner appears above it).
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (pinned.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const onScroll = () => {
    const el = scroller.current;
    if (el) pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
  };

  const empty = conversation.entries.length === 0 && !live;
  return (
    <section className="conversation" aria-labelledby="conversation-title">
      <h2 id="conversation-title" className="visually-hidden">
        Conversation
      </h2>
      <div
        className="conversation-scroll"
        ref={scroller}
        onScroll={onScroll}
        tabIndex={0}
        aria-label="Transcript"
      >
        {empty ? (
          <EmptyState state={state} info={info} />
        ) : (
          <ol className="messages" role="log" aria-label="Messages">
            {conversation.entries.map((entry) => (
              <Entry key={entry.id} entry={entry} />
            ))}
          </ol>
        )}
        {live ? (
          <div className="message message--user message--live">
            <span className="message-who">You (speaking)</span>
            <p className="message-text">{live}</p>
          </div>
        ) : null}
      </div>
    </section>
  );
}

const Entry = memo(function Entry({ entry }: { entry: ConversationEntry }) {
  if (entry.kind === 'session')
    return (
      <li className="session-divider">
        <span>New session</span>
      </li>
    );
  if (entry.kind === 'user')
    return (
      <li className="message message--user">
        <span className="message-who">You</span>
        <p className="message-text">{entry.text}</p>
      </li>
    );
  return <AgentEntry entry={entry} />;
});

function AgentEntry({ entry }: { entry: AgentMessage }) {
  const report = entry.report ? describeTurnReport(entry.report) : null;
  return (
    <li className={`message message--agent${entry.state !== 'done' ? ' message--speaking' : ''}`}>
      <span className="message-who">
        Cue
        {entry.state === 'speaking' ? (
          <span className="speaking-bars" aria-label="speaking">
            <span />
            <span />
            <span />
          </span>
        ) : null}
        {entry.state === 'paused' ? <span className="tag">paused</span> : null}
      </span>
      <p className="message-text">
        {entry.text || <em className="muted">(nothing was heard)</em>}
        {entry.interrupted ? (
          <span className="interrupted-dash" aria-hidden="true">
            {' '}
            —
          </span>
        ) : null}
      </p>
      {entry.interrupted || report ? (
        <p className="message-meta">
          {entry.interrupted ? <span className="tag tag--warn">Interrupted</span> : null}
          {report ? <span title={report.long}>{report.short}</span> : null}
        </p>
      ) : null}
    </li>
  );
}

function EmptyState({ state, info }: { state: AppState | null; info: AppInfo | null }) {
  const shortcut =
    info?.shortcut.registered && info.shortcut.accelerator
      ? formatAccelerator(info.shortcut.accelerator, info.platform)
      : null;
  const running = state?.running ?? false;
  return (
    <div className="empty">
      <span className="empty-icon">
        <WaveIcon />
      </span>
      <h2 className="empty-title">{running ? 'Cue is listening' : 'Start a conversation'}</h2>
      <p className="empty-text">
        {running
          ? state?.mode === 'push-to-talk'
            ? 'Hold “Hold to talk” (or Space on it) while you speak, and let go when you are done.'
            : 'Just talk. Cue answers when you have finished, and stops when you interrupt it.'
          : 'Press Start, then talk. What you say and what Cue answers appear here.'}
      </p>
      {shortcut ? (
        <p className="empty-hint">
          Push-to-talk from anywhere: <kbd>{shortcut}</kbd>
        </p>
      ) : null}
    </div>
  );
}
