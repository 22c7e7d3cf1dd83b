/**
 * npm run bench -- --corpus <dir> [--systems a,b,...] [--out report.json] [--cases id,...] [--set path=value ...]
 *
 * Streams every case's audio in real time into each system, with the providers served by the
 * protocol simulators, and measures at the benchmark's own speaker, which every system plays
 * into (bench/speaker.ts; measures in bench/measure.ts). Systems alternate case by case (the
 * order rotates) so machine drift hits them alike. Writes the JSON report, a Markdown summary
 * and SVG latency plots next to it.
 */
import { cpus } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import {
  CommandLineExit,
  parseCommandLine,
  runCommand,
  settingsFromAssignments,
} from '../src/main/cli/command-line';
import { RealClock } from '../src/main/engine/clock';
import { loadCorpus, turnEnd, type ScriptCase } from '../src/main/engine/scripted/case';
import { parseSettings, type Settings } from '../src/shared/settings';
import { mergeSettings } from '../src/main/app/settings-store';
import { PRESETS, presetPatch } from '../src/renderer/src/settings/presets';
import { readVoiceMarks } from '../src/main/engine/scripted/voice-mark';
import { SIM_API_KEY } from '../sim/common';
import { startSimulators } from '../sim/index';
import {
  measureRun,
  oracleTurns,
  outcomeFlags,
  providerRecords,
  type OracleTurn,
  type TurnMeasure,
} from './measure';
import {
  checkTargets,
  checkHumanGapTargets,
  isFastProfile,
  isPeer,
  latencyPlotSvg,
  markdownSummary,
  ORACLE,
  plotRows,
  summarize,
  summarizeOracle,
  type BenchReport,
} from './report';
import { BenchSpeaker } from './speaker';
import { createCueSystem } from './systems/cue';
import type { BenchSystem } from './systems/types';

/**
 * The systems run by default, in report order. LiveKit's configurations are described in
 * bench/systems/livekit-configs.ts (and bench/systems/README.md); "cue-flux" below.
 */
export const SYSTEMS = [
  'cue',
  'cue-no-preempt',
  'cue-flux',
  'cue-fast',
  'livekit',
  'livekit-text',
  'livekit-flux',
  'livekit-fast',
  'oracle',
] as const;
/**
 * Run only when asked: Cue with silence alone ending turns (turn_detection "vad"), to weigh the
 * turn detector; Cue's defaults from before the decision at a short pause (cue-before); LiveKit with preemptive TTS, no faster than "livekit" on the corpus.
 */
export const EXTRA_SYSTEMS = ['cue-silence', 'cue-before', 'livekit-tts'] as const;
export type SystemName = (typeof SYSTEMS)[number] | (typeof EXTRA_SYSTEMS)[number];
const KNOWN: readonly string[] = [...SYSTEMS, ...EXTRA_SYSTEMS];

const usage =
  'usage: npm run bench -- --corpus <dir> [--systems ' +
  `${SYSTEMS.join(',')}] [--out bench/results/report.json] [--cases id,...] [--set path.to.option=value ...]\n` +
  `extra systems: ${EXTRA_SYSTEMS.join(', ')}\n` +
  'what each system is and how LiveKit is configured: bench/systems/README.md';

/** Silence streamed after a case at most; runs end earlier once the last reply has played. */
const TAIL_MS = 12_000;

export interface BenchOptions {
  corpus: string;
  systems: readonly SystemName[];
  cases?: readonly string[];
  /** Cue settings for `cue` (and, with preemption off, `cue-no-preempt`). */
  cueSettings: Settings;
  onProgress?: (line: string) => void;
}

export function parseSystems(list: string): SystemName[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !KNOWN.includes(n));
  if (unknown.length || !names.length)
    throw new CommandLineExit(
      2,
      `unknown system${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ') || '(none given)'}: ` +
        `choose from ${KNOWN.join(', ')}`,
    );
  return [...new Set(names)] as SystemName[];
}

