/** The latency / cut-in curve of `npm run bench:curve`: the Pareto front and the plot. */
import { describe, expect, it } from 'vitest';
import { curveSvg, markPareto, type CurvePoint } from '../../bench/curve';

const point = (label: string, p50: number, cutins: number): CurvePoint => ({
  label,
  turns: 32,
  options: {},
  over_oracle_p50_ms: p50,
  over_oracle_p95_ms: p50 * 2,
  false_cutins: cutins,
  wrong_replies: 0,
  missed_turns: 0,
  wasted_llm_requests_per_turn: 0,
  pareto: false,
});

describe('bench:curve', () => {
  it('marks the points no other beats on both latency and cut-ins', () => {
    const points = [
      point('grid', 80, 2),
      point('grid', 130, 1),
      point('grid', 140, 1),
      point('grid', 250, 0),
      point('grid', 90, 2),
    ];
    markPareto(points);
    expect(points.map((p) => p.pareto)).toEqual([true, true, false, true, false]);
  });

  it('plots every point, names the presets and joins the front', () => {
    const points = [point('balanced', 80, 2), point('grid', 130, 1), point('patient', 250, 0)];
    markPareto(points);
    const svg = curveSvg(points, 'a <title>');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('a &lt;title&gt;');
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg).toContain('>balanced</text>');
    expect(svg).toContain('>patient</text>');
    expect(svg).toContain('<polyline');
  });
});
