import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayCase, type ReplayResult } from '../../src/main/engine/replay';
import { loadCase } from '../../src/main/engine/scripted/case';
import { loadSileroModel, type SileroModel } from '../../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../../src/main/engine/vad/voice-activity-detector';
import {
  TimelineModel,
  preemptionSaved,
  timelineStats,
  type AgentSpan,
  type TimelineItem,
  type TimelineItemKind,
  type TurnTrack,
} from '../../src/renderer/src/timeline/timeline-model';
import { defaultSettings } from '../../src/shared/settings';
import type { TimelineEvent } from '../../src/shared/timeline';
import {
  buildCase,
  eventsOf,
  firstOf,
  runCase,
  ENGINE_TEST_STT,
  engineTestSettings,
} from '../helpers/session-harness';

const cases = join(__dirname, '..', 'fixtures', 'cases');

function itemsOf<K extends TimelineItemKind>(turn: TurnTrack, kind: K): Extract<TimelineItem, { kind: K }>[] {
  return turn.items.filter((i): i is Extract<TimelineItem, { kind: K }> => i.kind === kind);
}

function userTurn(model: TimelineModel, index: number, session = 0): TurnTrack {
  const turn = model.turns.find((t) => t.index === index && t.session === session);
  if (!turn) throw new Error(`no turn ${index}`);
  return turn;
}

/** A model fed with a replay's events, then its reports (as api.on('timeline') / api.on('turn') would). */
function modelOf(result: ReplayResult, options: ConstructorParameters<typeof TimelineModel>[0] = {}) {
  const model = new TimelineModel({ now: () => 0, ...options });
  model.ingestAll(result.events);
  return model;
}

/** The latency the model derives from the events alone equals the engine's TurnReport. */
function expectLiveLatencyMatchesReports(result: ReplayResult): void {
  const model = modelOf(result);
  const round = (v: number | null) => (v === null ? null : Math.round(v));
  for (const report of result.report.turns) {
    const live = model.latency(userTurn(model, report.index));
    expect(live.source).toBe('events');
    expect([
      round(live.e2e),
      round(live.endOfTurnDelay),
      round(live.transcriptLag),
      round(live.preemptiveLead),
      round(live.ttft),
      round(live.ttfb),
      live.requests,
    ]).toEqual([
      report.e2e_latency_ms,
      report.end_of_turn_delay_ms,
      report.transcript_lag_ms,
      report.preemptive_lead_ms,
      report.llm_ttft_ms,
      report.tts_ttfb_ms,
      report.llm_requests,
    ]);
  }
}

const STORY =
  'Once upon a time, a small fox lived at the edge of a quiet forest. Every morning she walked to the river, and every evening she came home.';

