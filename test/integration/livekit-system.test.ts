/**
 * LiveKit Agents (bench/systems/livekit.ts) as a system under test: one short corpus case
 * streamed in real time (about 6 s of wall-clock time) through LiveKit's AgentSession, headless,
 * with its Deepgram, OpenAI, ElevenLabs and Silero plugins against the provider simulators,
 * playing into the benchmark's speaker and judged by the benchmark's measures. Real time is
 * unavoidable: LiveKit runs on the wall clock. The adapter's own rules are checked first on a
 * virtual clock.
 */
import { voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { afterAll, describe, expect, it } from 'vitest';
import { measureRun, providerRecords } from '../../bench/measure';
import { BenchSpeaker } from '../../bench/speaker';
import { createLiveKitSystem, disposeLiveKitNative } from '../../bench/systems/livekit';
import { SpeakerOutput } from '../../bench/systems/livekit-io';
import { RealClock, VirtualClock } from '../../src/main/engine/clock';
import { loadCase, turnEnd } from '../../src/main/engine/scripted/case';
import { SIM_API_KEY } from '../../sim/common';
import { startSimulators } from '../../sim/index';

const CASE_DIR = 'bench/corpus/tune/command-volume-down';

describe('LiveKit Agents 1.9 as a benchmark system, headless against the simulators', () => {
  // @livekit/rtc-node's native handle would keep this worker alive.
  afterAll(() => disposeLiveKitNative());

  it('answers each turn of a short case once, with the scripted text, after the turn ends', async () => {
    const caseData = await loadCase(CASE_DIR);
    const clock = new RealClock();
    const sims = await startSimulators({ caseData, apiKey: SIM_API_KEY, clock });
    const speaker = new BenchSpeaker(clock);
    const system = await createLiveKitSystem({ preemptiveTts: false });
    try {
      expect(system.name).toBe('livekit');
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
      for (const t of turns) console.log(`livekit ${caseData.id} turn ${t.turn}: e2e ${t.e2e_ms} ms`);
      if (result.notes.length) console.log(`notes: ${result.notes.join(' | ')}`);

      expect(turns).toHaveLength(caseData.turns.length);
      for (const t of turns) {
        expect(t).toMatchObject({ false_cutin: false, wrong_reply: false, missed: false });
        expect(t.e2e_ms).toBeGreaterThan(0);
      }
      expect(sims.openai.stats.requests.some((r) => r.onScript)).toBe(true);
    } finally {
      await system.close();
      await sims.close();
    }
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
