/**
 * Settings across versions (src/shared/settings-migrations.ts and the settings store): a renamed
 * or moved option keeps its value, a narrowed range clamps instead of resetting, files of a newer
 * Cue are read as they are and keep what this version does not know, and the project's own table
 * leads exactly to SETTINGS_SCHEMA_VERSION. The table used here is a test table over real option
 * paths, as a future schema change would write it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSettingsStore } from '../../src/main/app/settings-store';
import { defaultSettings } from '../../src/shared/settings';
import {
  migrateSettings,
  SETTINGS_MIGRATIONS,
  SETTINGS_SCHEMA_VERSION,
  type SettingsMigrationStep,
} from '../../src/shared/settings-migrations';

/** Version 2 renamed two options (one moved into a group); version 3 narrowed max_retries to 0–10. */
const STEPS: SettingsMigrationStep[] = [
  {
    version: 3,
    changes: [{ kind: 'clamp', path: 'turn_handling.preemptive_generation.max_retries', min: 0, max: 10 }],
  },
  {
    version: 2,
    changes: [
      {
        kind: 'rename',
        from: 'turn_handling.min_endpointing_delay',
        to: 'turn_handling.endpointing.min_delay',
      },
      { kind: 'rename', from: 'llm.request_timeout', to: 'llm.timeout' },
    ],
  },
];
const TABLE = { steps: STEPS, currentVersion: 3 };

describe('migrateSettings', () => {
  it('moves renamed options with their values and clamps a narrowed range, in version order', () => {
    const raw = {
      turn_handling: { min_endpointing_delay: 0.8, preemptive_generation: { max_retries: 15 } },
      llm: { request_timeout: 30, model: 'm' },
    };
    const result = migrateSettings(raw, TABLE);
    expect(result.fromVersion).toBe(1);
    expect(result.newer).toBe(false);
    expect(result.settings).toEqual({
      turn_handling: { preemptive_generation: { max_retries: 10 }, endpointing: { min_delay: 0.8 } },
      llm: { model: 'm', timeout: 30 },
    });
    expect(result.notes).toEqual([
      'turn_handling.min_endpointing_delay is now turn_handling.endpointing.min_delay (0.8 kept)',
      'llm.request_timeout is now llm.timeout (30 kept)',
      'turn_handling.preemptive_generation.max_retries is now between 0 and 10: 15 became 10',
    ]);
    // The input is not modified.
    expect(raw.turn_handling.min_endpointing_delay).toBe(0.8);
  });

  it('runs only the steps after the file version', () => {
    const raw = {
      schema_version: 2,
      turn_handling: { min_endpointing_delay: 0.8, preemptive_generation: { max_retries: 12 } },
    };
    const result = migrateSettings(raw, TABLE);
    expect(result.fromVersion).toBe(2);
    // Version 2 files no longer have that name: it is left for the store to keep as unknown.
    expect(result.settings).toEqual({
      turn_handling: { min_endpointing_delay: 0.8, preemptive_generation: { max_retries: 10 } },
    });
    expect(result.notes).toHaveLength(1);
  });

  it('keeps a value already in range, and the new name when the file has both', () => {
    const raw = {
      turn_handling: {
        min_endpointing_delay: 0.8,
        endpointing: { min_delay: 0.3 },
        preemptive_generation: { max_retries: 4 },
      },
    };
    const result = migrateSettings(raw, TABLE);
    expect(result.settings).toEqual({
      turn_handling: { endpointing: { min_delay: 0.3 }, preemptive_generation: { max_retries: 4 } },
    });
    expect(result.notes).toEqual([
      'turn_handling.min_endpointing_delay is now turn_handling.endpointing.min_delay, which the file already sets: its turn_handling.endpointing.min_delay was kept',
    ]);
  });

  it('reads a file of a newer version as it is', () => {
    const raw = { schema_version: 7, turn_handling: { min_endpointing_delay: 0.8 }, future: { x: 1 } };
    const result = migrateSettings(raw, TABLE);
    expect(result).toEqual({
      settings: { turn_handling: { min_endpointing_delay: 0.8 }, future: { x: 1 } },
      fromVersion: 7,
      newer: true,
      notes: [],
    });
  });

  it('treats a missing or malformed version as version 1', () => {
    for (const schema_version of [undefined, 0, -2, 1.5, '2', null]) {
      const result = migrateSettings({ schema_version, llm: { request_timeout: 9 } }, TABLE);
      expect(result.fromVersion, String(schema_version)).toBe(1);
      expect(result.settings).toEqual({ llm: { timeout: 9 } });
    }
  });
});

