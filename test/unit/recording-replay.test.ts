import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Recording } from '../../src/main/engine/recording/reader';
import { compareReplay, replayRecording } from '../../src/main/engine/recording/replay-recording';
import { loadCase } from '../../src/main/engine/scripted/case';
import { loadSileroModel, type SileroModel } from '../../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../../src/main/engine/vad/voice-activity-detector';
import { applyOverrides, type Settings } from '../../src/shared/settings';
import type { TurnReport } from '../../src/shared/report';
import { recordCase } from '../helpers/record-case';

const cases = join(__dirname, '..', '..', 'bench', 'corpus', 'tune');
/** One microphone frame of the replay (ms). */
const FRAME_MS = 20;

describe('a recorded session replayed under other settings', () => {
  let model: SileroModel;
  let recording: Recording;
  beforeAll(async () => {
    model = await loadSileroModel('silero-v6');
    const caseData = await loadCase(join(cases, 'multi-turn-calendar-four-turns'));
    recording = (await recordCase(caseData, vadFor(applyOverrides({}, [])))).recording;
  });
  afterAll(async () => {
    await model.dispose();
  });

  function vadFor(settings: Settings) {
    model.reset();
    return new VoiceActivityDetector(model, settings.vad);
  }

  async function replay(assignments: string[] = []) {
    const settings = applyOverrides(recording.settings, assignments);
    return replayRecording(recording, { settings, vad: vadFor(settings) });
  }

  const recordedTurns = (): TurnReport[] => recording.report!.turns;

  it('records the four turns, their STT events, LLM and TTS timing, and the report', () => {
    expect(recording.lost).toBeNull();
    expect(recordedTurns()).toHaveLength(4);
    expect(recording.stt.some((e) => e.event.type === 'final')).toBe(true);
    expect(recording.llm.filter((r) => r.outcome === 'completed').length).toBeGreaterThanOrEqual(4);
    expect(
      recording.llm.every((r) => r.tokens.every(([at], i, all) => i === 0 || at >= all[i - 1]![0])),
    ).toBe(true);
    expect(recording.tts.some((r) => r.ttfb_ms !== null && r.audio_ms > 0)).toBe(true);
    expect(recording.durationMs).toBeGreaterThan(10_000);
  });

  it('with the same settings gives the same turns, transcripts and commit times within a frame', async () => {
    const result = await replay();
    expect(result.approximate).toEqual([]);
    expect(result.changed).toEqual([]);
    const replayed = result.report.turns;
    expect(replayed.map((t) => t.transcript)).toEqual(recordedTurns().map((t) => t.transcript));
    replayed.forEach((turn, i) => {
      const recorded = recordedTurns()[i]!;
      expect(turn.committed_ms).not.toBeNull();
      expect(Math.abs(turn.committed_ms! - recorded.committed_ms!)).toBeLessThanOrEqual(FRAME_MS);
    });
    expect(result.llmApproximated).toBe(0);
  });

  it('with min_delay raised by 0.5 s commits each likely-end turn about 0.5 s later', async () => {
    const minDelay = recording.settings.turn_handling.endpointing.min_delay;
    const result = await replay([`turn_handling.endpointing.min_delay=${minDelay + 0.5}`]);
    expect(result.approximate).toEqual([]);
    const likely = likelyEndTurns(recording);
    expect(likely.length).toBeGreaterThan(0);
    const replayed = result.report.turns;
    expect(replayed).toHaveLength(recordedTurns().length);
    for (const index of likely) {
      const before = recordedTurns().find((t) => t.index === index)!;
      const after = replayed.find((t) => t.index === index)!;
      expect(after.committed_ms! - before.committed_ms!).toBeGreaterThanOrEqual(500 - FRAME_MS * 2);
      expect(after.committed_ms! - before.committed_ms!).toBeLessThanOrEqual(500 + FRAME_MS * 2);
    }
  });

  it('with preemptive generation off: no speculation, and e2e rises', async () => {
    const result = await replay(['turn_handling.preemptive_generation.enabled=false']);
    expect(result.events.filter((e) => e.type === 'preemptive_started')).toEqual([]);
    expect(result.report.turns.some((t) => t.speculation_reused)).toBe(false);
    expect(recordedTurns().some((t) => t.speculation_reused)).toBe(true);
    expect(result.report.totals.e2e_p50_ms!).toBeGreaterThan(recording.report!.totals.e2e_p50_ms!);
    for (const recorded of recordedTurns().filter((t) => t.speculation_reused)) {
      const replayed = result.report.turns.find((t) => t.index === recorded.index)!;
      expect(replayed.e2e_latency_ms!).toBeGreaterThan(recorded.e2e_latency_ms!);
    }
  });

  it('marks a changed Deepgram endpointing approximate and re-simulates the STT from the recorded words', async () => {
    const result = await replay(['stt.nova.endpointing_ms=300']);
    expect(result.approximate.map((a) => a.path)).toEqual(['stt.nova.endpointing_ms']);
    expect(result.approximate[0]!.reason).toMatch(/re-simulated/);
    expect(result.fidelity[0]).toMatch(/approximate/);
    expect(result.report.turns.map((t) => t.transcript.toLowerCase().replace(/[^a-z ]/g, ''))).toEqual(
      recordedTurns().map((t) => t.transcript.toLowerCase().replace(/[^a-z ]/g, '')),
    );
  });

  it('compares turn by turn on the audio axis', async () => {
    const result = await replay(['turn_handling.preemptive_generation.enabled=false']);
    const comparison = compareReplay(recording, result, 1);
    expect(comparison.turns).toHaveLength(4);
    for (const t of comparison.turns) {
      expect(t.recorded).not.toBeNull();
      expect(t.replayed).not.toBeNull();
      expect(t.replayed!.transcript).toBe(t.recorded!.transcript);
    }
    expect(comparison.replayed.totals.e2e_p50_ms!).toBeGreaterThan(comparison.recorded.totals.e2e_p50_ms!);
    expect(comparison.changed).toEqual([
      { path: 'turn_handling.preemptive_generation.enabled', from: true, to: false },
    ]);
  });
});