describe('TimelineModel on the three-turns case (real Silero VAD)', () => {
  let silero: SileroModel;
  let result: ReplayResult;
  let model: TimelineModel;
  let all: TimelineEvent[];
  const latencyBeforeReports = new Map<number, ReturnType<TimelineModel['latency']>>();

  beforeAll(async () => {
    silero = await loadSileroModel(defaultSettings().vad.model);
    const caseData = await loadCase(join(cases, 'three-turns'));
    const vad = new VoiceActivityDetector(silero, defaultSettings().vad);
    model = new TimelineModel({ now: () => 0 });
    all = [];
    // Fed live, event by event, VAD frames included, like the renderer.
    result = await replayCase(caseData, {
      sttBehaviour: ENGINE_TEST_STT,
      settings: engineTestSettings(),
      vad,
      onEvent: (event) => {
        all.push(event);
        model.ingest(event);
      },
    });
    for (const turn of model.turns) latencyBeforeReports.set(turn.index, model.latency(turn));
    for (const report of result.report.turns) model.ingestReport(report);
  });
  afterAll(async () => {
    await silero.dispose();
  });

  it('has one track per user turn, in order', () => {
    expect(model.turns.map((t) => t.index)).toEqual([0, 1, 2]);
    expect(model.turns.map((t) => t.transcript)).toEqual(result.report.turns.map((t) => t.transcript));
    expect(model.sessions).toEqual([{ index: 0, start: 0, end: all.at(-1)!.t, offset: 0 }]);
    expect(model.isRunning).toBe(false);
  });

  it('puts VAD speech spans in the speech lane at the audio times', () => {
    const started = eventsOf(all, 'user_speech_started');
    const ended = eventsOf(all, 'user_speech_ended');
    const spans = model.turns.flatMap((t) => itemsOf(t, 'speech'));
    expect(spans).toHaveLength(started.length);
    spans.forEach((span, i) => {
      expect(span.lane).toBe('speech');
      expect(span.start).toBe(started[i]!.at);
      expect(span.detectedAt).toBe(started[i]!.t);
      expect(span.end).toBe(ended[i]!.at);
      expect(span.endDetectedAt).toBe(ended[i]!.t);
      expect(span.duration).toBe(ended[i]!.duration);
    });
  });

  it('keeps the VAD probability as a bounded, downsampled sparkline', () => {
    const frames = eventsOf(all, 'vad_probability');
    expect(frames.length).toBeGreaterThan(500);
    expect(model.sparkline.size).toBeLessThan(frames.length);
    expect(model.sparkline.size).toBeGreaterThan(frames.length / 3);
    const peaks: number[] = [];
    const speech = itemsOf(userTurn(model, 0), 'speech')[0]!;
    model.sparkline.forEachInRange(speech.start, speech.end!, (_t, p) => peaks.push(p));
    expect(Math.max(...peaks)).toBeGreaterThan(0.5);
    const silence: number[] = [];
    model.sparkline.forEachInRange(speech.end! + 1500, speech.end! + 2500, (_t, p) => silence.push(p));
    expect(Math.max(...silence)).toBeLessThan(0.5);
  });

  it('marks interim and final transcripts with their text at their times', () => {
    const turn = userTurn(model, 0);
    const marks = itemsOf(turn, 'transcript');
    const events = all.filter(
      (e) => e.turn === 0 && (e.type === 'transcript_interim' || e.type === 'transcript_final'),
    );
    expect(marks.map((m) => [m.start, m.final, m.text])).toEqual(
      events.map((e) => [e.t, e.type === 'transcript_final', 'text' in e ? e.text : '']),
    );
    expect(marks.every((m) => m.lane === 'transcript' && m.end === m.start)).toBe(true);
    expect(marks.at(-1)).toMatchObject({
      final: true,
      speechFinal: true,
      text: "what's on my calendar tomorrow",
    });
  });

  it('shows the turn events (not the Updates) and the commit in the turn lane', () => {
    const turn = userTurn(model, 1);
    expect(itemsOf(turn, 'turn_event').map((m) => m.event)).toEqual(['StartOfTurn', 'EndOfTurn']);
    const commit = itemsOf(turn, 'commit')[0]!;
    expect(commit).toMatchObject({
      lane: 'turn',
      speculationReused: true,
      transcript: 'move the meeting to eleven',
    });
    expect(commit.start).toBe(eventsOf(all, 'turn_committed')[1]!.t);
  });

  it('draws the endpointing wait from until − delay to until, with the detector decision', () => {
    const turn = userTurn(model, 0);
    const event = eventsOf(all, 'endpointing_wait_started')[0]!;
    const [wait] = itemsOf(turn, 'wait');
    expect(wait).toMatchObject({
      lane: 'endpointing',
      start: event.until - event.delay,
      end: event.until,
      decidedAt: event.t,
      cancelledAt: null,
    });
    expect(itemsOf(turn, 'detector')[0]).toMatchObject({
      lane: 'endpointing',
      likelyEnd: true,
      source: 'heuristic',
    });
  });

  it('spans each speculation from start to reuse, and the LLM, TTS and agent speech of its request', () => {
    for (const [i, turn] of model.turns.entries()) {
      const started = eventsOf(all, 'preemptive_started')[i]!;
      const reused = eventsOf(all, 'preemptive_reused')[i]!;
      const [spec] = itemsOf(turn, 'speculation');
      expect(spec).toMatchObject({
        lane: 'preemptive',
        request: started.request,
        trigger: 'interim',
        outcome: 'reused',
        start: started.t,
        end: reused.t,
        lead: reused.lead,
      });
      const llmEvents = all.filter((e) => 'request' in e && e.request === started.request);
      const at = (type: TimelineEvent['type']) => llmEvents.find((e) => e.type === type)!.t;
      const [llm] = itemsOf(turn, 'llm');
      expect(llm).toMatchObject({
        lane: 'llm',
        preemptive: true,
        outcome: 'done',
        start: at('llm_request'),
        firstTokenAt: at('llm_first_token'),
        end: at('llm_done'),
      });
      expect(llm!.firstTokenAt! - llm!.start).toBe(llm!.ttft);
      const [tts] = itemsOf(turn, 'tts');
      expect(tts).toMatchObject({
        start: at('tts_request'),
        firstAudioAt: at('tts_first_audio'),
        end: at('tts_done'),
      });
      const [agent] = itemsOf(turn, 'agent');
      expect(agent).toMatchObject({
        lane: 'agent',
        outcome: 'finished',
        start: at('agent_speech_started'),
        end: at('agent_speech_ended'),
        text: result.report.turns[i]!.spoken_reply,
      });
      expect(turn.open).toBe(0);
    }
  });

  it('derives the latency breakdown from the events exactly as the TurnReport does', () => {
    for (const report of result.report.turns) {
      const live = latencyBeforeReports.get(report.index)!;
      expect(live.source).toBe('events');
      const round = (v: number | null) => (v === null ? null : Math.round(v));
      expect({
        e2e: round(live.e2e),
        endOfTurnDelay: round(live.endOfTurnDelay),
        transcriptLag: round(live.transcriptLag),
        preemptiveLead: round(live.preemptiveLead),
        ttft: round(live.ttft),
        ttfb: round(live.ttfb),
        requests: live.requests,
        wasted: live.wasted,
      }).toEqual({
        e2e: report.e2e_latency_ms,
        endOfTurnDelay: report.end_of_turn_delay_ms,
        transcriptLag: report.transcript_lag_ms,
        preemptiveLead: report.preemptive_lead_ms,
        ttft: report.llm_ttft_ms,
        ttfb: report.tts_ttfb_ms,
        requests: report.llm_requests,
        wasted: report.llm_requests_wasted,
      });
    }
  });

  it('uses the TurnReport once it arrives, with preemption saved = min(lead, TTFT)', () => {
    for (const report of result.report.turns) {
      const latency = model.latency(userTurn(model, report.index));
      expect(latency.source).toBe('report');
      expect(latency.e2e).toBe(report.e2e_latency_ms);
      expect(latency.saved).toBe(Math.min(report.preemptive_lead_ms!, report.llm_ttft_ms!));
      expect(latency.speechEnd).toBe(report.vad_end_of_speech_ms);
      expect(latency.firstAudioAt).toBe(report.first_audio_ms);
    }
    const stats = timelineStats(model);
    expect(stats).toMatchObject({ turns: 3, wasted: 0, requests: 3, interruptions: 0, savedTurns: 3 });
    expect(stats.e2eP50).toBe(result.report.totals.e2e_p50_ms);
  });
});

