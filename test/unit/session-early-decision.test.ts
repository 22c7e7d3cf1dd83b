/**
 * The turn judged at a short pause (turn_detector.decision_silence), not after the VAD's
 * min_silence_duration: a likely end commits min_delay after the speech stopped, an unfinished
 * phrase is vetoed, and a reply committed in a pause that turns out to be mid-sentence is held
 * silent when the user goes on, or released when it was only a short sound.
 */
import { describe, expect, it } from 'vitest';
import { buildCase, eventsOf, firstOf, runCase, spoken } from '../helpers/session-harness';

/** A quick decision (min_delay 0.4 s, decision silence 0.2 s as by default); these cases leave 60 ms between words. */
const EARLY = {
  stt: { nova: { endpointing_ms: 100 } },
  turn_handling: { endpointing: { min_delay: 0.4 }, turn_detector: { decision_silence: 0.2 } },
};
const end = (c: ReturnType<typeof buildCase>, turn = 0) => c.turns[turn]!.words.at(-1)!.end * 1000;

describe('the turn judged at a short pause', () => {
  it('commits a likely end min_delay after the speech stopped, before the VAD ends the speech', async () => {
    const question = buildCase([{ at: 0.5, text: 'what time is it', reply: 'It is noon.' }]);
    const result = await runCase(question, { settings: EARLY });
    const paused = firstOf(result.events, 'user_paused');
    const decision = firstOf(result.events, 'turn_detector_decision');
    const committed = firstOf(result.events, 'turn_committed');
    const vadEnd = firstOf(result.events, 'user_speech_ended');
    expect(paused.at).toBeGreaterThanOrEqual(end(question));
    expect(paused.at).toBeLessThanOrEqual(end(question) + 20);
    expect(decision).toMatchObject({ likely_end: true });
    expect(committed.t).toBe(paused.at + 400);
    // The VAD's own end of speech (min_silence_duration 0.55 s) comes later and changes nothing.
    expect(vadEnd.t).toBeGreaterThan(committed.t);
    expect(eventsOf(result.events, 'turn_committed')).toHaveLength(1);
    // The turn's metrics count from where the speech stopped.
    expect(result.report.turns[0]!.vad_end_of_speech_ms).toBe(paused.at);
    expect(result.outcomes[0]).toMatchObject({ false_cutin: false, wrong_reply: false, missed: false });
    expect(spoken(result)).toEqual(['It is noon.']);
  });

  it('does not act on a pause after an unfinished phrase: the heuristic vetoes "remind me to"', async () => {
    const remind = buildCase([
      { at: 0.5, text: 'remind me to [pause 0.8 conf 0.2] call mom', reply: 'I will remind you.' },
    ]);
    const result = await runCase(remind, { settings: EARLY });
    const [atPause] = eventsOf(result.events, 'turn_detector_decision');
    expect(atPause).toMatchObject({ likely_end: false, probability: 0.15 });
    const committed = eventsOf(result.events, 'turn_committed');
    expect(committed).toHaveLength(1);
    expect(committed[0]!.transcript).toBe('remind me to call mom');
    expect(committed[0]!.t).toBeGreaterThan(end(remind));
    expect(result.outcomes[0]).toMatchObject({ false_cutin: false, wrong_reply: false });
  });

  it('holds a reply committed in a pause when the user goes on, and answers the whole sentence', async () => {
    // A slow LLM: the reply is not audible yet when the user goes on after 0.6 s.
    const jazz = buildCase(
      [
        {
          at: 0.5,
          text: 'play some jazz [pause 0.6 conf 0.75] from the fifties',
          reply: 'Playing fifties jazz.',
        },
      ],
      { profile: { llm_ttft_ms: 900 } },
    );
    const result = await runCase(jazz, { settings: EARLY });
    const commits = eventsOf(result.events, 'turn_committed');
    // Committed at the pause on "play some jazz"; the user went on before hearing it.
    expect(commits[0]!.transcript).toBe('play some jazz');
    expect(commits[0]!.t).toBeLessThan(end(jazz));
    expect(firstOf(result.events, 'agent_speech_paused').t).toBeLessThan(end(jazz));
    // The turn was continued: the reply that plays answers the whole sentence, after it ended.
    expect(commits.at(-1)!.transcript).toBe('play some jazz from the fifties');
    // The held reply ends with nothing heard; the one that plays answers the whole sentence.
    expect(spoken(result)).toEqual(['', 'Playing fifties jazz.']);
    expect(eventsOf(result.events, 'agent_speech_started')).toHaveLength(1);
    expect(result.outcomes[0]).toMatchObject({ false_cutin: false, wrong_reply: false, missed: false });
  });

  it('releases the held reply when what followed the pause was only a short sound', async () => {
    const question = buildCase([{ at: 0.5, text: 'what time is it', reply: 'It is noon.' }], {
      profile: { llm_ttft_ms: 900 },
    });
    // A cough 450 ms after the words: after the commit, before the reply is audible.
    const cough = { start: end(question) + 450, end: end(question) + 550 };
    const result = await runCase(question, { settings: EARLY, noise: [cough] });
    const committed = firstOf(result.events, 'turn_committed');
    expect(committed.t).toBeLessThan(cough.start);
    const ignored = eventsOf(result.events, 'interruption').filter((e) => e.kind === 'ignored');
    expect(ignored).toHaveLength(1);
    const audible = firstOf(result.events, 'agent_speech_started');
    expect(audible.t).toBeGreaterThan(cough.start);
    expect(spoken(result)).toEqual(['It is noon.']);
    expect(result.outcomes[0]).toMatchObject({ false_cutin: false, wrong_reply: false, missed: false });
  });

  it('judges at the VAD end as before when decision_silence is longer than min_silence_duration', async () => {
    const question = buildCase([{ at: 0.5, text: 'what time is it', reply: 'It is noon.' }]);
    const result = await runCase(question, {
      settings: {
        ...EARLY,
        turn_handling: { ...EARLY.turn_handling, turn_detector: { decision_silence: 1 } },
      },
    });
    expect(eventsOf(result.events, 'user_paused')).toHaveLength(0);
    const vadEnd = firstOf(result.events, 'user_speech_ended');
    expect(firstOf(result.events, 'turn_committed').t).toBe(vadEnd.t);
  });
});