/** Turns whose last turn-detector verdict before the commit was a likely end. */
function likelyEndTurns(recording: Recording): number[] {
  const out: number[] = [];
  for (const turn of recording.report!.turns) {
    const decisions = recording.timeline.filter(
      (e) => e.type === 'turn_detector_decision' && e.turn === turn.index && e.t <= turn.committed_ms!,
    );
    const last = decisions.at(-1);
    if (last?.type === 'turn_detector_decision' && last.likely_end) out.push(turn.index);
  }
  return out;
}

describe('a recorded Flux session', () => {
  it('replays its turn events at the audio times they came: same turns and commit times', async () => {
    const model = await loadSileroModel('silero-v6');
    try {
      const settings = applyOverrides({}, ['stt.provider=deepgram-flux']);
      const caseData = await loadCase(join(cases, 'question-weather-lisbon'));
      const { recording } = await recordCase(
        caseData,
        new VoiceActivityDetector(model, settings.vad),
        settings,
      );
      expect(recording.header.stt_turn_events).toBe(true);
      expect(recording.stt.some((e) => e.event.type === 'turn' && e.event.event === 'EndOfTurn')).toBe(true);
      model.reset();
      const same = await replayRecording(recording, { vad: new VoiceActivityDetector(model, settings.vad) });
      expect(same.approximate).toEqual([]);
      const recorded = recording.report!.turns;
      expect(same.report.turns.map((t) => t.transcript)).toEqual(recorded.map((t) => t.transcript));
      same.report.turns.forEach((t, i) => {
        expect(Math.abs(t.committed_ms! - recorded[i]!.committed_ms!)).toBeLessThanOrEqual(FRAME_MS);
      });
      // With Flux, preemption decides whether EagerEndOfTurn is asked for: approximate, and why.
      model.reset();
      const off = await replayRecording(recording, {
        settings: applyOverrides(recording.settings, ['turn_handling.preemptive_generation.enabled=false']),
        vad: new VoiceActivityDetector(model, settings.vad),
      });
      expect(off.approximate.map((a) => a.path)).toEqual(['turn_handling.preemptive_generation.enabled']);
      expect(off.events.some((e) => e.type === 'turn_event' && e.event === 'EagerEndOfTurn')).toBe(false);
    } finally {
      await model.dispose();
    }
  });
});
