import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSettingsStore, mergeSettings, salvageSettings } from '../../src/main/app/settings-store';
import { defaultSettings, parseSettings, SettingsError } from '../../src/shared/settings';
import type { Settings } from '../../src/shared/settings';
import { SETTINGS_SCHEMA_VERSION } from '../../src/shared/settings-migrations';

let dir: string;
const NOW = new Date('2025-03-04T05:06:07.890Z');
const store = () => new FileSettingsStore({ dir, now: () => NOW });
const settingsFile = () => join(dir, 'settings.json');
const backupFile = () => join(dir, 'settings.backup.json');
const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
/** The file as saved: the schema version, then the settings. */
const asSaved = (settings: Settings) => ({ schema_version: SETTINGS_SCHEMA_VERSION, ...settings });
const corruptFiles = () => readdirSync(dir).filter((name) => /^settings\.corrupt-.*\.json$/.test(name));

function customised(): Settings {
  const s = defaultSettings();
  s.turn_handling.endpointing.max_delay = 5;
  s.turn_handling.turn_detection = 'stt';
  s.vad.activation_threshold = 0.6;
  s.llm.model = 'my-model';
  return s;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cue-settings-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('FileSettingsStore', () => {
  it('gives the defaults without a notice when there is no file', () => {
    expect(store().load()).toEqual({ settings: defaultSettings(), notices: [] });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('round-trips the full settings', () => {
    const s = customised();
    store().save(s);
    expect(readJson(settingsFile())).toEqual(asSaved(s));
    expect(store().load()).toEqual({ settings: s, notices: [] });
  });

  it('creates the user data folder if needed', () => {
    dir = join(dir, 'nested', 'Cue');
    store().save(customised());
    expect(store().load().settings).toEqual(customised());
  });

  it('writes atomically: no temp file left, the previous good file kept as the backup', () => {
    const first = customised();
    store().save(first);
    expect(existsSync(backupFile())).toBe(false);
    const second = structuredClone(first);
    second.llm.model = 'other-model';
    store().save(second);
    expect(readdirSync(dir).sort()).toEqual(['settings.backup.json', 'settings.json']);
    expect(readJson(settingsFile())).toEqual(asSaved(second));
    expect(readJson(backupFile())).toEqual(asSaved(first));
  });

  it('refuses to save invalid settings and leaves the file alone', () => {
    store().save(customised());
    const bad = customised();
    bad.turn_handling.endpointing.min_delay = -1;
    expect(() => store().save(bad)).toThrow(SettingsError);
    expect(readJson(settingsFile())).toEqual(asSaved(customised()));
    expect(readdirSync(dir)).toEqual(['settings.json']);
  });

  it('does not overwrite the backup with a broken file when saving, and keeps that file aside', () => {
    store().save(customised());
    store().save(customised());
    writeFileSync(settingsFile(), '{ "oops": ');
    store().save(defaultSettings());
    expect(readJson(backupFile())).toEqual(asSaved(customised()));
    expect(corruptFiles()).toHaveLength(1);
    expect(readFileSync(join(dir, corruptFiles()[0]!), 'utf8')).toBe('{ "oops": ');
  });

  it('uses the backup when settings.json is not valid JSON, with a notice naming the file', () => {
    const good = customised();
    store().save(good);
    store().save(good);
    writeFileSync(settingsFile(), '{ "vad": { "model": "silero-v5", ');

    const { settings, notices } = store().load();
    expect(settings).toEqual(good);
    expect(notices).toHaveLength(1);
    expect(notices[0]!.level).toBe('warning');
    expect(notices[0]!.message).toContain(settingsFile());
    expect(notices[0]!.message).toContain('is not valid JSON');
    expect(notices[0]!.message).toContain(backupFile());

    // the broken file is kept as the user left it, and the notice says where
    const aside = corruptFiles();
    expect(aside).toEqual(['settings.corrupt-2025-03-04T05-06-07.890Z.json']);
    expect(readFileSync(join(dir, aside[0]!), 'utf8')).toBe('{ "vad": { "model": "silero-v5", ');
    expect(notices[0]!.message).toContain(join(dir, aside[0]!));

    // settings.json is repaired: the next start is quiet
    expect(store().load()).toEqual({ settings: good, notices: [] });
    expect(readdirSync(dir)).not.toContain('settings.json.tmp');
  });

  it('falls back to the defaults when both the file and the backup are unreadable', () => {
    writeFileSync(settingsFile(), 'not json at all');
    writeFileSync(backupFile(), '');
    const { settings, notices } = store().load();
    expect(settings).toEqual(defaultSettings());
    expect(notices).toHaveLength(1);
    expect(notices[0]!.level).toBe('warning');
    expect(notices[0]!.message).toContain(settingsFile());
    expect(notices[0]!.message).toContain('is empty');
    expect(notices[0]!.message).toContain('reset to its default');
    expect(corruptFiles()).toHaveLength(1);
    expect(readFileSync(join(dir, corruptFiles()[0]!), 'utf8')).toBe('not json at all');
  });

  it('falls back to the defaults when the file is corrupt and there is no backup', () => {
    writeFileSync(settingsFile(), '[1, 2, 3]');
    const { settings, notices } = store().load();
    expect(settings).toEqual(defaultSettings());
    expect(notices[0]!.message).toContain('there is no backup');
    expect(notices[0]!.message).toContain('does not hold a settings object');
  });

  it('drops only an invalid option, keeps the others, names the field and why, and keeps the original', () => {
    const text = JSON.stringify(
      {
        vad: { activation_threshold: 0.6 },
        turn_handling: { turn_detection: 'stt', endpointing: { min_delay: -3, max_delay: 5 } },
        llm: { model: 'my-model' },
      },
      null,
      2,
    );
    writeFileSync(settingsFile(), text);

    const { settings, notices } = store().load();
    expect(settings).toEqual(customised());
    expect(settings.turn_handling.endpointing.min_delay).toBe(0.9);
    expect(notices).toHaveLength(1);
    const { level, message } = notices[0]!;
    expect(level).toBe('warning');
    expect(message).toContain(settingsFile());
    expect(message).toContain('turn_handling.endpointing.min_delay: must be between 0 and 10 s (got -3)');
    expect(message).toContain('reset to the default 0.9');
    expect(message).toContain('every other setting was kept');

    const aside = corruptFiles();
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0]!), 'utf8')).toBe(text);
    expect(message).toContain(join(dir, aside[0]!));

    // the repaired file is written back, so the next start is quiet
    expect(readJson(settingsFile())).toEqual(asSaved(customised()));
    expect(store().load()).toEqual({ settings: customised(), notices: [] });
  });

  it('keeps unknown options in the file instead of dropping them, and names them', () => {
    writeFileSync(
      settingsFile(),
      JSON.stringify({ llm: { model: 'my-model', colour: 'blue' }, theme: 'dark', constructor: 1 }),
    );
    const { settings, notices } = store().load();
    expect(settings.llm.model).toBe('my-model');
    expect(settings).not.toHaveProperty('theme');
    expect(notices).toHaveLength(1);
    expect(notices[0]!.level).toBe('warning');
    expect(notices[0]!.message).toMatch(/does not know are not used, and kept in the file unchanged: /);
    expect(notices[0]!.message).toContain('llm.colour, theme, constructor');
    expect(corruptFiles()).toHaveLength(0);
    // A save keeps them where they were.
    const changed = structuredClone(settings);
    changed.llm.temperature = 1.1;
    store().save(changed);
    const saved = readJson(settingsFile()) as Record<string, Record<string, unknown>>;
    expect(saved.llm!.colour).toBe('blue');
    expect(saved.llm!.temperature).toBe(1.1);
    expect(saved.theme).toBe('dark');
    expect(saved.constructor).toBe(1);
  });

  it('repairs several problems at once, including a whole group of the wrong type', () => {
    writeFileSync(
      settingsFile(),
      JSON.stringify({
        vad: 'loud',
        stt: { nova: { endpointing_ms: 2.5, model: 'nova-2' } },
        turn_handling: { turn_detection: 'magic', preemptive_generation: { max_retries: 5 } },
      }),
    );
    const { settings, notices } = store().load();
    const expected = defaultSettings();
    expected.stt.nova.model = 'nova-2';
    expected.turn_handling.preemptive_generation.max_retries = 5;
    expect(settings).toEqual(expected);
    const message = notices[0]!.message;
    expect(message).toContain('vad:');
    expect(message).toContain('stt.nova.endpointing_ms: must be a whole number');
    expect(message).toContain('turn_handling.turn_detection: must be one of');
  });

  it('resolves a cross-field rule broken against a default by resetting the group', () => {
    // activation 0.3 is valid alone, but below the default deactivation threshold (0.35)
    writeFileSync(
      settingsFile(),
      JSON.stringify({ vad: { activation_threshold: 0.3 }, llm: { model: 'm' } }),
    );
    const { settings, notices } = store().load();
    expect(settings.vad).toEqual(defaultSettings().vad);
    expect(settings.llm.model).toBe('m');
    expect(notices[0]!.message).toContain('vad: all its options reset to their defaults, because');
    expect(notices[0]!.message).toContain('vad.deactivation_threshold');
  });

  it('resolves a cross-field rule by dropping the field it names', () => {
    writeFileSync(
      settingsFile(),
      JSON.stringify({ turn_handling: { endpointing: { min_delay: 2, max_delay: 1 } } }),
    );
    const { settings } = store().load();
    expect(settings.turn_handling.endpointing).toMatchObject({ min_delay: 0.9, max_delay: 1 });
  });

  it('repairs an invalid backup the same way when it is used', () => {
    writeFileSync(settingsFile(), '{');
    writeFileSync(backupFile(), JSON.stringify({ llm: { model: 'kept', temperature: 9 } }));
    const { settings, notices } = store().load();
    expect(settings.llm).toMatchObject({ model: 'kept', temperature: 0.7 });
    expect(notices[0]!.message).toContain('llm.temperature');
  });

  it('reads a file with a byte-order mark (Windows editors)', () => {
    writeFileSync(settingsFile(), `\uFEFF${JSON.stringify({ llm: { model: 'bom' } })}`);
    expect(store().load()).toEqual({
      settings: mergeSettings(defaultSettings(), { llm: { model: 'bom' } }),
      notices: [],
    });
  });

  it('never overwrites an earlier corrupt copy', () => {
    writeFileSync(settingsFile(), 'first');
    store().load();
    writeFileSync(settingsFile(), 'second');
    store().load();
    expect(corruptFiles().sort()).toEqual([
      'settings.corrupt-2025-03-04T05-06-07.890Z-1.json',
      'settings.corrupt-2025-03-04T05-06-07.890Z.json',
    ]);
    expect(readFileSync(join(dir, 'settings.corrupt-2025-03-04T05-06-07.890Z-1.json'), 'utf8')).toBe(
      'second',
    );
  });
});