describe('preemptionSaved', () => {
  it('is the lead capped by the TTFT when reused, 0 when speculation was wasted, null without speculation', () => {
    expect(preemptionSaved(330, 350, true, true)).toBe(330);
    expect(preemptionSaved(1150, 350, true, true)).toBe(350);
    expect(preemptionSaved(200, null, true, true)).toBe(200);
    expect(preemptionSaved(null, 350, false, true)).toBe(0);
    expect(preemptionSaved(null, 350, false, false)).toBeNull();
  });
});

describe('TimelineModel on speculation and interruption scenarios', () => {
  it('shows a cancelled speculation with its aborted LLM request, the cancelled wait and the reused retry', async () => {
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
    const model = modelOf(result);
    const turn = userTurn(model, 0);
    const [first, second] = itemsOf(turn, 'speculation');
    const cancelled = firstOf(result.events, 'preemptive_cancelled');
    expect(first).toMatchObject({
      outcome: 'cancelled',
      reason: 'transcript changed',
      transcript: 'set a timer',
      end: cancelled.t,
    });
    expect(second).toMatchObject({ outcome: 'reused', transcript: 'set a timer for ten minutes' });
    const llm = itemsOf(turn, 'llm');
    expect(llm.find((s) => s.request === first!.request)).toMatchObject({
      outcome: 'aborted',
      reason: 'transcript changed',
      firstTokenAt: null,
    });
    expect(llm.find((s) => s.request === second!.request)).toMatchObject({ outcome: 'done', ttft: 2000 });
    const waits = itemsOf(turn, 'wait');
    const waitCancel = firstOf(result.events, 'endpointing_wait_cancelled');
    expect(waits[0]).toMatchObject({
      cancelledAt: waitCancel.t,
      cancelReason: 'user resumed speaking',
      end: waitCancel.t,
    });
    expect(waits[1]!.cancelledAt).toBeNull();
    // Two speech spans in the same turn (the user paused mid-sentence).
    expect(itemsOf(turn, 'speech')).toHaveLength(2);
    // Lead 1350 ms (speculated on the interim, 50 ms into the silence), TTFT 2000 ms: preemption saved the whole lead.
    model.ingestReport(result.report.turns[0]!);
    const latency = model.latency(turn);
    expect(latency.preemptiveLead).toBe(1350);
    expect(latency.saved).toBe(1350);
    expect(latency.wasted).toBe(1);
    expectLiveLatencyMatchesReports(result);
  });

  it('shows Flux EagerEndOfTurn and TurnResumed, and the speculation TurnResumed cancelled', async () => {
    const flux = { stt: { provider: 'deepgram-flux' }, turn_handling: { turn_detection: 'stt' } } as const;
    const resumed = buildCase([
      {
        at: 0.5,
        text: 'turn on the lights [pause 1.0 conf 0.6] in the kitchen',
        reply: 'Kitchen lights on.',
      },
    ]);
    const result = await runCase(resumed, { settings: flux });
    const model = modelOf(result);
    const turn = userTurn(model, 0);
    const names = itemsOf(turn, 'turn_event').map((m) => m.event);
    expect(names).toContain('EagerEndOfTurn');
    expect(names).toContain('TurnResumed');
    expect(names.at(-1)).toBe('EndOfTurn');
    const specs = itemsOf(turn, 'speculation');
    expect(specs[0]).toMatchObject({
      trigger: 'eager_end_of_turn',
      outcome: 'cancelled',
      reason: 'TurnResumed',
    });
    expect(specs.at(-1)!.outcome).toBe('reused');
    expectLiveLatencyMatchesReports(result);
  });

  it('shows a skipped speculation', async () => {
    const weather = buildCase([
      { at: 0.5, text: "what's the weather like in paris today", reply: "It's sunny." },
    ]);
    const result = await runCase(weather, {
      settings: { turn_handling: { preemptive_generation: { max_speech_duration: 1 } } },
    });
    const turn = userTurn(modelOf(result), 0);
    expect(itemsOf(turn, 'skipped').map((m) => m.reason)).toContain('max_speech_duration');
    expect(itemsOf(turn, 'speculation')).toHaveLength(0);
    const llm = itemsOf(turn, 'llm');
    expect(llm).toHaveLength(1);
    expect(llm[0]!.preemptive).toBe(false);
    expectLiveLatencyMatchesReports(result);
    expect(modelOf(result).latency(turn).saved).toBeNull();
  });

  async function storyStart(): Promise<number> {
    const base = await runCase(
      buildCase([{ at: 0.5, text: 'tell me a story', reply: STORY }], { seconds: 16 }),
    );
    return firstOf(base.events, 'agent_speech_started').t;
  }

  it('shows a true interruption: pause, then the agent cut off, in the turn it interrupted', async () => {
    const start = await storyStart();
    const result = await runCase(
      buildCase(
        [
          { at: 0.5, text: 'tell me a story', reply: STORY },
          { at: (start + 2000) / 1000, text: 'wait', reply: 'Yes?', wordSeconds: 0.9 },
        ],
        { seconds: 16 },
      ),
    );
    const model = modelOf(result);
    for (const report of result.report.turns) model.ingestReport(report);
    const story = userTurn(model, 0);
    const barge = userTurn(model, 1);
    expect(itemsOf(barge, 'interruption').map((m) => m.interruption)).toEqual(['detected', 'true']);
    const [agent] = itemsOf(story, 'agent') as AgentSpan[];
    const paused = firstOf(result.events, 'agent_speech_paused');
    const ended = eventsOf(result.events, 'agent_speech_ended')[0]!;
    expect(agent).toMatchObject({ outcome: 'interrupted', start, end: ended.t, playedMs: ended.played_ms });
    expect(agent!.pauses).toEqual([{ start: paused.t, end: ended.t }]);
    expect(agent!.text).toBe(ended.spoken_text);
    expect(story.interrupted).toBe(true);
    expect(timelineStats(model).interruptions).toBe(1);
    // The interrupted turn's span extends past the next turn's start.
    expect(story.end).toBeGreaterThan(barge.start);
    expectLiveLatencyMatchesReports(result);
  });

  it('shows a false interruption: paused, then resumed, and the agent finishes', async () => {
    const start = await storyStart();
    const result = await runCase(
      buildCase([{ at: 0.5, text: 'tell me a story', reply: STORY }], { seconds: 16 }),
      {
        noise: [{ start: start + 2000, end: start + 2800 }],
      },
    );
    const model = modelOf(result);
    const marks = model.turns.flatMap((t) => itemsOf(t, 'interruption')).map((m) => m.interruption);
    expect(marks).toEqual(['detected', 'false', 'resumed']);
    const [agent] = itemsOf(userTurn(model, 0), 'agent');
    const paused = firstOf(result.events, 'agent_speech_paused');
    const resumed = firstOf(result.events, 'agent_speech_resumed');
    expect(agent!.outcome).toBe('finished');
    expect(agent!.pauses).toEqual([{ start: paused.t, end: resumed.t }]);
    expect(timelineStats(model).falseInterruptions).toBe(1);
  });

  it('puts the greeting in its own track (turn -1)', async () => {
    const result = await runCase(buildCase([{ at: 3, text: 'hello there', reply: 'Hi.' }]), {
      settings: {
        agent: { greeting: 'Hello, I am Cue.' },
        turn_handling: { interruption: { enabled: false } },
      },
    });
    const model = modelOf(result);
    const greeting = userTurn(model, -1);
    expect(itemsOf(greeting, 'tts')).toHaveLength(1);
    expect(itemsOf(greeting, 'agent')[0]).toMatchObject({ outcome: 'finished', text: 'Hello, I am Cue.' });
    expect(model.latency(greeting).e2e).toBeNull();
  });
});