async function createSystem(
  name: Exclude<SystemName, 'oracle'>,
  cueSettings: Settings,
): Promise<BenchSystem> {
  switch (name) {
    case 'cue':
      return createCueSystem(name, cueSettings, "Cue's defaults (with any --set overrides).");
    case 'cue-no-preempt': {
      const settings = structuredClone(cueSettings);
      settings.turn_handling.preemptive_generation.enabled = false;
      return createCueSystem(name, settings, 'Cue with preemptive generation off.');
    }
    case 'cue-silence': {
      const settings = structuredClone(cueSettings);
      settings.turn_handling.turn_detection = 'vad';
      return createCueSystem(name, settings, 'Cue with silence alone ending turns (turn_detection = vad).');
    }
    case 'cue-fast': {
      const settings = parseSettings(
        mergeSettings(cueSettings, presetPatch(PRESETS.find((p) => p.id === 'fast')!)),
      );
      return createCueSystem(
        name,
        settings,
        'Cue with the Fast preset (the quickest point of `npm run bench:curve`).',
      );
    }
    case 'cue-before': {
      // The defaults before the turn was judged at a short pause: judged once the VAD ended the
      // speech (decision_silence above its min_silence_duration), min_delay 0.5 s, Deepgram
      // endpointing 100 ms.
      const settings = structuredClone(cueSettings);
      settings.turn_handling.turn_detector.decision_silence = 3;
      settings.turn_handling.endpointing.min_delay = 0.5;
      settings.stt.nova.endpointing_ms = 100;
      return createCueSystem(
        name,
        settings,
        "Cue's defaults before the decision at a short pause: judged at the VAD's end of speech (0.55 s), min_delay 0.5 s, Deepgram endpointing 100 ms.",
      );
    }
    case 'cue-flux': {
      // Cue on Deepgram Flux as a Cue user would set it up: only the STT provider changes. The
      // turn detection stays Cue's default "model" (the end-of-turn model weighs the endpointing
      // delay after the VAD's end of speech; Flux's EagerEndOfTurn starts the speculative reply
      // and its EndOfTurn settles the transcript). "stt" waits min_delay after Flux's EndOfTurn,
      // on top of Flux's own decision time: on 8 corpus cases it was slower (p50 791 against
      // 643 ms) and cut in twice where "model" did not.
      const settings = structuredClone(cueSettings);
      settings.stt.provider = 'deepgram-flux';
      return createCueSystem(
        name,
        settings,
        "Cue on Deepgram Flux (Flux's thresholds as set), turn detection model.",
      );
    }
    case 'livekit':
    case 'livekit-text':
    case 'livekit-flux':
    case 'livekit-fast':
    case 'livekit-tts': {
      const { createLiveKitSystem } = await import('./systems/livekit');
      return createLiveKitSystem({ config: name, cueSettings });
    }
  }
}

export async function runBenchmark(options: BenchOptions): Promise<BenchReport> {
  const progress = options.onProgress ?? (() => undefined);
  let cases = await loadCorpus(options.corpus);
  if (options.cases?.length) {
    const missing = options.cases.filter((id) => !cases.some((c) => c.id === id));
    if (missing.length)
      throw new CommandLineExit(2, `no case ${missing.map((m) => `"${m}"`).join(', ')} in ${options.corpus}`);
    cases = cases.filter((c) => options.cases!.includes(c.id));
  }
  const running = options.systems.filter((s): s is Exclude<SystemName, 'oracle'> => s !== 'oracle');
  const systems: BenchSystem[] = [];
  const notes: string[] = [];
  const turns: Record<string, (TurnMeasure | OracleTurn)[]> = {};
  try {
    for (const name of running) systems.push(await createSystem(name, options.cueSettings));
    for (const [index, caseData] of cases.entries()) {
      const order = rotate(systems, index);
      for (const system of order) {
        const measures = await runOne(system, caseData, notes);
        (turns[system.name] ??= []).push(...measures);
        progress(`${caseData.id} · ${system.name}: ${measures.map(describeTurn).join('  ')}`);
      }
      (turns[ORACLE] ??= []).push(...oracleTurns(caseData));
    }
  } finally {
    for (const system of systems) await system.close();
  }
  return buildReport(
    options,
    cases,
    turns,
    notes,
    Object.fromEntries(systems.map((s) => [s.name, s.description])),
  );
}

