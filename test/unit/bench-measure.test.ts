/**
 * The benchmark's measures read only the benchmark's speaker (what it played, with the voice
 * mark of each synthesis in the samples) and the simulators' records.
 */
import { describe, expect, it } from 'vitest';
import {
  attribute,
  measureRun,
  oracleTurns,
  outcomeFlags,
  type LlmRecord,
  type ProviderRecords,
  type SynthesisRecord,
  type TurnMeasure,
} from '../../bench/measure';
import {
  bestPeer,
  checkHumanGapTargets,
  checkTargets,
  isFastProfile,
  gapClosed,
  latencyPlotSvg,
  summarize,
  summarizeOracle,
} from '../../bench/report';
import { parseSystems } from '../../bench/bench';
import { BenchSpeaker } from '../../bench/speaker';
import { VirtualClock } from '../../src/main/engine/clock';
import { scriptedVoice } from '../../src/main/engine/scripted/providers';
import { offScriptReply } from '../../src/main/engine/scripted/providers';
import { buildCase } from '../helpers/session-harness';

// Two turns far apart: a question, then "thanks".
const twoTurns = buildCase([
  { at: 0.5, text: 'what time is it', reply: 'It is noon.' },
  { at: 6, text: 'thanks', reply: 'You are welcome.' },
]);
const tEnd = (turn: number) => twoTurns.turns[turn]!.words.at(-1)!.end * 1000;

/** A run: the speaker on a virtual clock whose t = 0 is `startedAt`, with the records kept alongside. */
function rig(startedAt = 10_000) {
  const clock = new VirtualClock();
  const speaker = new BenchSpeaker(clock);
  const llmRequests: LlmRecord[] = [];
  const syntheses: SynthesisRecord[] = [];
  let nextId = 0;
  return {
    startedAt,
    clock,
    speaker,
    records: { llmRequests, syntheses } as ProviderRecords,
    /** An LLM request at case time `atMs` for these user words, answered `reply`. */
    ask(atMs: number, userWords: string, reply: string, onScript = true) {
      llmRequests.push({ receivedAt: startedAt + atMs, userWords, reply, onScript });
    },
    /** A synthesis of `text` (mark `mark`) played from case time `atMs` for `ms`, at 22 050 Hz. */
    async say(atMs: number, text: string, ms: number, options: { mark?: number; rate?: number } = {}) {
      const mark = options.mark ?? syntheses.length;
      const rate = options.rate ?? 22_050;
      syntheses.push({
        voiceMark: mark,
        textAt: startedAt + atMs - 200,
        text,
        charactersSynthesized: text.length,
      });
      await clock.advanceTo(startedAt + atMs);
      const id = nextId++;
      speaker.write(id, {
        samples: scriptedVoice(0, Math.round((ms * rate) / 1000), rate, mark),
        sampleRate: rate,
      });
      speaker.end(id);
      return id;
    },
    async measure(untilMs = 20_000, caseData = twoTurns) {
      await clock.advanceTo(startedAt + untilMs);
      return measureRun(caseData, { startedAt, heard: speaker.heard() }, { llmRequests, syntheses });
    },
  };
}

describe('the speaker and the voice marks', () => {
  it('tell which synthesis was heard, from when and for how long, through pauses and cut-offs', async () => {
    const r = rig(0);
    const a = await r.say(1000, 'It is noon.', 600, { mark: 3 });
    await r.clock.advanceTo(1200);
    r.speaker.pause();
    await r.clock.advanceTo(1500);
    r.speaker.resume();
    await r.clock.advanceTo(1600);
    expect(r.speaker.clear(a)).toBeCloseTo(300, 6);
    await r.say(2000, 'You are welcome.', 400, { mark: 4, rate: 16_000 });
    await r.clock.advanceTo(5000);
    const { syntheses, unmarkedMs } = attribute(r.speaker.heard());
    expect(unmarkedMs).toBe(0);
    expect(syntheses.map((s) => [s.voiceMark, Math.round(s.audibleAt), Math.round(s.heardMs)])).toEqual([
      [3, 1000, 300],
      [4, 2000, 400],
    ]);
  });

  it('finds no mark in audio a system changed (here: halved in volume)', async () => {
    const clock = new VirtualClock();
    const speaker = new BenchSpeaker(clock);
    const samples = scriptedVoice(0, 4410, 22_050, 1).map((v) => Math.round(v / 2));
    speaker.write(0, { samples, sampleRate: 22_050 });
    speaker.end(0);
    await clock.advanceTo(1000);
    const { syntheses, unmarkedMs } = attribute(speaker.heard());
    expect(syntheses).toEqual([]);
    expect(unmarkedMs).toBeCloseTo(200, 0);
  });
});

