/**
 * The benchmark report: per-system summary (the keys the issue names), comparisons with
 * LiveKit and the oracle, the targets for Cue's defaults, a Markdown summary and SVG plots.
 */
import { percentile } from '../src/main/engine/session-recorder';
import { outcomeFlags, type OracleTurn, type TurnMeasure } from './measure';

export interface SystemSummary {
  turns: number;
  e2e_p50_ms: number | null;
  e2e_p95_ms: number | null;
  false_cutins: number;
  wrong_replies: number;
  missed_turns: number;
  llm_requests_per_turn: number;
  wasted_llm_requests_per_turn: number;
  tts_characters_wasted: number;
}

export interface Comparison {
  /** system p50 / livekit p50 (below 1 is faster). */
  e2e_p50_ratio_vs_livekit: number | null;
  e2e_p95_ratio_vs_livekit: number | null;
  /** (livekit − system) / (livekit − oracle) at p50: the share of LiveKit's distance to the oracle closed. */
  gap_closed_p50: number | null;
  gap_closed_p95: number | null;
  /** system − oracle. */
  e2e_p50_over_oracle_ms: number | null;
  e2e_p95_over_oracle_ms: number | null;
}

export interface TargetCheck {
  name: string;
  value: string;
  target: string;
  met: boolean;
}

export const ORACLE = 'oracle';
export const LIVEKIT = 'livekit';

export function summarize(turns: readonly TurnMeasure[]): SystemSummary {
  const latencies = turns
    .filter((t) => !t.missed && t.e2e_ms !== null)
    .map((t) => t.e2e_ms!)
    .sort((a, b) => a - b);
  const n = turns.length;
  const perTurn = (sum: number) => (n ? round(sum / n, 2) : 0);
  return {
    turns: n,
    e2e_p50_ms: percentile(latencies, 0.5),
    e2e_p95_ms: percentile(latencies, 0.95),
    false_cutins: turns.filter((t) => t.false_cutin).length,
    wrong_replies: turns.filter((t) => t.wrong_reply && !t.missed).length,
    missed_turns: turns.filter((t) => t.missed).length,
    llm_requests_per_turn: perTurn(turns.reduce((s, t) => s + t.llm_requests, 0)),
    wasted_llm_requests_per_turn: perTurn(turns.reduce((s, t) => s + t.wasted_llm_requests, 0)),
    tts_characters_wasted: turns.reduce((s, t) => s + t.tts_characters_wasted, 0),
  };
}

export function summarizeOracle(turns: readonly OracleTurn[]): SystemSummary {
  const latencies = turns.map((t) => t.e2e_ms).sort((a, b) => a - b);
  return {
    turns: turns.length,
    e2e_p50_ms: percentile(latencies, 0.5),
    e2e_p95_ms: percentile(latencies, 0.95),
    false_cutins: 0,
    wrong_replies: 0,
    missed_turns: 0,
    llm_requests_per_turn: 1,
    wasted_llm_requests_per_turn: 0,
    tts_characters_wasted: 0,
  };
}

export function compare(
  system: SystemSummary,
  livekit: SystemSummary | undefined,
  oracle: SystemSummary | undefined,
): Comparison {
  const ratio = (a: number | null, b: number | null | undefined) =>
    a === null || b === null || b === undefined || b === 0 ? null : round(a / b, 3);
  const gap = (s: number | null, lk: number | null | undefined, o: number | null | undefined) =>
    s === null || lk === null || lk === undefined || o === null || o === undefined || lk === o
      ? null
      : round((lk - s) / (lk - o), 3);
  const over = (s: number | null, o: number | null | undefined) =>
    s === null || o === null || o === undefined ? null : s - o;
  return {
    e2e_p50_ratio_vs_livekit: ratio(system.e2e_p50_ms, livekit?.e2e_p50_ms),
    e2e_p95_ratio_vs_livekit: ratio(system.e2e_p95_ms, livekit?.e2e_p95_ms),
    gap_closed_p50: gap(system.e2e_p50_ms, livekit?.e2e_p50_ms, oracle?.e2e_p50_ms),
    gap_closed_p95: gap(system.e2e_p95_ms, livekit?.e2e_p95_ms, oracle?.e2e_p95_ms),
    e2e_p50_over_oracle_ms: over(system.e2e_p50_ms, oracle?.e2e_p50_ms),
    e2e_p95_over_oracle_ms: over(system.e2e_p95_ms, oracle?.e2e_p95_ms),
  };
}

