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
import { loadCorpus } from '../src/main/engine/scripted/case';
import { loadSileroModel } from '../src/main/engine/vad/silero';
import { outcomeFlags } from './measure';
import { summarizeOracle } from './report';
import { runVirtual } from './virtual-run';
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
  const { turns, oracle, summary: s } = await runVirtual(cases, settings, model);
  await model.dispose();
  const oracleOf = new Map(oracle.map((o) => [`${o.case}#${o.turn}`, o]));
  for (const t of turns) {
    const flags = outcomeFlags(t).map((f) => f.toUpperCase());
    if (args.verbose || flags.length)
      console.log(
        `${t.case} #${t.turn}: e2e ${t.e2e_ms ?? '–'} ms (oracle ${oracleOf.get(`${t.case}#${t.turn}`)?.e2e_ms}) ` +
          `llm ${t.llm_requests} wasted ${t.wasted_llm_requests} ${flags.join(' ')}${t.cause ? ` (${t.cause})` : ''}`,
      );
  }
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
