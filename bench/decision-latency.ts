/**
 * How long the turn decision takes from the start of the user's pause to the verdict, when the
 * turn is judged at a short pause (turn_detector.decision_silence): the corpus replayed with the
 * default settings on the virtual clock (real Silero VAD, the simulated Deepgram's timing), with
 * a turn detector whose every call is timed on the wall clock.
 *
 * - wait: virtual time from the start of the silence to the verdict: the decision silence, plus
 *   waiting for a final transcript (only a final is judged at a short pause).
 * - compute: wall time of the detector's call (features + inference for an audio model), on the
 *   thread that runs it (the engine runs the model in a worker; here it runs in this thread).
 * - total: wait + compute, per decision.
 */
import { replayCase } from '../src/main/engine/replay';
import { percentile } from '../src/main/engine/session-recorder';
import type { TurnDetector, TurnDetectorInput, TurnDetectorVerdict } from '../src/main/engine/ports';
import type { ScriptCase } from '../src/main/engine/scripted/case';
import type { SileroModel } from '../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../src/main/engine/vad/voice-activity-detector';
import { parseSettings } from '../src/shared/settings';

export interface DecisionLatency {
  detector: string;
  /** Decisions made at a short pause. */
  decisions: number;
  wait_p50_ms: number;
  wait_p95_ms: number;
  compute_p50_ms: number;
  compute_p95_ms: number;
  total_p50_ms: number;
  total_p95_ms: number;
}

type Detector = TurnDetector & { idle?(): Promise<void> };

/** Wraps a detector so that each call's wall time is known when its verdict is announced. */
class TimedDetector implements TurnDetector {
  readonly name: string;
  /** Wall time (ms) of the most recent call to finish. */
  lastComputeMs = 0;

  constructor(private readonly inner: Detector) {
    this.name = inner.name;
  }

  predictEndOfTurn(input: TurnDetectorInput): Promise<number> {
    return this.explainEndOfTurn(input).then((v) => v.probability);
  }

  async explainEndOfTurn(input: TurnDetectorInput): Promise<TurnDetectorVerdict> {
    const start = performance.now();
    const verdict = this.inner.explainEndOfTurn
      ? await this.inner.explainEndOfTurn(input)
      : { probability: await this.inner.predictEndOfTurn(input), source: this.inner.name };
    this.lastComputeMs = performance.now() - start;
    return verdict;
  }

  idle(): Promise<void> {
    return this.inner.idle?.() ?? Promise.resolve();
  }
}

export async function decisionLatency(
  label: string,
  cases: readonly ScriptCase[],
  silero: SileroModel,
  detector: Detector,
): Promise<DecisionLatency> {
  const settings = parseSettings({});
  const timed = new TimedDetector(detector);
  const waits: number[] = [];
  const computes: number[] = [];
  const totals: number[] = [];
  for (const caseData of cases) {
    silero.reset();
    let pausedAt: number | null = null;
    await replayCase(caseData, {
      settings,
      vad: new VoiceActivityDetector(silero, settings.vad),
      turnDetector: timed,
      keepEvents: false,
      onEvent: (event) => {
        if (event.type === 'user_paused') pausedAt = event.at;
        else if (event.type === 'user_speech_started' || event.type === 'user_speech_ended') pausedAt = null;
        else if (event.type === 'turn_detector_decision' && pausedAt !== null) {
          const wait = event.t - pausedAt;
          waits.push(wait);
          computes.push(timed.lastComputeMs);
          totals.push(wait + timed.lastComputeMs);
          pausedAt = null;
        }
      },
    });
  }
  const q = (xs: number[], p: number) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      p,
    ) ?? Number.NaN;
  return {
    detector: label,
    decisions: waits.length,
    wait_p50_ms: q(waits, 0.5),
    wait_p95_ms: q(waits, 0.95),
    compute_p50_ms: q(computes, 0.5),
    compute_p95_ms: q(computes, 0.95),
    total_p50_ms: q(totals, 0.5),
    total_p95_ms: q(totals, 0.95),
  };
}
