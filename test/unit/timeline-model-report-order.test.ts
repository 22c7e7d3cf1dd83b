/**
 * The timeline model against reports that arrive out of step with the events: main sends a turn's
 * report as the reply's agent_speech_ended event goes out, before the recorder has taken the
 * reply's outcome, so that report can say "not interrupted" for a reply the events already showed
 * cut short. The interruption must stay on the turn (its card's "interrupted" flag).
 */
import { describe, expect, it } from 'vitest';
import { TimelineModel } from '../../src/renderer/src/timeline/timeline-model';
import { buildCase, eventsOf, firstOf, runCase } from '../helpers/session-harness';

const STORY =
  'Once upon a time, a small fox lived at the edge of a quiet forest. Every morning she walked to the river, and every evening she came home.';

async function interruptedStory() {
  const probe = await runCase(
    buildCase([{ at: 0.5, text: 'tell me a story', reply: STORY }], { seconds: 16 }),
  );
  const start = firstOf(probe.events, 'agent_speech_started').t;
  return runCase(
    buildCase(
      [
        { at: 0.5, text: 'tell me a story', reply: STORY },
        { at: (start + 2000) / 1000, text: 'stop that is enough', reply: 'Okay, stopping.' },
      ],
      { seconds: 16 },
    ),
  );
}

describe('timeline model: turn reports out of step with the events', () => {
  it('keeps a turn interrupted when an earlier snapshot of its report says it was not', async () => {
    const result = await interruptedStory();
    const ended = eventsOf(result.events, 'agent_speech_ended').find((e) => e.interrupted);
    expect(ended?.turn).toBe(0);
    const model = new TimelineModel({ now: () => 0 });
    model.ingestAll(result.events);
    const turn = model.turns.find((t) => t.index === 0)!;
    expect(turn.interrupted).toBe(true);
    const final = result.report.turns[0]!;
    expect(final.interrupted).toBe(true);
    // The snapshot main sends with the agent_speech_ended event: outcome not recorded yet.
    model.ingestReport({ ...final, interrupted: false });
    expect(turn.interrupted).toBe(true);
    expect(model.latency(turn).source).toBe('report');
  });

  it('takes an interruption from the report when the events did not show it', async () => {
    const result = await interruptedStory();
    const model = new TimelineModel({ now: () => 0 });
    // Events without the end of the story (e.g. dropped by a reconnect), then the final report.
    model.ingestAll(result.events.filter((e) => e.type !== 'agent_speech_ended'));
    const turn = model.turns.find((t) => t.index === 0)!;
    expect(turn.interrupted).toBe(false);
    model.ingestReport(result.report.turns[0]!);
    expect(turn.interrupted).toBe(true);
  });
});
