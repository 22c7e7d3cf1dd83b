import { describe, expect, it } from 'vitest';
import {
  describeFigures,
  presetFigures,
  type PresetFiguresFile,
} from '../../src/renderer/src/settings/preset-figures';
import { PRESETS } from '../../src/renderer/src/settings/presets';

const file: PresetFiguresFile = {
  command: 'npm run bench:curve',
  corpus: 'bench/corpus/tune',
  presets: {
    fast: {
      values: { ...PRESETS[0]!.values },
      turns: 32,
      over_oracle_p50_ms: 78,
      over_oracle_p95_ms: 134,
      false_cutins: 2,
      wrong_replies: 0,
      missed_turns: 0,
    },
  },
};

describe('preset figures', () => {
  it('are measured for every preset with the values it has now (else run npm run bench:curve)', () => {
    for (const preset of PRESETS) expect(presetFigures(preset), preset.id).toBeDefined();
  });

  it('are not shown for a preset whose values changed since they were measured', () => {
    const fast = PRESETS[0]!;
    expect(presetFigures(fast, file)).toBeDefined();
    const edited = { ...fast, values: { ...fast.values, 'turn_handling.endpointing.min_delay': 0.35 } };
    expect(presetFigures(edited, file)).toBeUndefined();
    const fewer = { ...fast, values: { 'turn_handling.endpointing.min_delay': 0.3 } };
    expect(presetFigures(fewer, file)).toBeUndefined();
    expect(presetFigures(PRESETS[1]!, file)).toBeUndefined();
  });

  it('read as one sentence with where and how they were measured', () => {
    expect(describeFigures(file.presets.fast!, file)).toBe(
      'Measured on bench/corpus/tune (npm run bench:curve): answered 78 ms after the fastest possible reply ' +
        '(median; 134 ms at the 95th percentile); cut in on 2 of 32 turns.',
    );
    expect(describeFigures({ ...file.presets.fast!, wrong_replies: 1, missed_turns: 2 }, file)).toContain(
      'cut in on 2 of 32 turns, 1 wrong and 2 missed.',
    );
  });
});
