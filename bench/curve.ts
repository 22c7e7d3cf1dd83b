/**
 * npm run bench:curve -- [--corpus bench/corpus/tune] [--out bench/results/curve]
 *
 * The latency / cut-in trade-off of the turn decision: Cue over the tune corpus on the virtual
 * clock (bench/virtual-run.ts) for a grid of the options that set how soon a likely end commits
 * (turn_detector.decision_silence, endpointing.min_delay) and how sure the detector must be
 * (turn_detector.threshold), plus the three presets. Writes curve.json and curve.svg: one point
 * per setting, over-the-oracle p50 (per turn) against false cut-ins, the Pareto front joined;
 * and the presets' figures that the settings panel shows (src/renderer/src/settings/preset-figures.json).
 * Tune on bench/corpus/tune only; confirm a choice with `npm run bench`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseCommandLine, runCommand } from '../src/main/cli/command-line';
import { loadCorpus } from '../src/main/engine/scripted/case';
import { loadSileroModel } from '../src/main/engine/vad/silero';
import { mergeSettings } from '../src/main/app/settings-store';
import { PRESETS } from '../src/renderer/src/settings/presets';
import { patchOf } from '../src/renderer/src/settings/fields';
import { parseSettings, type Settings } from '../src/shared/settings';
import { PRESET_FIGURES_FILE, type PresetFiguresFile } from '../src/renderer/src/settings/preset-figures';
import { ScriptedTurnModel } from './scripted-turn-model';
import { runVirtual, type VirtualRunOptions } from './virtual-run';

const usage =
  'usage: npm run bench:curve -- [--corpus bench/corpus/tune] [--out bench/results/curve] [--presets-out src/renderer/src/settings/preset-figures.json]';

/** 0.55: judged only when the VAD ends the speech (its min_silence_duration), as before. */
const DECISION_SILENCE = [0.2, 0.55];
const MIN_DELAY = [0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2];
/**
 * 0.5: every complete-sounding ending is a likely end; 0.94: only a question is (the heuristic
 * gives 0.95 to a question, 0.93 to a sentence with a full stop, 0.90 to other complete endings).
 */
const THRESHOLD = [0.5, 0.94];
/** 1: the case's scripted confidences as they are. */
const AUDIO_MODEL_HOLD_CAPS = [1, 0.5, 0.35, 0.2];

export interface CurvePoint {
  label: string;
  turns: number;
  /** The options that differ from the defaults. */
  options: Record<string, number>;
  over_oracle_p50_ms: number | null;
  over_oracle_p95_ms: number | null;
  false_cutins: number;
  wrong_replies: number;
  missed_turns: number;
  wasted_llm_requests_per_turn: number;
  /** On the Pareto front: no other point has fewer cut-ins and a lower p50 (one of them strictly). */
  pareto: boolean;
}

function settingsWith(options: Record<string, number | string | boolean>): Settings {
  return parseSettings(mergeSettings(parseSettings({}), patchOf(options)));
}

/** Points that no other beats on both axes. */
export function markPareto(points: CurvePoint[]): void {
  for (const p of points) {
    const x = p.over_oracle_p50_ms ?? Infinity;
    p.pareto = !points.some((q) => {
      const y = q.over_oracle_p50_ms ?? Infinity;
      return (
        q !== p && q.false_cutins <= p.false_cutins && y <= x && (q.false_cutins < p.false_cutins || y < x)
      );
    });
  }
}

