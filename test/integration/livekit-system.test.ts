/**
 * LiveKit Agents (bench/systems/livekit.ts) as a system under test: one short corpus case
 * streamed in real time (about 6 s of wall-clock time each) through LiveKit's AgentSession,
 * headless, with its Deepgram, OpenAI, ElevenLabs and Silero plugins against the provider
 * simulators, in each configuration the benchmark runs by default (livekit-configs.ts).
 * Real time is unavoidable: LiveKit runs on the wall clock. The virtual speaker's own rules are
 * checked first on fake timers.
 */
import { voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createLiveKitSystem, disposeLiveKitNative } from '../../bench/systems/livekit';
import type { LiveKitConfigName } from '../../bench/systems/livekit-configs';
import { VirtualSpeaker } from '../../bench/systems/livekit-io';
import { RealClock } from '../../src/main/engine/clock';
import { loadCase, turnEnd } from '../../src/main/engine/scripted/case';
import { normalizeTranscript } from '../../src/main/engine/text/normalize';
import { parseSettings } from '../../src/shared/settings';
import { SIM_API_KEY } from '../../sim/common';
import { startSimulators } from '../../sim/index';

/** One short turn, asked in one go. */
const QUICK_CASE = 'bench/corpus/command-volume-quick';
/** One turn with a 1.1 s pause after the unfinished "book a flight to" (LiveKit's VAD alone cuts in there). */
const HESITATION_CASE = 'bench/corpus/hesitation-unfinished-flight';
/** A reply later than this after the end of its turn counts as missed (CORPUS.md). */
const MISSED_AFTER_MS = 10_000;

/** One run of the short case through a LiveKit configuration, with the simulators it used. */
async function runCase(config: LiveKitConfigName, caseDir = QUICK_CASE) {
  const caseData = await loadCase(caseDir);
  const clock = new RealClock();
  const sims = await startSimulators({ caseData, apiKey: SIM_API_KEY, clock });
  const system = await createLiveKitSystem({ config });
  try {
    expect(system.name).toBe(config);
    const result = await system.run({
      caseData,
      sims,
      apiKey: SIM_API_KEY,
      clock,
      tailMs: 6000,
      lastTurnEndMs: turnEnd(caseData.turns.at(-1)!) * 1000,
    });
    caseData.turns.forEach((turn, i) => {
      const reply = result.replies[i];
      const e2e = reply ? Math.round(reply.audibleAtMs - turnEnd(turn) * 1000) : null;
      console.log(`${config} ${caseData.id} turn ${i}: e2e ${e2e} ms, heard ${reply?.heardMs ?? 0} ms`);
    });
    if (result.notes.length) console.log(`notes: ${result.notes.join(' | ')}`);
    return {
      caseData,
      result,
      deepgram: sims.deepgram.stats.connections,
      llmRequests: sims.openai.stats.requests,
    };
  } finally {
    await system.close();
    await sims.close();
  }
}

/**
 * Each turn answered once, with the scripted text, audible after the turn ended (no cut-in) and
 * within 10 s.
 */
function expectEveryTurnAnswered({ caseData, result }: Awaited<ReturnType<typeof runCase>>): void {
  expect(result.replies).toHaveLength(caseData.turns.length);
  caseData.turns.forEach((turn, i) => {
    const reply = result.replies[i]!;
    expect(normalizeTranscript(reply.text)).toBe(normalizeTranscript(turn.reply));
    expect(reply.heardMs).toBeGreaterThan(0);
    const end = turnEnd(turn) * 1000;
    expect(reply.audibleAtMs).toBeGreaterThan(end);
    expect(reply.audibleAtMs).toBeLessThan(end + MISSED_AFTER_MS);
  });
}

describe('LiveKit Agents 1.9 as a benchmark system, headless against the simulators', () => {
  // @livekit/rtc-node's native handle would keep this worker alive.
  afterAll(() => disposeLiveKitNative());
  const cue = parseSettings({});

  it('"livekit": answers each turn once, asking Nova for the Deepgram parameters Cue asks for', async () => {
    const run = await runCase('livekit');
    expectEveryTurnAnswered(run);
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
    expectEveryTurnAnswered(run);
    expect(run.deepgram.map((c) => c.api)).toEqual(['v1']);
    expect(run.deepgram[0]!.query.endpointing).toBe(String(cue.stt.nova.endpointing_ms));
  }, 60_000);

  it('"livekit-flux": runs on a Flux v2 connection with Cue\'s thresholds and answers each turn', async () => {
    const run = await runCase('livekit-flux');
    expectEveryTurnAnswered(run);
    expect(run.deepgram.map((c) => c.api)).toEqual(['v2']);
    expect(run.deepgram[0]!.query).toMatchObject({
      model: cue.stt.flux.model,
      eot_threshold: String(cue.stt.flux.eot_threshold),
      eager_eot_threshold: String(cue.stt.flux.eager_eot_threshold),
      eot_timeout_ms: String(cue.stt.flux.eot_timeout_ms),
    });
  }, 60_000);
});

