/**
 * Preemptive TTS synthesises only what a speculation needs before it is committed: its first
 * couple of seconds, so it can start playing at the commit. The rest of its text, and the end of
 * its text (which lets the TTS flush and close it for good), wait for the commit; a speculation
 * discarded meanwhile is cancelled with nothing more rendered.
 */
import { describe, expect, it } from 'vitest';
import { SPECULATIVE_TTS_LEAD_CHARS } from '../../src/main/engine/reply';
import { buildCase, eventsOf, runCase, spoken } from '../helpers/session-harness';

const LONG_REPLY =
  'I have set a timer for you. It will ring in ten minutes, and I will remind you again when it does.';

// A fast LLM: each speculation's whole text is there well before the turn ends.
const timers = buildCase(
  [
    { at: 0.5, text: 'set a timer', reply: LONG_REPLY },
    // The same words again, then more after a pause: the speculation on "set a timer" is dropped.
    {
      at: 12,
      text: 'set a timer [pause 1.4 conf 0.6] for ten minutes',
      reply: 'Ten minutes, starting now.',
    },
  ],
  { profile: { llm_ttft_ms: 100, llm_tokens_per_s: 100 } },
);

describe('preemptive TTS before the commit', () => {
  it('a discarded speculation had only its lead synthesised, never the end of its text', async () => {
    const result = await runCase(timers, {
      settings: { turn_handling: { turn_detection: 'model', endpointing: { min_delay: 1.6 } } },
    });
    const dropped = eventsOf(result.events, 'preemptive_started').find(
      (e) => e.transcript === 'set a timer' && e.t > 12_000,
    )!;
    const done = eventsOf(result.events, 'llm_done').find((e) => e.request === dropped.request)!;
    expect(done.text).toBe(LONG_REPLY);
    const cancelled = eventsOf(result.events, 'preemptive_cancelled').find(
      (e) => e.request === dropped.request,
    )!;
    expect(cancelled.t).toBeGreaterThan(done.t); // its LLM text was complete long before
    const synthesis = result.records.tts.find((r) => r.startedAt === dropped.t)!;
    expect(synthesis.text.length).toBeGreaterThan(0);
    expect(synthesis.text.length).toBeLessThan(SPECULATIVE_TTS_LEAD_CHARS + 20);
    expect(LONG_REPLY.startsWith(synthesis.text)).toBe(true);
    expect(synthesis.outcome).toBe('aborted');
    expect(spoken(result)).toEqual([LONG_REPLY, 'Ten minutes, starting now.']);
  });

  it('a reused speculation gets the rest of its text at the commit and is heard whole', async () => {
    const result = await runCase(timers, { settings: { turn_handling: { turn_detection: 'model' } } });
    const first = eventsOf(result.events, 'turn_committed')[0]!;
    expect(first).toMatchObject({ transcript: 'set a timer', speculation_reused: true });
    expect(spoken(result)[0]).toBe(LONG_REPLY);
    expect(result.outcomes[0]).toMatchObject({ wrong_reply: false, missed: false });
    const synthesis = result.records.tts.find((r) => r.text === LONG_REPLY);
    expect(synthesis?.outcome).toBe('completed');
  });
});