export function curveSvg(points: readonly CurvePoint[], title: string): string {
  const width = 760;
  const height = 480;
  const left = 70;
  const right = 30;
  const top = 50;
  const bottom = 60;
  const xs = points.map((p) => p.false_cutins);
  const ys = points.map((p) => p.over_oracle_p50_ms ?? 0);
  const xMax = Math.max(1, ...xs) + 0.5;
  const yMax = Math.max(100, ...ys) * 1.1;
  const x = (v: number) => left + ((v + 0.5) / (xMax + 0.5)) * (width - left - right);
  const y = (v: number) => top + (1 - v / yMax) * (height - top - bottom);
  const esc = (t: string) =>
    t.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${left}" y="24" font-size="14" font-weight="600">${esc(title)}</text>`,
  ];
  for (let c = 0; c <= Math.floor(xMax); c++)
    out.push(
      `<line x1="${x(c)}" x2="${x(c)}" y1="${top}" y2="${height - bottom}" stroke="#e5e7eb"/>`,
      `<text x="${x(c)}" y="${height - bottom + 16}" text-anchor="middle">${c}</text>`,
    );
  const step = yMax > 600 ? 200 : yMax > 300 ? 100 : 50;
  for (let v = 0; v <= yMax; v += step)
    out.push(
      `<line x1="${left}" x2="${width - right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`,
      `<text x="${left - 8}" y="${y(v) + 4}" text-anchor="end">${v}</text>`,
    );
  out.push(
    `<text x="${(left + width - right) / 2}" y="${height - 18}" text-anchor="middle">false cut-ins on the corpus</text>`,
    `<text x="18" y="${(top + height - bottom) / 2}" text-anchor="middle" transform="rotate(-90 18 ${(top + height - bottom) / 2})">over the oracle, p50 of per-turn differences (ms)</text>`,
  );
  const front = points
    .filter((p) => p.pareto)
    .sort(
      (a, b) => a.false_cutins - b.false_cutins || (b.over_oracle_p50_ms ?? 0) - (a.over_oracle_p50_ms ?? 0),
    );
  if (front.length > 1)
    out.push(
      `<polyline fill="none" stroke="#2563eb" stroke-width="1.5" points="${front.map((p) => `${x(p.false_cutins)},${y(p.over_oracle_p50_ms ?? 0)}`).join(' ')}"/>`,
    );
  // Points that share a spot are spread a little sideways so each stays visible.
  const seen = new Map<string, number>();
  for (const p of points) {
    const key = `${p.false_cutins}|${p.over_oracle_p50_ms}`;
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    const px = x(p.false_cutins) + (n % 2 ? 1 : -1) * Math.ceil(n / 2) * 7;
    const py = y(p.over_oracle_p50_ms ?? 0);
    const named = !p.label.startsWith('grid');
    const color = named ? '#dc2626' : p.pareto ? '#2563eb' : '#9ca3af';
    out.push(
      `<circle cx="${px}" cy="${py}" r="${named ? 6 : 4}" fill="${color}"><title>${esc(`${p.label}: p50 ${p.over_oracle_p50_ms} ms over the oracle, ${p.false_cutins} false cut-ins, ${JSON.stringify(p.options)}`)}</title></circle>`,
    );
    if (named) out.push(`<text x="${px + 9}" y="${py - 6}" fill="#dc2626">${esc(p.label)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

async function main(): Promise<number> {
  const args = parseCommandLine(
    {
      corpus: { type: 'string', default: 'bench/corpus/tune' },
      out: { type: 'string', default: 'bench/results/curve' },
      'presets-out': { type: 'string', default: PRESET_FIGURES_FILE },
    },
    usage,
  );
  const cases = await loadCorpus(args.corpus);
  const silero = await loadSileroModel(parseSettings({}).vad.model);
  const points: CurvePoint[] = [];
  const figures: PresetFiguresFile = { command: 'npm run bench:curve', corpus: args.corpus, presets: {} };
  const measure = async (
    label: string,
    options: Record<string, number | string | boolean>,
    run: VirtualRunOptions = {},
  ) => {
    const { summary } = await runVirtual(cases, settingsWith(options), silero, run);
    const numeric = Object.fromEntries(
      Object.entries(options).filter((e): e is [string, number] => typeof e[1] === 'number'),
    );
    points.push({
      label,
      turns: summary.turns,
      options: numeric,
      over_oracle_p50_ms: summary.over_oracle_p50_ms,
      over_oracle_p95_ms: summary.over_oracle_p95_ms,
      false_cutins: summary.false_cutins,
      wrong_replies: summary.wrong_replies,
      missed_turns: summary.missed_turns,
      wasted_llm_requests_per_turn: summary.wasted_llm_requests_per_turn,
      pareto: false,
    });
    const p = points.at(-1)!;
    console.log(
      `${label.padEnd(10)} ${JSON.stringify(numeric).padEnd(120)} p50 ${p.over_oracle_p50_ms} p95 ${p.over_oracle_p95_ms} ` +
        `cut-ins ${p.false_cutins} wrong ${p.wrong_replies} missed ${p.missed_turns}`,
    );
  };
  try {
    for (const preset of PRESETS) {
      await measure(preset.id, preset.values as Record<string, number | string | boolean>);
      const p = points.at(-1)!;
      figures.presets[preset.id] = {
        values: { ...preset.values },
        turns: p.turns,
        over_oracle_p50_ms: p.over_oracle_p50_ms,
        over_oracle_p95_ms: p.over_oracle_p95_ms,
        false_cutins: p.false_cutins,
        wrong_replies: p.wrong_replies,
        missed_turns: p.missed_turns,
      };
    }
    // What an audio model would have to achieve for the quickest preset to stop cutting in: a
    // model on the stand-in's interface that hears each scripted pause with the case's
    // confidence, its answer in pauses after which the speaker goes on capped at `cap`.
    const fast = PRESETS.find((p) => p.id === 'fast')!;
    for (const cap of AUDIO_MODEL_HOLD_CAPS)
      await measure(
        cap === 1 ? 'audio model' : `audio model, holds ≤ ${cap}`,
        fast.values as Record<string, number | string | boolean>,
        { turnModel: (c, now) => new ScriptedTurnModel(c, now, { holdCap: cap }) },
      );
    for (const threshold of THRESHOLD)
      for (const decision of DECISION_SILENCE)
        for (const minDelay of threshold === 0.5 ? MIN_DELAY : [0.4])
          await measure('grid', {
            'turn_handling.turn_detector.threshold': threshold,
            'turn_handling.turn_detector.decision_silence': decision,
            'turn_handling.endpointing.min_delay': minDelay,
          });
  } finally {
    await silero.dispose();
  }
  markPareto(points);
  const outDir = resolve(args.out);
  await mkdir(outDir, { recursive: true });
  await writeFile(
    join(outDir, 'curve.json'),
    `${JSON.stringify({ corpus: args.corpus, points }, null, 2)}\n`,
  );
  await writeFile(
    join(outDir, 'curve.svg'),
    curveSvg(points, `Latency against false cut-ins, ${args.corpus} (virtual clock)`),
  );
  await writeFile(resolve(args['presets-out']), `${JSON.stringify(figures, null, 2)}\n`);
  console.log(
    `\nwrote ${join(args.out, 'curve.json')}, ${join(args.out, 'curve.svg')} and ${args['presets-out']} (the presets' figures the settings show)`,
  );
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) runCommand(main);
