/**
 * The conversation transcript, built from the engine's timeline events (pure; no React, no DOM).
 *
 * - The user's words: the live transcript (final segments so far plus the current interim) while
 *   the user speaks, replaced by the committed transcript at `turn_committed`.
 * - The agent's words: a message opens at `agent_speech_started` (with the reply text known so
 *   far, completed by `llm_done`), and at `agent_speech_ended` becomes what the user actually
 *   heard (`spoken_text`), marked `interrupted` when the user cut it short.
 * - Turn reports (the `turn` event) are attached to the agent message of their turn.
 *
 * Events that change nothing (the VAD lane's per-frame probability above all) return the same
 * object, so a store can skip re-rendering for them.
 */
import type { SessionReport, TurnReport } from '../../../shared/report';
import type { TimelineEvent } from '../../../shared/timeline';

/** Entries kept in memory; the oldest are dropped past this (a long session stays light). */
export const MAX_ENTRIES = 400;

export interface UserMessage {
  kind: 'user';
  id: string;
  session: number;
  turn: number;
  text: string;
}

export interface AgentMessage {
  kind: 'agent';
  id: string;
  session: number;
  turn: number;
  request: number;
  text: string;
  /** speaking: audio is playing; paused: held by a possible interruption; done: ended. */
  state: 'speaking' | 'paused' | 'done';
  interrupted: boolean;
  report?: TurnReport;
}

/** A divider between two sessions of the same window. */
export interface SessionDivider {
  kind: 'session';
  id: string;
  session: number;
}

export type ConversationEntry = UserMessage | AgentMessage | SessionDivider;

/** What the user is saying right now (before the turn is committed). */
export interface LiveTranscript {
  session: number;
  turn: number;
  finals: readonly string[];
  interim: string;
}

export interface Conversation {
  /** Sessions seen (session_started events); entries carry the number of theirs. */
  session: number;
  entries: readonly ConversationEntry[];
  live: LiveTranscript | null;
  /** The VAD hears the user (between user_speech_started and user_speech_ended). */
  userSpeaking: boolean;
  /** Reply text by request id, from llm_done, for replies whose speech has not ended yet. */
  replyText: Readonly<Record<number, string>>;
}

export const EMPTY_CONVERSATION: Conversation = Object.freeze({
  session: 0,
  entries: Object.freeze([]) as readonly ConversationEntry[],
  live: null,
  userSpeaking: false,
  replyText: Object.freeze({}),
});

/** The live transcript as one line of text. */
export function liveText(live: LiveTranscript | null): string {
  if (!live) return '';
  return [...live.finals, live.interim].filter((part) => part.length > 0).join(' ');
}

export function applyTimelineEvent(conv: Conversation, event: TimelineEvent): Conversation {
  switch (event.type) {
    case 'session_started': {
      const session = conv.session + 1;
      const entries = conv.entries.length
        ? bounded([...conv.entries, { kind: 'session' as const, id: `s${session}`, session }])
        : conv.entries;
      return { session, entries, live: null, userSpeaking: false, replyText: {} };
    }
    case 'session_stopped': {
      const entries = conv.entries.some((e) => e.kind === 'agent' && e.state !== 'done')
        ? conv.entries.map((e) =>
            e.kind === 'agent' && e.state !== 'done' ? { ...e, state: 'done' as const } : e,
          )
        : conv.entries;
      if (entries === conv.entries && !conv.live && !conv.userSpeaking) return conv;
      return { ...conv, entries, live: null, userSpeaking: false, replyText: {} };
    }
    case 'user_speech_started':
      return conv.userSpeaking ? conv : { ...conv, userSpeaking: true };
    case 'user_speech_ended':
      return conv.userSpeaking ? { ...conv, userSpeaking: false } : conv;
    case 'transcript_interim': {
      const live = liveFor(conv, event.turn);
      const text = event.text.trim();
      if (live.interim === text && conv.live === live) return conv;
      return { ...conv, live: { ...live, interim: text } };
    }
    case 'transcript_final': {
      const live = liveFor(conv, event.turn);
      const text = event.text.trim();
      const finals = text ? [...live.finals, text] : live.finals;
      return { ...conv, live: { ...live, finals, interim: '' } };
    }
    case 'turn_committed': {
      const text = event.transcript.trim() || (conv.live?.turn === event.turn ? liveText(conv.live) : '');
      const live = conv.live && conv.live.turn <= event.turn ? null : conv.live;
      if (!text) return live === conv.live ? conv : { ...conv, live };
      const id = `s${conv.session}-u${event.turn}`;
      const message: UserMessage = { kind: 'user', id, session: conv.session, turn: event.turn, text };
      const existing = conv.entries.findIndex((e) => e.id === id);
      const entries =
        existing >= 0
          ? conv.entries.map((e, i) => (i === existing ? message : e))
          : bounded([...conv.entries, message]);
      return { ...conv, entries, live };
    }
    case 'llm_done': {
      const text = event.text.trim();
      if (!text) return conv;
      const index = findAgent(conv, event.request);
      if (index >= 0) {
        const entry = conv.entries[index] as AgentMessage;
        if (entry.state === 'done' || entry.text === text) return conv;
        return { ...conv, entries: replaceAt(conv.entries, index, { ...entry, text }) };
      }
      return { ...conv, replyText: pruneReplies({ ...conv.replyText, [event.request]: text }) };
    }
    case 'agent_speech_started': {
      const index = findAgent(conv, event.request);
      const text = conv.replyText[event.request] ?? event.text_so_far.trim();
      if (index >= 0) {
        const entry = conv.entries[index] as AgentMessage;
        return {
          ...conv,
          entries: replaceAt(conv.entries, index, { ...entry, state: 'speaking', text: entry.text || text }),
        };
      }
      const message: AgentMessage = {
        kind: 'agent',
        id: `s${conv.session}-a${event.request}`,
        session: conv.session,
        turn: event.turn,
        request: event.request,
        text,
        state: 'speaking',
        interrupted: false,
      };
      return { ...conv, entries: bounded([...conv.entries, message]) };
    }
    case 'agent_speech_paused':
    case 'agent_speech_resumed': {
      const index = findAgent(conv, event.request);
      if (index < 0) return conv;
      const entry = conv.entries[index] as AgentMessage;
      const state = event.type === 'agent_speech_paused' ? 'paused' : 'speaking';
      if (entry.state === state || entry.state === 'done') return conv;
      return { ...conv, entries: replaceAt(conv.entries, index, { ...entry, state }) };
    }
    case 'agent_speech_ended': {
      const { [event.request]: _dropped, ...replyText } = conv.replyText;
      const text = event.spoken_text.trim();
      const index = findAgent(conv, event.request);
      if (index < 0) {
        // Cut off before a sound was played: nothing was heard, nothing to show.
        if (!text) return { ...conv, replyText };
        const message: AgentMessage = {
          kind: 'agent',
          id: `s${conv.session}-a${event.request}`,
          session: conv.session,
          turn: event.turn,
          request: event.request,
          text,
          state: 'done',
          interrupted: event.interrupted,
        };
        return { ...conv, entries: bounded([...conv.entries, message]), replyText };
      }
      const entry = conv.entries[index] as AgentMessage;
      const ended: AgentMessage = { ...entry, text, state: 'done', interrupted: event.interrupted };
      return { ...conv, entries: replaceAt(conv.entries, index, ended), replyText };
    }
    default:
      return conv;
  }
}