describe('TimelineModel bookkeeping', () => {
  const ev = (event: Record<string, unknown>) => event as unknown as TimelineEvent;

  it('closes a discarded speculation and counts it wasted', () => {
    const model = new TimelineModel({ now: () => 0 });
    model.ingestAll([
      ev({ type: 'session_started', t: 0, turn: -1 }),
      ev({
        type: 'preemptive_started',
        t: 100,
        turn: 0,
        request: 4,
        trigger: 'interim',
        transcript: 'call my',
      }),
      ev({ type: 'llm_request', t: 100, turn: 0, request: 4, transcript: 'call my', preemptive: true }),
      ev({ type: 'preemptive_discarded', t: 900, turn: 0, request: 4, reason: 'final transcript differs' }),
      ev({ type: 'llm_aborted', t: 900, turn: 0, request: 4, reason: 'final transcript differs' }),
    ]);
    const turn = userTurn(model, 0);
    expect(itemsOf(turn, 'speculation')[0]).toMatchObject({
      outcome: 'discarded',
      reason: 'final transcript differs',
      start: 100,
      end: 900,
      trigger: 'interim',
    });
    expect(model.latency(turn)).toMatchObject({ wasted: 1, saved: 0 });
  });

  it('closes what a stopped session left open, and lays a restarted session clock after the previous one', async () => {
    const model = new TimelineModel({ now: () => 0 });
    model.ingestAll([
      ev({ type: 'session_started', t: 0, turn: -1 }),
      ev({ type: 'llm_request', t: 100, turn: 0, request: 1, transcript: 'hi', preemptive: false }),
      ev({ type: 'user_speech_started', t: 150, turn: 0, at: 120 }),
      ev({ type: 'session_stopped', t: 400, turn: 0 }),
    ]);
    const first = userTurn(model, 0);
    expect(itemsOf(first, 'llm')[0]).toMatchObject({ outcome: 'stopped', end: 400 });
    expect(itemsOf(first, 'speech')[0]).toMatchObject({ end: 400 });
    expect(first.open).toBe(0);

    const result = await runCase(buildCase([{ at: 0.5, text: 'hello there', reply: 'Hi.' }]));
    model.ingestAll(result.events);
    expect(model.sessions.map((s) => s.offset)).toEqual([0, 1400]);
    const second = userTurn(model, 0, 1);
    expect(second.offset).toBe(1400);
    const speech = itemsOf(second, 'speech')[0]!;
    expect(speech.start).toBe(firstOf(result.events, 'user_speech_started').at + 1400);
    model.ingestReport(result.report.turns[0]!);
    expect(model.latency(second).firstAudioAt).toBe(result.report.turns[0]!.first_audio_ms! + 1400);
  });

  it('extrapolates the live edge between events while a session runs', () => {
    let wall = 1000;
    const model = new TimelineModel({ now: () => wall });
    model.ingest(ev({ type: 'session_started', t: 0, turn: -1 }));
    model.ingest(ev({ type: 'vad_probability', t: 500, turn: -1, probability: 0.1, speaking: false }));
    wall = 1250;
    expect(model.liveTime()).toBe(750);
    model.ingest(ev({ type: 'session_stopped', t: 800, turn: -1 }));
    wall = 5000;
    expect(model.liveTime()).toBe(800);
  });

  it('stays within its caps over a synthetic hour: 500 turns, 112,500 VAD frames', () => {
    const model = new TimelineModel({ now: () => 0 });
    const capItems = model.options.maxTurns * model.options.maxItemsPerTurn;
    const capSparkline = model.options.fineCapacity + model.options.coarseCapacity;
    let t = 0;
    let request = 0;
    let frames = 0;
    const counts: number[] = [];
    model.ingest(ev({ type: 'session_started', t: 0, turn: -1 }));
    const hourMs = 3_600_000;
    const turnMs = hourMs / 500;
    for (let turn = 0; turn < 500; turn++) {
      const base = turn * turnMs;
      // 7.2 s per turn: VAD frames every 32 ms throughout.
      const events: TimelineEvent[] = [];
      for (; t < base + turnMs; t += 32, frames++) {
        const speaking = t - base > 200 && t - base < 2400;
        events.push(ev({ type: 'vad_probability', t, turn, probability: speaking ? 0.9 : 0.05, speaking }));
      }
      events.push(ev({ type: 'turn_event', t: base + 250, turn, event: 'StartOfTurn', transcript: '' }));
      events.push(ev({ type: 'user_speech_started', t: base + 250, turn, at: base + 200 }));
      for (let w = 1; w <= 80; w++) {
        // A long, chatty utterance: more interims than the per-turn cap.
        events.push(
          ev({ type: 'transcript_interim', t: base + 250 + w * 25, turn, text: `word `.repeat(w) }),
        );
      }
      events.push(ev({ type: 'transcript_final', t: base + 2500, turn, text: 'done', speech_final: true }));
      const id = ++request;
      events.push(
        ev({
          type: 'preemptive_started',
          t: base + 2500,
          turn,
          request: id,
          trigger: 'final',
          transcript: 'done',
        }),
      );
      events.push(
        ev({ type: 'llm_request', t: base + 2500, turn, request: id, transcript: 'done', preemptive: true }),
      );
      events.push(ev({ type: 'user_speech_ended', t: base + 2900, turn, at: base + 2400, duration: 2200 }));
      events.push(
        ev({
          type: 'endpointing_wait_started',
          t: base + 2900,
          turn,
          delay: 500,
          until: base + 2900,
          reason: 'x',
        }),
      );
      events.push(ev({ type: 'preemptive_reused', t: base + 2900, turn, request: id, lead: 400 }));
      events.push(
        ev({ type: 'turn_committed', t: base + 2900, turn, transcript: 'done', speculation_reused: true }),
      );
      events.push(ev({ type: 'llm_first_token', t: base + 2850, turn, request: id, ttft: 350 }));
      events.push(ev({ type: 'tts_request', t: base + 2900, turn, request: id }));
      events.push(ev({ type: 'tts_first_audio', t: base + 3100, turn, request: id, ttfb: 200 }));
      events.push(ev({ type: 'agent_speech_started', t: base + 3100, turn, request: id, text_so_far: 'ok' }));
      events.push(
        ev({
          type: 'llm_done',
          t: base + 3000,
          turn,
          request: id,
          prompt_tokens: 1,
          completion_tokens: 1,
          text: 'ok',
        }),
      );
      events.push(ev({ type: 'tts_done', t: base + 3200, turn, request: id, characters: 2, audio_ms: 500 }));
      events.push(
        ev({
          type: 'agent_speech_ended',
          t: base + 3600,
          turn,
          request: id,
          interrupted: false,
          played_ms: 500,
          spoken_text: 'ok',
        }),
      );
      events.sort((a, b) => a.t - b.t);
      for (const event of events) model.ingest(event);
      if (turn % 50 === 49) {
        counts.push(model.retainedCount() - model.sparkline.size - model.sparklineCoarse.size);
      }
    }
    expect(frames).toBeGreaterThanOrEqual(112_500);
    expect(model.turns).toHaveLength(model.options.maxTurns);
    expect(model.turnsDropped).toBe(500 - model.options.maxTurns);
    expect(model.turns[0]!.index).toBe(200);
    for (const turn of model.turns) {
      expect(turn.items.length).toBeLessThanOrEqual(model.options.maxItemsPerTurn);
      expect(itemsOf(turn, 'transcript').filter((m) => !m.final)).toHaveLength(
        model.options.maxInterimsPerTurn,
      );
      expect(turn.open).toBe(0);
    }
    expect(model.sparkline.size).toBe(model.options.fineCapacity);
    expect(model.sparklineCoarse.size).toBeLessThanOrEqual(model.options.coarseCapacity);
    // Bounded: under the fixed cap, and flat once the turn cap is reached.
    const retained = model.retainedCount();
    expect(retained).toBeLessThanOrEqual(capItems + capSparkline + model.options.maxSessions);
    expect(retained).toBeLessThanOrEqual(model.capacity);
    // Items: flat once the turn cap is reached (after 300 turns, samples every 50 turns).
    expect(new Set(counts.slice(5)).size).toBe(1);
    expect(counts.at(-1)!).toBeLessThanOrEqual(capItems);
    // Latency is still there for the retained turns.
    const last = model.latency(model.turns.at(-1)!);
    expect(last).toMatchObject({ e2e: 700, endOfTurnDelay: 500, preemptiveLead: 400, saved: 350, ttft: 350 });
  });

  it('ignores late events for a turn it already dropped', () => {
    const model = new TimelineModel({ now: () => 0, maxTurns: 2 });
    for (let turn = 0; turn < 4; turn++) {
      model.ingest(ev({ type: 'user_speech_started', t: turn * 1000, turn, at: turn * 1000 }));
    }
    expect(model.turns.map((t) => t.index)).toEqual([2, 3]);
    model.ingest(ev({ type: 'error', t: 5000, turn: 0, source: 'stt', message: 'late', recoverable: true }));
    expect(model.turns.map((t) => t.index)).toEqual([2, 3]);
  });

  it('notifies listeners and bumps the summary only for summary changes', () => {
    const model = new TimelineModel({ now: () => 0 });
    let calls = 0;
    const off = model.subscribe(() => calls++);
    model.ingest(ev({ type: 'session_started', t: 0, turn: -1 }));
    const summary = model.summaryVersion;
    model.ingest(ev({ type: 'vad_probability', t: 32, turn: -1, probability: 0.2, speaking: false }));
    expect(model.summaryVersion).toBe(summary);
    model.ingest(ev({ type: 'transcript_interim', t: 64, turn: 0, text: 'hi' }));
    expect(model.summaryVersion).toBeGreaterThan(summary);
    off();
    model.ingest(ev({ type: 'transcript_interim', t: 96, turn: 0, text: 'hi there' }));
    expect(calls).toBe(3);
  });
});