/** The issue's targets for Cue's defaults; those that need a missing system are left out. */
export function checkTargets(
  cue: SystemSummary,
  comparison: Comparison,
  livekit: SystemSummary | undefined,
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const ms = (v: number | null) => (v === null ? 'n/a' : `${v} ms`);
  if (comparison.e2e_p50_over_oracle_ms !== null)
    checks.push({
      name: 'p50 e2e over oracle',
      value: ms(comparison.e2e_p50_over_oracle_ms),
      target: '≤ 100 ms',
      met: comparison.e2e_p50_over_oracle_ms <= 100,
    });
  if (comparison.e2e_p95_over_oracle_ms !== null)
    checks.push({
      name: 'p95 e2e over oracle',
      value: ms(comparison.e2e_p95_over_oracle_ms),
      target: '≤ 250 ms',
      met: comparison.e2e_p95_over_oracle_ms <= 250,
    });
  if (comparison.gap_closed_p50 !== null)
    checks.push({
      name: 'gap to oracle closed vs livekit (p50)',
      value: comparison.gap_closed_p50.toFixed(2),
      target: '≥ 0.75',
      met: comparison.gap_closed_p50 >= 0.75,
    });
  if (livekit) {
    checks.push({
      name: 'false cut-ins',
      value: String(cue.false_cutins),
      target: `≤ ${livekit.false_cutins} (livekit)`,
      met: cue.false_cutins <= livekit.false_cutins,
    });
    checks.push({
      name: 'wasted LLM requests per turn',
      value: cue.wasted_llm_requests_per_turn.toFixed(2),
      target: `≤ ${(livekit.wasted_llm_requests_per_turn + 0.5).toFixed(2)} (livekit + 0.5)`,
      met: cue.wasted_llm_requests_per_turn <= livekit.wasted_llm_requests_per_turn + 0.5,
    });
  }
  checks.push({
    name: 'wrong replies',
    value: String(cue.wrong_replies),
    target: '0',
    met: cue.wrong_replies === 0,
  });
  checks.push({
    name: 'missed turns',
    value: String(cue.missed_turns),
    target: '0',
    met: cue.missed_turns === 0,
  });
  return checks;
}

export interface BenchReport {
  version: 1;
  generated_at: string;
  corpus: string;
  cases: string[];
  systems: string[];
  machine: { cpu: string; cores: number; node: string; platform: string };
  notes: string[];
  summary: Record<string, SystemSummary>;
  comparisons: Record<string, Comparison>;
  targets: TargetCheck[];
  turns: Record<string, (TurnMeasure | OracleTurn)[]>;
}

export function markdownSummary(
  report: BenchReport,
  plots: { overview: string; cases: Record<string, string> },
): string {
  const lines: string[] = [];
  lines.push('# Latency benchmark', '');
  lines.push(
    `Corpus \`${report.corpus}\` (${report.cases.length} cases), run ${report.generated_at} on ${report.machine.cpu} ` +
      `(${report.machine.cores} cores), Node ${report.machine.node}. Audio streamed in real time; providers are the ` +
      "protocol simulators; e2e is measured at each system's virtual speaker from the true end of the turn.",
    '',
  );
  lines.push(
    '| system | turns | e2e p50 | e2e p95 | × livekit (p50) | gap closed (p50) | false cut-ins | wrong | missed | LLM req/turn | wasted/turn | TTS chars wasted |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const name of report.systems) {
    const s = report.summary[name];
    if (!s) continue;
    const c = report.comparisons[name];
    const ms = (v: number | null) => (v === null ? '–' : `${v} ms`);
    const num = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(2));
    lines.push(
      `| ${name} | ${s.turns} | ${ms(s.e2e_p50_ms)} | ${ms(s.e2e_p95_ms)} | ${num(c?.e2e_p50_ratio_vs_livekit)} | ` +
        `${num(c?.gap_closed_p50)} | ${s.false_cutins} | ${s.wrong_replies} | ${s.missed_turns} | ` +
        `${s.llm_requests_per_turn.toFixed(2)} | ${s.wasted_llm_requests_per_turn.toFixed(2)} | ${s.tts_characters_wasted} |`,
    );
  }
  if (report.targets.length) {
    lines.push('', "## Targets for Cue's defaults", '', '| target | Cue | goal | met |', '|---|---|---|---|');
    for (const t of report.targets)
      lines.push(`| ${t.name} | ${t.value} | ${t.target} | ${t.met ? 'yes' : '**no**'} |`);
  }
  if (report.notes.length) {
    lines.push('', '## Notes', '');
    for (const note of report.notes) lines.push(`- ${note}`);
  }
  lines.push('', '## Latency per turn', '', `![e2e latency per turn](${plots.overview})`, '');
  lines.push('## Per case', '');
  for (const id of report.cases)
    if (plots.cases[id]) lines.push(`### ${id}`, '', `![${id}](${plots.cases[id]})`, '');
  return lines.join('\n');
}