describe('measureRun', () => {
  it('measures e2e from t_end at the speaker, and attributes requests and syntheses to turns', async () => {
    const r = rig();
    // Two requests in turn 0 (one wasted), one in turn 1.
    r.ask(1000, 'what time', offScriptReply('what time'), false);
    r.ask(1600, 'what time is it', 'It is noon.');
    r.ask(6500, 'thanks', 'You are welcome.');
    await r.say(tEnd(0) + 640, 'It is noon.', 660);
    await r.say(tEnd(1) + 900, 'You are welcome.', 300);
    const turns = await r.measure();
    expect(turns.map((t) => t.e2e_ms)).toEqual([640, 900]);
    expect(turns.map((t) => [t.llm_requests, t.wasted_llm_requests])).toEqual([
      [2, 1],
      [1, 0],
    ]);
    // 660 ms heard at 60 ms per character: all 11; 300 ms: 5 of 16.
    expect(turns.map((t) => t.tts_characters_wasted)).toEqual([0, 11]);
    expect(turns.map((t) => t.spoken)).toEqual(['It is noon.', 'You are welcome.']);
    expect(turns.every((t) => !t.false_cutin && !t.wrong_reply && !t.missed && !t.cause)).toBe(true);
  });

  it('flags a false cut-in, a wrong and a missed turn, each with its cause', async () => {
    const r = rig();
    r.ask(tEnd(0) - 700, 'what time', offScriptReply('what time'), false);
    r.ask(tEnd(0) - 100, 'what time is it', 'It is noon.');
    await r.say(tEnd(0) - 300, offScriptReply('what time'), 200);
    await r.say(tEnd(0) + 500, 'It is noon.', 660);
    const turns = await r.measure();
    expect(turns[0]).toMatchObject({ e2e_ms: 500, false_cutin: true, wrong_reply: false, missed: false });
    expect(turns[0]!.cause).toMatch(
      /^cut in: a reply became audible 300 ms before the user finished, .*“what time”/,
    );
    expect(turns[1]).toMatchObject({ e2e_ms: null, missed: true });
    expect(turns[1]!.cause).toBe('missed: nothing audible after the turn (0 LLM requests in the turn)');
    expect(turns.map(outcomeFlags)).toEqual([['false cut-in'], ['wrong reply', 'missed']]);

    const wrong = rig();
    wrong.ask(tEnd(0) + 100, 'what', offScriptReply('what'), false);
    await wrong.say(tEnd(0) + 500, offScriptReply('what'), 300);
    const [judged] = await wrong.measure();
    expect(judged).toMatchObject({ wrong_reply: true, missed: false, e2e_ms: 500 });
    expect(judged!.cause).toBe('wrong reply: the LLM was asked “what”, not the whole turn “what time is it”');
  });

  it('tells a cut-in after an unfinished phrase from one after a complete-sounding pause', async () => {
    const paused = buildCase([
      { at: 0.5, text: 'remind me to [pause 1.0 conf 0.2] call mom', reply: 'I will remind you.' },
      { at: 8, text: 'play some jazz [pause 1.0 conf 0.8] from the fifties', reply: 'Here is some jazz.' },
    ]);
    const pauseAfter = (turn: number, word: number) => paused.turns[turn]!.words[word]!.end * 1000;
    const r = rig();
    r.ask(pauseAfter(0, 2) + 100, 'remind me to', offScriptReply('remind me to'), false);
    await r.say(pauseAfter(0, 2) + 400, offScriptReply('remind me to'), 200);
    r.ask(pauseAfter(1, 2) + 100, 'play some jazz', offScriptReply('play some jazz'), false);
    await r.say(pauseAfter(1, 2) + 400, offScriptReply('play some jazz'), 200);
    const turns = await r.measure(20_000, paused);
    expect(turns.map((t) => [t.false_cutin, t.cutin_after_unfinished])).toEqual([
      [true, true],
      [true, false],
    ]);
  });

  it('does not count a reply stopped after a fraction of a millisecond as audible, but as a wasted request', async () => {
    const r = rig(0);
    r.ask(tEnd(0) - 600, 'what time is', offScriptReply('what time is'), false);
    r.ask(tEnd(0) + 10, 'what time is it', 'It is noon.');
    const early = await r.say(tEnd(0) - 300, offScriptReply('what time is'), 500);
    await r.clock.advanceBy(0.2);
    r.speaker.clear(early);
    await r.say(tEnd(0) + 500, 'It is noon.', 660);
    const [turn] = await r.measure();
    expect(turn).toMatchObject({ e2e_ms: 500, false_cutin: false, llm_requests: 2, wasted_llm_requests: 1 });
  });
});

