import { describe, expect, it } from 'vitest';
import { buildCase, eventsOf, firstOf, runCase, spoken } from '../helpers/session-harness';

const weather = buildCase([
  { at: 0.5, text: "what's the weather like in paris today", reply: "It's sunny in Paris." },
]);

describe('preemptive generation', () => {
  it('reuses a speculation whose transcript equals the final one', async () => {
    const result = await runCase(weather);
    const reused = firstOf(result.events, 'preemptive_reused');
    const committed = firstOf(result.events, 'turn_committed');
    expect(committed.speculation_reused).toBe(true);
    expect(reused.lead).toBeGreaterThan(0);
    const turn = result.report.turns[0]!;
    expect(turn.speculation_reused).toBe(true);
    expect(turn.preemptive_lead_ms).toBe(Math.round(reused.lead));
    expect(turn.llm_requests_wasted).toBe(turn.llm_requests - 1);
    // The reused request is the one that was spoken, and the LLM was asked before the turn ended.
    const spokenRequest = turn.requests.find((r) => r.outcome === 'spoken')!;
    expect(spokenRequest.preemptive).toBe(true);
    expect(spokenRequest.started_ms).toBeLessThan(committed.t);
    expect(spoken(result)).toEqual(["It's sunny in Paris."]);
    expect(result.outcomes[0]).toMatchObject({ wrong_reply: false, false_cutin: false, missed: false });
  });

  it('answers sooner with preemption than without', async () => {
    const on = await runCase(weather);
    const off = await runCase(weather, {
      settings: { turn_handling: { preemptive_generation: { enabled: false } } },
    });
    expect(eventsOf(off.events, 'preemptive_started')).toHaveLength(0);
    expect(off.report.totals.llm_requests).toBe(1);
    expect(off.outcomes[0]!.wrong_reply).toBe(false);
    expect(on.outcomes[0]!.e2e_from_t_end_ms!).toBeLessThan(off.outcomes[0]!.e2e_from_t_end_ms!);
  });

  it('cancels a speculation when the transcript changes, aborting its LLM request, and never speaks it', async () => {
    // A slow LLM: the speculation is still streaming when the user goes on.
    const hesitation = buildCase(
      [
        {
          at: 0.5,
          text: 'set a timer [pause 1.2 conf 0.6] for ten minutes',
          reply: 'Timer set for ten minutes.',
        },
      ],
      { profile: { llm_ttft_ms: 2000 } },
    );
    const result = await runCase(hesitation, {
      settings: { turn_handling: { turn_detection: 'model', endpointing: { min_delay: 1.5 } } },
    });
    const first = firstOf(result.events, 'preemptive_started');
    expect(first.transcript).toBe('set a timer');
    const cancelled = eventsOf(result.events, 'preemptive_cancelled').find(
      (e) => e.request === first.request,
    )!;
    expect(cancelled.reason).toBe('transcript changed');
    const aborted = eventsOf(result.events, 'llm_aborted').find((e) => e.request === first.request);
    expect(aborted).toBeDefined();
    expect(spoken(result)).toEqual(['Timer set for ten minutes.']);
    expect(spoken(result).join(' ')).not.toContain('off-script');
    const turn = result.report.turns[0]!;
    expect(turn.requests.find((r) => r.id === first.request)!.outcome).toBe('wasted');
  });

  it('discards a speculation at the end of the turn when the final transcript differs (exact strategy)', async () => {
    // Speculating on a stable interim that the final transcript then corrects.
    const misheard = buildCase(
      [
        {
          at: 0.5,
          text: 'call my sister',
          reply: 'Calling your sister.',
          interims: [{ after: 2, text: 'call my sitter' }],
        },
      ],
      { profile: { stt_final_lag_ms: 900 } },
    );
    const result = await runCase(misheard);
    const speculations = eventsOf(result.events, 'preemptive_started');
    expect(speculations[0]!.transcript).toBe('call my sitter');
    const cancelled = eventsOf(result.events, 'preemptive_cancelled').find(
      (e) => e.request === speculations[0]!.request,
    );
    expect(cancelled?.reason).toBe('transcript changed');
    expect(spoken(result)).toEqual(['Calling your sister.']);
  });

  it('keeps a similar speculation with the "similar" strategy and drops it with "exact"', async () => {
    const twoFinals = buildCase([
      { at: 0.5, text: 'play some jazz music [pause 0.4 conf 0.9] please', reply: 'Playing jazz.' },
    ]);
    const settings = (strategy: 'exact' | 'similar') => ({
      turn_handling: { preemptive_generation: { strategy, similarity_threshold: 0.75 } },
    });
    const exact = await runCase(twoFinals, { settings: settings('exact') });
    const similar = await runCase(twoFinals, { settings: settings('similar') });
    const exactFirst = firstOf(exact.events, 'preemptive_started');
    expect(exactFirst.transcript).toBe('play some jazz music');
    expect(eventsOf(exact.events, 'preemptive_cancelled').map((e) => e.request)).toContain(
      exactFirst.request,
    );
    const similarFirst = firstOf(similar.events, 'preemptive_started');
    expect(similarFirst.transcript).toBe('play some jazz music');
    expect(firstOf(similar.events, 'preemptive_reused').request).toBe(similarFirst.request);
    // The kept speculation answered a different transcript: the scripted LLM marks it.
    expect(spoken(similar)[0]).toContain('off-script');
    expect(spoken(exact)).toEqual(['Playing jazz.']);
  });

  it('never speculates with strategy "off" or when disabled', async () => {
    for (const preemptive_generation of [{ strategy: 'off' as const }, { enabled: false }]) {
      const result = await runCase(weather, { settings: { turn_handling: { preemptive_generation } } });
      expect(eventsOf(result.events, 'preemptive_started')).toHaveLength(0);
      expect(result.report.totals.llm_requests).toBe(1);
      expect(spoken(result)).toEqual(["It's sunny in Paris."]);
    }
  });

  it('stops speculating when max_retries is reached and resets the count on the next turn', async () => {
    const twoTurns = buildCase([
      {
        at: 0.5,
        text: 'remind me [pause 0.8 conf 0.9] to call [pause 0.8 conf 0.9] my sister tomorrow',
        reply: 'I will remind you.',
      },
      { at: 12, text: 'thank you', reply: 'You are welcome.' },
    ]);
    const result = await runCase(twoTurns, {
      settings: {
        turn_handling: {
          preemptive_generation: { max_retries: 1 },
          endpointing: { min_delay: 1.5, max_delay: 3 },
        },
      },
    });
    const started = eventsOf(result.events, 'preemptive_started');
    const skipped = eventsOf(result.events, 'preemptive_skipped');
    expect(started.filter((e) => e.turn === 0)).toHaveLength(1);
    expect(skipped.filter((e) => e.turn === 0 && e.reason === 'max_retries').length).toBeGreaterThan(0);
    expect(result.report.turns[0]!.speculation_reused).toBe(false);
    expect(started.filter((e) => e.turn === 1)).toHaveLength(1);
    expect(result.report.turns[1]!.speculation_reused).toBe(true);
    expect(spoken(result)).toEqual(['I will remind you.', 'You are welcome.']);
  });

  it('skips speculation once the user has spoken longer than max_speech_duration', async () => {
    const result = await runCase(weather, {
      settings: { turn_handling: { preemptive_generation: { max_speech_duration: 1 } } },
    });
    expect(eventsOf(result.events, 'preemptive_started')).toHaveLength(0);
    expect(eventsOf(result.events, 'preemptive_skipped').map((e) => e.reason)).toContain(
      'max_speech_duration',
    );
    expect(spoken(result)).toEqual(["It's sunny in Paris."]);
  });

  it('starts TTS only after the commit without preemptive TTS, and before it with preemptive TTS', async () => {
    // A patient endpointing delay: the speculative reply is ready before the turn is committed.
    const patient = { endpointing: { min_delay: 1.2 } };
    const off = await runCase(weather, {
      settings: { turn_handling: { ...patient, preemptive_generation: { preemptive_tts: false } } },
    });
    const on = await runCase(weather, {
      settings: { turn_handling: { ...patient, preemptive_generation: { preemptive_tts: true } } },
    });
    for (const [result, early] of [
      [off, false],
      [on, true],
    ] as const) {
      const reused = firstOf(result.events, 'preemptive_reused');
      const commit = firstOf(result.events, 'turn_committed');
      const tts = eventsOf(result.events, 'tts_request').find((e) => e.request === reused.request)!;
      expect(tts.t < commit.t).toBe(early);
    }
    expect(on.outcomes[0]!.e2e_from_t_end_ms!).toBeLessThan(off.outcomes[0]!.e2e_from_t_end_ms!);
  });

  it('counts TTS characters wasted by a discarded preemptive-TTS speculation', async () => {
    const hesitation = buildCase([
      {
        at: 0.5,
        text: 'set a timer [pause 1.5 conf 0.6] for ten minutes',
        reply: 'Timer set for ten minutes.',
      },
    ]);
    const result = await runCase(hesitation, {
      settings: {
        turn_handling: {
          turn_detection: 'model',
          endpointing: { min_delay: 2 },
          preemptive_generation: { preemptive_tts: true },
        },
      },
    });
    const turn = result.report.turns[0]!;
    const wasted = turn.requests.filter((r) => r.outcome === 'wasted');
    expect(wasted.length).toBeGreaterThan(0);
    expect(wasted.some((r) => r.tts_characters > 0)).toBe(true);
    expect(turn.tts_characters_wasted).toBe(wasted.reduce((sum, r) => sum + r.tts_characters, 0));
    expect(result.report.totals.tts_characters_wasted).toBe(turn.tts_characters_wasted);
    expect(spoken(result)).toEqual(['Timer set for ten minutes.']);
  });
});