const PALETTE = ['#2563eb', '#93c5fd', '#dc2626', '#fca5a5', '#16a34a', '#a855f7', '#f59e0b'];

interface PlotRow {
  label: string;
  values: (number | null)[];
  flags: string[];
}

/** A dot plot: one row per turn, one dot per system at its e2e latency. */
export function latencyPlotSvg(title: string, systems: readonly string[], rows: readonly PlotRow[]): string {
  const left = 230;
  const right = 30;
  const width = 900;
  const top = 56;
  const rowHeight = 18;
  const height = top + rows.length * rowHeight + 44;
  const values = rows.flatMap((r) => r.values.filter((v): v is number => v !== null));
  const min = Math.min(0, ...values);
  const max = Math.max(500, ...values);
  const step = niceStep((max - min) / 8);
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const x = (v: number) => left + ((v - lo) / (hi - lo)) * (width - left - right);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${left}" y="18" font-size="14" font-weight="600">${escapeXml(title)}</text>`,
  );
  systems.forEach((name, i) => {
    const lx = left + i * 120;
    out.push(
      `<circle cx="${lx + 5}" cy="34" r="5" fill="${PALETTE[i % PALETTE.length]}"/>`,
      `<text x="${lx + 14}" y="38">${escapeXml(name)}</text>`,
    );
  });
  for (let v = lo; v <= hi; v += step) {
    out.push(
      `<line x1="${x(v)}" x2="${x(v)}" y1="${top - 6}" y2="${top + rows.length * rowHeight}" stroke="${v === 0 ? '#111827' : '#e5e7eb'}"/>`,
      `<text x="${x(v)}" y="${top + rows.length * rowHeight + 14}" text-anchor="middle" fill="#374151">${v}</text>`,
    );
  }
  out.push(
    `<text x="${(left + width - right) / 2}" y="${height - 8}" text-anchor="middle" fill="#374151">e2e latency from the true end of the turn (ms); left of 0 = the reply started before the user finished</text>`,
  );
  rows.forEach((row, r) => {
    const y = top + r * rowHeight + rowHeight / 2;
    if (r % 2 === 0)
      out.push(
        `<rect x="0" y="${y - rowHeight / 2}" width="${width}" height="${rowHeight}" fill="#f9fafb"/>`,
      );
    out.push(`<text x="${left - 8}" y="${y + 4}" text-anchor="end">${escapeXml(row.label)}</text>`);
    row.values.forEach((v, i) => {
      if (v === null) return;
      const flag = row.flags[i]
        ? `<title>${escapeXml(`${systems[i]}: ${v} ms ${row.flags[i]}`)}</title>`
        : `<title>${escapeXml(`${systems[i]}: ${v} ms`)}</title>`;
      const color = PALETTE[i % PALETTE.length];
      out.push(
        row.flags[i]
          ? `<rect x="${x(v) - 5}" y="${y - 5}" width="10" height="10" fill="none" stroke="${color}" stroke-width="2">${flag}</rect>`
          : `<circle cx="${x(v)}" cy="${y}" r="5" fill="${color}" fill-opacity="0.85">${flag}</circle>`,
      );
    });
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Rows for the plot from a report: every turn of the given cases. */
export function plotRows(report: BenchReport, caseIds: readonly string[]): PlotRow[] {
  const rows: PlotRow[] = [];
  for (const id of caseIds) {
    const turnCount = (report.turns[ORACLE] ?? Object.values(report.turns)[0] ?? []).filter(
      (t) => t.case === id,
    ).length;
    for (let turn = 0; turn < turnCount; turn++) {
      const values: (number | null)[] = [];
      const flags: string[] = [];
      for (const name of report.systems) {
        const measure = report.turns[name]?.find((t) => t.case === id && t.turn === turn);
        values.push(measure?.e2e_ms ?? null);
        flags.push(measure && 'missed' in measure ? outcomeFlags(measure).join(', ') : '');
      }
      rows.push({ label: caseIds.length > 1 ? `${id} #${turn}` : `turn ${turn}`, values, flags });
    }
  }
  return rows;
}

function niceStep(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * magnitude) return m * magnitude;
  return 10 * magnitude;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
