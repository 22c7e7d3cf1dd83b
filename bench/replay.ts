/**
 * npm run replay -- --case <case-dir> [--set path.to.option=value ...] [--json]
 *
 * Runs a corpus case through the engine on a virtual clock with the scripted providers:
 * real Silero VAD on the case audio, transcripts from the case script.
 */
import {
  CommandLineExit,
  parseCommandLine,
  runCommand,
  settingsFromAssignments,
} from '../src/main/cli/command-line';
import { formatEventLine, formatTurnMetrics } from '../src/main/cli/format-timeline';
import { replayCase, type ReplayResult } from '../src/main/engine/replay';
import { outcomeFlags } from './measure';
import { loadCase } from '../src/main/engine/scripted/case';
import { loadSileroModel } from '../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../src/main/engine/vad/voice-activity-detector';

const usage = 'usage: npm run replay -- --case <case-dir> [--set path.to.option=value ...] [--json]';

async function main(): Promise<number> {
  const args = parseCommandLine(
    {
      case: { type: 'string' },
      set: { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
    },
    usage,
  );
  if (!args.case) throw new CommandLineExit(2, `missing --case\n${usage}`);
  const settings = settingsFromAssignments(args.set);
  const caseData = await loadCase(args.case);
  const model = await loadSileroModel(settings.vad.model);
  const vad = new VoiceActivityDetector(model, settings.vad);
  const result = await replayCase(caseData, {
    settings,
    vad,
    ...(args.json ? {} : { onEvent: printLive() }),
  });
  await model.dispose();
  if (args.json)
    console.log(JSON.stringify({ case: caseData.id, ...result.report, outcomes: result.outcomes }, null, 2));
  else printSummary(result);
  return 0;
}

function printLive() {
  let turn = Number.NaN;
  return (event: Parameters<NonNullable<Parameters<typeof replayCase>[1]['onEvent']>>[0]) => {
    if (event.turn !== turn && event.type === 'turn_event' && event.event === 'StartOfTurn') {
      turn = event.turn;
      console.log(`\nUser turn ${turn}`);
    }
    const line = formatEventLine(event);
    if (line) console.log(line);
  };
}

function printSummary(result: ReplayResult): void {
  console.log(`\n=== ${result.caseId}: per turn ===`);
  for (const turn of result.report.turns) {
    console.log(
      `turn ${turn.index} ${JSON.stringify(turn.transcript)} -> ${JSON.stringify(turn.spoken_reply)}`,
    );
    console.log(`  ${formatTurnMetrics(turn)}`);
  }
  console.log('\n=== against the case script (e2e from t_end) ===');
  for (const o of result.outcomes) {
    const flags = outcomeFlags(o).join(' ').toUpperCase();
    console.log(
      `turn ${o.index}: t_end ${(o.t_end_ms / 1000).toFixed(3)}s, e2e ${o.e2e_from_t_end_ms ?? '-'} ms ${flags || 'ok'}`,
    );
  }
  const t = result.report.totals;
  console.log(
    `\ntotals: ${t.turns} turns, e2e p50 ${t.e2e_p50_ms ?? '-'} ms, p95 ${t.e2e_p95_ms ?? '-'} ms, ` +
      `LLM requests ${t.llm_requests} (${t.llm_requests_wasted} wasted), TTS chars wasted ${t.tts_characters_wasted}`,
  );
}

runCommand(main);