describe('Flux turn events', () => {
  const flux = { stt: { provider: 'deepgram-flux' }, turn_handling: { turn_detection: 'stt' } } as const;

  it('speculates on EagerEndOfTurn and reuses it at EndOfTurn', async () => {
    const result = await runCase(weather, { settings: flux });
    const eager = eventsOf(result.events, 'turn_event').find((e) => e.event === 'EagerEndOfTurn')!;
    const started = firstOf(result.events, 'preemptive_started');
    expect(started.trigger).toBe('eager_end_of_turn');
    expect(started.t).toBe(eager.t);
    expect(firstOf(result.events, 'preemptive_reused').request).toBe(started.request);
    expect(spoken(result)).toEqual(["It's sunny in Paris."]);
  });

  it('cancels the speculation on TurnResumed', async () => {
    const resumed = buildCase([
      {
        at: 0.5,
        text: 'turn on the lights [pause 1.0 conf 0.6] in the kitchen',
        reply: 'Kitchen lights on.',
      },
    ]);
    const result = await runCase(resumed, { settings: flux });
    const names = eventsOf(result.events, 'turn_event').map((e) => e.event);
    expect(names).toContain('TurnResumed');
    const first = firstOf(result.events, 'preemptive_started');
    expect(first.transcript.toLowerCase()).toContain('turn on the lights');
    const cancelled = eventsOf(result.events, 'preemptive_cancelled').find(
      (e) => e.request === first.request,
    )!;
    expect(cancelled.reason).toBe('TurnResumed');
    expect(spoken(result)).toEqual(['Kitchen lights on.']);
  });
});
