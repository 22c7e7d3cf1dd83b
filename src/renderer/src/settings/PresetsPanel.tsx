/** Presets: what each sets, what it would change now, and a button to apply it as one patch. */
import type { OptionInfo, Settings } from '../../../shared/settings';
import { formatValue, valueAt } from './fields';
import { describeFigures, presetFigures } from './preset-figures';
import { activePreset, PRESETS, presetChanges, presetPatch } from './presets';

export interface PresetsPanelProps {
  settings: Settings;
  options: readonly OptionInfo[];
  busy: boolean;
  onApply: (patch: Record<string, unknown>) => void;
  onJump: (path: string) => void;
}

export function PresetsPanel({ settings, options, busy, onApply, onJump }: PresetsPanelProps) {
  const active = activePreset(settings);
  const byPath = new Map(options.map((o) => [o.path, o]));
  return (
    <div className="presets">
      {PRESETS.map((preset) => {
        const changes = presetChanges(preset, settings);
        const changed = new Set(changes.map((c) => c.path));
        const isActive = active === preset.id;
        return (
          <article
            key={preset.id}
            className={`preset${isActive ? ' preset--active' : ''}`}
            aria-labelledby={`preset-${preset.id}`}
          >
            <header className="preset-head">
              <h4 id={`preset-${preset.id}`}>{preset.label}</h4>
              {isActive ? <span className="tag tag--ok">Current</span> : null}
            </header>
            <p className="preset-summary">{preset.summary}</p>
            <PresetFiguresLine preset={preset} />
            <table className="preset-values">
              <caption className="visually-hidden">
                {preset.label} preset: values, and the current value where it differs
              </caption>
              <tbody>
                {Object.entries(preset.values).map(([path, value]) => {
                  const option = byPath.get(path);
                  const label = option?.label ?? path;
                  const format = (v: unknown) => (option ? formatValue(option, v) : String(v));
                  return (
                    <tr key={path} className={changed.has(path) ? 'preset-change' : undefined}>
                      <th scope="row">
                        <button type="button" className="link" onClick={() => onJump(path)} title={path}>
                          {label}
                        </button>
                      </th>
                      <td>
                        {changed.has(path) ? (
                          <>
                            <s className="muted">{format(valueAt(settings, path))}</s>
                            <span aria-hidden="true"> → </span>
                            <span className="visually-hidden"> becomes </span>
                          </>
                        ) : null}
                        <strong>{format(value)}</strong>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            <button
              type="button"
              className={`btn btn--small${isActive ? '' : ' btn--primary'}`}
              disabled={busy || isActive}
              onClick={() => onApply(presetPatch(preset))}
            >
              {isActive
                ? 'Applied'
                : `Apply ${preset.label.toLowerCase()} (${changes.length} change${changes.length === 1 ? '' : 's'})`}
            </button>
          </article>
        );
      })}
    </div>
  );
}

function PresetFiguresLine({ preset }: { preset: (typeof PRESETS)[number] }) {
  const figures = presetFigures(preset);
  return (
    <p className="preset-figures muted">
      {figures
        ? describeFigures(figures)
        : 'Not measured with these values yet: npm run bench:curve measures it.'}
    </p>
  );
}
