/**
 * Settings across versions. settings.json carries `schema_version`; each time an option is
 * renamed, moved to another group or has its range narrowed, the schema version goes up by one
 * and SETTINGS_MIGRATIONS gets the step that carries a file of the previous version over, so the
 * user's value follows the option instead of falling back to its default with a "not valid"
 * warning:
 *
 * - `rename` (also a move to another group): the value moves to the new path. When the file
 *   already has the new path too, that value wins and the old one is dropped.
 * - `clamp` (a range narrowed): a number outside the new range is set to the nearest bound, not
 *   reset to the default.
 *
 * Files without `schema_version` were written before versioning, by the schema of version 1.
 * A file of a newer version than this app knows is read as it is: its known options are used and
 * the rest is kept in the file unchanged (src/main/app/settings-store.ts), so going back to an
 * older Cue and forward again loses nothing.
 *
 * Version 1 is the schema as it stands: no option has been renamed, moved or narrowed since
 * settings were first stored, so the table holds no step yet. The first change appends
 * `{ version: 2, changes: [...] }` and raises SETTINGS_SCHEMA_VERSION to 2.
 */

export const SETTINGS_SCHEMA_VERSION = 1;
/** The top-level key of settings.json that holds its schema version. */
export const SCHEMA_VERSION_KEY = 'schema_version';

export type SettingsChange =
  { kind: 'rename'; from: string; to: string } | { kind: 'clamp'; path: string; min: number; max: number };

export interface SettingsMigrationStep {
  /** The schema version this step produces (it runs on files of version - 1 and older). */
  version: number;
  changes: readonly SettingsChange[];
}

export const SETTINGS_MIGRATIONS: readonly SettingsMigrationStep[] = [];

export interface MigrationResult {
  /** The settings object with the migrations applied, without `schema_version`. */
  settings: Record<string, unknown>;
  /** The file's version (1 when it had none). */
  fromVersion: number;
  /** The file was written by a newer version: nothing was migrated. */
  newer: boolean;
  /** One line per change made, for the user. */
  notes: string[];
}

/**
 * Brings a parsed settings file up to `currentVersion` with `steps` (the project's table by
 * default). Never throws; the input is not modified.
 */
export function migrateSettings(
  raw: Readonly<Record<string, unknown>>,
  options: { steps?: readonly SettingsMigrationStep[]; currentVersion?: number } = {},
): MigrationResult {
  const steps = options.steps ?? SETTINGS_MIGRATIONS;
  const currentVersion = options.currentVersion ?? SETTINGS_SCHEMA_VERSION;
  const settings = structuredClone(raw) as Record<string, unknown>;
  const declared = settings[SCHEMA_VERSION_KEY];
  delete settings[SCHEMA_VERSION_KEY];
  const fromVersion =
    typeof declared === 'number' && Number.isInteger(declared) && declared >= 1 ? declared : 1;
  const notes: string[] = [];
  if (fromVersion > currentVersion) return { settings, fromVersion, newer: true, notes };

  const pending = steps
    .filter((step) => step.version > fromVersion && step.version <= currentVersion)
    .sort((a, b) => a.version - b.version);
  for (const step of pending) {
    for (const change of step.changes) {
      const note = change.kind === 'rename' ? rename(settings, change) : clamp(settings, change);
      if (note) notes.push(note);
    }
  }
  return { settings, fromVersion, newer: false, notes };
}

function rename(root: Record<string, unknown>, change: { from: string; to: string }): string | null {
  const from = change.from.split('.');
  const found = getPath(root, from);
  if (!found.present) return null;
  deletePath(root, from);
  const to = change.to.split('.');
  if (getPath(root, to).present) {
    return `${change.from} is now ${change.to}, which the file already sets: its ${change.to} was kept`;
  }
  setPath(root, to, found.value);
  return `${change.from} is now ${change.to} (${JSON.stringify(found.value)} kept)`;
}

function clamp(
  root: Record<string, unknown>,
  change: { path: string; min: number; max: number },
): string | null {
  const keys = change.path.split('.');
  const { present, value } = getPath(root, keys);
  if (!present || typeof value !== 'number' || !Number.isFinite(value)) return null;
  const clamped = Math.min(change.max, Math.max(change.min, value));
  if (clamped === value) return null;
  setPath(root, keys, clamped);
  return `${change.path} is now between ${change.min} and ${change.max}: ${value} became ${clamped}`;
}

function getPath(
  root: Record<string, unknown>,
  keys: readonly string[],
): { present: boolean; value?: unknown } {
  let node: unknown = root;
  for (const key of keys) {
    if (!isPlainObject(node) || !Object.hasOwn(node, key)) return { present: false };
    node = node[key];
  }
  return { present: true, value: node };
}

function setPath(root: Record<string, unknown>, keys: readonly string[], value: unknown): void {
  let node = root;
  for (const key of keys.slice(0, -1)) {
    if (!isPlainObject(node[key])) define(node, key, {});
    node = node[key] as Record<string, unknown>;
  }
  define(node, keys.at(-1)!, value);
}

/** Deletes the value at `keys`, and the groups left empty by it. */
function deletePath(root: Record<string, unknown>, keys: readonly string[]): void {
  const parents: Record<string, unknown>[] = [root];
  for (const key of keys.slice(0, -1)) parents.push(parents.at(-1)![key] as Record<string, unknown>);
  delete parents.at(-1)![keys.at(-1)!];
  for (let i = keys.length - 2; i >= 0; i--) {
    const group = parents[i + 1]!;
    if (Object.keys(group).length > 0) break;
    delete parents[i]![keys[i]!];
  }
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
