import { describe, expect, it } from 'vitest';
import type { SettingsInput } from '../../src/shared/settings';
import { buildCase, eventsOf, firstOf, runCase, spoken } from '../helpers/session-harness';

const STORY =
  'Once upon a time, a small fox lived at the edge of a quiet forest. Every morning she walked to the river, and every evening she came home.';

/** The user asks for a story, then (at `at`) says something while the agent is telling it. */
function storyCase(second: { at: number; text: string; reply: string; wordSeconds?: number } | null) {
  return buildCase([{ at: 0.5, text: 'tell me a story', reply: STORY }, ...(second ? [second] : [])], {
    seconds: 16,
  });
}

async function replyStart(settings: SettingsInput = {}) {
  const result = await runCase(storyCase(null), { settings });
  return firstOf(result.events, 'agent_speech_started').t;
}

const interruptions = (result: Awaited<ReturnType<typeof runCase>>) =>
  eventsOf(result.events, 'interruption').map((e) => e.kind);

describe('interruptions', () => {
  it('a real barge-in stops the agent at once, cancels the reply and truncates the history', async () => {
    const start = await replyStart();
    const result = await runCase(
      storyCase({ at: (start + 2000) / 1000, text: 'stop that is enough', reply: 'Okay, stopping.' }),
    );
    expect(interruptions(result)).toContain('true');
    const trueAt = eventsOf(result.events, 'interruption').find((e) => e.kind === 'true')!.t;
    const ended = eventsOf(result.events, 'agent_speech_ended')[0]!;
    expect(ended.interrupted).toBe(true);
    expect(ended.t).toBe(trueAt);
    // min_duration (0.5 s) of user speech after it began, to within a 20 ms microphone frame or two.
    expect(trueAt).toBeGreaterThanOrEqual(start + 2000 + 500);
    expect(trueAt).toBeLessThanOrEqual(start + 2000 + 540);
    expect(ended.played_ms).toBeCloseTo(trueAt - start, 0);
    expect(ended.spoken_text.length).toBeGreaterThan(10);
    expect(STORY.startsWith(ended.spoken_text)).toBe(true);
    expect(ended.spoken_text.length).toBeLessThan(STORY.length);
    const story = result.report.history.find((m) => m.role === 'assistant')!;
    expect(story).toEqual({ role: 'assistant', content: ended.spoken_text, interrupted: true });
    expect(spoken(result)).toEqual([ended.spoken_text, 'Okay, stopping.']);
    expect(result.report.turns[0]!.interrupted).toBe(true);
    expect(result.report.totals.interruptions).toBe(1);
  });

  it('pauses on speech without words yet, then stops when the words arrive', async () => {
    const start = await replyStart();
    const result = await runCase(
      storyCase({ at: (start + 2000) / 1000, text: 'wait', reply: 'Yes?', wordSeconds: 0.9 }),
    );
    const kinds = interruptions(result);
    expect(kinds.slice(0, 2)).toEqual(['detected', 'true']);
    const paused = firstOf(result.events, 'agent_speech_paused');
    const ended = eventsOf(result.events, 'agent_speech_ended')[0]!;
    expect(ended.interrupted).toBe(true);
    expect(ended.t).toBeGreaterThan(paused.t);
    // Nothing was played while paused.
    expect(ended.played_ms).toBeCloseTo(paused.t - start, 0);
    expect(spoken(result).at(-1)).toBe('Yes?');
  });

  it('a false interruption (speech with no words) pauses the agent and resumes it after the timeout', async () => {
    const start = await replyStart();
    const cough = { start: start + 2000, end: start + 2800 };
    const result = await runCase(storyCase(null), { noise: [cough] });
    expect(interruptions(result)).toEqual(['detected', 'false', 'resumed']);
    const paused = firstOf(result.events, 'agent_speech_paused');
    const resumed = firstOf(result.events, 'agent_speech_resumed');
    expect(paused.t).toBeGreaterThanOrEqual(cough.start + 500);
    expect(paused.t).toBeLessThanOrEqual(cough.start + 540);
    // false_interruption_timeout (2 s) of silence after the speech ended (VAD confirms it 550 ms late).
    expect(resumed.t).toBeGreaterThanOrEqual(cough.end + 550 + 2000);
    expect(resumed.t).toBeLessThanOrEqual(cough.end + 550 + 2000 + 20);
    const ended = eventsOf(result.events, 'agent_speech_ended')[0]!;
    expect(ended.interrupted).toBe(false);
    expect(ended.spoken_text).toBe(STORY);
    expect(result.report.history.at(-1)).toEqual({ role: 'assistant', content: STORY });
    expect(result.report.totals.false_interruptions).toBe(1);
  });

  it('without resume_false_interruption the agent stops at once and is not resumed', async () => {
    const settings = { turn_handling: { interruption: { resume_false_interruption: false } } };
    const start = await replyStart(settings);
    const result = await runCase(storyCase(null), {
      settings,
      noise: [{ start: start + 2000, end: start + 2800 }],
    });
    expect(interruptions(result)).toEqual(['detected', 'false']);
    expect(eventsOf(result.events, 'agent_speech_resumed')).toHaveLength(0);
    expect(eventsOf(result.events, 'agent_speech_ended')[0]!.interrupted).toBe(true);
  });

  it('speech shorter than min_duration is ignored and the agent keeps talking', async () => {
    const start = await replyStart();
    const result = await runCase(storyCase(null), { noise: [{ start: start + 2000, end: start + 2300 }] });
    expect(interruptions(result)).toEqual(['ignored']);
    expect(eventsOf(result.events, 'agent_speech_paused')).toHaveLength(0);
    expect(spoken(result)).toEqual([STORY]);
  });

  it('a backchannel with fewer than min_words is kept in the history but neither interrupts nor gets a reply', async () => {
    const settings = { turn_handling: { interruption: { min_words: 2 } } };
    const start = await replyStart(settings);
    const result = await runCase(
      storyCase({ at: (start + 2000) / 1000, text: 'okay', reply: 'unused', wordSeconds: 0.7 }),
      { settings },
    );
    expect(interruptions(result)).toEqual(['ignored']);
    expect(spoken(result)).toEqual([STORY]);
    expect(result.report.history.map((m) => `${m.role}: ${m.content}`)).toEqual([
      'user: tell me a story',
      `assistant: ${STORY}`,
      'user: okay',
    ]);
  });

  it('with interruptions disabled the agent finishes and then answers', async () => {
    const settings = { turn_handling: { interruption: { enabled: false } } };
    const start = await replyStart(settings);
    const result = await runCase(
      storyCase({ at: (start + 2000) / 1000, text: 'what is the fox called', reply: 'She is called Vera.' }),
      { settings },
    );
    expect(interruptions(result)).toEqual([]);
    expect(spoken(result)).toEqual([STORY, 'She is called Vera.']);
  });
});

describe('agent', () => {
  it('speaks the greeting when the session starts and keeps min_consecutive_speech_delay before the next reply', async () => {
    // Long enough that the reply is ready before the greeting ends.
    const greeting =
      'Hello! I am Cue, your voice assistant. Ask me anything, and interrupt me whenever you like.';
    const settings: SettingsInput = {
      agent: { greeting, min_consecutive_speech_delay: 0.7 },
      turn_handling: { interruption: { enabled: false } },
    };
    const result = await runCase(buildCase([{ at: 0.6, text: 'what time is it', reply: 'It is noon.' }]), {
      settings,
    });
    const started = eventsOf(result.events, 'agent_speech_started');
    const ended = eventsOf(result.events, 'agent_speech_ended');
    expect(started[0]!.turn).toBe(-1);
    expect(ended.map((e) => e.spoken_text)).toEqual([greeting, 'It is noon.']);
    expect(started[1]!.t - ended[0]!.t).toBeCloseTo(700, 0);
    expect(result.report.history[0]).toEqual({ role: 'assistant', content: greeting });
  });
});
