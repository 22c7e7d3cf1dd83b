import { describe, expect, it } from 'vitest';
import type { SettingsInput } from '../../src/shared/settings';
import {
  buildCase,
  engineTestSettings,
  eventsOf,
  firstOf,
  runCase,
  spoken,
} from '../helpers/session-harness';

// "book a flight to" sounds unfinished; the user pauses 1.2 s before the destination.
const hesitation = buildCase([
  { at: 0.5, text: 'book a flight to [pause 1.2 conf 0.3] paris', reply: 'Where are you flying from?' },
]);
const tEnd = hesitation.turns[0]!.words.at(-1)!.end * 1000;
const pauseStart = hesitation.turns[0]!.words[3]!.end * 1000;
const mode = (turn_detection: string, extra: SettingsInput['turn_handling'] = {}): SettingsInput => ({
  turn_handling: { turn_detection: turn_detection as 'vad', ...extra },
});

describe('turn detection modes', () => {
  it('model: the heuristic detector waits through an unfinished phrase and answers the whole sentence', async () => {
    const result = await runCase(hesitation, { settings: mode('model') });
    const decisions = eventsOf(result.events, 'turn_detector_decision');
    expect(decisions[0]).toMatchObject({ likely_end: false, source: 'heuristic' });
    expect(decisions.at(-1)).toMatchObject({ likely_end: true });
    const waits = eventsOf(result.events, 'endpointing_wait_started');
    expect(waits[0]!.delay).toBe(3000);
    expect(eventsOf(result.events, 'endpointing_wait_cancelled')[0]!.reason).toBe('user resumed speaking');
    expect(eventsOf(result.events, 'turn_committed').map((e) => e.transcript)).toEqual([
      'book a flight to paris',
    ]);
    expect(result.outcomes[0]).toMatchObject({ false_cutin: false, wrong_reply: false, missed: false });
    expect(spoken(result)).toEqual(['Where are you flying from?']);
  });

  it('vad: silence alone ends the turn after min_delay, cutting the user off mid-sentence', async () => {
    const result = await runCase(hesitation, { settings: mode('vad') });
    expect(eventsOf(result.events, 'turn_detector_decision')).toHaveLength(0);
    const commits = eventsOf(result.events, 'turn_committed');
    expect(commits[0]!.transcript).toBe('book a flight to');
    // max(VAD silence 0.55 s, min_delay 0.5 s) after the speech ended.
    // One 20 ms microphone frame of slack: the VAD decides at the end of the frame.
    expect(commits[0]!.t).toBeGreaterThanOrEqual(pauseStart + 550);
    expect(commits[0]!.t).toBeLessThanOrEqual(pauseStart + 570);
    expect(result.outcomes[0]!.false_cutin).toBe(true);
  });

  it('vad: min_delay longer than the pause keeps the turn open', async () => {
    const result = await runCase(hesitation, { settings: mode('vad', { endpointing: { min_delay: 1.5 } }) });
    const commits = eventsOf(result.events, 'turn_committed');
    expect(commits.map((e) => e.transcript)).toEqual(['book a flight to paris']);
    expect(commits[0]!.t).toBeCloseTo(tEnd + 1500, 0);
  });

  it('stt (Nova): the turn ends min_delay after speech_final, whatever the words', async () => {
    const result = await runCase(hesitation, { settings: mode('stt') });
    const finals = eventsOf(result.events, 'transcript_final');
    const commits = eventsOf(result.events, 'turn_committed');
    expect(commits[0]!.transcript).toBe('book a flight to');
    expect(commits[0]!.t).toBeCloseTo(finals[0]!.t + 500, 0);
    expect(result.outcomes[0]!.false_cutin).toBe(true);
  });

  it('stt (Flux): EndOfTurn from the provider ends the turn; a low-confidence pause does not', async () => {
    const result = await runCase(hesitation, {
      settings: { ...mode('stt', { endpointing: { min_delay: 0 } }), stt: { provider: 'deepgram-flux' } },
    });
    const commits = eventsOf(result.events, 'turn_committed');
    expect(commits.map((e) => e.transcript.toLowerCase())).toEqual(['book a flight to paris']);
    // Flux ends the turn flux_eot_lag_ms (300 ms) after the last word.
    expect(commits[0]!.t).toBeCloseTo(tEnd + 300, 0);
    expect(result.outcomes[0]).toMatchObject({ false_cutin: false, wrong_reply: false });
  });

  it('manual: push-to-talk keeps the turn open through pauses and ends it on release', async () => {
    const result = await runCase(hesitation, {
      settings: mode('manual'),
      actions: [
        { atMs: 300, run: (s) => s.pushToTalk(true) },
        { atMs: tEnd + 200, run: (s) => s.pushToTalk(false) },
      ],
    });
    const commits = eventsOf(result.events, 'turn_committed');
    expect(commits.map((e) => e.transcript)).toEqual(['book a flight to paris']);
    expect(commits[0]!.t).toBeGreaterThanOrEqual(tEnd + 200);
    expect(firstOf(result.events, 'turn_event').t).toBe(300);
    expect(spoken(result)).toEqual(['Where are you flying from?']);
  });

  it('manual: speech while push-to-talk is up is not heard', async () => {
    const result = await runCase(hesitation, { settings: mode('manual') });
    expect(eventsOf(result.events, 'turn_event')).toHaveLength(0);
    expect(result.report.turns).toHaveLength(0);
  });

  it('drops a turn with speech but no words', async () => {
    const silentCase = buildCase([{ at: 5, text: 'hello', reply: 'Hi.' }]);
    const result = await runCase(silentCase, { noise: [{ start: 1000, end: 1400 }] });
    const commits = eventsOf(result.events, 'turn_committed');
    expect(commits.map((e) => e.transcript)).toEqual(['hello']);
    expect(result.report.turns.map((t) => t.transcript)).toEqual(['hello']);
  });
});