/** Attaches a turn report to the last agent message of its turn in the current session. */
export function applyTurnReport(conv: Conversation, report: TurnReport): Conversation {
  for (let i = conv.entries.length - 1; i >= 0; i--) {
    const entry = conv.entries[i]!;
    if (entry.kind === 'session') break;
    if (entry.kind === 'agent' && entry.session === conv.session && entry.turn === report.index) {
      return { ...conv, entries: replaceAt(conv.entries, i, { ...entry, report }) };
    }
  }
  return conv;
}

/**
 * The conversation of a running session rebuilt from its report, for a window that (re)connects
 * mid-session (a reload): each turn's words and what was heard of the reply, with its report.
 */
export function conversationFromReport(report: SessionReport): Conversation {
  const entries: ConversationEntry[] = [];
  for (const turn of report.turns) {
    if (turn.index >= 0 && turn.transcript)
      entries.push({
        kind: 'user',
        id: `r${turn.index}-user`,
        session: 1,
        turn: turn.index,
        text: turn.transcript,
      });
    const spoken = turn.requests.find((r) => r.outcome === 'spoken');
    const text = turn.spoken_reply || (turn.interrupted ? '' : turn.reply);
    if (!spoken && !text) continue;
    entries.push({
      kind: 'agent',
      id: `r${turn.index}-agent`,
      session: 1,
      turn: turn.index,
      request: spoken?.id ?? -1,
      text,
      state: 'done',
      interrupted: turn.interrupted,
      report: turn,
    });
  }
  return { session: 1, entries: bounded(entries), live: null, userSpeaking: false, replyText: {} };
}

/** The conversation a whole event stream builds (for tests and for replaying a recorded run). */
export function buildConversation(events: Iterable<TimelineEvent>, start = EMPTY_CONVERSATION): Conversation {
  let conv = start;
  for (const event of events) conv = applyTimelineEvent(conv, event);
  return conv;
}

function liveFor(conv: Conversation, turn: number): LiveTranscript {
  if (conv.live && conv.live.turn === turn && conv.live.session === conv.session) return conv.live;
  return { session: conv.session, turn, finals: [], interim: '' };
}

function findAgent(conv: Conversation, request: number): number {
  for (let i = conv.entries.length - 1; i >= 0; i--) {
    const entry = conv.entries[i]!;
    if (entry.kind === 'session') return -1;
    if (entry.kind === 'agent' && entry.request === request) return i;
  }
  return -1;
}

function replaceAt<T>(list: readonly T[], index: number, value: T): readonly T[] {
  const copy = list.slice();
  copy[index] = value;
  return copy;
}

function bounded(list: readonly ConversationEntry[]): readonly ConversationEntry[] {
  return list.length > MAX_ENTRIES ? list.slice(list.length - MAX_ENTRIES) : list;
}

/** Keeps the reply texts of the latest few requests only (speculations that never spoke are dropped). */
function pruneReplies(texts: Record<number, string>): Record<number, string> {
  const ids = Object.keys(texts).map(Number);
  if (ids.length <= 8) return texts;
  ids.sort((a, b) => a - b);
  const out: Record<number, string> = {};
  for (const id of ids.slice(-8)) out[id] = texts[id]!;
  return out;
}