describe('the virtual speaker LiveKit plays into', () => {
  afterEach(() => vi.useRealTimers());

  /** A speaker on fake timers, with its playback events recorded. */
  function speaker() {
    vi.useFakeTimers({ now: 0 });
    const tags = ['first', 'second', 'third'];
    const out = new VirtualSpeaker<string>(
      () => tags.shift(),
      () => Date.now(),
    );
    const finished: voice.PlaybackFinishedEvent[] = [];
    let started = 0;
    out.on(voice.AudioOutput.EVENT_PLAYBACK_FINISHED, (ev: voice.PlaybackFinishedEvent) => finished.push(ev));
    out.on(voice.AudioOutput.EVENT_PLAYBACK_STARTED, () => started++);
    return { out, finished, started: () => started };
  }
  /** `ms` of 24 kHz audio. */
  const frame = (ms: number) => new AudioFrame(new Int16Array(ms * 24), 24_000, 1, ms * 24);

  it('plays a frame captured while idle at once, and finishes the segment when its audio has played', async () => {
    const { out, finished, started } = speaker();
    await out.captureFrame(frame(100));
    await out.captureFrame(frame(100));
    expect(started()).toBe(1);
    out.flush();
    await vi.advanceTimersByTimeAsync(199);
    expect(finished).toEqual([]);
    expect(out.idle).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(finished).toEqual([{ playbackPosition: 0.2, interrupted: false }]);
    expect(await out.waitForPlayout()).toEqual({ playbackPosition: 0.2, interrupted: false });
    expect(out.played).toMatchObject([{ tag: 'first', audibleAt: 0, heardMs: 200, interrupted: false }]);
    expect(out.idle).toBe(true);
  });

  it('after a gap in the audio, plays the next frame from when it arrives', async () => {
    const { out, finished } = speaker();
    await out.captureFrame(frame(100));
    await vi.advanceTimersByTimeAsync(300);
    await out.captureFrame(frame(100));
    out.flush();
    await vi.advanceTimersByTimeAsync(99);
    expect(finished).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(finished).toEqual([{ playbackPosition: 0.2, interrupted: false }]);
  });

  it('clearBuffer stops at once and reports what was heard; a new segment starts after the last one', async () => {
    const { out, finished } = speaker();
    await out.captureFrame(frame(300));
    await vi.advanceTimersByTimeAsync(120);
    out.clearBuffer();
    expect(finished).toEqual([{ playbackPosition: 0.12, interrupted: true }]);
    expect(out.idle).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    await out.captureFrame(frame(50));
    out.flush();
    await vi.advanceTimersByTimeAsync(50);
    expect(out.played).toMatchObject([
      { tag: 'first', audibleAt: 0, heardMs: 120, capturedMs: 300, interrupted: true },
      { tag: 'second', audibleAt: 1120, heardMs: 50, interrupted: false },
    ]);
  });

  it('pause holds the cursor and resume goes on from there', async () => {
    const { out, finished } = speaker();
    await out.captureFrame(frame(200));
    out.flush();
    await vi.advanceTimersByTimeAsync(50);
    out.pause();
    await vi.advanceTimersByTimeAsync(500);
    expect(finished).toEqual([]);
    out.resume();
    await vi.advanceTimersByTimeAsync(149);
    expect(finished).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(finished).toEqual([{ playbackPosition: 0.2, interrupted: false }]);
  });

  it('audio captured while paused becomes audible on resume; cleared while paused, nothing was heard', async () => {
    const { out, finished, started } = speaker();
    out.pause();
    await out.captureFrame(frame(100));
    expect(started()).toBe(0);
    await vi.advanceTimersByTimeAsync(200);
    out.clearBuffer();
    expect(finished).toEqual([{ playbackPosition: 0, interrupted: true }]);
    expect(out.played).toMatchObject([{ audibleAt: null, heardMs: 0 }]);
    await out.captureFrame(frame(100));
    await vi.advanceTimersByTimeAsync(100);
    out.resume();
    expect(started()).toBe(1);
    expect(out.played).toHaveLength(1);
  });
});
