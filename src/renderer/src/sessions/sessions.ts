/**
 * What the Sessions dialog shows, as plain functions: how a recording and a comparison read, the
 * replay requests it makes, and the patch that applies the tried settings.
 */
import type { ReplayComparison, TurnSide } from '../../../shared/recording';
import type { OptionInfo, Settings } from '../../../shared/settings';
import { flattenPatch, patchOf, valueAt } from '../settings/fields';
import { PRESETS, presetPatch } from '../settings/presets';

/** A replay the user asks for: with the current settings, a preset over them, or one option changed from the recording's. */
export type ReplayChoice =
  { kind: 'current' } | { kind: 'preset'; preset: string } | { kind: 'option'; path: string; value: unknown };

export function replayRequest(choice: ReplayChoice): {
  base: 'current' | 'recorded';
  patch: Record<string, unknown>;
} {
  switch (choice.kind) {
    case 'current':
      return { base: 'current', patch: {} };
    case 'preset': {
      const preset = PRESETS.find((p) => p.id === choice.preset);
      if (!preset) throw new Error(`unknown preset "${choice.preset}"`);
      return { base: 'current', patch: presetPatch(preset) };
    }
    case 'option':
      return { base: 'recorded', patch: patchOf({ [choice.path]: choice.value }) };
  }
}

/** The value typed for an option, read as the schema wants it (numbers, true/false, else text). */
export function parseOptionValue(option: OptionInfo, raw: string): unknown {
  const text = raw.trim();
  if (option.choices) return text;
  if (typeof option.default === 'number') return text === '' ? Number.NaN : Number(text);
  if (typeof option.default === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  return raw;
}

/** Options one may change for a replay: turn handling, VAD, agent, reply and STT options (not keys, devices or recording). */
export function replayableOptions(options: readonly OptionInfo[]): OptionInfo[] {
  return options.filter((o) => /^(turn_handling|vad|stt|reply|agent\.min_consecutive)/.test(o.path));
}

/** The patch that makes the current settings the tried ones (only what differs). */
export function applyPatch(current: Settings, tried: Settings): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(flattenPatch(tried as unknown as Record<string, unknown>))) {
    if (!Object.is(valueAt(current, path), value)) values[path] = value;
  }
  return patchOf(values);
}

export function formatWhen(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso || '—';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function formatLength(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`;
}

export function formatMs(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : `${Math.round(ms)} ms`;
}

export function formatBytes(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

/** "+120 ms" / "−80 ms" / "=" between two values, or "" when either is missing. */
export function formatDelta(before: number | null | undefined, after: number | null | undefined): string {
  if (before === null || before === undefined || after === null || after === undefined) return '';
  const d = Math.round(after - before);
  if (d === 0) return '=';
  return `${d > 0 ? '+' : '−'}${Math.abs(d)} ms`;
}

/** Whether a change is better (lower latency), worse, or neither, for colouring. */
export function deltaTone(
  before: number | null | undefined,
  after: number | null | undefined,
): 'better' | 'worse' | 'same' {
  if (before === null || before === undefined || after === null || after === undefined) return 'same';
  const d = after - before;
  return Math.abs(d) < 1 ? 'same' : d < 0 ? 'better' : 'worse';
}

export interface TurnRow {
  index: number;
  transcript: string;
  e2e: [number | null, number | null];
  endOfTurn: [number | null, number | null];
  cutIn: [boolean | null, boolean | null];
  wasted: [number | null, number | null];
}

/** The per-turn table: one row per paired turn, both sides. */
export function turnRows(comparison: ReplayComparison): TurnRow[] {
  const pick = <T>(side: TurnSide | null, f: (s: TurnSide) => T): T | null => (side ? f(side) : null);
  return comparison.turns.map((t) => ({
    index: t.index,
    transcript: (t.recorded ?? t.replayed)?.transcript ?? '',
    e2e: [pick(t.recorded, (s) => s.e2e_ms), pick(t.replayed, (s) => s.e2e_ms)],
    endOfTurn: [
      pick(t.recorded, (s) => s.end_of_turn_delay_ms),
      pick(t.replayed, (s) => s.end_of_turn_delay_ms),
    ],
    cutIn: [pick(t.recorded, (s) => s.cut_in), pick(t.replayed, (s) => s.cut_in)],
    wasted: [pick(t.recorded, (s) => s.llm_requests_wasted), pick(t.replayed, (s) => s.llm_requests_wasted)],
  }));
}

/** The changed options in words, e.g. "turn_handling.endpointing.min_delay 0.4 → 0.9". */
export function describeChanges(comparison: ReplayComparison): string {
  if (!comparison.changed.length) return 'the recording’s own settings';
  return comparison.changed
    .map((c) => `${c.path} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`)
    .join(', ');
}
