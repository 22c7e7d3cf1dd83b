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
import type { Settings } from '../src/shared/settings';
import { measureRun, oracleTurns, scriptedRecords, type OracleTurn, type TurnMeasure } from './measure';
import { summarize, type SystemSummary } from './report';
import { BenchSpeaker } from './speaker';

export interface VirtualRun {
  turns: TurnMeasure[];
  oracle: OracleTurn[];
  summary: SystemSummary;
}

export async function runVirtual(
  cases: readonly ScriptCase[],
  settings: Settings,
  silero: SileroModel,
): Promise<VirtualRun> {
  const turns: TurnMeasure[] = [];
  const oracle: OracleTurn[] = [];
  for (const caseData of cases) {
    silero.reset();
    let speaker: BenchSpeaker | undefined;
    const result = await replayCase(caseData, {
      settings,
      vad: new VoiceActivityDetector(silero, settings.vad),
      output: (clock) => (speaker = new BenchSpeaker(clock)),
      keepEvents: false,
    });
    turns.push(
      ...measureRun(caseData, { startedAt: 0, heard: speaker!.heard() }, scriptedRecords(caseData, result)),
    );
    oracle.push(...oracleTurns(caseData));
  }
  return { turns, oracle, summary: summarize(turns, oracle) };
}
