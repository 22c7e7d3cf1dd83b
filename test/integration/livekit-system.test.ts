/**
 * LiveKit Agents (bench/systems/livekit.ts) as a system under test, in each configuration the
 * benchmark runs: one short corpus case streamed in real time through LiveKit's AgentSession,
 * headless, with its Deepgram, OpenAI, ElevenLabs and Silero plugins against the provider
 * simulators, playing into the benchmark's speaker and judged by the benchmark's measures. Real
 * time is unavoidable: LiveKit runs on the wall clock. The adapter's own rules are checked on a
 * virtual clock.
 */
import { voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { afterAll, describe, expect, it } from 'vitest';
import { measureRun, providerRecords, type TurnMeasure } from '../../bench/measure';
import { BenchSpeaker } from '../../bench/speaker';
import { createLiveKitSystem, disposeLiveKitNative } from '../../bench/systems/livekit';
import type { LiveKitConfigName } from '../../bench/systems/livekit-configs';
import { SpeakerOutput } from '../../bench/systems/livekit-io';
import { RealClock, VirtualClock } from '../../src/main/engine/clock';
import { loadCase, turnEnd } from '../../src/main/engine/scripted/case';
import { parseSettings } from '../../src/shared/settings';
import { SIM_API_KEY } from '../../sim/common';
import { startSimulators } from '../../sim/index';

/** One short command, asked in one go. */
const QUICK_CASE = 'bench/corpus/tune/command-volume-down';
/** A 1.1 s pause after the unfinished "book a flight to" (LiveKit's VAD alone cuts in there). */
const HESITATION_CASE = 'bench/corpus/tune/hesitation-unfinished-flight';

/** One run of a case through a LiveKit configuration, judged at the benchmark's speaker. */
async function runCase(config: LiveKitConfigName, caseDir = QUICK_CASE) {
  const caseData = await loadCase(caseDir);
  const clock = new RealClock();
  const sims = await startSimulators({ caseData, apiKey: SIM_API_KEY, clock });
  const speaker = new BenchSpeaker(clock);
  const system = await createLiveKitSystem({ config });
  try {
    expect(system.name).toBe(config);
    const result = await system.run({
      caseData,
      sims,
      apiKey: SIM_API_KEY,
      clock,
      speaker,
      tailMs: 6000,
      lastTurnEndMs: turnEnd(caseData.turns.at(-1)!) * 1000,
    });
    speaker.stop();
    const turns = measureRun(
      caseData,
      { startedAt: result.startedAt, heard: speaker.heard() },
      providerRecords(sims),
    );
    for (const t of turns) console.log(`${config} ${caseData.id} turn ${t.turn}: e2e ${t.e2e_ms} ms`);
    if (result.notes.length) console.log(`notes: ${result.notes.join(' | ')}`);
    return {
      turns,
      deepgram: sims.deepgram.stats.connections,
      llmRequests: sims.openai.stats.requests,
    };
  } finally {
    await system.close();
    await sims.close();
  }
}

/** Each turn answered once, with the scripted text, after the turn ended and within 10 s. */
function expectEveryTurnAnswered(turns: readonly TurnMeasure[]): void {
  expect(turns.length).toBeGreaterThan(0);
  for (const t of turns) {
    expect(t).toMatchObject({ false_cutin: false, wrong_reply: false, missed: false });
    expect(t.e2e_ms).toBeGreaterThan(0);
  }
}

describe('LiveKit Agents 1.9 as a benchmark system, headless against the simulators', () => {
  // @livekit/rtc-node's native handle would keep this worker alive.
  afterAll(() => disposeLiveKitNative());
  const cue = parseSettings({});

  it('"livekit": answers each turn once, asking Nova for the Deepgram parameters Cue asks for', async () => {
    const run = await runCase('livekit');
    expectEveryTurnAnswered(run.turns);
    expect(run.llmRequests.some((r) => r.onScript)).toBe(true);
    expect(run.deepgram.map((c) => c.api)).toEqual(['v1']);
    expect(run.deepgram[0]!.query).toMatchObject({
      model: cue.stt.nova.model,
      endpointing: String(cue.stt.nova.endpointing_ms),
      utterance_end_ms: String(cue.stt.nova.utterance_end_ms),
      smart_format: String(cue.stt.nova.smart_format),
      interim_results: 'true',
      vad_events: 'true',
    });
  }, 60_000);

  it('"livekit-text": Cue\'s heuristic as LiveKit\'s turn detector holds the turn through "book a flight to …" and answers it whole', async () => {
    const run = await runCase('livekit-text', HESITATION_CASE);
    expectEveryTurnAnswered(run.turns);
    expect(run.deepgram.map((c) => c.api)).toEqual(['v1']);
    expect(run.deepgram[0]!.query.endpointing).toBe(String(cue.stt.nova.endpointing_ms));
  }, 60_000);

  it('"livekit-flux": runs on a Flux v2 connection with Cue\'s thresholds and answers each turn', async () => {
    const run = await runCase('livekit-flux');
    expectEveryTurnAnswered(run.turns);
    expect(run.deepgram.map((c) => c.api)).toEqual(['v2']);
    expect(run.deepgram[0]!.query).toMatchObject({
      model: cue.stt.flux.model,
      eot_threshold: String(cue.stt.flux.eot_threshold),
      eager_eot_threshold: String(cue.stt.flux.eager_eot_threshold),
      eot_timeout_ms: String(cue.stt.flux.eot_timeout_ms),
    });
  }, 60_000);

  it('"livekit-fast": the latency-tuned configuration (VAD silence 250 ms, min delay 300 ms) answers each turn once', async () => {
    const run = await runCase('livekit-fast');
    expectEveryTurnAnswered(run.turns);
    expect(run.deepgram.map((c) => c.api)).toEqual(['v1']);
  }, 60_000);
});

describe('the adapter that plays LiveKit into the benchmark speaker', () => {
  /** The adapter on a virtual clock, with its playback events recorded. */
  function rig() {
    const clock = new VirtualClock();
    const speaker = new BenchSpeaker(clock);
    const out = new SpeakerOutput(speaker);
    const finished: voice.PlaybackFinishedEvent[] = [];
    let started = 0;
    out.on(voice.AudioOutput.EVENT_PLAYBACK_FINISHED, (ev: voice.PlaybackFinishedEvent) => finished.push(ev));
    out.on(voice.AudioOutput.EVENT_PLAYBACK_STARTED, () => started++);
    return { clock, speaker, out, finished, started: () => started };
  }
  /** `ms` of 24 kHz audio. */
  const frame = (ms: number) => new AudioFrame(new Int16Array(ms * 24).fill(100), 24_000, 1, ms * 24);
  const playedMs = (speaker: BenchSpeaker) =>
    speaker.heard().reduce((n, s) => n + (s.samples.length / s.sampleRate) * 1000, 0);

  it('plays a frame captured while idle at once, and finishes the segment when its audio has played', async () => {
    const { clock, speaker, out, finished, started } = rig();
    await out.captureFrame(frame(100));
    await out.captureFrame(frame(100));
    expect(started()).toBe(1);
    out.flush();
    await clock.advanceTo(199);
    expect(finished).toEqual([]);
    expect(out.idle).toBe(false);
    await clock.advanceTo(200);
    expect(finished).toEqual([{ playbackPosition: 0.2, interrupted: false }]);
    expect(await out.waitForPlayout()).toEqual({ playbackPosition: 0.2, interrupted: false });
    expect(speaker.heard().map((s) => [s.at, s.samples.length])).toEqual([[0, 4800]]);
    expect(out.idle).toBe(true);
  });

  it('clearBuffer stops at once and reports what was heard; a new segment starts after the last one', async () => {
    const { clock, speaker, out, finished } = rig();
    await out.captureFrame(frame(300));
    await clock.advanceTo(120);
    out.clearBuffer();
    expect(finished).toEqual([{ playbackPosition: 0.12, interrupted: true }]);
    expect(out.idle).toBe(true);
    await clock.advanceTo(1120);
    await out.captureFrame(frame(50));
    out.flush();
    await clock.advanceTo(1170);
    expect(speaker.heard().map((s) => [s.at, Math.round((s.samples.length / 24_000) * 1000)])).toEqual([
      [0, 120],
      [1120, 50],
    ]);
    expect(finished.at(-1)).toEqual({ playbackPosition: 0.05, interrupted: false });
  });

  it('pause holds the playhead and resume goes on from there; audio cleared while paused was not heard', async () => {
    const { clock, speaker, out, finished, started } = rig();
    await out.captureFrame(frame(200));
    out.flush();
    await clock.advanceTo(50);
    out.pause();
    await clock.advanceTo(550);
    expect(finished).toEqual([]);
    out.resume();
    await clock.advanceTo(699);
    expect(finished).toEqual([]);
    await clock.advanceTo(700);
    expect(finished).toEqual([{ playbackPosition: 0.2, interrupted: false }]);
    expect(playedMs(speaker)).toBeCloseTo(200, 6);

    out.pause();
    await out.captureFrame(frame(100));
    expect(started()).toBe(1);
    await clock.advanceTo(900);
    out.clearBuffer();
    expect(finished.at(-1)).toEqual({ playbackPosition: 0, interrupted: true });
    expect(playedMs(speaker)).toBeCloseTo(200, 6);
  });
});
