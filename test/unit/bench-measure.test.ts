import { describe, expect, it } from 'vitest';
import { measureRun, oracleTurns, outcomeFlags, type TurnMeasure } from '../../bench/measure';
import { checkTargets, compare, latencyPlotSvg, summarize, summarizeOracle } from '../../bench/report';
import { parseSystems } from '../../bench/bench';
import { buildCase } from '../helpers/session-harness';

// Two turns far apart: a question, then "thanks".
const twoTurns = buildCase([
  { at: 0.5, text: 'what time is it', reply: 'It is noon.' },
  { at: 6, text: 'thanks', reply: 'You are welcome.' },
]);
const tEnd = (turn: number) => twoTurns.turns[turn]!.words.at(-1)!.end * 1000;

describe('measureRun', () => {
  it('measures e2e from t_end on the case axis, and attributes requests and syntheses to turns', () => {
    const startedAt = 10_000;
    const turns = measureRun(
      twoTurns,
      {
        startedAt,
        replies: [
          { audibleAtMs: tEnd(0) + 640, text: 'It is noon.', heardMs: 660 },
          { audibleAtMs: tEnd(1) + 900, text: 'You are welcome.', heardMs: 300 },
        ],
      },
      {
        // Two requests in turn 0 (one wasted), one in turn 1; times on the clock, not the case axis.
        llmRequests: [
          { receivedAt: startedAt + 1000 },
          { receivedAt: startedAt + 1600 },
          { receivedAt: startedAt + 6500 },
        ],
        ttsSyntheses: [
          { receivedAt: startedAt + 1000, charactersSynthesized: 11 },
          { receivedAt: startedAt + 6600, charactersSynthesized: 16 },
        ],
      },
    );
    expect(turns.map((t) => t.e2e_ms)).toEqual([640, 900]);
    expect(turns.map((t) => [t.llm_requests, t.wasted_llm_requests])).toEqual([
      [2, 1],
      [1, 0],
    ]);
    // 660 ms heard at 60 ms per character: all 11; 300 ms: 5 of 16.
    expect(turns.map((t) => t.tts_characters_wasted)).toEqual([0, 11]);
    expect(turns.every((t) => !t.false_cutin && !t.wrong_reply && !t.missed)).toBe(true);
  });

  it('flags a false cut-in, judges the reply heard after t_end, and spots wrong and missed turns', () => {
    const turns = measureRun(
      twoTurns,
      {
        startedAt: 0,
        replies: [
          { audibleAtMs: tEnd(0) - 300, text: '[off-script reply to "what time"]', heardMs: 200 },
          { audibleAtMs: tEnd(0) + 500, text: 'It is noon.', heardMs: 660 },
          { audibleAtMs: tEnd(1) + 10_500, text: 'You are welcome.', heardMs: 960 },
        ],
      },
      { llmRequests: [], ttsSyntheses: [] },
    );
    expect(turns[0]).toMatchObject({ e2e_ms: 500, false_cutin: true, wrong_reply: false, missed: false });
    expect(turns[1]).toMatchObject({ e2e_ms: 10_500, missed: true });
    expect(turns.map(outcomeFlags)).toEqual([['false cut-in'], ['missed']]);
    const wrong = measureRun(
      twoTurns,
      { startedAt: 0, replies: [{ audibleAtMs: tEnd(0) + 500, text: 'Something else.', heardMs: 100 }] },
      { llmRequests: [], ttsSyntheses: [] },
    );
    expect(wrong[0]).toMatchObject({ wrong_reply: true, missed: false });
    expect(wrong[1]).toMatchObject({ e2e_ms: null, missed: true, wrong_reply: true });
  });

  it('does not count a reply stopped after a fraction of a millisecond as audible, but as a wasted request', () => {
    const [turn] = measureRun(
      twoTurns,
      {
        startedAt: 0,
        replies: [
          { audibleAtMs: tEnd(0) - 300, text: 'Off.', heardMs: 0.2 },
          { audibleAtMs: tEnd(0) + 500, text: 'It is noon.', heardMs: 660 },
        ],
      },
      { llmRequests: [{ receivedAt: tEnd(0) - 600 }, { receivedAt: tEnd(0) + 10 }], ttsSyntheses: [] },
    );
    expect(turn).toMatchObject({ e2e_ms: 500, false_cutin: false, llm_requests: 2, wasted_llm_requests: 1 });
  });
});

