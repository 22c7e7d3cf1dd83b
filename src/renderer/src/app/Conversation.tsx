/** The conversation transcript: committed turns, the live transcript, and the agent's replies. */
import { memo, useEffect, useLayoutEffect, useRef } from 'react';
import type { AppInfo, AppState, KeyId, KeyStatus } from '../../../shared/contract';
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
  /** Which provider keys main has (for the first-run checklist); null until known. */
  keys: Readonly<Record<KeyId, KeyStatus>> | null;
  /** llm.base_url: a custom (e.g. local) endpoint needs no OpenAI key. */
  llmBaseUrl: string;
  /** Null when a notice already offers to open the provider settings (one such button, not two). */
  onOpenProviders: (() => void) | null;
}

export function Conversation(props: ConversationProps) {
  const { conversation, state, info, keys, llmBaseUrl, onOpenProviders } = props;
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
  // While the agent speaks, its words are not read out over its own voice: the log is busy, and
  // screen readers announce what was added once it is not.
  const speaking = conversation.entries.some((e) => e.kind === 'agent' && e.state !== 'done');
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
          <EmptyState
            state={state}
            info={info}
            keys={keys}
            llmBaseUrl={llmBaseUrl}
            onOpenProviders={onOpenProviders}
          />
        ) : (
          <div role="log" aria-label="Messages" aria-busy={speaking}>
            <ol className="messages">
              {conversation.entries.map((entry) => (
                <Entry key={entry.id} entry={entry} />
              ))}
            </ol>
          </div>
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
          <span className="speaking-bars" role="img" aria-label="speaking">
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

interface EmptyStateProps {
  state: AppState | null;
  info: AppInfo | null;
  keys: Readonly<Record<KeyId, KeyStatus>> | null;
  llmBaseUrl: string;
  onOpenProviders: (() => void) | null;
}

function EmptyState({ state, info, keys, llmBaseUrl, onOpenProviders }: EmptyStateProps) {
  const shortcut =
    info?.shortcut.registered && info.shortcut.accelerator
      ? formatAccelerator(info.shortcut.accelerator, info.platform)
      : null;
  const running = state?.running ?? false;
  const missing = keys ? PROVIDER_NEEDS.filter((need) => !need.satisfied(keys, llmBaseUrl)) : [];
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
          : missing.length
            ? 'Cue needs three services to hear you, think and answer. Before you press Start:'
            : 'Press Start, then talk. What you say and what Cue answers appear here.'}
      </p>
      {!running && missing.length ? (
        <>
          <ul className="first-run">
            {PROVIDER_NEEDS.map((need) => {
              const ok = keys ? need.satisfied(keys, llmBaseUrl) : false;
              return (
                <li key={need.id} className={ok ? 'first-run-ok' : undefined}>
                  <strong>{need.title}</strong>
                  {ok ? ' (ready)' : ''}: {need.how}
                </li>
              );
            })}
          </ul>
          {onOpenProviders ? (
            <button type="button" className="btn btn--primary" onClick={onOpenProviders}>
              Open provider settings
            </button>
          ) : null}
        </>
      ) : null}
      {shortcut ? (
        <p className="empty-hint">
          Push-to-talk from anywhere: <kbd>{shortcut}</kbd>
        </p>
      ) : null}
    </div>
  );
}

/** What a first session needs, where to get it, and when it is there. */
const PROVIDER_NEEDS: readonly {
  id: string;
  title: string;
  how: string;
  satisfied: (keys: Readonly<Record<KeyId, KeyStatus>>, llmBaseUrl: string) => boolean;
}[] = [
  {
    id: 'deepgram',
    title: 'Speech-to-text: Deepgram',
    how: 'an API key from console.deepgram.com.',
    satisfied: (keys) => keys.deepgram.set,
  },
  {
    id: 'llm',
    title: 'Language model',
    how: 'an OpenAI API key from platform.openai.com, or a local model with no key: run Ollama and set the Base URL to http://127.0.0.1:11434/v1.',
    satisfied: (keys, llmBaseUrl) => keys.openai.set || llmBaseUrl !== '',
  },
  {
    id: 'elevenlabs',
    title: 'Voice: ElevenLabs',
    how: 'an API key from elevenlabs.io.',
    satisfied: (keys) => keys.elevenlabs.set,
  },
];
