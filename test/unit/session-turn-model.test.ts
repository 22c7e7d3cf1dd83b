/**
 * Turn detection "model" end to end in the engine, on the virtual clock: real espeak-ng speech
 * from the fixtures, the stand-in Smart Turn model (written into a temp dir) together with the
 * transcript heuristic, real Silero VAD or a scripted one, and the scripted providers. Checks the
 * audio the model is given, the decisions on the timeline, the endpointing waits they choose,
 * the fallback when the model is unavailable, and that audio never waits for a decision.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TurnDetector, TurnDetectorInput } from '../../src/main/engine/ports';
import { SAMPLE_RATE } from '../../src/main/engine/ports';
import { replayCase } from '../../src/main/engine/replay';
import { loadCase, type ScriptCase } from '../../src/main/engine/scripted/case';
import {
  CombinedTurnDetector,
  combineEndOfTurn,
} from '../../src/main/engine/turn-detector/combined-detector';
import { SmartTurnDetector } from '../../src/main/engine/turn-detector/smart-turn';
import { writeCorruptModel, writeStandInModel } from '../../src/main/engine/turn-detector/stand-in-model';
import { loadSileroModel, type SileroModel } from '../../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../../src/main/engine/vad/voice-activity-detector';
import { defaultSettings, type SettingsInput } from '../../src/shared/settings';
import {
  buildCase,
  eventsOf,
  ScriptedVadWithAudio,
  speechSegments,
  type Segment,
  ENGINE_TEST_STT,
  engineTestSettings,
} from '../helpers/session-harness';

const cases = join(__dirname, '..', 'fixtures', 'cases');
const MIN_DELAY_MS = 800;
const MAX_DELAY_MS = 2500;
/**
 * min_delay longer than the VAD's 550 ms of silence, so a likely end visibly waits min_delay; the
 * detector judges when the VAD ends the speech (decision_silence longer than its min silence: the
 * decision at a short pause has its own tests in session-early-decision.test.ts).
 */
const MODEL_MODE: SettingsInput = {
  turn_handling: {
    turn_detection: 'model',
    endpointing: { min_delay: MIN_DELAY_MS / 1000, max_delay: MAX_DELAY_MS / 1000 },
    turn_detector: { decision_silence: 3 },
  },
};
const samplesAt = (ms: number) => Math.round((ms * SAMPLE_RATE) / 1000);

/** Smart Turn on the stand-in, recording what it was asked and what it answered. */
class RecordingModel implements TurnDetector {
  readonly name = 'smart-turn-v3';
  readonly calls: { audio: Int16Array | undefined; transcript: string; probability: number }[] = [];
  constructor(private readonly model: SmartTurnDetector) {}
  async predictEndOfTurn(input: TurnDetectorInput): Promise<number> {
    const probability = await this.model.predictEndOfTurn(input);
    this.calls.push({ audio: input.audio?.slice(), transcript: input.transcript, probability });
    return probability;
  }
}

