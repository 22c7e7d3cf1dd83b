/**
 * What is in force, on the main screen: the preset, the turn detection mode, who judges the end
 * of a turn (the audio model when it is ready, else the transcript heuristic alone) and the STT.
 */
import type { AppState, TurnModelView } from '../../../shared/contract';
import type { Settings } from '../../../shared/settings';
import { activePreset, PRESETS } from '../settings/presets';

export interface InForceProps {
  settings: Settings | null;
  state: AppState | null;
}

export function InForce({ settings, state }: InForceProps) {
  if (!settings) return null;
  const preset = activePreset(settings);
  const items: [string, string][] = [
    ['Preset', preset ? PRESETS.find((p) => p.id === preset)!.label : 'custom'],
    ['Turn detection', settings.turn_handling.turn_detection],
    ['End of turn judged by', judge(settings, state?.turnModel)],
    ['STT', stt(settings)],
  ];
  return (
    <section className="in-force" aria-label="In force">
      <dl>
        {items.map(([label, value]) => (
          <div key={label} className="in-force-item">
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

/** Who decides that a turn is over, as things stand. */
export function judge(settings: Settings, model: TurnModelView | undefined): string {
  switch (settings.turn_handling.turn_detection) {
    case 'vad':
      return 'silence (VAD)';
    case 'stt':
      return settings.stt.provider === 'deepgram-flux' ? 'Deepgram Flux' : 'Deepgram (speech_final)';
    case 'manual':
      return 'you (push-to-talk)';
    case 'model':
      break;
  }
  if (settings.turn_handling.turn_detector.model === 'heuristic') return 'transcript heuristic';
  switch (model?.state) {
    case 'ready':
      return `${model.name} + transcript heuristic`;
    case 'downloading':
    case 'checking':
      return `transcript heuristic alone (${model.name} not ready yet)`;
    case 'unavailable':
      return `transcript heuristic alone (${model.name} unavailable: ${model.reason})`;
    default:
      return 'transcript heuristic alone (the model loads when a session starts)';
  }
}

function stt(settings: Settings): string {
  return settings.stt.provider === 'deepgram-flux'
    ? `Deepgram Flux (${settings.stt.flux.model})`
    : `Deepgram Nova (${settings.stt.nova.model})`;
}
