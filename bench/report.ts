/**
 * The benchmark report: per-system summary, per-turn comparisons with the oracle and with each
 * LiveKit configuration (CORPUS.md "Measures"), the targets for Cue's defaults, a Markdown
 * summary (with the cause of every mark) and SVG plots.
 */
import { percentile } from '../src/main/engine/session-recorder';
import { MISSED_AFTER_MS, outcomeFlags, type OracleTurn, type TurnMeasure } from './measure';

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
  /** Percentiles over the turns of (system e2e − oracle e2e) for the same turn; a missed turn counts as 10 000 ms. */
  over_oracle_p50_ms: number | null;
  over_oracle_p95_ms: number | null;
  over_oracle_max_ms: number | null;
  /**
   * Against each peer P: the median over turns of (P − system) / (P − oracle), using only turns
   * where P − oracle ≥ 50 ms (null when there is no such turn).
   */
  gap_closed: Record<string, number | null>;
}

export interface TargetCheck {
  name: string;
  value: string;
  target: string;
  met: boolean;
}

export const ORACLE = 'oracle';
/** Peers are the LiveKit configurations. */
export const isPeer = (system: string) => system.startsWith('livekit');
/** Turns where the peer is within this of the oracle are left out of "gap closed" (nothing to close). */
export const GAP_MIN_MS = 50;

type Judged = TurnMeasure | OracleTurn;
const key = (t: Pick<Judged, 'case' | 'turn'>) => `${t.case}#${t.turn}`;

/** A turn's e2e as the per-turn measures count it: a missed turn is 10 000 ms over the oracle. */
function effectiveE2e(t: TurnMeasure, oracle: OracleTurn): number {
  return t.missed || t.e2e_ms === null ? oracle.e2e_ms + MISSED_AFTER_MS : t.e2e_ms;
}

export function summarize(
  turns: readonly TurnMeasure[],
  oracle: readonly OracleTurn[] = [],
  peers: Record<string, readonly TurnMeasure[]> = {},
): SystemSummary {
  const latencies = turns
    .filter((t) => !t.missed && t.e2e_ms !== null)
    .map((t) => t.e2e_ms!)
    .sort((a, b) => a - b);
  const n = turns.length;
  const perTurn = (sum: number) => (n ? round(sum / n, 2) : 0);
  const oracleOf = new Map(oracle.map((o) => [key(o), o]));
  const over = turns
    .flatMap((t) => {
      const o = oracleOf.get(key(t));
      return o ? [effectiveE2e(t, o) - o.e2e_ms] : [];
    })
    .sort((a, b) => a - b);
  const gap_closed: Record<string, number | null> = {};
  for (const [peer, peerTurns] of Object.entries(peers))
    gap_closed[peer] = gapClosed(turns, peerTurns, oracleOf);
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
    over_oracle_p50_ms: percentile(over, 0.5),
    over_oracle_p95_ms: percentile(over, 0.95),
    over_oracle_max_ms: over.length ? over.at(-1)! : null,
    gap_closed,
  };
}

/** The middle value, or the mean of the two middle ones (`values` is not reordered; at least one). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The median over turns of (P − S) / (P − O), over the turns where P − O ≥ GAP_MIN_MS. */
export function gapClosed(
  system: readonly TurnMeasure[],
  peer: readonly TurnMeasure[],
  oracleOf: ReadonlyMap<string, OracleTurn>,
): number | null {
  const peerOf = new Map(peer.map((t) => [key(t), t]));
  const shares: number[] = [];
  for (const t of system) {
    const p = peerOf.get(key(t));
    const o = oracleOf.get(key(t));
    if (!p || !o) continue;
    const peerGap = effectiveE2e(p, o) - o.e2e_ms;
    if (peerGap < GAP_MIN_MS) continue;
    shares.push((effectiveE2e(p, o) - effectiveE2e(t, o)) / peerGap);
  }
  if (!shares.length) return null;
  return round(median(shares), 3);
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
    over_oracle_p50_ms: 0,
    over_oracle_p95_ms: 0,
    over_oracle_max_ms: 0,
    gap_closed: {},
  };
}

/**
 * The best LiveKit configuration: the lowest over-the-oracle p50 (ties: fewer false cut-ins).
 * Undefined when no peer ran.
 */
export function bestPeer(summary: Readonly<Record<string, SystemSummary>>): string | undefined {
  const peers = Object.keys(summary).filter(isPeer);
  peers.sort(
    (a, b) =>
      (summary[a]!.over_oracle_p50_ms ?? Infinity) - (summary[b]!.over_oracle_p50_ms ?? Infinity) ||
      summary[a]!.false_cutins - summary[b]!.false_cutins,
  );
  return peers[0];
}

/**
 * The targets for Cue's defaults (issue 11): over the oracle p50 ≤ 80 ms and p95 ≤ 200 ms; gap
 * closed ≥ 0.75 against the best LiveKit configuration; no more false cut-ins than the LiveKit
 * configuration with the fewest, wasted LLM requests per turn ≤ the thriftiest LiveKit
 * configuration's + 0.5; no wrong reply, no missed turn. Those that need a missing system are left out.
 */
