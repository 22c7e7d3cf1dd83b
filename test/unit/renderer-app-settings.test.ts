import { describe, expect, it } from 'vitest';
import { defaultSettings, describeOptions, parseSettings, type OptionInfo } from '../../src/shared/settings';
import {
  describeRange,
  fieldKind,
  flattenPatch,
  formatValue,
  mergePatch,
  parseRaw,
  patchOf,
  rawOf,
  splitProblems,
  stepRaw,
  validateDraft,
  valueAt,
} from '../../src/renderer/src/settings/fields';
import { activePreset, PRESETS, presetChanges, presetPatch } from '../../src/renderer/src/settings/presets';
import { groupOptions, sectionOf } from '../../src/renderer/src/settings/sections';
import { TROUBLESHOOTING } from '../../src/renderer/src/settings/troubleshooting';

const options = describeOptions();
const option = (path: string): OptionInfo => {
  const found = options.find((o) => o.path === path);
  if (!found) throw new Error(`no option ${path}`);
  return found;
};

describe('settings sections from describeOptions()', () => {
  const sections = groupOptions(options);

  it('places every option in exactly one group, and none in "Other"', () => {
    const placed = sections.flatMap((s) => s.groups.flatMap((g) => g.options.map((o) => o.path)));
    expect(placed.sort()).toEqual(options.map((o) => o.path).sort());
    expect(sections.map((s) => s.id)).not.toContain('other');
  });

  it('orders the sections as the panel shows them', () => {
    expect(sections.map((s) => s.id)).toEqual([
      'providers',
      'agent',
      'turn',
      'interruptions',
      'preemptive',
      'audio',
      'reply',
      'app',
      'recording',
    ]);
  });

  it('groups by path', () => {
    const byId = Object.fromEntries(sections.map((s) => [s.id, s]));
    const paths = (id: string) => byId[id]!.groups.flatMap((g) => g.options.map((o) => o.path));
    expect(paths('providers')).toEqual(
      expect.arrayContaining(['stt.provider', 'llm.base_url', 'llm.model', 'tts.voice_id']),
    );
    expect(paths('agent')).toEqual([
      'agent.instructions',
      'agent.greeting',
      'agent.min_consecutive_speech_delay',
    ]);
    expect(paths('turn')).toEqual(
      expect.arrayContaining([
        'turn_handling.turn_detection',
        'turn_handling.endpointing.min_delay',
        'turn_handling.turn_detector.threshold',
      ]),
    );
    expect(paths('interruptions').every((p) => p.startsWith('turn_handling.interruption.'))).toBe(true);
    expect(paths('preemptive').every((p) => p.startsWith('turn_handling.preemptive_generation.'))).toBe(true);
    expect(paths('audio').every((p) => p.startsWith('vad.') || p.startsWith('audio.'))).toBe(true);
    expect(paths('audio')).toEqual(
      expect.arrayContaining(['vad.activation_threshold', 'vad.min_silence_duration']),
    );
    expect(sectionOf('turn_handling.endpointing.max_delay')).toBe('turn');
    expect(sectionOf('no.such.option')).toBe('other');
  });

  it('puts an unknown option in "Other" rather than hiding it', () => {
    const extra: OptionInfo = { path: 'future.thing', label: 'Future', description: '', default: 1 };
    const withExtra = groupOptions([...options, extra]);
    expect(withExtra.at(-1)).toMatchObject({ id: 'other', groups: [{ options: [extra] }] });
    expect(sectionOf('app.push_to_talk_shortcut')).toBe('app');
  });

  it('carries each option’s label, meaning, default, unit and range', () => {
    const min = option('turn_handling.endpointing.min_delay');
    expect(min).toMatchObject({ label: 'Min delay', default: 0.9, unit: 's', minimum: 0, maximum: 10 });
    expect(min.description).toMatch(/wait/i);
    expect(describeRange(min)).toBe('0 – 10 s');
    expect(describeRange(option('turn_handling.interruption.min_words'))).toBe('whole number, 0 – 20');
    expect(describeRange(option('turn_handling.endpointing.mode'))).toBe('fixed · dynamic');
    expect(describeRange(option('llm.model'))).toBe('');
    expect(formatValue(min, 0.5)).toBe('0.5 s');
    expect(formatValue(option('turn_handling.interruption.enabled'), true)).toBe('On');
    expect(formatValue(option('agent.greeting'), '')).toBe('(empty)');
  });
});

