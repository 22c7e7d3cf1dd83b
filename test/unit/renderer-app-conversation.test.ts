import { describe, expect, it } from 'vitest';
import type { TurnReport } from '../../src/shared/report';
import type { TimelineEvent } from '../../src/shared/timeline';
import {
  applyTimelineEvent,
  applyTurnReport,
  buildConversation,
  EMPTY_CONVERSATION,
  liveText,
  MAX_ENTRIES,
  type AgentMessage,
} from '../../src/renderer/src/app/conversation';

type Ev = TimelineEvent;
const at = (t: number, turn: number) => ({ t, turn });

/** A user turn said in two segments, answered in full. */
const oneTurn: Ev[] = [
  { ...at(0, -1), type: 'session_started' },
  { ...at(100, 0), type: 'user_speech_started', at: 90 },
  { ...at(300, 0), type: 'transcript_interim', text: 'what is' },
  { ...at(500, 0), type: 'transcript_final', text: 'What is the', speech_final: false },
  { ...at(700, 0), type: 'transcript_interim', text: 'weather' },
  { ...at(900, 0), type: 'transcript_final', text: 'weather today?', speech_final: true },
  { ...at(950, 0), type: 'user_speech_ended', at: 900, duration: 810 },
  {
    ...at(1400, 0),
    type: 'turn_committed',
    transcript: 'What is the weather today?',
    speculation_reused: true,
  },
  {
    ...at(1450, 0),
    type: 'llm_done',
    request: 1,
    prompt_tokens: 10,
    completion_tokens: 8,
    text: 'Sunny, 21 degrees.',
  },
  { ...at(1600, 0), type: 'agent_speech_started', request: 1, text_so_far: 'Sunny,' },
  {
    ...at(3000, 0),
    type: 'agent_speech_ended',
    request: 1,
    interrupted: false,
    played_ms: 1400,
    spoken_text: 'Sunny, 21 degrees.',
  },
];