async function runOne(system: BenchSystem, caseData: ScriptCase, notes: string[]): Promise<TurnMeasure[]> {
  const clock = new RealClock();
  const sims = await startSimulators({ caseData, clock, apiKey: SIM_API_KEY });
  const speaker = new BenchSpeaker(clock);
  try {
    const run = await system.run({
      caseData,
      sims,
      apiKey: SIM_API_KEY,
      clock,
      speaker,
      tailMs: TAIL_MS,
      lastTurnEndMs: turnEnd(caseData.turns.at(-1)!) * 1000,
    });
    speaker.stop();
    for (const note of run.notes) notes.push(`${system.name} · ${caseData.id}: ${note}`);
    const measures = measureRun(
      caseData,
      { startedAt: run.startedAt, heard: speaker.heard() },
      providerRecords(sims),
    );
    for (const { turn, note } of run.turnNotes ?? []) {
      notes.push(`${system.name} · ${caseData.id} · turn ${turn}: ${note}`);
      const measure = measures[turn];
      if (measure) (measure.notes ??= []).push(note);
    }
    const unmarked = unmarkedAudioNote(speaker);
    if (unmarked) notes.push(`${system.name} · ${caseData.id}: ${unmarked}`);
    return measures;
  } finally {
    speaker.stop();
    await sims.close();
  }
}

function buildReport(
  options: BenchOptions,
  cases: readonly ScriptCase[],
  turns: Record<string, (TurnMeasure | OracleTurn)[]>,
  notes: string[],
  configurations: Record<string, string>,
): BenchReport {
  const fastCases = new Set(cases.filter((c) => isFastProfile(c.profile)).map((c) => c.id));
  const summarizeAll = (keep: (caseId: string) => boolean) => {
    const of = (name: string) => (turns[name] ?? []).filter((t) => keep(t.case));
    const oracle = of(ORACLE) as OracleTurn[];
    const peers = Object.fromEntries(
      options.systems.filter(isPeer).map((name) => [name, of(name) as TurnMeasure[]]),
    );
    const summary: BenchReport['summary'] = {};
    for (const name of options.systems)
      summary[name] =
        name === ORACLE
          ? summarizeOracle(oracle)
          : summarize(
              of(name) as TurnMeasure[],
              oracle,
              Object.fromEntries(Object.entries(peers).filter(([peer]) => peer !== name)),
            );
    return summary;
  };
  const summary = summarizeAll(() => true);
  const summaryFast = summarizeAll((id) => fastCases.has(id));
  const summaryOther = summarizeAll((id) => !fastCases.has(id));
  configurations[ORACLE] =
    "the bound no system can beat: the reply requested the moment the turn's whole transcript first comes out of the " +
    "simulated STT (an interim, or a final with Deepgram's default 10 ms endpointing), plus the LLM time to first token and " +
    'the TTS time to first audio.';
  const cpu = cpus();
  return {
    version: 2,
    generated_at: new Date().toISOString(),
    corpus: options.corpus,
    cases: cases.map((c) => c.id),
    systems: [...options.systems],
    configurations,
    machine: {
      cpu: cpu[0]?.model ?? 'unknown',
      cores: cpu.length,
      node: process.version,
      platform: process.platform,
    },
    notes,
    summary,
    fast_cases: cases.filter((c) => fastCases.has(c.id)).map((c) => c.id),
    summary_fast: summaryFast,
    summary_other: summaryOther,
    targets: summary.cue
      ? [
          ...checkTargets(summary.cue, summary),
          ...checkHumanGapTargets(turns.cue as TurnMeasure[], summaryFast, summaryOther),
        ]
      : [],
    turns: Object.fromEntries(options.systems.map((name) => [name, turns[name] ?? []])),
  };
}

/** A note when the speaker played audio that carried no voice mark (a system changed the samples). */
function unmarkedAudioNote(speaker: BenchSpeaker): string | undefined {
  let unmarked = 0;
  for (const stretch of speaker.heard()) {
    const marked = readVoiceMarks(stretch.samples).reduce((n, r) => n + r.length, 0);
    unmarked += ((stretch.samples.length - marked) / stretch.sampleRate) * 1000;
  }
  return unmarked >= 20
    ? `${Math.round(unmarked)} ms of the audio the speaker played carried no voice mark (not the simulator's audio as sent: the system changed the samples); it is not counted as any reply`
    : undefined;
}

