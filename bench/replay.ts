/**
 * npm run replay -- --case <case-dir> [--set path.to.option=value ...] [--json]
 * npm run replay -- --session <recording-dir> [--set path.to.option=value ...] [--json]
 * npm run replay -- --session <recording-dir> --export-case <case-dir>
 *
 * Runs a corpus case through the engine on a virtual clock with the scripted providers:
 * real Silero VAD on the case audio, transcripts from the case script. With --session, a
 * recorded session instead (engine/recording/): its microphone, its STT events at the audio
 * times they arrived, its LLM and TTS timing; --set changes the recording's own settings.
 * --export-case writes the recording as a corpus case (CORPUS.md).
 */
import {
  CommandLineExit,
  parseCommandLine,
  runCommand,
  settingsFromAssignments,
} from '../src/main/cli/command-line';
import { formatEventLine, formatTurnMetrics } from '../src/main/cli/format-timeline';
import { replayCase, type ReplayResult } from '../src/main/engine/replay';
import { RecordingFormatError } from '../src/main/engine/recording/format';
import { readRecording, type Recording } from '../src/main/engine/recording/reader';
import { comparisonLines } from '../src/main/cli/format-comparison';
import { compareReplay, replayRecording } from '../src/main/engine/recording/replay-recording';
import { exportCase } from '../src/main/engine/recording/script';
import { applyOverrides, SettingsError } from '../src/shared/settings';
import { outcomeFlags } from './measure';
import { loadCase } from '../src/main/engine/scripted/case';
import { loadSileroModel } from '../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../src/main/engine/vad/voice-activity-detector';

const usage =
  'usage: npm run replay -- (--case <case-dir> | --session <recording-dir>) [--set path.to.option=value ...] [--json]\n' +
  '       npm run replay -- --session <recording-dir> --export-case <case-dir>';

async function main(): Promise<number> {
  const args = parseCommandLine(
    {
      case: { type: 'string' },
      set: { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
      session: { type: 'string' },
      'export-case': { type: 'string' },
    },
    usage,
  );
  if (args.case && args.session) throw new CommandLineExit(2, `give --case or --session, not both\n${usage}`);
  if (args['export-case'] && !args.session)
    throw new CommandLineExit(2, `--export-case needs --session\n${usage}`);
  if (args.session) return replaySession(args.session, args.set, args.json, args['export-case']);
  if (!args.case) throw new CommandLineExit(2, `missing --case or --session\n${usage}`);
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

async function replaySession(
  dir: string,
  assignments: readonly string[],
  json: boolean,
  exportTo: string | undefined,
): Promise<number> {
  let recording: Recording;
  try {
    recording = readRecording(dir);
  } catch (error) {
    if (error instanceof RecordingFormatError) throw new CommandLineExit(1, error.message);
    throw error;
  }
  if (recording.lost) console.error(`note: ${recording.lost}`);
  if (exportTo) {
    if (assignments.length || json)
      throw new CommandLineExit(2, `--export-case takes no --set or --json\n${usage}`);
    const done = exportCase(recording, exportTo);
    console.log(`case "${done.id}" written to ${exportTo}: ${done.turns} turn${done.turns === 1 ? '' : 's'}`);
    for (const line of done.skipped) console.log(`  left out ${line}`);
    return 0;
  }
  let settings;
  try {
    settings = applyOverrides(recording.settings, assignments);
  } catch (error) {
    if (error instanceof SettingsError) throw new CommandLineExit(2, error.message);
    throw error;
  }
  const model = await loadSileroModel(settings.vad.model);
  const vad = new VoiceActivityDetector(model, settings.vad);
  const started = performance.now();
  const result = await replayRecording(recording, {
    settings,
    vad,
    ...(json ? {} : { onEvent: printLive() }),
  });
  const elapsed = performance.now() - started;
  await model.dispose();
  if (json) {
    console.log(
      JSON.stringify(
        {
          case: result.caseId,
          ...result.report,
          outcomes: result.outcomes,
          session: recording.id,
          changed: result.changed,
          approximate: result.approximate,
          fidelity: result.fidelity,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  printSummary(result);
  const comparison = compareReplay(recording, result, elapsed);
  console.log('\n=== against the recording (audio time) ===');
  for (const line of comparisonLines(comparison)) console.log(line);
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
