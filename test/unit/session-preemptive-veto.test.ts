/**
 * A speculation started at a pause the turn detector then judges an unlikely end: it is cancelled
 * at the veto (its LLM request aborted), and vetoed pauses do not use up max_retries, so the real
 * end of the turn still gets its speculation.
 */
import { describe, expect, it } from 'vitest';
import { buildCase, eventsOf, runCase, spoken } from '../helpers/session-harness';

// Two pauses after unfinished phrases ("for", "and"): the heuristic vetoes both.
const timer = buildCase(
  [
    {
      at: 0.5,
      text: 'set a timer for [pause 0.9 conf 0.2] ten minutes and [pause 0.9 conf 0.2] call mom',
      reply: 'Timer set, and I will remind you to call mom.',
    },
  ],
  { profile: { llm_ttft_ms: 900 } },
);

describe('a speculation at a vetoed pause', () => {
  it('is cancelled when the turn detector judges the end unlikely, aborting its LLM request', async () => {
    const result = await runCase(timer, { settings: { turn_handling: { turn_detection: 'model' } } });
    const [veto] = eventsOf(result.events, 'turn_detector_decision');
    expect(veto).toMatchObject({ likely_end: false });
    const [first] = eventsOf(result.events, 'preemptive_started');
    expect(first!.transcript).toBe('set a timer for');
    const cancelled = eventsOf(result.events, 'preemptive_cancelled').find(
      (e) => e.request === first!.request,
    );
    expect(cancelled).toMatchObject({ reason: 'turn detector: unlikely end of turn' });
    expect(cancelled!.t).toBe(veto!.t);
    expect(
      eventsOf(result.events, 'llm_aborted').some((e) => e.request === first!.request && e.t === veto!.t),
    ).toBe(true);
    expect(spoken(result)).toEqual(['Timer set, and I will remind you to call mom.']);
  });

  it('does not count against max_retries: the real end still gets a speculation, and it is reused', async () => {
    const result = await runCase(timer, {
      settings: { turn_handling: { turn_detection: 'model', preemptive_generation: { max_retries: 2 } } },
    });
    expect(eventsOf(result.events, 'preemptive_skipped')).toEqual([]);
    const started = eventsOf(result.events, 'preemptive_started').map((e) => e.transcript);
    expect(started.at(-1)).toBe('set a timer for ten minutes and call mom');
    expect(eventsOf(result.events, 'turn_committed')[0]).toMatchObject({ speculation_reused: true });
    expect(result.outcomes[0]).toMatchObject({ wrong_reply: false, false_cutin: false, missed: false });
  });
});
