/**
 * Push-to-talk with Nova: the release sends a Finalize, and Deepgram answers it (from_finalize)
 * only when it holds speech. The turn commits on that answer, at once when every word heard is
 * final already, and never waits max_delay for an answer that does not come.
 */
import { describe, expect, it } from 'vitest';
import type { SettingsInput } from '../../src/shared/settings';
import { buildCase, eventsOf, runCase, spoken } from '../helpers/session-harness';

const question = buildCase([
  { at: 0.5, text: 'what time is it', reply: 'It is noon.' },
  { at: 6, text: 'and tomorrow', reply: 'Tomorrow too.' },
]);
const endOf = (turn: number) => question.turns[turn]!.words.at(-1)!.end * 1000;
const startOf = (turn: number) => question.turns[turn]!.words[0]!.start * 1000;
const manual: SettingsInput = { turn_handling: { turn_detection: 'manual' } };
/** One 20 ms microphone frame: actions and commits fall on frame boundaries. */
const FRAME_MS = 20;

describe('push-to-talk release (Nova)', () => {
  it('commits at once when the speech was finalised before the release (no Finalize answer comes)', async () => {
    // The user holds the key for a second of silence after speaking: the endpointing final has
    // covered every word, so Deepgram has nothing buffered to answer the Finalize with.
    const release = endOf(0) + 1000;
    const result = await runCase(question, {
      settings: manual,
      actions: [
        { atMs: startOf(0) - 300, run: (s) => s.pushToTalk(true) },
        { atMs: release, run: (s) => s.pushToTalk(false) },
      ],
    });
    const [commit] = eventsOf(result.events, 'turn_committed');
    expect(commit).toMatchObject({ transcript: 'what time is it' });
    expect(commit!.t).toBeGreaterThanOrEqual(release);
    expect(commit!.t).toBeLessThanOrEqual(release + FRAME_MS);
    expect(spoken(result)[0]).toBe('It is noon.');
  });

  it('waits for the answer to the Finalize when speech was still buffered, and commits the whole turn on it', async () => {
    const release = endOf(0) + 100;
    const result = await runCase(question, {
      settings: manual,
      actions: [
        { atMs: startOf(0) - 300, run: (s) => s.pushToTalk(true) },
        { atMs: release, run: (s) => s.pushToTalk(false) },
      ],
    });
    const [commit] = eventsOf(result.events, 'turn_committed');
    expect(commit).toMatchObject({ transcript: 'what time is it' });
    // The answer comes stt_final_lag_ms (250 ms) after the Finalize, not max_delay (3 s) later.
    expect(commit!.t).toBeGreaterThanOrEqual(release + question.profile.stt_final_lag_ms);
    expect(commit!.t).toBeLessThanOrEqual(release + question.profile.stt_final_lag_ms + FRAME_MS);
    const wait = eventsOf(result.events, 'endpointing_wait_started').find((e) =>
      e.reason.startsWith('push-to-talk released'),
    );
    expect(wait!.delay).toBeLessThan(3000);
    expect(result.outcomes[0]).toMatchObject({ wrong_reply: false, missed: false });
  });

  it('keeps each push-to-talk turn to its own words', async () => {
    const result = await runCase(question, {
      settings: manual,
      actions: [0, 1].flatMap((turn) => [
        { atMs: startOf(turn) - 300, run: (s) => s.pushToTalk(true) },
        { atMs: endOf(turn) + (turn === 0 ? 1000 : 50), run: (s) => s.pushToTalk(false) },
      ]),
    });
    expect(eventsOf(result.events, 'turn_committed').map((e) => e.transcript)).toEqual([
      'what time is it',
      'and tomorrow',
    ]);
    expect(spoken(result)).toEqual(['It is noon.', 'Tomorrow too.']);
  });
});
