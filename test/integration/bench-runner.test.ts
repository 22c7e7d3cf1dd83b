/**
 * The benchmark runner end to end on one short corpus case, in real time: Cue (with and without
 * preemption) against the simulators, plus the oracle; the report files are written. Timings are
 * not asserted (they belong to `npm run bench`); what is measured and written is.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBenchmark, writeReport } from '../../bench/bench';
import type { BenchReport } from '../../bench/report';
import { parseSettings } from '../../src/shared/settings';

const CASE = 'command-volume-down';

describe('npm run bench (runner)', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs the systems case by case and writes the JSON report, the Markdown summary and the plots', async () => {
    const report = await runBenchmark({
      corpus: 'bench/corpus/tune',
      systems: ['cue', 'cue-no-preempt', 'oracle'],
      cases: [CASE],
      cueSettings: parseSettings({}),
    });
    expect(report.cases).toEqual([CASE]);
    for (const system of ['cue', 'cue-no-preempt', 'oracle']) {
      const summary = report.summary[system]!;
      expect(Object.keys(summary)).toEqual(
        expect.arrayContaining([
          'turns',
          'e2e_p50_ms',
          'e2e_p95_ms',
          'false_cutins',
          'wrong_replies',
          'missed_turns',
          'llm_requests_per_turn',
          'wasted_llm_requests_per_turn',
          'over_oracle_p50_ms',
          'over_oracle_p95_ms',
          'over_oracle_max_ms',
          'gap_closed',
        ]),
      );
      expect(summary.turns).toBe(1);
      expect(summary.missed_turns).toBe(0);
      expect(summary.wrong_replies).toBe(0);
      expect(summary.e2e_p50_ms).toBeGreaterThan(0);
    }
    // No system answers sooner than the oracle's bound.
    expect(report.summary.cue!.e2e_p50_ms!).toBeGreaterThanOrEqual(report.summary.oracle!.e2e_p50_ms!);
    expect(report.summary['cue-no-preempt']!.llm_requests_per_turn).toBe(1);
    // Measured at the benchmark's speaker: the per-turn differences to the oracle are there.
    expect(report.summary.cue!.over_oracle_p50_ms).toBe(
      report.summary.cue!.e2e_p50_ms! - report.summary.oracle!.e2e_p50_ms!,
    );
    expect(report.targets.map((t) => t.name)).toContain('over the oracle, p50 of per-turn differences');
    expect(report.configurations.cue).toMatch(/defaults/);

    dir = await mkdtemp(join(tmpdir(), 'cue-bench-'));
    const written = await writeReport(report, join(dir, 'report.json'));
    const json = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as BenchReport;
    expect(json.summary.cue!.turns).toBe(1);
    const markdown = await readFile(join(dir, 'report.md'), 'utf8');
    expect(markdown).toContain('| cue |');
    expect(markdown).toContain(`![${CASE}](plots/${CASE}.svg)`);
    expect((await readdir(join(dir, 'plots'))).sort()).toEqual([`${CASE}.svg`, 'latency-all.svg']);
    expect(written).toHaveLength(4);
  }, 60_000);
});