describe('oracleTurns', () => {
  it("is the STT's first whole transcript after t_end plus the LLM and TTS first-output times", () => {
    const oracle = oracleTurns(twoTurns);
    const { stt_interim_lag_ms, stt_final_lag_ms, llm_ttft_ms, tts_ttfb_ms } = twoTurns.profile;
    for (const o of oracle) {
      // An interim tick or a final with 10 ms endpointing, whichever is first.
      expect(o.transcript_lag_ms).toBeGreaterThanOrEqual(stt_interim_lag_ms);
      expect(o.transcript_lag_ms).toBeLessThanOrEqual(10 + stt_final_lag_ms);
      expect(o.e2e_ms).toBe(o.transcript_lag_ms + llm_ttft_ms + tts_ttfb_ms);
    }
  });

  it('never requests the reply before t_end, even when a right guess at the last word completes the transcript early', () => {
    // Over these variants one interim guesses "today" right while it is being said.
    const lags = Array.from({ length: 40 }, (_, k) => {
      const c = buildCase([
        { at: 0.5 + k * 0.011, text: 'what is the weather like in berlin today', reply: 'Cloudy.' },
      ]);
      return oracleTurns(c)[0]!.transcript_lag_ms;
    });
    expect(Math.min(...lags)).toBe(0);
  });

  it('waits for the final when the last word is misheard in the interims', () => {
    const misheard = buildCase([
      { at: 0.5, text: 'call my mom', reply: 'Calling Mom.', interims: [{ after: 2, text: 'call my mum' }] },
    ]);
    const [turn] = oracleTurns(misheard);
    expect(turn!.transcript_lag_ms).toBe(10 + misheard.profile.stt_final_lag_ms);
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
  const turns = (...e2e: (number | null)[]) => e2e.map((v, turn) => measure(v, { turn }));
  const oracle = [700, 800, 650, 900].map((e2e_ms, turn) => ({
    case: 'c',
    turn,
    t_end_ms: 1000,
    transcript_lag_ms: 150,
    e2e_ms,
  }));

  it('summarises per turn: over the oracle as percentiles of per-turn differences, a missed turn as 10 s', () => {
    const s = summarize(
      [
        measure(800, { turn: 0 }),
        measure(600, { turn: 1, llm_requests: 3, wasted_llm_requests: 2, false_cutin: true }),
        measure(null, { turn: 2 }),
        measure(1000, { turn: 3, wrong_reply: true }),
      ],
      oracle,
    );
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
      // Per turn: 100, −200, 10 000 (missed), 100.
      over_oracle_p50_ms: 100,
      over_oracle_p95_ms: 10_000,
      over_oracle_max_ms: 10_000,
      gap_closed: {},
    });
  });

  it('closes the gap per turn (median), leaving out turns where the peer is within 50 ms of the oracle', () => {
    const oracleOf = new Map(oracle.map((o) => [`c#${o.turn}`, o]));
    const cue = turns(760, 900, 660, 950);
    const livekit = turns(1300, 1400, 680, 1100);
    // Turn 2: livekit is 30 ms over the oracle: left out. Shares: 540/600, 500/600, 150/200.
    expect(gapClosed(cue, livekit, oracleOf)).toBeCloseTo(0.833, 3);
    // A peer that misses a turn counts 10 s there; the system that misses counts 10 s too.
    expect(gapClosed(turns(760, null, 660, 950), livekit, oracleOf)).toBeCloseTo(0.75, 3);
  });

  it("checks Cue's targets against the best LiveKit configuration", () => {
    const peers = { livekit: turns(1300, 1400, 900, 1500), 'livekit-text': turns(1000, 1100, 800, 1200) };
    const summary = {
      cue: summarize(turns(720, 850, 680, 930), oracle, peers),
      livekit: summarize(peers.livekit, oracle),
      'livekit-text': summarize(peers['livekit-text'], oracle),
      oracle: summarizeOracle(oracle),
    };
    expect(bestPeer(summary)).toBe('livekit-text');
    const targets = checkTargets(summary.cue, summary);
    expect(targets.map((t) => [t.name, t.met])).toEqual([
      ['over the oracle, p50 of per-turn differences', true],
      ['over the oracle, p95 of per-turn differences', true],
      ['gap to the oracle closed, per turn, against livekit-text (the best LiveKit configuration)', true],
      ['false cut-ins', true],
      ['wasted LLM requests per turn', true],
      ['wrong replies', true],
      ['missed turns', true],
    ]);
    const slow = summarize(turns(1000, 1000, 800, 1100), oracle, peers);
    expect(
      checkTargets(slow, { ...summary, cue: slow })
        .filter((t) => !t.met)
        .map((t) => t.name),
    ).toEqual([
      'over the oracle, p50 of per-turn differences',
      'over the oracle, p95 of per-turn differences',
      'gap to the oracle closed, per turn, against livekit-text (the best LiveKit configuration)',
    ]);
  });

  it('checks the human-gap targets on the fast-provider cases, and against the defaults from before', () => {
    expect(isFastProfile({ llm_ttft_ms: 120, tts_ttfb_ms: 90 })).toBe(true);
    expect(isFastProfile({ llm_ttft_ms: 450, tts_ttfb_ms: 90 })).toBe(false);
    expect(isFastProfile({ llm_ttft_ms: 120, tts_ttfb_ms: 600 })).toBe(false);
    const peers = { 'livekit-fast': turns(1300, 1400, 900, 1500) };
    const quick = turns(760, 880, 700, 1000);
    const fast = { cue: summarize(quick, oracle, peers) };
    const other = {
      cue: summarize(turns(720, 850, 680, 930), oracle),
      'cue-before': summarize(turns(800, 900, 700, 1000), oracle),
    };
    expect(checkHumanGapTargets(quick, fast, other).map((t) => [t.name, t.value, t.met])).toEqual([
      ['fast-provider cases: over the oracle, p50 of per-turn differences', '60 ms', true],
      ['fast-provider cases: over the oracle, p95 of per-turn differences', '100 ms', true],
      ["fast-provider cases: livekit-fast's gap to the oracle closed, per turn", '0.85', true],
      ['false cut-ins after an unfinished phrase', '0', true],
      [
        'cases without fast providers: over the oracle p50, against the defaults from before (cue-before)',
        '30 ms',
        true,
      ],
    ]);
    const cutIn = [measure(700, { false_cutin: true, cutin_after_unfinished: true })];
    const slower = { ...other, cue: summarize(turns(900, 950, 800, 1100), oracle) };
    expect(
      checkHumanGapTargets(cutIn, fast, slower)
        .filter((t) => !t.met)
        .map((t) => t.name),
    ).toEqual([
      'false cut-ins after an unfinished phrase',
      'cases without fast providers: over the oracle p50, against the defaults from before (cue-before)',
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
      /unknown system "pipecat": choose from cue, cue-no-preempt, cue-flux, cue-fast, livekit, livekit-text, livekit-flux, livekit-fast, oracle, cue-silence, cue-before, livekit-tts/,
    );
  });
});