describe('the settings store across versions', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cue-settings-versions-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const file = () => join(dir, 'settings.json');
  const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

  it('migrates an old file: values kept, not reset with a warning; the old file kept aside; quiet next time', () => {
    const old = JSON.stringify({
      turn_handling: { min_endpointing_delay: 0.8, preemptive_generation: { max_retries: 15 } },
      llm: { request_timeout: 30 },
    });
    writeFileSync(file(), old);
    const store = new FileSettingsStore({ dir, migrations: TABLE });
    const { settings, notices } = store.load();
    const expected = defaultSettings();
    expected.turn_handling.endpointing.min_delay = 0.8;
    expected.turn_handling.preemptive_generation.max_retries = 10;
    expected.llm.timeout = 30;
    expect(settings).toEqual(expected);
    expect(notices).toHaveLength(1);
    expect(notices[0]!.level).toBe('info');
    expect(notices[0]!.message).toContain('Settings were updated from version 1 to 3');
    expect(notices[0]!.message).toContain('15 became 10');
    expect(readFileSync(join(dir, 'settings.v1.json'), 'utf8')).toBe(old);
    expect(readJson(file()).schema_version).toBe(3);
    expect(new FileSettingsStore({ dir, migrations: TABLE }).load()).toEqual({
      settings: expected,
      notices: [],
    });
  });

  it('without the migration, the same file would lose those values: this is what the table prevents', () => {
    writeFileSync(file(), JSON.stringify({ turn_handling: { min_endpointing_delay: 0.8 } }));
    const { settings } = new FileSettingsStore({ dir, migrations: { steps: [], currentVersion: 1 } }).load();
    expect(settings.turn_handling.endpointing.min_delay).toBe(
      defaultSettings().turn_handling.endpointing.min_delay,
    );
  });

  it('an older Cue keeps a newer file whole: its version and the options it does not know survive a save', () => {
    writeFileSync(
      file(),
      JSON.stringify({
        schema_version: SETTINGS_SCHEMA_VERSION + 4,
        llm: { model: 'newer-model', reasoning_effort: 'low' },
        memory: { enabled: true },
      }),
    );
    const store = new FileSettingsStore({ dir });
    const { settings, notices } = store.load();
    expect(settings.llm.model).toBe('newer-model');
    expect(notices).toEqual([
      {
        level: 'info',
        message: expect.stringContaining(
          `was written by a newer version of Cue (settings version ${SETTINGS_SCHEMA_VERSION + 4}; this one knows up to ${SETTINGS_SCHEMA_VERSION}). Its options this version does not know are kept in the file unchanged: llm.reasoning_effort, memory`,
        ),
      },
    ]);
    const changed = structuredClone(settings);
    changed.llm.temperature = 0.2;
    store.save(changed);
    const saved = readJson(file());
    expect(saved.schema_version).toBe(SETTINGS_SCHEMA_VERSION + 4);
    expect(saved.memory).toEqual({ enabled: true });
    expect(saved.llm).toMatchObject({ model: 'newer-model', reasoning_effort: 'low', temperature: 0.2 });
    expect(existsSync(join(dir, `settings.v${SETTINGS_SCHEMA_VERSION + 4}.json`))).toBe(false);
  });
});

describe("the project's migration table", () => {
  it('numbers its steps 2, 3, … up to SETTINGS_SCHEMA_VERSION, one step per version', () => {
    const versions = SETTINGS_MIGRATIONS.map((step) => step.version);
    expect(versions).toEqual(Array.from({ length: SETTINGS_SCHEMA_VERSION - 1 }, (_, i) => i + 2));
  });

  it('leaves a file of every version valid for the current schema', () => {
    for (let version = 1; version <= SETTINGS_SCHEMA_VERSION; version++) {
      const result = migrateSettings({ schema_version: version, ...defaultSettings() });
      expect(result.settings, `version ${version}`).toEqual(defaultSettings());
    }
  });
});