describe('fields: raw input, parsing and validation in place', () => {
  const settings = defaultSettings();

  it('knows each field kind', () => {
    expect(fieldKind(option('turn_handling.endpointing.min_delay'))).toBe('number');
    expect(fieldKind(option('turn_handling.interruption.enabled'))).toBe('boolean');
    expect(fieldKind(option('turn_handling.turn_detection'))).toBe('choice');
    expect(fieldKind(option('tts.sample_rate'))).toBe('choice');
    expect(fieldKind(option('llm.model'))).toBe('text');
    expect(fieldKind(option('agent.instructions'))).toBe('longtext');
  });

  it('reads numbers and keeps unreadable text as typed', () => {
    const min = option('turn_handling.endpointing.min_delay');
    expect(parseRaw(min, ' 0.8 ')).toBe(0.8);
    expect(parseRaw(min, '.5')).toBe(0.5);
    expect(parseRaw(min, '1e-1')).toBe(0.1);
    expect(parseRaw(min, '0.8s')).toBe('0.8s');
    expect(parseRaw(min, '')).toBe('');
    expect(rawOf(min, 0.5)).toBe('0.5');
    expect(rawOf(option('turn_handling.interruption.enabled'), true)).toBe(true);
  });

  it('accepts a valid draft and builds its patch', () => {
    const v = validateDraft(
      settings,
      { 'turn_handling.endpointing.min_delay': '0.8', 'llm.model': 'gpt-4o-mini' },
      options,
    );
    expect(v.valid).toBe(true);
    expect(v.patch).toEqual({
      turn_handling: { endpointing: { min_delay: 0.8 } },
      llm: { model: 'gpt-4o-mini' },
    });
    expect(v.changed).toEqual(['turn_handling.endpointing.min_delay']);
  });

  it('refuses a number out of range with the schema’s message under the field', () => {
    const v = validateDraft(settings, { 'turn_handling.endpointing.max_delay': '45' }, options);
    expect(v.valid).toBe(false);
    expect(v.byPath['turn_handling.endpointing.max_delay']).toEqual([
      'must be between 0.1 and 30 s (got 45)',
    ]);
    expect(v.general).toEqual([]);
  });

  it('refuses text in a number field, and a fraction in a whole-number field', () => {
    const v = validateDraft(
      settings,
      { 'vad.min_silence_duration': 'soon', 'turn_handling.interruption.min_words': '1.5' },
      options,
    );
    expect(v.byPath['vad.min_silence_duration']![0]).toMatch(
      /^must be a number between 0.05 and 5 s \(got "soon"\)$/,
    );
    expect(v.byPath['turn_handling.interruption.min_words']![0]).toMatch(
      /^must be a whole number between 0 and 20/,
    );
  });

  it('refuses an empty number field', () => {
    const v = validateDraft(settings, { 'vad.prefix_padding': '' }, options);
    expect(v.byPath['vad.prefix_padding']![0]).toMatch(/must be a number/);
  });

  it('refuses a value outside the choices', () => {
    const v = validateDraft(settings, { 'turn_handling.turn_detection': 'telepathy' }, options);
    expect(v.byPath['turn_handling.turn_detection']![0]).toMatch(
      /must be one of "vad", "stt", "manual", "model"/,
    );
  });

  it('reads booleans from switches', () => {
    const enabled = option('turn_handling.interruption.enabled');
    expect(parseRaw(enabled, false)).toBe(false);
    expect(parseRaw(enabled, 'true')).toBe(true);
    const v = validateDraft(settings, { 'turn_handling.interruption.enabled': false }, options);
    expect(v.valid).toBe(true);
    expect(v.patch).toEqual({ turn_handling: { interruption: { enabled: false } } });
  });

  it('reports cross-field rules under the field they name', () => {
    const v = validateDraft(settings, { 'turn_handling.endpointing.max_delay': '0.2' }, options);
    expect(v.byPath['turn_handling.endpointing.min_delay']).toEqual([
      'must be at most max_delay (0.2 s) (got 0.9)',
    ]);
  });

  it('maps main’s settings:update problems to fields, the rest to the form', () => {
    const { byPath, general } = splitProblems(
      ['llm.temperature: must be between 0 and 2 (got 3)', 'bogus: unknown option', 'something went wrong'],
      options,
    );
    expect(byPath).toEqual({ 'llm.temperature': ['must be between 0 and 2 (got 3)'] });
    expect(general).toEqual(['bogus: unknown option', 'something went wrong']);
  });

  it('steps numbers within range on the step grid', () => {
    const min = option('turn_handling.endpointing.min_delay');
    expect(stepRaw(min, '0.5', 1)).toBe('0.55');
    expect(stepRaw(min, '0.05', -1)).toBe('0');
    expect(stepRaw(min, '0', -1)).toBe('0');
    expect(stepRaw(min, 'junk', 1)).toBe('0.95');
    expect(stepRaw(option('stt.nova.endpointing_ms'), '100', 1)).toBe('110');
    expect(stepRaw(option('turn_handling.interruption.min_words'), '20', 1)).toBe('20');
    expect(stepRaw(option('vad.activation_threshold'), '0.5', 1, 2)).toBe('0.6');
  });

  it('merges and flattens patches like main does', () => {
    const patch = patchOf({ 'a.b': 1, 'a.c': 2, d: 3 });
    expect(patch).toEqual({ a: { b: 1, c: 2 }, d: 3 });
    expect(flattenPatch(patch)).toEqual({ 'a.b': 1, 'a.c': 2, d: 3 });
    expect(mergePatch({ a: { b: 0, x: 9 }, d: 0 }, patch)).toEqual({ a: { b: 1, c: 2, x: 9 }, d: 3 });
    expect(valueAt(settings, 'turn_handling.endpointing.min_delay')).toBe(0.9);
    expect(valueAt(settings, 'nope.nope')).toBeUndefined();
  });
});

