/**
 * npm run bench:sweep -- [--corpus bench/corpus/tune] [--set path=value ...] [--cases id,...] [--verbose]
 *
 * A quick look for tuning: Cue over a corpus on the virtual clock (real Silero VAD, the scripted
 * providers with each case's latencies and the simulators' STT behaviour), playing into the
 * benchmark's speaker and judged with the benchmark's own measures. It takes seconds instead of
 * the real-time benchmark's minutes; confirm findings with `npm run bench`. Tune on
 * bench/corpus/tune only.
 */
import { parseCommandLine, runCommand, settingsFromAssignments } from '../src/main/cli/command-line';
import { replayCase } from '../src/main/engine/replay';
import { loadCorpus } from '../src/main/engine/scripted/case';
import { loadSileroModel } from '../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../src/main/engine/vad/voice-activity-detector';
import {
  measureRun,
  oracleTurns,
  outcomeFlags,
  scriptedRecords,
  type OracleTurn,
  type TurnMeasure,
} from './measure';
import { summarize, summarizeOracle } from './report';
import { BenchSpeaker } from './speaker';

const usage =
  'usage: npm run bench:sweep -- [--corpus dir] [--set path.to.option=value ...] [--cases id,...] [--verbose]';

async function main(): Promise<number> {
  const args = parseCommandLine(
    {
      corpus: { type: 'string', default: 'bench/corpus/tune' },
      set: { type: 'string', multiple: true, default: [] },
      cases: { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
    usage,
  );
  const settings = settingsFromAssignments(args.set);
  const only = args.cases?.split(',').map((s) => s.trim());
  const cases = (await loadCorpus(args.corpus)).filter((c) => !only || only.includes(c.id));
  const model = await loadSileroModel(settings.vad.model);
  const measured: TurnMeasure[] = [];
  const oracle: OracleTurn[] = [];
  for (const caseData of cases) {
    model.reset();
    let speaker: BenchSpeaker | undefined;
    const result = await replayCase(caseData, {
      settings,
      vad: new VoiceActivityDetector(model, settings.vad),
      output: (clock) => (speaker = new BenchSpeaker(clock)),
      keepEvents: false,
    });
    const turns = measureRun(
      caseData,
      { startedAt: 0, heard: speaker!.heard() },
      scriptedRecords(caseData, result),
    );
    const bound = oracleTurns(caseData);
    measured.push(...turns);
    oracle.push(...bound);
    for (const [i, t] of turns.entries()) {
      const flags = outcomeFlags(t).map((f) => f.toUpperCase());
      if (args.verbose || flags.length)
        console.log(
          `${caseData.id} #${t.turn}: e2e ${t.e2e_ms ?? '–'} ms (oracle ${bound[i]!.e2e_ms}) ` +
            `llm ${t.llm_requests} wasted ${t.wasted_llm_requests} ${flags.join(' ')}${t.cause ? ` (${t.cause})` : ''}`,
        );
    }
  }
  await model.dispose();
  const s = summarize(measured, oracle);
  const o = summarizeOracle(oracle);
  console.log(
    `cue: p50 ${s.e2e_p50_ms} p95 ${s.e2e_p95_ms} | oracle p50 ${o.e2e_p50_ms} p95 ${o.e2e_p95_ms} | ` +
      `over the oracle per turn: p50 ${s.over_oracle_p50_ms} p95 ${s.over_oracle_p95_ms} max ${s.over_oracle_max_ms} | ` +
      `cut-ins ${s.false_cutins} wrong ${s.wrong_replies} missed ${s.missed_turns} | ` +
      `llm/turn ${s.llm_requests_per_turn} wasted/turn ${s.wasted_llm_requests_per_turn}`,
  );
  return 0;
}

runCommand(main);
