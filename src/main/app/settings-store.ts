import {
  closeSync,
  constants,
  copyFileSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Notice } from '../../shared/contract';
import { defaultSettings, parseSettings, SettingsError } from '../../shared/settings';
import type { Settings } from '../../shared/settings';
import {
  migrateSettings,
  SCHEMA_VERSION_KEY,
  SETTINGS_MIGRATIONS,
  SETTINGS_SCHEMA_VERSION,
  type SettingsMigrationStep,
} from '../../shared/settings-migrations';
import type { SettingsStore } from './types';

/**
 * Settings persisted as `settings.json` in the user data folder (injected: no Electron here).
 *
 * Versions: the file carries `schema_version`. An older file is migrated on load
 * (src/shared/settings-migrations.ts: renamed and moved options keep their values, a narrowed
 * range clamps), the file as it was is kept as `settings.v<N>.json` and the migrated one written
 * back, with an info notice saying what changed. Options this version does not know (a newer
 * Cue's, or a hand-edited typo) are kept in the file unchanged on every save, with a notice naming
 * them, and a file from a newer Cue keeps its version number, so going back to an older Cue and
 * forward again loses nothing.
 *
 * Saving writes `settings.json.tmp`, fsyncs it and renames it over `settings.json`, after copying
 * the previous good `settings.json` to `settings.backup.json`. Loading never throws on a bad file:
 * an invalid option is reset to its default (the others are kept), an unreadable file falls back to
 * the backup, else to the defaults; either way the user gets a warning naming the file and what was
 * dropped, and the file as they left it is kept as `settings.corrupt-<timestamp>.json`.
 */

export const SETTINGS_FILE = 'settings.json';
export const SETTINGS_BACKUP_FILE = 'settings.backup.json';

export interface FileSettingsStoreOptions {
  /** The user data folder (app.getPath('userData') in the app). */
  dir: string;
  /** Clock for the timestamp in `settings.corrupt-<timestamp>.json` (tests). */
  now?: () => Date;
  /** The migration table and the version it leads to (tests; the project's own by default). */
  migrations?: { steps: readonly SettingsMigrationStep[]; currentVersion: number };
}

type Migrations = NonNullable<FileSettingsStoreOptions['migrations']>;

interface Usable {
  kind: 'usable';
  settings: Settings;
  /** Invalid options reset to their defaults, each with why. */
  dropped: string[];
  /** Options this version does not know, kept as they are in `extras`. */
  unknown: string[];
  extras: Record<string, unknown>;
  fromVersion: number;
  newer: boolean;
  /** What the migrations changed. */
  migrated: string[];
}

type ReadResult = { kind: 'missing' } | { kind: 'unusable'; reason: string } | Usable;

export class FileSettingsStore implements SettingsStore {
  readonly dir: string;
  readonly file: string;
  readonly backupFile: string;
  private readonly now: () => Date;
  private readonly migrations: Migrations;
  /** Unknown options of the file, written back on every save. */
  private extras: Record<string, unknown> = {};
  /** The schema version saves write: this app's, or a newer file's own. */
  private writtenVersion: number;

  constructor(options: FileSettingsStoreOptions) {
    this.dir = options.dir;
    this.file = join(options.dir, SETTINGS_FILE);
    this.backupFile = join(options.dir, SETTINGS_BACKUP_FILE);
    this.now = options.now ?? (() => new Date());
    this.migrations = options.migrations ?? {
      steps: SETTINGS_MIGRATIONS,
      currentVersion: SETTINGS_SCHEMA_VERSION,
    };
    this.writtenVersion = this.migrations.currentVersion;
  }