describe('endpointing', () => {
  const pauses = buildCase([
    {
      at: 0.5,
      text: 'i would like [pause 0.9 conf 0.9] a large coffee [pause 0.9 conf 0.9] with oat milk',
      reply: 'One large oat milk coffee.',
    },
    { at: 12, text: 'and a croissant [pause 0.9 conf 0.9] please', reply: 'Adding a croissant.' },
  ]);
  const settings = (endpointing: { mode: 'fixed' | 'dynamic' }) =>
    mode('model', { endpointing: { ...endpointing, min_delay: 0.3, max_delay: 3 } });

  it('fixed: a likely end always waits min_delay', async () => {
    const result = await runCase(pauses, { settings: settings({ mode: 'fixed' }) });
    const likely = eventsOf(result.events, 'endpointing_wait_started').filter((e) =>
      e.reason.startsWith('likely'),
    );
    expect(likely.length).toBeGreaterThan(2);
    expect(new Set(likely.map((e) => e.delay))).toEqual(new Set([300]));
  });

  it('dynamic: learns the user pauses and waits longer than them, within [min, max]', async () => {
    const result = await runCase(pauses, { settings: settings({ mode: 'dynamic' }) });
    const likely = eventsOf(result.events, 'endpointing_wait_started').filter((e) =>
      e.reason.startsWith('likely'),
    );
    const learned = likely.at(-1)!.delay;
    expect(learned).toBeGreaterThan(900);
    expect(learned).toBeLessThanOrEqual(3000);
    // With fixed delays the 0.9 s pauses cut the second turn; the learned delay keeps it whole.
    const commits = eventsOf(result.events, 'turn_committed').map((e) => e.transcript);
    expect(commits.at(-1)).toBe('and a croissant please');
    const fixed = await runCase(pauses, { settings: settings({ mode: 'fixed' }) });
    expect(eventsOf(fixed.events, 'turn_committed').map((e) => e.transcript)).toContain('and a croissant');
  });
});

