import { describe, expect, it } from 'vitest';
import { mergePatch, valueAt } from '../../src/renderer/src/settings/fields';
import { PRESETS, presetPatch } from '../../src/renderer/src/settings/presets';
import {
  adviseSymptom,
  nextValue,
  TROUBLESHOOTING,
  type Advice,
  type Fix,
} from '../../src/renderer/src/settings/troubleshooting';
import { defaultSettings, describeOptions, parseSettings, type Settings } from '../../src/shared/settings';

const options = describeOptions();
const byPath = new Map(options.map((o) => [o.path, o]));
const defaults = defaultSettings();
const over = (patch: Record<string, unknown>): Settings =>
  parseSettings(mergePatch(defaults as unknown as Record<string, unknown>, patch));

/** The defaults, each preset over the defaults, and the defaults with Deepgram Flux. */
const BASES: [string, Settings][] = [
  ['defaults', defaults],
  ...PRESETS.map((p): [string, Settings] => [`preset ${p.id}`, over(presetPatch(p))]),
  ['defaults with Flux', over({ stt: { provider: 'deepgram-flux' } })],
];

function adviceFor(settings: Settings, symptomId: string, path: string): Advice {
  const symptom = TROUBLESHOOTING.find((s) => s.id === symptomId)!;
  return adviseSymptom(symptom, settings, options).find((a) => a.path === path)!;
}

describe('troubleshooting advice moves each option the right way from its current value', () => {
  for (const [name, settings] of BASES) {
    it(`every tip, from the ${name}`, () => {
      for (const symptom of TROUBLESHOOTING) {
        const advice = adviseSymptom(symptom, settings, options);
        expect(advice.map((a) => a.path)).toEqual(symptom.fixes.map((f) => f.path));
        advice.forEach((a, i) => {
          const fix: Fix = symptom.fixes[i]!;
          const where = `${name} / ${symptom.id} / ${fix.path}: ${a.text}`;
          const current = valueAt(settings, fix.path);
          const option = byPath.get(fix.path)!;
          if (fix.when) {
            const applies = valueAt(settings, fix.when.path) === fix.when.value;
            expect(a.action === 'inactive', where).toBe(!applies);
            if (!applies) return;
          }
          switch (a.action) {
            case 'change': {
              expect(a.target, where).not.toEqual(current);
              // The target is a valid setting beside all the others.
              expect(
                () => over(mergePatch(settings as never, patchFor(fix.path, a.target))),
                where,
              ).not.toThrow();
              if (fix.move.kind === 'raise')
                expect(a.target as number, where).toBeGreaterThan(current as number);
              if (fix.move.kind === 'lower')
                expect(a.target as number, where).toBeLessThan(current as number);
              if (fix.move.kind === 'set') expect(a.target, where).toBe(fix.move.value);
              if (typeof a.target === 'number') {
                expect(a.target, where).toBeGreaterThanOrEqual(option.minimum ?? -Infinity);
                expect(a.target, where).toBeLessThanOrEqual(option.maximum ?? Infinity);
              }
              break;
            }
            case 'already': {
              if (fix.move.kind === 'set') expect(current, where).toBe(fix.move.value);
              if (fix.move.kind === 'raise') expect(current, where).toBe(option.maximum);
              if (fix.move.kind === 'lower') expect(current, where).toBe(option.minimum);
              expect(a.text, where).toMatch(/Next lever: |Nothing else here to change\./);
              const lever = /Next lever: (.+)\.$/.exec(a.text)?.[1];
              if (lever) {
                const target = advice.find((b) => byPath.get(b.path)!.label === lever);
                expect(target?.action, where).toMatch(/change|consider/);
              }
              break;
            }
            case 'consider':
              expect(fix.move.kind, where).toBe('consider');
              break;
            case 'blocked':
              expect(a.text, where).toMatch(/Cannot move it further now: /);
              break;
            case 'inactive':
              throw new Error(`${where}: inactive although its condition holds`);
          }
        });
      }
    });
  }

  it('interim stability at 0.05 s (the default) is lowered, not raised to 0.2 s', () => {
    const advice = adviceFor(defaults, 'too-slow', 'turn_handling.preemptive_generation.interim_stability');
    expect(advice.action).toBe('change');
    expect(advice.target).toBe(0);
    expect(advice.text).toBe(
      'Lower it from 0.05 s to 0 s: speculation starts sooner on interim transcripts.',
    );
    // At 0 (the fast preset) it cannot go lower: the next lever is named instead.
    const fast = over(presetPatch(PRESETS.find((p) => p.id === 'fast')!));
    const there = adviceFor(fast, 'too-slow', 'turn_handling.preemptive_generation.interim_stability');
    expect(there.action).toBe('already');
    expect(there.text).toMatch(/^Already at its lowest \(0 s\)\. Next lever: /);
  });

  it('"Use model" when it is already model says so and points to the next lever', () => {
    const advice = adviceFor(defaults, 'cuts-me-off', 'turn_handling.turn_detection');
    expect(advice).toEqual({
      path: 'turn_handling.turn_detection',
      action: 'already',
      text: 'Already model. Next lever: Min delay.',
    });
    const vad = adviceFor(
      over({ turn_handling: { turn_detection: 'vad' } }),
      'cuts-me-off',
      'turn_handling.turn_detection',
    );
    expect(vad.action).toBe('change');
    expect(vad.text).toMatch(/^Use "model": /);
  });

  it('a move another option forbids is named, not offered', () => {
    // Activation may not go below deactivation (0.35): from 0.36 a step down would cross it.
    const settings = over({ vad: { activation_threshold: 0.36, deactivation_threshold: 0.35 } });
    const advice = adviceFor(settings, 'cannot-interrupt', 'vad.activation_threshold');
    expect(advice.action).toBe('blocked');
    expect(advice.text).toContain('deactivation_threshold');
  });

  it('steps by about half the value when the suggestion lies on the wrong side', () => {
    const minDelay = byPath.get('turn_handling.endpointing.min_delay')!;
    expect(nextValue(minDelay, 0.4, false, 0.3)).toBe(0.3);
    expect(nextValue(minDelay, 0.2, false, 0.3)).toBe(0.1);
    expect(nextValue(minDelay, 0.8, true, 0.8)).toBe(1.2);
    expect(nextValue(minDelay, 0, false)).toBeNull();
    expect(nextValue(minDelay, 10, true)).toBeNull();
    const words = byPath.get('turn_handling.interruption.min_words')!;
    expect(nextValue(words, 1, true, 1)).toBe(2);
  });
});

function patchFor(path: string, value: unknown): Record<string, unknown> {
  const keys = path.split('.');
  const patch: Record<string, unknown> = {};
  let node = patch;
  keys.slice(0, -1).forEach((key) => {
    node[key] = {};
    node = node[key] as Record<string, unknown>;
  });
  node[keys.at(-1)!] = value;
  return patch;
}