describe('presets', () => {
  it('are valid settings patches over the same options', () => {
    const paths = Object.keys(PRESETS[0]!.values).sort();
    for (const preset of PRESETS) {
      expect(Object.keys(preset.values).sort()).toEqual(paths);
      for (const path of paths) expect(options.some((o) => o.path === path)).toBe(true);
      expect(() => parseSettings(mergePatch(defaultSettings() as never, presetPatch(preset)))).not.toThrow();
      expect(flattenPatch(presetPatch(preset))).toEqual(preset.values);
    }
    expect(PRESETS.map((p) => p.id)).toEqual(['fast', 'balanced', 'patient']);
  });

  it('balanced is the defaults, and fast and patient pull the documented way', () => {
    const defaults = defaultSettings();
    expect(activePreset(defaults)).toBe('balanced');
    const [fast, , patient] = PRESETS;
    expect(fast!.values).toMatchObject({
      'turn_handling.endpointing.min_delay': 0.3,
      'turn_handling.preemptive_generation.preemptive_tts': true,
      'turn_handling.preemptive_generation.interim_stability': 0,
    });
    expect(patient!.values).toMatchObject({
      'turn_handling.endpointing.min_delay': 1.2,
      'turn_handling.endpointing.max_delay': 4,
      'turn_handling.turn_detection': 'model',
      'turn_handling.interruption.min_words': 1,
    });
  });

  it('show what they change', () => {
    const defaults = defaultSettings();
    const fast = PRESETS[0]!;
    const changes = presetChanges(fast, defaults);
    expect(changes).toContainEqual({ path: 'turn_handling.endpointing.min_delay', from: 0.9, to: 0.3 });
    expect(changes.map((c) => c.path)).not.toContain('turn_handling.turn_detection');
    const applied = parseSettings(mergePatch(defaults as never, presetPatch(fast)));
    expect(presetChanges(fast, applied)).toEqual([]);
    expect(activePreset(applied)).toBe('fast');
  });
});

describe('troubleshooting', () => {
  it('covers the issue’s symptoms', () => {
    const titles = TROUBLESHOOTING.map((s) => s.title.toLowerCase()).join('\n');
    expect(titles).toMatch(/cuts me off/);
    expect(titles).toMatch(/too slow/);
    expect(titles).toMatch(/half my sentence/);
    expect(titles).toMatch(/uh-huh/);
  });

  it('points only at existing options, each once per symptom', () => {
    const paths = new Set(options.map((o) => o.path));
    for (const symptom of TROUBLESHOOTING) {
      expect(symptom.fixes.length).toBeGreaterThan(0);
      for (const fix of symptom.fixes) expect(paths.has(fix.path), `${symptom.id}: ${fix.path}`).toBe(true);
      const own = symptom.fixes.map((f) => f.path);
      expect(new Set(own).size).toBe(own.length);
    }
    expect(new Set(TROUBLESHOOTING.map((s) => s.id)).size).toBe(TROUBLESHOOTING.length);
  });
});