describe('conversation from timeline events', () => {
  it('shows the interim transcript live while the user speaks', () => {
    let conv = buildConversation(oneTurn.slice(0, 3));
    expect(conv.userSpeaking).toBe(true);
    expect(liveText(conv.live)).toBe('what is');
    conv = buildConversation(oneTurn.slice(3, 5), conv);
    expect(liveText(conv.live)).toBe('What is the weather');
    expect(conv.entries).toEqual([]);
  });

  it('commits the user transcript and the agent spoken text', () => {
    const conv = buildConversation(oneTurn);
    expect(conv.live).toBeNull();
    expect(conv.userSpeaking).toBe(false);
    expect(conv.entries).toHaveLength(2);
    expect(conv.entries[0]).toMatchObject({ kind: 'user', turn: 0, text: 'What is the weather today?' });
    expect(conv.entries[1]).toMatchObject({
      kind: 'agent',
      turn: 0,
      request: 1,
      text: 'Sunny, 21 degrees.',
      state: 'done',
      interrupted: false,
    });
  });

  it('shows the known reply text while the agent speaks', () => {
    const conv = buildConversation(oneTurn.slice(0, 10));
    expect(conv.entries[1]).toMatchObject({ kind: 'agent', state: 'speaking', text: 'Sunny, 21 degrees.' });
  });

  it('marks an interrupted reply with what was heard, paused and resumed in between', () => {
    const conv = buildConversation([
      ...oneTurn.slice(0, 8),
      { ...at(1600, 0), type: 'agent_speech_started', request: 1, text_so_far: 'Sunny, and then' },
      { ...at(2000, 0), type: 'agent_speech_paused', request: 1 },
    ]);
    expect((conv.entries[1] as AgentMessage).state).toBe('paused');
    const resumed = applyTimelineEvent(conv, { ...at(2100, 0), type: 'agent_speech_resumed', request: 1 });
    expect((resumed.entries[1] as AgentMessage).state).toBe('speaking');
    const ended = applyTimelineEvent(resumed, {
      ...at(2500, 0),
      type: 'agent_speech_ended',
      request: 1,
      interrupted: true,
      played_ms: 400,
      spoken_text: 'Sunny,',
    });
    expect(ended.entries[1]).toMatchObject({ text: 'Sunny,', interrupted: true, state: 'done' });
  });

  it('shows nothing for a reply cut off before a sound was played', () => {
    const conv = buildConversation([
      ...oneTurn.slice(0, 8),
      {
        ...at(1500, 0),
        type: 'agent_speech_ended',
        request: 1,
        interrupted: true,
        played_ms: 0,
        spoken_text: '',
      },
    ]);
    expect(conv.entries.map((e) => e.kind)).toEqual(['user']);
  });

  it('shows the greeting (turn -1) as an agent message', () => {
    const conv = buildConversation([
      { ...at(0, -1), type: 'session_started' },
      { ...at(10, -1), type: 'agent_speech_started', request: 0, text_so_far: 'Hi! How can I help?' },
      {
        ...at(900, -1),
        type: 'agent_speech_ended',
        request: 0,
        interrupted: false,
        played_ms: 800,
        spoken_text: 'Hi! How can I help?',
      },
    ]);
    expect(conv.entries).toEqual([
      expect.objectContaining({ kind: 'agent', turn: -1, text: 'Hi! How can I help?' }),
    ]);
  });

  it('ignores per-frame VAD events without making a new object', () => {
    const conv = buildConversation(oneTurn);
    const same = applyTimelineEvent(conv, {
      ...at(4000, 1),
      type: 'vad_probability',
      probability: 0.2,
      speaking: false,
    });
    expect(same).toBe(conv);
  });

  it('starts a new live transcript for a new turn and drops a stale one at session stop', () => {
    let conv = buildConversation([
      { ...at(0, -1), type: 'session_started' },
      { ...at(100, 0), type: 'transcript_interim', text: 'hmm' },
      { ...at(900, 1), type: 'transcript_interim', text: 'hello' },
    ]);
    expect(conv.live).toMatchObject({ turn: 1, interim: 'hello', finals: [] });
    conv = applyTimelineEvent(conv, { ...at(1000, 1), type: 'session_stopped' });
    expect(conv.live).toBeNull();
  });

  it('separates sessions with a divider and keys messages per session', () => {
    const twice = buildConversation([...oneTurn, { ...at(5000, 0), type: 'session_stopped' }, ...oneTurn]);
    expect(twice.entries.map((e) => e.kind)).toEqual(['user', 'agent', 'session', 'user', 'agent']);
    expect(new Set(twice.entries.map((e) => e.id)).size).toBe(5);
  });

  it('attaches a turn report to the agent message of its turn', () => {
    const conv = buildConversation(oneTurn);
    const report = { index: 0, e2e_latency_ms: 640, speculation_reused: true } as TurnReport;
    const withReport = applyTurnReport(conv, report);
    expect((withReport.entries[1] as AgentMessage).report).toBe(report);
    expect(applyTurnReport(conv, { ...report, index: 7 })).toBe(conv);
  });

  it('keeps at most MAX_ENTRIES entries', () => {
    let conv = buildConversation([{ ...at(0, -1), type: 'session_started' }]);
    for (let turn = 0; turn < MAX_ENTRIES + 10; turn++) {
      conv = applyTimelineEvent(conv, {
        ...at(turn, turn),
        type: 'turn_committed',
        transcript: `t${turn}`,
        speculation_reused: false,
      });
    }
    expect(conv.entries).toHaveLength(MAX_ENTRIES);
    expect(conv.entries.at(-1)).toMatchObject({ text: `t${MAX_ENTRIES + 9}` });
  });

  it('starts empty', () => {
    expect(EMPTY_CONVERSATION.entries).toEqual([]);
    expect(liveText(null)).toBe('');
  });
});