describe('settings', () => {
  it('applies changed settings live, and refuses invalid ones keeping the old settings', async () => {
    const errors: string[] = [];
    const restarts: string[][] = [];
    const result = await runCase(hesitation, {
      settings: mode('model'),
      actions: [
        {
          atMs: 100,
          run: (s) => {
            try {
              s.updateSettings({ turn_handling: { endpointing: { min_delay: -1 } } });
            } catch (error) {
              errors.push((error as Error).message);
            }
            expect(s.options.turn_handling.turn_detection).toBe('model');
            restarts.push(
              s.updateSettings(engineTestSettings({ turn_handling: { turn_detection: 'vad' } })).needsRestart,
            );
            restarts.push(
              s.updateSettings(
                engineTestSettings({
                  turn_handling: { turn_detection: 'vad' },
                  llm: { model: 'llama3' },
                  stt: { provider: 'deepgram-flux' },
                }),
              ).needsRestart,
            );
          },
        },
      ],
    });
    expect(errors).toEqual([
      'Invalid settings:\n  turn_handling.endpointing.min_delay: must be between 0 and 10 s (got -1)',
    ]);
    // Silence alone now ends the turn at the pause.
    expect(eventsOf(result.events, 'turn_committed')[0]!.transcript).toBe('book a flight to');
    expect(result.report.options.turn_handling.turn_detection).toBe('vad');
    // Turn handling applies live; another LLM model or STT provider waits for a restart.
    expect(restarts).toEqual([[], ['llm.model', 'stt.provider']]);
  });
});

describe('mute', () => {
  it('hears nothing while muted, and listens again when unmuted', async () => {
    const twoTurns = buildCase([
      { at: 0.5, text: 'what time is it', reply: 'It is noon.' },
      { at: 6, text: 'and tomorrow', reply: 'Tomorrow too.' },
    ]);
    const result = await runCase(twoTurns, {
      actions: [
        { atMs: 100, run: (s) => s.setMuted(true) },
        { atMs: 5000, run: (s) => s.setMuted(false) },
      ],
    });
    expect(eventsOf(result.events, 'turn_committed').map((e) => e.transcript)).toEqual(['and tomorrow']);
    expect(spoken(result)).toEqual(['Tomorrow too.']);
  });
});

describe('a turn that ended too soon', () => {
  it('is continued when the user goes on before the reply is heard, and the reply answers the whole sentence', async () => {
    // A complete-sounding phrase, a pause longer than the endpointing wait, then the rest.
    const continued = buildCase([
      {
        at: 0.5,
        text: "what's the weather [pause 1.0 conf 0.7] in tokyo tomorrow",
        reply: 'Rain in Tokyo tomorrow.',
      },
    ]);
    const result = await runCase(continued, {
      settings: {
        ...mode('model', {
          endpointing: { min_delay: 0.3 },
          preemptive_generation: { preemptive_tts: false, interim_stability: 0.3 },
        }),
        reply: { first_chunk_words: 0 },
      },
    });
    const commits = eventsOf(result.events, 'turn_committed').map((e) => e.transcript);
    expect(commits).toEqual(["what's the weather", "what's the weather in tokyo tomorrow"]);
    expect(eventsOf(result.events, 'turn_event').some((e) => e.event === 'TurnResumed')).toBe(true);
    expect(spoken(result)).toEqual(['', 'Rain in Tokyo tomorrow.']);
    expect(result.report.history.map((m) => `${m.role}: ${m.content}`)).toEqual([
      "user: what's the weather in tokyo tomorrow",
      'assistant: Rain in Tokyo tomorrow.',
    ]);
    expect(result.outcomes[0]).toMatchObject({ wrong_reply: false, missed: false });
  });

  it('is continued when the user goes on within a reaction time of the reply becoming audible', async () => {
    // With preemptive TTS the reply to the first half is ready and starts to play just before the
    // user goes on: they had not heard it, so it is a continuation, not an answer to the reply.
    const continued = buildCase([
      {
        at: 0.5,
        text: "what's the weather [pause 1.0 conf 0.7] in tokyo tomorrow",
        reply: 'Rain in Tokyo tomorrow.',
      },
    ]);
    const result = await runCase(continued, { settings: mode('model', { endpointing: { min_delay: 0.3 } }) });
    const heard = spoken(result);
    expect(heard).toHaveLength(2);
    expect(heard[0]).not.toBe('');
    expect(heard[1]).toBe('Rain in Tokyo tomorrow.');
    expect(result.report.history.map((m) => `${m.role}: ${m.content}`)).toEqual([
      "user: what's the weather in tokyo tomorrow",
      'assistant: Rain in Tokyo tomorrow.',
    ]);
    expect(result.outcomes[0]).toMatchObject({ false_cutin: true, wrong_reply: false, missed: false });
  });
});