  load(): { settings: Settings; notices: Notice[] } {
    const main = readSettingsFile(this.file, this.migrations);
    if (main.kind === 'missing') return { settings: defaultSettings(), notices: [] };
    if (main.kind === 'usable') {
      this.extras = main.extras;
      this.writtenVersion = Math.max(this.migrations.currentVersion, main.fromVersion);
    }
    const notices: Notice[] = [];
    if (main.kind === 'usable' && main.migrated.length > 0) notices.push(this.migrated(main));
    if (main.kind === 'usable' && main.unknown.length > 0) notices.push(this.unknownKept(main));
    if (main.kind === 'usable' && main.dropped.length === 0) return { settings: main.settings, notices };

    let settings: Settings;
    let message: string;
    if (main.kind === 'usable') {
      settings = main.settings;
      message =
        `Some settings in ${this.file} were not valid and were reset to their defaults; ` +
        `every other setting was kept. Dropped: ${main.dropped.join('; ')}.`;
    } else {
      const backup = readSettingsFile(this.backupFile, this.migrations);
      if (backup.kind === 'usable') {
        settings = backup.settings;
        this.extras = backup.extras;
        this.writtenVersion = Math.max(this.migrations.currentVersion, backup.fromVersion);
        message =
          `${this.file} ${main.reason}, so none of the settings in it could be used. ` +
          `Cue loaded the last good copy, ${this.backupFile}, instead: changes saved after that copy are lost.`;
        if (backup.dropped.length) {
          message += ` Some options in the backup were not valid and were reset to their defaults: ${backup.dropped.join('; ')}.`;
        }
      } else {
        settings = defaultSettings();
        const why =
          backup.kind === 'missing' ? 'there is no backup' : `the backup ${this.backupFile} ${backup.reason}`;
        message =
          `${this.file} ${main.reason}, and ${why}, so every setting was dropped and ` +
          `reset to its default.`;
      }
    }

    const aside = this.keepAside();
    if (aside.ok) {
      message += ` Your file as it was is kept as ${aside.path}.`;
      try {
        mkdirSync(this.dir, { recursive: true });
        writeFileAtomic(this.file, this.serialize(settings));
      } catch (error) {
        message += ` The repaired settings could not be written back (${errorText(error)}).`;
      }
    } else {
      message += ` Your file could not be copied aside (${aside.error}), so it was left untouched.`;
    }
    notices.push({ level: 'warning', message });
    return { settings, notices };
  }

  /** Keeps the file of the older version as settings.v<N>.json, writes the migrated one, says what changed. */
  private migrated(read: Usable): Notice {
    const to = this.migrations.currentVersion;
    let message = `Settings were updated from version ${read.fromVersion} to ${to}: ${read.migrated.join('; ')}.`;
    const copy = join(this.dir, `settings.v${read.fromVersion}.json`);
    try {
      copyFileSync(this.file, copy, constants.COPYFILE_EXCL);
      message += ` The file as version ${read.fromVersion} wrote it is kept as ${copy}.`;
    } catch {
      // an earlier copy of that version is kept already
    }
    if (read.dropped.length === 0) {
      try {
        writeFileAtomic(this.file, this.serialize(read.settings));
      } catch (error) {
        message += ` The updated settings could not be written back (${errorText(error)}).`;
      }
    }
    return { level: 'info', message };
  }

  private unknownKept(read: Usable): Notice {
    const names = read.unknown.join(', ');
    if (read.newer) {
      return {
        level: 'info',
        message:
          `${this.file} was written by a newer version of Cue (settings version ${read.fromVersion}; this one ` +
          `knows up to ${this.migrations.currentVersion}). Its options this version does not know are kept in the ` +
          `file unchanged: ${names}.`,
      };
    }
    return {
      level: 'warning',
      message: `Options in ${this.file} that this version of Cue does not know are not used, and kept in the file unchanged: ${names}.`,
    };
  }

  private serialize(settings: Settings): string {
    const content = mergeObjects(
      { [SCHEMA_VERSION_KEY]: this.writtenVersion, ...(settings as unknown as Record<string, unknown>) },
      this.extras,
    );
    return `${JSON.stringify(content, null, 2)}\n`;
  }

