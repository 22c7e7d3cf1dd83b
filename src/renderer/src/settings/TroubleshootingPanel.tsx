/** Symptoms → the options that fix them, each with a button that jumps to the option. */
import type { OptionInfo, Settings } from '../../../shared/settings';
import { ArrowRightIcon } from '../app/icons';
import { formatValue, valueAt } from './fields';
import { TROUBLESHOOTING } from './troubleshooting';

export interface TroubleshootingPanelProps {
  settings: Settings;
  options: readonly OptionInfo[];
  onJump: (path: string) => void;
}

export function TroubleshootingPanel({ settings, options, onJump }: TroubleshootingPanelProps) {
  const byPath = new Map(options.map((o) => [o.path, o]));
  return (
    <div className="troubleshooting">
      {TROUBLESHOOTING.map((symptom) => (
        <details key={symptom.id} className="symptom">
          <summary>
            <span className="symptom-title">{symptom.title}</span>
            <span className="symptom-count muted">
              {count(symptom.fixes.filter((f) => byPath.has(f.path)).length)}
            </span>
          </summary>
          <p className="symptom-cause">{symptom.cause}</p>
          <ul className="fixes">
            {symptom.fixes.map((fix) => {
              const option = byPath.get(fix.path);
              // An option this version of main does not have is left out rather than a dead link.
              if (!option) return null;
              return (
                <li key={fix.path} className="fix">
                  <div className="fix-text">
                    <span className="fix-option">
                      {option.label}{' '}
                      <span className="muted">(now {formatValue(option, valueAt(settings, fix.path))})</span>
                    </span>
                    <span className="fix-advice">{fix.advice}</span>
                  </div>
                  <button
                    type="button"
                    className="btn btn--small"
                    onClick={() => onJump(fix.path)}
                    aria-label={`Go to ${option.label} (${fix.path})`}
                  >
                    Go to option <ArrowRightIcon />
                  </button>
                </li>
              );
            })}
          </ul>
        </details>
      ))}
    </div>
  );
}

function count(n: number): string {
  return `${n} option${n === 1 ? '' : 's'}`;
}
