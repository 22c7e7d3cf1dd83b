import type { ReplayComparison, TurnSide } from '../../shared/recording';

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${Math.round(v)}`);

function delta(a: number | null | undefined, b: number | null | undefined): string {
  if (a === null || a === undefined || b === null || b === undefined) return '';
  const d = Math.round(b - a);
  return d === 0 ? ' (=)' : ` (${d > 0 ? '+' : ''}${d})`;
}

function side(t: TurnSide | null): string {
  if (!t) return 'no turn';
  return `e2e ${ms(t.e2e_ms)} ms, end-of-turn ${ms(t.end_of_turn_delay_ms)} ms, ${t.llm_requests_wasted} wasted${t.cut_in ? ', CUT-IN' : ''}`;
}

/** The recording against its replay, as lines for a terminal. */
export function comparisonLines(c: ReplayComparison): string[] {
  const lines: string[] = [];
  lines.push(
    c.changed.length
      ? `changed: ${c.changed.map((x) => `${x.path} ${JSON.stringify(x.from)} -> ${JSON.stringify(x.to)}`).join(', ')}`
      : 'changed: nothing (the recording’s own settings)',
  );
  for (const a of c.approximate) lines.push(`APPROXIMATE ${a.path}: ${a.reason}`);
  for (const f of c.fidelity) lines.push(`  ${f}`);
  for (const t of c.turns) {
    const words = (t.recorded ?? t.replayed)?.transcript ?? '';
    lines.push(`turn ${t.index} ${JSON.stringify(words)}`);
    lines.push(`  recorded: ${side(t.recorded)}`);
    lines.push(
      `  replayed: ${side(t.replayed)}${delta(t.recorded?.e2e_ms, t.replayed?.e2e_ms) ? ` e2e${delta(t.recorded?.e2e_ms, t.replayed?.e2e_ms)}` : ''}`,
    );
  }
  const r = c.recorded.totals;
  const p = c.replayed.totals;
  lines.push(
    `totals: turns ${r.turns} -> ${p.turns}, e2e p50 ${ms(r.e2e_p50_ms)} -> ${ms(p.e2e_p50_ms)} ms, ` +
      `cut-ins ${r.cut_ins} -> ${p.cut_ins}, wasted requests ${r.llm_requests_wasted} -> ${p.llm_requests_wasted}`,
  );
  lines.push(
    `replayed ${(c.audio_ms / 1000).toFixed(1)} s of audio in ${(c.elapsed_ms / 1000).toFixed(2)} s`,
  );
  return lines;
}