  /** Validates and writes the full settings (throws a SettingsError for invalid settings, or on I/O errors). */
  save(settings: Settings): void {
    const valid = parseSettings(settings);
    mkdirSync(this.dir, { recursive: true });
    // The file on disk is the source of its unknown options (another instance, or a newer Cue,
    // may have written it since this one loaded).
    const current = readSettingsFile(this.file, this.migrations);
    if (current.kind === 'usable') {
      this.extras = current.extras;
      this.writtenVersion = Math.max(this.migrations.currentVersion, current.fromVersion);
    }
    this.backUpCurrent();
    writeFileAtomic(this.file, this.serialize(valid));
  }

  /** Copies the current settings.json to the backup if it is good; a bad one is kept aside instead. */
  private backUpCurrent(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return; // nothing to back up (or unreadable: then there is nothing we could copy either)
    }
    try {
      if (isGoodSettingsText(text, this.migrations)) writeFileAtomic(this.backupFile, text);
      else this.keepAside();
    } catch {
      // A failed backup must not block saving the user's change.
    }
  }

  /** Copies settings.json to settings.corrupt-<timestamp>.json, never overwriting an earlier one. */
  private keepAside(): { ok: true; path: string } | { ok: false; error: string } {
    const stamp = this.now().toISOString().replace(/:/g, '-');
    let lastError: unknown;
    for (let attempt = 0; attempt < 100; attempt++) {
      const path = join(this.dir, `settings.corrupt-${stamp}${attempt ? `-${attempt}` : ''}.json`);
      try {
        copyFileSync(this.file, path, constants.COPYFILE_EXCL);
        return { ok: true, path };
      } catch (error) {
        lastError = error;
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') break;
      }
    }
    return { ok: false, error: errorText(lastError) };
  }
}

/**
 * Deep-merges a partial settings object over full settings: nested objects are merged, anything
 * else (primitives, arrays, null) replaces the current value, `undefined` leaves it unchanged.
 * The inputs are not modified. The result is not validated: pass it to parseSettings.
 */
export function mergeSettings(
  current: Settings,
  patch: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  return mergeObjects(current as unknown as Record<string, unknown>, patch);
}

