/**
 * The tuning panel: the turn-taking options a voice engineer moves while watching the live
 * timeline, beside it and not modal. Same draft, same schema and same live-apply path as the
 * full settings; a saved change reaches the running session at once and is marked on the timeline.
 */
import type { OptionInfo, Settings } from '../../../shared/settings';
import { rawOf, valueAt } from './fields';
import { OptionField } from './OptionField';
import { describeFigures, presetFigures } from './preset-figures';
import { activePreset, PRESETS, presetPatch } from './presets';
import type { SettingsDraft } from './use-settings-draft';

/** The options in the panel, in the order a tuner reaches for them. */
export const TUNING_PATHS = [
  'turn_handling.turn_detection',
  'turn_handling.endpointing.min_delay',
  'turn_handling.endpointing.max_delay',
  'turn_handling.turn_detector.decision_silence',
  'turn_handling.turn_detector.threshold',
  'vad.activation_threshold',
  'vad.min_silence_duration',
  'turn_handling.interruption.min_duration',
  'turn_handling.preemptive_generation.enabled',
  'turn_handling.preemptive_generation.preemptive_tts',
] as const;

export interface TuningPanelProps {
  settings: Settings;
  options: readonly OptionInfo[];
  form: SettingsDraft;
  onOpenSettings: () => void;
}

export function TuningPanel({ settings, options, form, onOpenSettings }: TuningPanelProps) {
  const byPath = new Map(options.map((o) => [o.path, o]));
  const fields = TUNING_PATHS.map((path) => byPath.get(path)).filter((o): o is OptionInfo => !!o);
  const active = activePreset(settings);
  const problems = Object.keys(form.problems.byPath).length + form.problems.general.length;
  const canSave = form.dirty.length > 0 && (form.validation?.valid ?? false) && !form.saving;
  return (
    <section className="tuning" aria-labelledby="tuning-title">
      <header className="tuning-head">
        <h2 id="tuning-title">Tune turn-taking</h2>
        <p className="muted">Applies at once, even mid-conversation: the next turn shows it.</p>
      </header>
      <div className="tuning-presets" role="group" aria-label="Presets">
        {PRESETS.map((preset) => (
          <button
            key={preset.id}
            type="button"
            className="btn btn--small"
            aria-pressed={active === preset.id}
            title={preset.summary}
            disabled={form.saving}
            onClick={() => void form.applyPatch(presetPatch(preset))}
          >
            {preset.label}
          </button>
        ))}
      </div>
      <ActivePresetFigures active={active} />
      <form
        className="tuning-fields"
        aria-label="Turn-taking options"
        onSubmit={(event) => {
          event.preventDefault();
          if (canSave) void form.save();
        }}
      >
        {fields.map((option) => {
          const saved = valueAt(settings, option.path);
          const typed = form.draft[option.path];
          return (
            <OptionField
              key={option.path}
              option={option}
              raw={typed ?? rawOf(option, saved)}
              saved={saved}
              modified={typed !== undefined && form.dirty.includes(option.path)}
              errors={form.problems.byPath[option.path]}
              onChange={form.setField}
              onRevert={form.revertField}
              compact
            />
          );
        })}
        <div className="tuning-foot">
          <span className="tuning-status" role="status">
            {problems > 0
              ? `${problems} to fix before applying`
              : form.dirty.length > 0
                ? `${form.dirty.length} unsaved change${form.dirty.length === 1 ? '' : 's'}`
                : 'All changes applied'}
          </span>
          <button
            type="button"
            className="btn btn--small"
            onClick={form.discard}
            disabled={Object.keys(form.draft).length === 0 || form.saving}
          >
            Discard
          </button>
          <button type="submit" className="btn btn--small btn--primary" disabled={!canSave}>
            {form.saving ? 'Applying…' : 'Apply'}
          </button>
        </div>
      </form>
      <button type="button" className="link tuning-more" onClick={onOpenSettings}>
        All settings, providers and keys…
      </button>
    </section>
  );
}

/** The figures of the preset in force, so a change of preset shows what it is expected to do. */
function ActivePresetFigures({ active }: { active: string | null }) {
  const preset = PRESETS.find((p) => p.id === active);
  const figures = preset ? presetFigures(preset) : undefined;
  return (
    <p className="tuning-preset-figures muted" aria-live="polite">
      {preset && figures
        ? `${preset.label}: ${describeFigures(figures)}`
        : 'Custom values: not measured as a preset. The timeline shows what they do on your next turns.'}
    </p>
  );
}
