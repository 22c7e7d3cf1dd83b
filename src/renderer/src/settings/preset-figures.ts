/**
 * What each preset measured: `npm run bench:curve` runs Cue over the tune corpus on the virtual
 * clock with each preset and writes preset-figures.json. A preset whose values no longer match
 * the ones measured shows no figures (re-run the command), so the panel never shows a stale one.
 */
import type { PresetId, Preset } from './presets';
import measured from './preset-figures.json';

/** Where bench:curve writes the figures (from the repository's root). */
export const PRESET_FIGURES_FILE = 'src/renderer/src/settings/preset-figures.json';

export interface PresetFigures {
  /** The preset's values when it was measured. */
  values: Record<string, unknown>;
  turns: number;
  /** Per turn, the reply's first audio minus the oracle's (CORPUS.md), median and 95th percentile. */
  over_oracle_p50_ms: number | null;
  over_oracle_p95_ms: number | null;
  false_cutins: number;
  wrong_replies: number;
  missed_turns: number;
}

export interface PresetFiguresFile {
  command: string;
  corpus: string;
  presets: Partial<Record<PresetId, PresetFigures>>;
}

const FILE = measured as PresetFiguresFile;

function sameValues(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.is(a[k], b[k]));
}

/** The figures measured with exactly this preset's values, if any. */
export function presetFigures(preset: Preset, file: PresetFiguresFile = FILE): PresetFigures | undefined {
  const figures = file.presets[preset.id];
  return figures && sameValues(figures.values, preset.values) ? figures : undefined;
}

/** One sentence a user can read: how soon it answered and how often it cut in, and where. */
export function describeFigures(figures: PresetFigures, file: PresetFiguresFile = FILE): string {
  const over =
    figures.over_oracle_p50_ms === null
      ? 'no reply measured'
      : `answered ${figures.over_oracle_p50_ms} ms after the fastest possible reply (median; ${figures.over_oracle_p95_ms} ms at the 95th percentile)`;
  const cutins = `cut in on ${figures.false_cutins} of ${figures.turns} turns`;
  const wrong =
    figures.wrong_replies || figures.missed_turns
      ? `, ${figures.wrong_replies} wrong and ${figures.missed_turns} missed`
      : '';
  return `Measured on ${file.corpus} (${file.command}): ${over}; ${cutins}${wrong}.`;
}
