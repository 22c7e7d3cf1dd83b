/**
 * Cue over corpus cases on the virtual clock (real Silero VAD, the scripted providers with the
 * simulators' behaviour), playing into the benchmark's speaker and judged with the benchmark's
 * measures: the engine of `npm run bench:sweep` and `npm run bench:curve`. Seconds instead of the
 * real-time benchmark's minutes; confirm findings with `npm run bench`.
 */
import { replayCase } from '../src/main/engine/replay';
import type { ScriptCase } from '../src/main/engine/scripted/case';
import type { SileroModel } from '../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../src/main/engine/vad/voice-activity-detector';
import { CombinedTurnDetector } from '../src/main/engine/turn-detector/combined-detector';
import type { Clock } from '../src/main/engine/clock';
import type { TurnDetector } from '../src/main/engine/ports';
import type { Settings } from '../src/shared/settings';
import { measureRun, oracleTurns, scriptedRecords, type OracleTurn, type TurnMeasure } from './measure';
import { summarize, type SystemSummary } from './report';
import { BenchSpeaker } from './speaker';

export interface VirtualRun {
  turns: TurnMeasure[];
  oracle: OracleTurn[];
  summary: SystemSummary;
}

export interface VirtualRunOptions {
  /**
   * An audio end-of-turn model for each case, given the case's audio time now (ms); it is combined
   * with the transcript heuristic as in the app. Default: the heuristic alone.
   */
  turnModel?: (caseData: ScriptCase, nowMs: () => number) => TurnDetector;
}

export async function runVirtual(
  cases: readonly ScriptCase[],
  settings: Settings,
  silero: SileroModel,
  options: VirtualRunOptions = {},
): Promise<VirtualRun> {
  const turns: TurnMeasure[] = [];
  const oracle: OracleTurn[] = [];
  for (const caseData of cases) {
    silero.reset();
    let speaker: BenchSpeaker | undefined;
    let clock: Clock | undefined;
    let detector: CombinedTurnDetector | undefined;
    if (options.turnModel) {
      detector = new CombinedTurnDetector({ modelName: 'audio model' });
      detector.attachModel(options.turnModel(caseData, () => clock?.now() ?? 0));
    }
    const result = await replayCase(caseData, {
      settings,
      vad: new VoiceActivityDetector(silero, settings.vad),
      output: (c) => {
        clock = c;
        return (speaker = new BenchSpeaker(c));
      },
      keepEvents: false,
      ...(detector ? { turnDetector: detector } : {}),
    });
    await detector?.dispose();
    turns.push(
      ...measureRun(caseData, { startedAt: 0, heard: speaker!.heard() }, scriptedRecords(caseData, result)),
    );
    oracle.push(...oracleTurns(caseData));
  }
  return { turns, oracle, summary: summarize(turns, oracle) };
}