export function checkTargets(
  cue: SystemSummary,
  summary: Readonly<Record<string, SystemSummary>>,
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const ms = (v: number | null) => (v === null ? 'n/a' : `${v} ms`);
  if (cue.over_oracle_p50_ms !== null)
    checks.push({
      name: 'over the oracle, p50 of per-turn differences',
      value: ms(cue.over_oracle_p50_ms),
      target: '≤ 80 ms',
      met: cue.over_oracle_p50_ms <= 80,
    });
  if (cue.over_oracle_p95_ms !== null)
    checks.push({
      name: 'over the oracle, p95 of per-turn differences',
      value: ms(cue.over_oracle_p95_ms),
      target: '≤ 200 ms',
      met: cue.over_oracle_p95_ms <= 200,
    });
  const best = bestPeer(summary);
  const gap = best ? cue.gap_closed[best] : undefined;
  if (best && gap !== undefined && gap !== null)
    checks.push({
      name: `gap to the oracle closed, per turn, against ${best} (the best LiveKit configuration)`,
      value: gap.toFixed(2),
      target: '≥ 0.75',
      met: gap >= 0.75,
    });
  const peers = Object.entries(summary).filter(([name]) => isPeer(name));
  if (peers.length) {
    const fewest = peers.reduce((a, b) => (b[1].false_cutins < a[1].false_cutins ? b : a));
    checks.push({
      name: 'false cut-ins',
      value: String(cue.false_cutins),
      target: `≤ ${fewest[1].false_cutins} (${fewest[0]})`,
      met: cue.false_cutins <= fewest[1].false_cutins,
    });
    const thriftiest = peers.reduce((a, b) =>
      b[1].wasted_llm_requests_per_turn < a[1].wasted_llm_requests_per_turn ? b : a,
    );
    const limit = thriftiest[1].wasted_llm_requests_per_turn + 0.5;
    checks.push({
      name: 'wasted LLM requests per turn',
      value: cue.wasted_llm_requests_per_turn.toFixed(2),
      target: `≤ ${limit.toFixed(2)} (${thriftiest[0]} + 0.5)`,
      met: cue.wasted_llm_requests_per_turn <= limit + 1e-9,
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

/**
 * A fast-provider case (CORPUS.md "Profiles that matter": LLM first token about 100–150 ms, TTS
 * first audio about 80–100 ms), where the turn decision rather than the providers sets the latency.
 */
export function isFastProfile(profile: { llm_ttft_ms: number; tts_ttfb_ms: number }): boolean {
  return profile.llm_ttft_ms <= 200 && profile.tts_ttfb_ms <= 150;
}

/** The system that runs Cue's defaults from before the decision at a short pause (issue 14). */
export const BEFORE = 'cue-before';

/**
 * The targets of answering in a human gap (issue 14) for Cue's defaults: on the fast-provider
 * cases, over the oracle p50 ≤ 100 ms and p95 ≤ 250 ms and ≥ 0.75 of livekit-fast's gap closed;
 * no cut-in after an unfinished phrase; on the other cases, an over-the-oracle p50 no
 * higher than the defaults from before (cue-before), when it ran.
 */
export function checkHumanGapTargets(
  cueTurns: readonly TurnMeasure[],
  fast: Readonly<Record<string, SystemSummary>>,
  other: Readonly<Record<string, SystemSummary>>,
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const ms = (v: number | null) => (v === null ? 'n/a' : `${v} ms`);
  const cue = fast.cue;
  if (cue && cue.turns) {
    checks.push(
      {
        name: 'fast-provider cases: over the oracle, p50 of per-turn differences',
        value: ms(cue.over_oracle_p50_ms),
        target: '≤ 100 ms',
        met: cue.over_oracle_p50_ms !== null && cue.over_oracle_p50_ms <= 100,
      },
      {
        name: 'fast-provider cases: over the oracle, p95 of per-turn differences',
        value: ms(cue.over_oracle_p95_ms),
        target: '≤ 250 ms',
        met: cue.over_oracle_p95_ms !== null && cue.over_oracle_p95_ms <= 250,
      },
    );
    const gap = cue.gap_closed['livekit-fast'];
    if (gap !== undefined && gap !== null)
      checks.push({
        name: "fast-provider cases: livekit-fast's gap to the oracle closed, per turn",
        value: gap.toFixed(2),
        target: '≥ 0.75',
        met: gap >= 0.75,
      });
  }
  const unfinished = cueTurns.filter((t) => t.cutin_after_unfinished).length;
  checks.push({
    name: 'false cut-ins after an unfinished phrase',
    value: String(unfinished),
    target: '0',
    met: unfinished === 0,
  });
  const now = other.cue;
  const before = other[BEFORE];
  if (now && before && now.turns && now.over_oracle_p50_ms !== null && before.over_oracle_p50_ms !== null)
    checks.push({
      name: `cases without fast providers: over the oracle p50, against the defaults from before (${BEFORE})`,
      value: ms(now.over_oracle_p50_ms),
      target: `≤ ${ms(before.over_oracle_p50_ms)}`,
      met: now.over_oracle_p50_ms <= before.over_oracle_p50_ms,
    });
  return checks;
}

export interface BenchReport {
  version: 2;
  generated_at: string;
  corpus: string;
  cases: string[];
  systems: string[];
  /** How each system was configured, in words. */
  configurations: Record<string, string>;
  machine: { cpu: string; cores: number; node: string; platform: string };
  notes: string[];
  summary: Record<string, SystemSummary>;
  /** The fast-provider cases (isFastProfile) and every system's summary over their turns alone. */
  fast_cases: string[];
  summary_fast: Record<string, SystemSummary>;
  /** The same over the other (default-profile and slow-provider) cases. */
  summary_other: Record<string, SystemSummary>;
  targets: TargetCheck[];
  turns: Record<string, Judged[]>;
}

export function markdownSummary(
  report: BenchReport,
  plots: { overview: string; cases: Record<string, string> },
): string {
  const lines: string[] = [];
  lines.push('# Latency benchmark', '');
  lines.push(
    `Corpus \`${report.corpus}\` (${report.cases.length} cases, ${report.summary[ORACLE]?.turns ?? '?'} turns), run ${report.generated_at} ` +
      `on ${report.machine.cpu} (${report.machine.cores} cores), Node ${report.machine.node}. Audio streamed in real time; ` +
      "providers are the protocol simulators; every system plays into the benchmark's speaker, and e2e is the first " +
      'audible sample of the reply at that speaker minus the true end of the turn. "Over the oracle" and "gap closed" ' +
      'are per-turn (CORPUS.md); a missed turn counts as 10 000 ms.',
    '',
  );
  lines.push(...summaryTable(report.systems, report.summary));
  if (report.fast_cases.length) {
    lines.push(
      '',
      `## Fast-provider cases (${report.fast_cases.length} cases, ${report.summary_fast[ORACLE]?.turns ?? '?'} turns)`,
      '',
      'LLM first token ≤ 200 ms and TTS first audio ≤ 150 ms (CORPUS.md, "Profiles that matter"): the turn decision, not the providers, sets the latency.',
      '',
      ...summaryTable(report.systems, report.summary_fast),
      '',
      `## The other cases (${report.cases.length - report.fast_cases.length} cases, ${report.summary_other[ORACLE]?.turns ?? '?'} turns)`,
      '',
      ...summaryTable(report.systems, report.summary_other),
    );
  }
  if (Object.keys(report.configurations).length) {
    lines.push('', '## Configurations', '');
    for (const name of report.systems) {
      const description = report.configurations[name];
      if (description) lines.push(`- **${name}**: ${description}`);
    }
  }
  if (report.targets.length) {
    lines.push('', "## Targets for Cue's defaults", '', '| target | Cue | goal | met |', '|---|---|---|---|');
    for (const t of report.targets)
      lines.push(`| ${t.name} | ${t.value} | ${t.target} | ${t.met ? 'yes' : '**no**'} |`);
  }
  const marked = report.systems.flatMap((name) =>
    (report.turns[name] ?? []).flatMap((t) => ('missed' in t && outcomeFlags(t).length ? [{ name, t }] : [])),
  );
  if (marked.length) {
    lines.push('', '## Every mark and its cause', '');
    for (const { name, t } of marked)
      lines.push(
        `- ${name} · ${t.case} #${t.turn} (${outcomeFlags(t).join(', ')}): ${t.cause ?? 'no cause found'}`,
      );
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

function summaryTable(
  systems: readonly string[],
  summary: Readonly<Record<string, SystemSummary>>,
): string[] {
  const peers = systems.filter(isPeer);
  const ms = (v: number | null) => (v === null ? '–' : `${v} ms`);
  const num = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(2));
  const lines = [
    `| system | turns | e2e p50 | e2e p95 | over oracle p50 | p95 | max | ${peers.map((p) => `gap closed vs ${p}`).join(' | ')}${peers.length ? ' | ' : ''}false cut-ins | wrong | missed | LLM req/turn | wasted/turn | TTS chars wasted |`,
    `|${'---|'.repeat(12 + peers.length)}`,
  ];
  for (const name of systems) {
    const s = summary[name];
    if (!s) continue;
    const gaps = peers.map((p) => (p === name ? '–' : num(s.gap_closed[p])));
    lines.push(
      `| ${name} | ${s.turns} | ${ms(s.e2e_p50_ms)} | ${ms(s.e2e_p95_ms)} | ${ms(s.over_oracle_p50_ms)} | ${ms(s.over_oracle_p95_ms)} | ` +
        `${ms(s.over_oracle_max_ms)} | ${gaps.join(' | ')}${gaps.length ? ' | ' : ''}${s.false_cutins} | ${s.wrong_replies} | ` +
        `${s.missed_turns} | ${s.llm_requests_per_turn.toFixed(2)} | ${s.wasted_llm_requests_per_turn.toFixed(2)} | ${s.tts_characters_wasted} |`,
    );
  }
  return lines;
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
