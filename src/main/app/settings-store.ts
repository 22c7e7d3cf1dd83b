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
import type { SettingsStore } from './types';

/**
 * Settings persisted as `settings.json` in the user data folder (injected: no Electron here).
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
}

type ReadResult =
  | { kind: 'missing' }
  | { kind: 'unusable'; reason: string }
  | { kind: 'usable'; settings: Settings; dropped: string[] };

export class FileSettingsStore implements SettingsStore {
  readonly dir: string;
  readonly file: string;
  readonly backupFile: string;
  private readonly now: () => Date;

  constructor(options: FileSettingsStoreOptions) {
    this.dir = options.dir;
    this.file = join(options.dir, SETTINGS_FILE);
    this.backupFile = join(options.dir, SETTINGS_BACKUP_FILE);
    this.now = options.now ?? (() => new Date());
  }

  load(): { settings: Settings; notices: Notice[] } {
    const main = readSettingsFile(this.file);
    if (main.kind === 'missing') return { settings: defaultSettings(), notices: [] };
    if (main.kind === 'usable' && main.dropped.length === 0) return { settings: main.settings, notices: [] };

    let settings: Settings;
    let message: string;
    if (main.kind === 'usable') {
      settings = main.settings;
      message =
        `Some settings in ${this.file} were not valid and were reset to their defaults; ` +
        `every other setting was kept. Dropped: ${main.dropped.join('; ')}.`;
    } else {
      const backup = readSettingsFile(this.backupFile);
      if (backup.kind === 'usable') {
        settings = backup.settings;
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
        writeFileAtomic(this.file, serialize(settings));
      } catch (error) {
        message += ` The repaired settings could not be written back (${errorText(error)}).`;
      }
    } else {
      message += ` Your file could not be copied aside (${aside.error}), so it was left untouched.`;
    }
    return { settings, notices: [{ level: 'warning', message }] };
  }

  /** Validates and writes the full settings (throws a SettingsError for invalid settings, or on I/O errors). */
  save(settings: Settings): void {
    const valid = parseSettings(settings);
    mkdirSync(this.dir, { recursive: true });
    this.backUpCurrent();
    writeFileAtomic(this.file, serialize(valid));
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
      if (isGoodSettingsText(text)) writeFileAtomic(this.backupFile, text);
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

function serialize(settings: Settings): string {
  return `${JSON.stringify(settings, null, 2)}\n`;
}

function isGoodSettingsText(text: string): boolean {
  try {
    parseSettings(JSON.parse(stripBom(text)));
    return true;
  } catch {
    return false;
  }
}

function readSettingsFile(file: string): ReadResult {
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
  const salvaged = salvageSettings(raw);
  if (!salvaged) return { kind: 'unusable', reason: `holds settings that could not be repaired` };
  return { kind: 'usable', ...salvaged };
}

/**
 * Keeps every valid option of a parsed settings object and drops the rest: unknown keys are
 * removed, and each field named by a SettingsError problem is reset to its default. A problem
 * about a field the file does not set (a cross-field rule failing against a default) resets the
 * group holding it. Returns each dropped field with the reason, or null if it cannot be repaired.
 */
export function salvageSettings(
  raw: Readonly<Record<string, unknown>>,
): { settings: Settings; dropped: string[] } | null {
  const dropped: string[] = [];
  const candidate = withoutUnknownKeys(
    raw,
    defaultSettings() as unknown as Record<string, unknown>,
    '',
    dropped,
  );
  for (let round = 0; round < 50; round++) {
    let problems: readonly string[];
    try {
      return { settings: parseSettings(candidate), dropped };
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
  dropped: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (!Object.hasOwn(reference, key)) {
      dropped.push(`${path}: unknown option (removed)`);
      continue;
    }
    const ref = reference[key];
    const kept =
      isPlainObject(value) && isPlainObject(ref) ? withoutUnknownKeys(value, ref, path, dropped) : value;
    Object.defineProperty(out, key, { value: kept, enumerable: true, writable: true, configurable: true });
  }
  return out;
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