describe('oracleTurns', () => {
  it('is the interim lag after t_end plus the LLM and TTS first-output times', () => {
    const oracle = oracleTurns(twoTurns, { endpointingMs: 100, utteranceEndMs: 1000, outputDelayMs: 0 });
    const { stt_interim_lag_ms, llm_ttft_ms, tts_ttfb_ms } = twoTurns.profile;
    expect(oracle.map((o) => o.transcript_lag_ms)).toEqual([stt_interim_lag_ms, stt_interim_lag_ms]);
    expect(oracle[0]!.e2e_ms).toBe(stt_interim_lag_ms + llm_ttft_ms + tts_ttfb_ms);
    expect(
      oracleTurns(twoTurns, { endpointingMs: 100, utteranceEndMs: 1000, outputDelayMs: 30 })[0]!.e2e_ms,
    ).toBe(oracle[0]!.e2e_ms + 30);
  });

  it('waits for the final when the last word is misheard in the interims', () => {
    const misheard = buildCase([
      { at: 0.5, text: 'call my mom', reply: 'Calling Mom.', interims: [{ after: 2, text: 'call my mum' }] },
    ]);
    const [turn] = oracleTurns(misheard, { endpointingMs: 100, utteranceEndMs: 1000, outputDelayMs: 0 });
    expect(turn!.transcript_lag_ms).toBe(100 + misheard.profile.stt_final_lag_ms);
  });
});

describe('report', () => {
  const measure = (e2e: number | null, flags: Partial<TurnMeasure> = {}): TurnMeasure => ({
    case: 'c',
    turn: 0,
    t_end_ms: 1000,
    e2e_ms: e2e,
    false_cutin: false,
    wrong_reply: false,
    missed: e2e === null,
    llm_requests: 1,
    wasted_llm_requests: 0,
    tts_characters: 10,
    tts_characters_wasted: 0,
    spoken: '',
    ...flags,
  });

  it('summarises with the keys the report promises, leaving missed turns out of the percentiles', () => {
    const s = summarize([
      measure(800),
      measure(600, { llm_requests: 3, wasted_llm_requests: 2, false_cutin: true }),
      measure(null),
      measure(1000, { wrong_reply: true }),
    ]);
    expect(s).toEqual({
      turns: 4,
      e2e_p50_ms: 800,
      e2e_p95_ms: 1000,
      false_cutins: 1,
      wrong_replies: 1,
      missed_turns: 1,
      llm_requests_per_turn: 1.5,
      wasted_llm_requests_per_turn: 0.5,
      tts_characters_wasted: 0,
    });
  });

  it('computes the ratio to livekit, the gap closed towards the oracle, and the targets', () => {
    const cue = summarize([measure(760), measure(900)]);
    const livekit = summarize([measure(1300), measure(1500)]);
    const oracle = summarizeOracle([
      { case: 'c', turn: 0, t_end_ms: 1000, transcript_lag_ms: 150, e2e_ms: 700 },
      { case: 'c', turn: 1, t_end_ms: 1000, transcript_lag_ms: 150, e2e_ms: 800 },
    ]);
    const c = compare(cue, livekit, oracle);
    expect(c.e2e_p50_ratio_vs_livekit).toBeCloseTo(760 / 1300, 3);
    expect(c.gap_closed_p50).toBeCloseTo((1300 - 760) / (1300 - 700), 3);
    expect(c.e2e_p50_over_oracle_ms).toBe(60);
    const targets = checkTargets(cue, c, livekit);
    expect(targets.map((t) => [t.name, t.met])).toEqual([
      ['p50 e2e over oracle', true],
      ['p95 e2e over oracle', true],
      ['gap to oracle closed vs livekit (p50)', true],
      ['false cut-ins', true],
      ['wasted LLM requests per turn', true],
      ['wrong replies', true],
      ['missed turns', true],
    ]);
    const slow = summarize([measure(1200), measure(1400)]);
    const missed = checkTargets(slow, compare(slow, livekit, oracle), livekit).filter((t) => !t.met);
    expect(missed.map((t) => t.name)).toEqual([
      'p50 e2e over oracle',
      'p95 e2e over oracle',
      'gap to oracle closed vs livekit (p50)',
    ]);
  });

  it('plots one row per turn with a mark per system, and escapes labels', () => {
    const svg = latencyPlotSvg(
      'a <case>',
      ['cue', 'oracle'],
      [
        { label: 'turn 0', values: [760, 700], flags: ['', ''] },
        { label: 'turn 1', values: [-200, 650], flags: ['false cut-in', ''] },
      ],
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('a &lt;case&gt;');
    expect(svg.match(/<circle /g)).toHaveLength(2 + 3); // legend + three plain marks
    expect(svg).toContain('cue: -200 ms false cut-in');
  });

  it('refuses unknown systems by name', () => {
    expect(parseSystems('cue, oracle')).toEqual(['cue', 'oracle']);
    expect(() => parseSystems('cue,pipecat')).toThrow(
      /unknown system "pipecat": choose from cue, cue-no-preempt, cue-flux, livekit, livekit-text, livekit-flux, oracle, cue-silence, livekit-tts/,
    );
  });
});
