/**
 * Settings fields as the user edits them (pure; no React, no DOM).
 *
 * A field's raw input (a string, or a boolean for switches) is kept in a draft exactly as typed,
 * so nothing is lost when it is invalid. Validation merges the draft over the current settings
 * and runs the shared schema (parseSettings), the same check main makes, so messages name the
 * same ranges and choices; main's own `settings:update` problems are mapped to fields the same way.
 */
import { parseSettings, SettingsError, type OptionInfo, type Settings } from '../../../shared/settings';

export type FieldKind = 'number' | 'boolean' | 'choice' | 'text' | 'longtext';
export type RawValue = string | boolean;
/** Raw inputs by option path, for the fields the user has touched. */
export type Draft = Readonly<Record<string, RawValue>>;

const LONG_TEXT = new Set(['agent.instructions', 'agent.greeting']);
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export function fieldKind(option: OptionInfo): FieldKind {
  if (option.choices) return 'choice';
  if (typeof option.default === 'boolean') return 'boolean';
  if (typeof option.default === 'number') return 'number';
  return LONG_TEXT.has(option.path) ? 'longtext' : 'text';
}

/** Whole numbers only (counts and ms). */
export function isInteger(option: OptionInfo): boolean {
  return option.unit === 'count' || option.unit === 'ms' || option.unit === 'chars' || option.unit === 'MB';
}

/** The raw input showing `value` in the field. */
export function rawOf(option: OptionInfo, value: unknown): RawValue {
  const kind = fieldKind(option);
  if (kind === 'boolean') return value === true;
  if (value === undefined || value === null) return '';
  return String(value);
}

/** The value a raw input stands for; a number field's unreadable text stays text, for the schema to refuse. */
export function parseRaw(option: OptionInfo, raw: RawValue): unknown {
  const kind = fieldKind(option);
  if (kind === 'boolean') return raw === true || raw === 'true';
  const text = String(raw);
  if (kind === 'number') {
    const trimmed = text.trim();
    return NUMBER.test(trimmed) ? Number(trimmed) : text;
  }
  return text;
}

export function valueAt(settings: unknown, path: string): unknown {
  let node = settings;
  for (const key of path.split('.')) {
    if (!isPlainObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** A nested patch from `path → value` pairs. */
export function patchOf(values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(values)) {
    const keys = path.split('.');
    let node = patch;
    for (const key of keys.slice(0, -1)) {
      if (!isPlainObject(node[key])) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]!] = value;
  }
  return patch;
}

/** `path → value` pairs of a nested patch. */
export function flattenPatch(patch: Readonly<Record<string, unknown>>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value)) Object.assign(out, flattenPatch(value, path));
    else out[path] = value;
  }
  return out;
}