let dir: string;
let standIn: string;
let silero: SileroModel;
let smartTurn: SmartTurnDetector;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cue-session-turn-model-'));
  standIn = join(dir, 'smart-turn-v3.2-cpu.onnx');
  writeStandInModel(standIn);
  silero = await loadSileroModel(defaultSettings().vad.model);
  smartTurn = await SmartTurnDetector.load(standIn);
});
afterAll(async () => {
  await smartTurn.dispose();
  await silero.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function modelDetector(): { detector: CombinedTurnDetector; model: RecordingModel } {
  const model = new RecordingModel(smartTurn);
  const detector = new CombinedTurnDetector();
  detector.attachModel(model);
  return { detector, model };
}

function sileroVad() {
  silero.reset();
  return new VoiceActivityDetector(silero, defaultSettings().vad);
}

describe('turn detection "model" with Smart Turn (stand-in) and the heuristic', () => {
  it('real Silero on real speech: the heuristic vetoes "book a flight to", the model confirms the end', async () => {
    const caseData = await loadCase(join(cases, 'flight-hesitation'));
    const { detector, model } = modelDetector();
    const result = await replayCase(caseData, {
      sttBehaviour: ENGINE_TEST_STT,
      vad: sileroVad(),
      settings: engineTestSettings(MODEL_MODE),
      turnDetector: detector,
    });
    const events = result.events;
    const started = eventsOf(events, 'user_speech_started');
    const ended = eventsOf(events, 'user_speech_ended');
    const decisions = eventsOf(events, 'turn_detector_decision');
    const waits = eventsOf(events, 'endpointing_wait_started');
    expect(ended).toHaveLength(2);
    expect(decisions).toHaveLength(2);
    expect(model.calls.map((c) => c.transcript)).toEqual(['book a flight to', 'book a flight to paris']);

    // Each decision was made when the VAD confirmed the end of speech: nothing waited for it.
    expect(decisions.map((d) => d.t)).toEqual(ended.map((e) => e.t));

    // The model is given the turn's audio: from 200 ms before its first speech to 200 ms after
    // the latest end of speech.
    model.calls.forEach((call, i) => {
      const from = samplesAt(started[0]!.at - 200);
      const to = samplesAt(ended[i]!.at + 200);
      expect(call.audio, `call ${i}`).toEqual(caseData.audio.subarray(from, to));
    });

    // The pause after "to": the stand-in hears silence and says "done", the heuristic vetoes it.
    const [pause, end] = decisions;
    expect(model.calls[0]!.probability).toBeGreaterThan(0.9);
    expect(pause).toMatchObject({ probability: 0.15, threshold: 0.5, likely_end: false });
    expect(pause!.source).toBe(
      `smart-turn-v3 ${model.calls[0]!.probability.toFixed(2)} + heuristic 0.15 (preposition): veto`,
    );
    // An unlikely end waits max_delay from the end of speech; the user goes on before it is over.
    expect(waits[0]).toMatchObject({ delay: MAX_DELAY_MS, until: ended[0]!.at + MAX_DELAY_MS });
    expect(eventsOf(events, 'endpointing_wait_cancelled')[0]!.reason).toBe('user resumed speaking');

    // After "paris": model and heuristic agree; a likely end waits min_delay, then the turn commits.
    expect(end!.likely_end).toBe(true);
    expect(end!.source).toBe(
      `smart-turn-v3 ${model.calls[1]!.probability.toFixed(2)} + heuristic 0.90 (complete)`,
    );
    expect(end!.probability).toBe(combineEndOfTurn(model.calls[1]!.probability, 0.9).probability);
    expect(waits.at(-1)).toMatchObject({ delay: MIN_DELAY_MS, until: ended[1]!.at + MIN_DELAY_MS });
    const commits = eventsOf(events, 'turn_committed');
    expect(commits.map((c) => [c.transcript, c.t])).toEqual([
      ['book a flight to paris', ended[1]!.at + MIN_DELAY_MS],
    ]);
    expect(result.outcomes[0]).toMatchObject({ false_cutin: false, wrong_reply: false, missed: false });
    expect(eventsOf(events, 'error')).toEqual([]);
  });

  it('the same words: audio ending in silence commits after min_delay, audio cut mid-word waits max_delay', async () => {
    const caseData = await loadCase(join(cases, 'weather-question'));
    const today = caseData.turns[0]!.words.at(-1)!;
    // The VAD reports the end of speech 40 ms into "today": the model hears the word going on.
    const early = speechSegments(caseData).map((s, i, all): Segment =>
      i === all.length - 1 ? { start: s.start, end: today.start * 1000 + 40 } : s,
    );
    const run = async (segments: Segment[]) => {
      const { detector, model } = modelDetector();
      const vad = new ScriptedVadWithAudio(segments);
      const result = await replayCase(caseData, {
        sttBehaviour: ENGINE_TEST_STT,
        vad,
        settings: engineTestSettings(MODEL_MODE),
        turnDetector: detector,
        tailMs: 8000,
      });
      return { result, model, ended: eventsOf(result.events, 'user_speech_ended').at(-1)! };
    };

    const silence = await run(speechSegments(caseData));
    const cut = await run(early);

    const likely = eventsOf(silence.result.events, 'turn_detector_decision');
    expect(likely.length).toBeGreaterThan(0);
    expect(likely.every((d) => d.likely_end && d.source.startsWith('smart-turn-v3 0.9'))).toBe(true);
    expect(eventsOf(silence.result.events, 'turn_committed')[0]!.t).toBe(silence.ended.at + MIN_DELAY_MS);

    const unlikely = eventsOf(cut.result.events, 'turn_detector_decision');
    expect(unlikely.length).toBeGreaterThan(0);
    expect(cut.model.calls.every((c) => c.probability < 0.2)).toBe(true);
    // The words look complete (0.90), but a quarter of their log-odds does not overrule the model.
    for (const d of unlikely) {
      expect(d.likely_end).toBe(false);
      expect(d.source).toMatch(/^smart-turn-v3 0\.[01]\d \+ heuristic 0\.90 \(complete\)$/);
    }
    expect(eventsOf(cut.result.events, 'endpointing_wait_started').at(-1)).toMatchObject({
      delay: MAX_DELAY_MS,
      until: cut.ended.at + MAX_DELAY_MS,
    });
    const commit = eventsOf(cut.result.events, 'turn_committed')[0]!;
    expect(commit).toMatchObject({ transcript: "what's the weather like in paris today" });
    expect(commit.t).toBe(cut.ended.at + MAX_DELAY_MS);
  });

  it('a corrupt model file: one warning on the timeline, and the heuristic with the endpointing delays decides', async () => {
    const corrupt = join(dir, 'corrupt.onnx');
    writeCorruptModel(corrupt, 'truncated');
    const detector = new CombinedTurnDetector();
    expect(await detector.loadModel(corrupt)).toBe(false);
    const caseData = await loadCase(join(cases, 'flight-hesitation'));
    const result = await replayCase(caseData, {
      sttBehaviour: ENGINE_TEST_STT,
      vad: sileroVad(),
      settings: engineTestSettings(MODEL_MODE),
      turnDetector: detector,
    });
    const errors = eventsOf(result.events, 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ source: 'turn_detector', recoverable: true });
    expect(errors[0]!.message).toMatch(
      /^Turn model unavailable \(corrupt\): using the transcript heuristic and silence instead\. Smart Turn model .*corrupt\.onnx/,
    );
    const decisions = eventsOf(result.events, 'turn_detector_decision');
    expect(decisions.map((d) => [d.probability, d.likely_end, d.source])).toEqual([
      [0.15, false, 'heuristic 0.15 (preposition); smart-turn-v3 unavailable (corrupt)'],
      [0.9, true, 'heuristic 0.90 (complete); smart-turn-v3 unavailable (corrupt)'],
    ]);
    expect(eventsOf(result.events, 'turn_committed').map((c) => c.transcript)).toEqual([
      'book a flight to paris',
    ]);
    expect(result.outcomes[0]).toMatchObject({ false_cutin: false, missed: false });
  });
});

describe('the decision is off the hot path', () => {
  /** A model that answers only when the test lets it. */
  class GatedModel implements TurnDetector {
    readonly name = 'gated';
    private release: (() => void) | undefined;
    asked = 0;
    predictEndOfTurn(): Promise<number> {
      this.asked++;
      return new Promise((resolve) => {
        this.release = () => resolve(0.9);
      });
    }
    answer(): void {
      this.release?.();
      this.release = undefined;
    }
  }

  it('audio frames keep flowing while the model thinks; the wait starts with its answer', async () => {
    const caseData: ScriptCase = buildCase([{ at: 0.5, text: 'turn on the lights', reply: 'Done.' }]);
    const gated = new GatedModel();
    const detector = new CombinedTurnDetector();
    detector.attachModel(gated);
    let framesSinceAsked = -1;
    const result = await replayCase(caseData, {
      sttBehaviour: ENGINE_TEST_STT,
      vad: new ScriptedVadWithAudio(speechSegments(caseData)),
      settings: engineTestSettings(MODEL_MODE),
      // No idle(): the replay does not wait for the model, as the live app does not.
      turnDetector: {
        name: detector.name,
        predictEndOfTurn: (input) => detector.predictEndOfTurn(input),
        explainEndOfTurn: (input) => detector.explainEndOfTurn(input),
      },
      tailMs: 8000,
      onEvent: (event) => {
        if (event.type !== 'vad_probability') return;
        if (gated.asked > 0 && framesSinceAsked < 0) framesSinceAsked = 0;
        if (framesSinceAsked >= 0 && ++framesSinceAsked === 15) gated.answer();
      },
    });
    const ended = eventsOf(result.events, 'user_speech_ended')[0]!;
    const decision = eventsOf(result.events, 'turn_detector_decision')[0]!;
    expect(gated.asked).toBe(1);
    // 15 frames of 20 ms went through the VAD while the model was thinking.
    expect(decision.t - ended.t).toBeGreaterThanOrEqual(14 * 20);
    expect(decision).toMatchObject({ likely_end: true });
    expect(decision.source).toMatch(/^smart-turn-v3 0\.90 \+ heuristic/);
    const commit = eventsOf(result.events, 'turn_committed')[0]!;
    // The wait counts from the end of speech; the decision came later than min_delay, so it commits at once.
    expect(commit.t).toBe(Math.max(decision.t, ended.at + MIN_DELAY_MS));
  });
});