function mergeObjects(base: Readonly<Record<string, unknown>>, patch: Readonly<Record<string, unknown>>) {
  const out: Record<string, unknown> = structuredClone(base) as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const existing = Object.hasOwn(out, key) ? out[key] : undefined;
    const next =
      isPlainObject(value) && isPlainObject(existing)
        ? mergeObjects(existing, value)
        : structuredClone(value);
    // defineProperty: a "__proto__" key stays an own (unknown, reported) key instead of changing the prototype.
    Object.defineProperty(out, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Writes a file atomically: `<file>.tmp` is written and fsynced, then renamed over `file`.
 * No temp file is left behind, whether it succeeds or fails.
 */
export function writeFileAtomic(file: string, data: string, options: { mode?: number } = {}): void {
  const tmp = `${file}.tmp`;
  try {
    rmSync(tmp, { force: true }); // a leftover temp file would keep its old permissions
    const fd = openSync(tmp, 'w', options.mode ?? 0o666);
    try {
      writeFileSync(fd, data, 'utf8');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
  syncDirectory(dirname(file));
}

/** Makes the rename durable where directories can be fsynced (not on Windows). */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function isGoodSettingsText(text: string, migrations: Migrations): boolean {
  try {
    const raw: unknown = JSON.parse(stripBom(text));
    if (!isPlainObject(raw)) return false;
    const read = interpret(raw, migrations);
    return read !== null && read.dropped.length === 0;
  } catch {
    return false;
  }
}

function readSettingsFile(file: string, migrations: Migrations): ReadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unusable', reason: `could not be read (${errorText(error)})` };
  }
  text = stripBom(text);
  if (!text.trim()) return { kind: 'unusable', reason: 'is empty' };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { kind: 'unusable', reason: `is not valid JSON (${errorText(error)})` };
  }
  if (!isPlainObject(raw)) {
    return { kind: 'unusable', reason: 'does not hold a settings object ({ ... })' };
  }
  return (
    interpret(raw, migrations) ?? { kind: 'unusable', reason: `holds settings that could not be repaired` }
  );
}

/** Migrates a parsed file, then keeps its valid options, its unknown ones aside, and resets the rest. */
function interpret(raw: Readonly<Record<string, unknown>>, migrations: Migrations): Usable | null {
  const migrated = migrateSettings(raw, migrations);
  const salvaged = salvageSettings(migrated.settings);
  if (!salvaged) return null;
  return {
    kind: 'usable',
    ...salvaged,
    fromVersion: migrated.fromVersion,
    newer: migrated.newer,
    migrated: migrated.notes,
  };
}

/**
 * Keeps every valid option of a parsed settings object and drops the rest: unknown keys are
 * set aside (returned in `extras`, named in `unknown`), and each field named by a SettingsError
 * problem is reset to its default. A problem
 * about a field the file does not set (a cross-field rule failing against a default) resets the
 * group holding it. Returns each dropped field with the reason, or null if it cannot be repaired.
 */
export function salvageSettings(raw: Readonly<Record<string, unknown>>): {
  settings: Settings;
  dropped: string[];
  unknown: string[];
  extras: Record<string, unknown>;
} | null {
  const dropped: string[] = [];
  const unknown: string[] = [];
  const extras: Record<string, unknown> = {};
  const candidate = withoutUnknownKeys(
    raw,
    defaultSettings() as unknown as Record<string, unknown>,
    '',
    unknown,
    extras,
  );
  for (let round = 0; round < 50; round++) {
    let problems: readonly string[];
    try {
      return { settings: parseSettings(candidate), dropped, unknown, extras };
    } catch (error) {
      if (!(error instanceof SettingsError)) return null;
      problems = error.problems;
    }
    let progressed = false;
    for (const problem of problems) {
      const colon = problem.indexOf(': ');
      if (colon <= 0) return null;
      for (const path of problem.slice(0, colon).split(', ')) {
        if (path === '(settings)') return null;
        const removed = removePath(candidate, path.split('.'));
        if (!removed) continue;
        progressed = true;
        if (removed === path) {
          const fallback = defaultAt(path);
          const reset =
            fallback === undefined ? 'removed' : `reset to the default ${JSON.stringify(fallback)}`;
          dropped.push(`${problem}, ${reset}`);
        } else {
          dropped.push(`${removed}: all its options reset to their defaults, because ${problem}`);
        }
      }
    }
    if (!progressed) return null;
  }
  return null;
}

function withoutUnknownKeys(
  input: Readonly<Record<string, unknown>>,
  reference: Readonly<Record<string, unknown>>,
  prefix: string,
  unknown: string[],
  extras: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (!Object.hasOwn(reference, key)) {
      unknown.push(path);
      define(extras, key, structuredClone(value));
      continue;
    }
    const ref = reference[key];
    let kept = value;
    if (isPlainObject(value) && isPlainObject(ref)) {
      const nested: Record<string, unknown> = {};
      kept = withoutUnknownKeys(value, ref, path, unknown, nested);
      if (Object.keys(nested).length > 0) define(extras, key, nested);
    }
    define(out, key, kept);
  }
  return out;
}

// defineProperty: a "__proto__" key stays an own key instead of changing the prototype.
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Deletes `keys` from `root`; if absent, deletes the deepest present ancestor below the root. Returns the path removed. */
function removePath(root: Record<string, unknown>, keys: readonly string[]): string | null {
  let node: Record<string, unknown> = root;
  let deepestParent: Record<string, unknown> | null = null;
  let deepestKey = '';
  let deepestPath = '';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (!Object.hasOwn(node, key)) break;
    const path = keys.slice(0, i + 1).join('.');
    if (i === keys.length - 1 || !isPlainObject(node[key])) {
      // the field itself, or a non-object standing where a group (or an array option) should be
      delete node[key];
      return path;
    }
    deepestParent = node;
    deepestKey = key;
    deepestPath = path;
    node = node[key] as Record<string, unknown>;
  }
  if (!deepestParent) return null;
  delete deepestParent[deepestKey];
  return deepestPath;
}

function defaultAt(path: string): unknown {
  let node: unknown = defaultSettings();
  for (const key of path.split('.')) {
    if (!isPlainObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