/** Deep merge of a patch over settings, as main does before validating (objects merge, the rest replaces). */
export function mergePatch(
  base: Readonly<Record<string, unknown>>,
  patch: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const existing = Object.hasOwn(out, key) ? out[key] : undefined;
    const next = isPlainObject(value) && isPlainObject(existing) ? mergePatch(existing, value) : value;
    Object.defineProperty(out, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export interface Validation {
  /** The draft's values (parsed) as a nested settings patch. */
  patch: Record<string, unknown>;
  /** Paths whose drafted value differs from the current setting. */
  changed: string[];
  /** Messages by option path, without the path (e.g. "must be between 0 and 10 s (got 12)"). */
  byPath: Record<string, string[]>;
  /** Messages naming no known option. */
  general: string[];
  valid: boolean;
}

/** Validates the draft merged over `settings` with the shared schema. */
export function validateDraft(settings: Settings, draft: Draft, options: readonly OptionInfo[]): Validation {
  const byOption = new Map(options.map((o) => [o.path, o]));
  const values: Record<string, unknown> = {};
  const changed: string[] = [];
  for (const [path, raw] of Object.entries(draft)) {
    const option = byOption.get(path);
    if (!option) continue;
    const value = parseRaw(option, raw);
    values[path] = value;
    if (!Object.is(value, valueAt(settings, path))) changed.push(path);
  }
  const patch = patchOf(values);
  let problems: string[] = [];
  try {
    parseSettings(mergePatch(settings as unknown as Record<string, unknown>, patch));
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    problems = [...error.problems];
  }
  const { byPath, general } = splitProblems(problems, options);
  return { patch, changed, byPath, general, valid: problems.length === 0 };
}

/** Sorts `path: message` lines (parseSettings', or main's settings:update problems) by option. */
export function splitProblems(
  problems: readonly string[],
  options: readonly OptionInfo[],
): { byPath: Record<string, string[]>; general: string[] } {
  const paths = new Set(options.map((o) => o.path));
  const byPath: Record<string, string[]> = {};
  const general: string[] = [];
  for (const problem of problems) {
    const split = problem.indexOf(': ');
    const head = split > 0 ? problem.slice(0, split) : '';
    if (head && paths.has(head)) (byPath[head] ??= []).push(problem.slice(split + 2));
    else general.push(problem);
  }
  return { byPath, general };
}

// ---------- numbers: steps, units, ranges ----------

const UNIT_WORD: Record<NonNullable<OptionInfo['unit']>, string> = {
  s: 's',
  ms: 'ms',
  probability: '',
  ratio: '',
  count: '',
  chars: 'characters',
  MB: 'MB',
};

export function unitWord(option: OptionInfo): string {
  return option.unit ? UNIT_WORD[option.unit] : '';
}

/** The step of the arrow keys on a number field. */
export function stepOf(option: OptionInfo): number {
  switch (option.unit) {
    case 'ms':
      return 10;
    case 'count':
    case 'chars':
      return 1;
    case 'MB':
      return 10;
    case 'probability':
      return 0.05;
    case 'ratio':
      return 0.1;
    case 's':
      return (option.maximum ?? 10) > 10 ? 0.5 : 0.05;
    default:
      return 1;
  }
}

/** The raw input one step up (+1) or down (-1) from `raw` (or from the default when unreadable), within range. */
export function stepRaw(option: OptionInfo, raw: RawValue, direction: 1 | -1, multiplier = 1): string {
  const step = stepOf(option) * multiplier;
  const parsed = parseRaw(option, raw);
  const base = typeof parsed === 'number' && Number.isFinite(parsed) ? parsed : Number(option.default ?? 0);
  let next = base + direction * step;
  // Land on the step grid, then keep within the allowed range.
  next = Math.round(next / step) * step;
  if (option.minimum !== undefined) next = Math.max(option.minimum, next);
  if (option.maximum !== undefined) next = Math.min(option.maximum, next);
  const decimals = Math.max(0, Math.ceil(-Math.log10(stepOf(option)) - 1e-9));
  return String(Number(next.toFixed(decimals + 2)));
}

/** A value as the user reads it: "0.5 s", "On", "\"nova-3\"", "(empty)". */
export function formatValue(option: OptionInfo, value: unknown): string {
  if (typeof value === 'boolean') return value ? 'On' : 'Off';
  if (typeof value === 'number') {
    const unit = unitWord(option);
    return unit ? `${value} ${unit}` : String(value);
  }
  if (typeof value === 'string') {
    if (value === '') return '(empty)';
    return value.length > 48 ? `${value.slice(0, 45)}…` : value;
  }
  return JSON.stringify(value);
}

/** "0 – 10 s", "whole number, 0 – 20", or the choices. Empty for free text. */
export function describeRange(option: OptionInfo): string {
  if (option.choices) return option.choices.join(' · ');
  if (option.minimum === undefined && option.maximum === undefined) return '';
  const unit = unitWord(option);
  const range = `${option.minimum ?? '−∞'} – ${option.maximum ?? '∞'}${unit ? ` ${unit}` : ''}`;
  return isInteger(option) ? `whole number, ${range}` : range;
}

/** A DOM id for an option's input, from its path. */
export function fieldId(path: string): string {
  return `opt-${path.replace(/[^a-zA-Z0-9_-]/g, '-')}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