describe('salvageSettings', () => {
  it('keeps an empty object as the defaults, dropping nothing', () => {
    expect(salvageSettings({})).toEqual({
      settings: defaultSettings(),
      dropped: [],
      unknown: [],
      extras: {},
    });
  });
});

describe('mergeSettings', () => {
  it('deep-merges a partial patch over full settings without touching its inputs', () => {
    const current = defaultSettings();
    const before = structuredClone(current);
    const patch = { turn_handling: { endpointing: { min_delay: 0.8 } }, llm: { model: 'x' } };
    const merged = parseSettings(mergeSettings(current, patch));
    expect(merged.turn_handling.endpointing).toEqual({ mode: 'fixed', min_delay: 0.8, max_delay: 3 });
    expect(merged.turn_handling.interruption).toEqual(current.turn_handling.interruption);
    expect(merged.llm.model).toBe('x');
    expect(merged.llm.temperature).toBe(current.llm.temperature);
    expect(current).toEqual(before);
    expect(patch).toEqual({ turn_handling: { endpointing: { min_delay: 0.8 } }, llm: { model: 'x' } });
  });

  it('replaces primitives, arrays and null, and ignores undefined', () => {
    const current = defaultSettings();
    const merged = mergeSettings(current, {
      llm: { model: undefined, temperature: 1.2 },
      vad: null,
      reply: ['a'],
    }) as Record<string, Record<string, unknown> | null | unknown[]>;
    expect((merged.llm as Record<string, unknown>).model).toBe(current.llm.model);
    expect((merged.llm as Record<string, unknown>).temperature).toBe(1.2);
    expect(merged.vad).toBeNull();
    expect(merged.reply).toEqual(['a']);
  });

  it('leaves invalid values for parseSettings to report', () => {
    expect(() =>
      parseSettings(mergeSettings(defaultSettings(), { turn_handling: { endpointing: { min_delay: -3 } } })),
    ).toThrow(/turn_handling\.endpointing\.min_delay/);
    expect(() => parseSettings(mergeSettings(defaultSettings(), { nope: 1 }))).toThrow(
      /nope: unknown option/,
    );
  });

  it('does not let a "__proto__" key change the prototype', () => {
    const patch = JSON.parse(
      '{ "__proto__": { "polluted": true }, "llm": { "__proto__": { "x": 1 } } }',
    ) as Record<string, unknown>;
    const merged = mergeSettings(defaultSettings(), patch);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(merged.llm)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
