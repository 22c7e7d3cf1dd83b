/** Symptoms → the options that fix them, advised from their current values, each with a jump to the option. */
import type { OptionInfo, Settings } from '../../../shared/settings';
import { ArrowRightIcon } from '../app/icons';
import { formatValue, valueAt } from './fields';
import { adviseSymptom, TROUBLESHOOTING } from './troubleshooting';

export interface TroubleshootingPanelProps {
  settings: Settings;
  options: readonly OptionInfo[];
  onJump: (path: string) => void;
}

export function TroubleshootingPanel({ settings, options, onJump }: TroubleshootingPanelProps) {
  const byPath = new Map(options.map((o) => [o.path, o]));
  return (
    <div className="troubleshooting">
      {TROUBLESHOOTING.map((symptom) => {
        // An option this version of main does not have is left out rather than a dead link.
        const advice = adviseSymptom(symptom, settings, options);
        return (
          <details key={symptom.id} className="symptom">
            <summary>
              <span className="symptom-title">{symptom.title}</span>
              <span className="symptom-count muted">{count(advice.length)}</span>
            </summary>
            <p className="symptom-cause">{symptom.cause}</p>
            <ul className="fixes">
              {advice.map((tip) => {
                const option = byPath.get(tip.path)!;
                return (
                  <li key={tip.path} className={`fix fix--${tip.action}`} data-action={tip.action}>
                    <div className="fix-text">
                      <span className="fix-option">
                        {option.label}{' '}
                        <span className="muted">
                          (now {formatValue(option, valueAt(settings, tip.path))})
                        </span>
                      </span>
                      <span className="fix-advice">{tip.text}</span>
                    </div>
                    <button
                      type="button"
                      className="btn btn--small"
                      onClick={() => onJump(tip.path)}
                      aria-label={`Go to option: ${option.label}`}
                    >
                      Go to option <ArrowRightIcon />
                    </button>
                  </li>
                );
              })}
            </ul>
          </details>
        );
      })}
    </div>
  );
}

function count(n: number): string {
  return `${n} option${n === 1 ? '' : 's'}`;
}
