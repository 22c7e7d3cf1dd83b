/**
 * The parts of the window built on their own: microphone capture and speaker playback
 * (src/renderer/src/audio/) and the live turn timeline (src/renderer/src/timeline/).
 */
import type { AppState, CueApi, Notice } from '../../../shared/contract';
import type { TurnReport } from '../../../shared/report';
import type { Settings } from '../../../shared/settings';
import type { TimelineEvent } from '../../../shared/timeline';
import { useEffect } from 'react';
import type { AudioEngineState } from '../audio/audio-engine';
import { useAudioEngine } from '../audio/use-audio-engine';
import { LiveTimeline } from '../timeline';
import { useMicrophoneNotice } from './use-microphone-notice';

export interface AudioMountProps {
  api: CueApi;
  state: AppState;
  /** The audio.* options (microphone, echo cancellation, noise suppression, gain). */
  settings: Settings | null;
  /** Shows a notice; returns its id. */
  onNotice: (notice: Notice) => number | undefined;
  onDismissNotice: (id: number) => void;
  /** The capture state whenever it changes (the header does not say Listening without a microphone). */
  onMicrophone: (state: AudioEngineState) => void;
}

/**
 * Captures the microphone and plays the agent while the session runs; shows the input level and
 * the microphone's state, and raises microphone problems as notices for as long as they stand.
 */
export function AudioMount(props: AudioMountProps) {
  const { api, state, settings, onNotice, onDismissNotice, onMicrophone } = props;
  const audio = useAudioEngine({
    api,
    enabled: state.running,
    deviceId: settings?.audio.input_device || undefined,
    echoCancellation: settings?.audio.echo_cancellation ?? true,
    noiseSuppression: settings?.audio.noise_suppression ?? true,
    autoGainControl: settings?.audio.auto_gain_control ?? true,
  });
  const { state: micState, message } = audio.status;
  useMicrophoneNotice(micState, message, onNotice, onDismissNotice);
  useEffect(() => onMicrophone(micState), [micState, onMicrophone]);
  if (!state.running) return null;
  const level = Math.max(-60, Math.min(0, audio.status.level));
  return (
    <div className="audio-status" data-mic-state={micState}>
      <span className="audio-status-label">{micLabel(micState, audio.status.device?.label)}</span>
      <meter
        className="audio-level"
        aria-label="Microphone level"
        min={-60}
        max={0}
        low={-40}
        high={-6}
        optimum={-20}
        value={level}
      />
      {micState === 'error' && (
        <button type="button" className="btn btn--ghost" onClick={audio.retry}>
          Retry microphone
        </button>
      )}
    </div>
  );
}

function micLabel(state: string, device: string | undefined): string {
  switch (state) {
    case 'capturing':
      return device ? `Mic: ${device}` : 'Mic on';
    case 'starting':
      return 'Opening the microphone…';
    case 'error':
      return 'Microphone unavailable';
    default:
      return 'Mic off';
  }
}

export interface TimelineMountProps {
  api: CueApi;
  subscribeTimeline: (listener: (event: TimelineEvent) => void) => () => void;
  turns: readonly TurnReport[];
  running: boolean;
  /** vad.activation_threshold, drawn on the speech probability trace. */
  vadThreshold: number | null;
}

/** The live turn timeline, fed from the app's one timeline subscription and the turn reports. */
export function TimelineMount({ subscribeTimeline, turns, vadThreshold }: TimelineMountProps) {
  return <LiveTimeline subscribeTimeline={subscribeTimeline} turns={turns} vadThreshold={vadThreshold} />;
}
