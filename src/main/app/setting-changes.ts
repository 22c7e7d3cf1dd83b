import { settingLeaves, type Settings } from '../../shared/settings';
import type { SettingChange } from '../../shared/timeline';

/** Longest text value carried in a change (instructions can run to pages). */
const MAX_TEXT = 60;

/**
 * The options that differ between two settings, for the `settings_changed` timeline event.
 * `needsRestart` names those the running session applies only at its next start.
 */
export function settingChanges(
  previous: Settings,
  next: Settings,
  needsRestart: readonly string[],
): SettingChange[] {
  const before = settingLeaves(previous);
  const after = settingLeaves(next);
  const waiting = new Set(needsRestart);
  const out: SettingChange[] = [];
  for (const [path, to] of after) {
    const from = before.get(path);
    if (from === undefined || Object.is(from, to)) continue;
    out.push({ path, from: shorten(from), to: shorten(to), live: !waiting.has(path) });
  }
  return out;
}

function shorten(value: string | number | boolean): string | number | boolean {
  return typeof value === 'string' && value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT - 1)}…` : value;
}