/** Writes the JSON report, the Markdown summary and the plots; returns the files written. */
export async function writeReport(report: BenchReport, outPath: string): Promise<string[]> {
  const dir = dirname(outPath);
  const plotDir = join(dir, 'plots');
  await mkdir(plotDir, { recursive: true });
  const written: string[] = [];
  const write = async (path: string, text: string) => {
    await writeFile(path, text);
    written.push(path);
  };
  await write(outPath, `${JSON.stringify(report, null, 2)}\n`);
  const overview = join(plotDir, 'latency-all.svg');
  await write(
    overview,
    latencyPlotSvg('e2e latency per turn, all cases', report.systems, plotRows(report, report.cases)),
  );
  const casePlots: Record<string, string> = {};
  for (const id of report.cases) {
    const path = join(plotDir, `${id}.svg`);
    await write(path, latencyPlotSvg(id, report.systems, plotRows(report, [id])));
    casePlots[id] = relative(dir, path);
  }
  const markdown = join(dir, `${basename(outPath).replace(/\.json$/, '')}.md`);
  await write(markdown, markdownSummary(report, { overview: relative(dir, overview), cases: casePlots }));
  return written;
}

function rotate<T>(items: readonly T[], by: number): T[] {
  if (!items.length) return [];
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

function describeTurn(m: TurnMeasure): string {
  const flags = outcomeFlags(m).join('+').toUpperCase();
  const noted = m.notes?.length ? ' (see notes)' : '';
  return `#${m.turn} ${m.e2e_ms ?? '–'} ms${flags ? ` ${flags} (${m.cause ?? 'no cause found'})` : ''}${noted}`;
}

function printSummary(report: BenchReport): void {
  const pad = (s: string, n: number) => s.padEnd(n);
  const peers = report.systems.filter(isPeer);
  const v = (x: number | null | undefined) => (x === null || x === undefined ? '–' : String(x));
  console.log(
    `\n${pad('system', 16)}${pad('p50', 7)}${pad('p95', 7)}${pad('+orc50', 8)}${pad('+orc95', 8)}${pad('+orcmax', 9)}` +
      peers.map((p) => pad(`gap:${p}`, 18)).join('') +
      `${pad('cut-ins', 9)}${pad('wrong', 7)}${pad('missed', 8)}${pad('llm/turn', 10)}wasted/turn`,
  );
  for (const name of report.systems) {
    const s = report.summary[name]!;
    console.log(
      pad(name, 16) +
        pad(v(s.e2e_p50_ms), 7) +
        pad(v(s.e2e_p95_ms), 7) +
        pad(v(s.over_oracle_p50_ms), 8) +
        pad(v(s.over_oracle_p95_ms), 8) +
        pad(v(s.over_oracle_max_ms), 9) +
        peers.map((p) => pad(p === name ? '–' : (s.gap_closed[p]?.toFixed(2) ?? '–'), 18)).join('') +
        pad(String(s.false_cutins), 9) +
        pad(String(s.wrong_replies), 7) +
        pad(String(s.missed_turns), 8) +
        pad(s.llm_requests_per_turn.toFixed(2), 10) +
        s.wasted_llm_requests_per_turn.toFixed(2),
    );
  }
  if (report.targets.length) {
    console.log("\nTargets for Cue's defaults:");
    for (const t of report.targets)
      console.log(`  ${t.met ? 'met ' : 'MISS'} ${t.name}: ${t.value} (goal ${t.target})`);
  }
}

async function main(): Promise<number> {
  const args = parseCommandLine(
    {
      corpus: { type: 'string' },
      systems: { type: 'string', default: SYSTEMS.join(',') },
      out: { type: 'string', default: 'bench/results/report.json' },
      cases: { type: 'string' },
      set: { type: 'string', multiple: true, default: [] },
    },
    usage,
  );
  if (!args.corpus) throw new CommandLineExit(2, `missing --corpus\n${usage}`);
  const cueSettings = settingsFromAssignments(args.set);
  const report = await runBenchmark({
    corpus: resolve(args.corpus),
    systems: parseSystems(args.systems),
    ...(args.cases ? { cases: args.cases.split(',').map((s) => s.trim()) } : {}),
    cueSettings,
    onProgress: (line) => console.log(line),
  });
  report.corpus = args.corpus;
  printSummary(report);
  const written = await writeReport(report, resolve(args.out));
  console.log(
    `\nwrote ${written.length} files: ${relative(process.cwd(), written[0]!)}, ${relative(process.cwd(), written.at(-1)!)} and plots`,
  );
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) runCommand(main);
