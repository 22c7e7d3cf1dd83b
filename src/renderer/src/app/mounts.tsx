/**
 * The parts of the window built on their own: microphone capture and speaker playback
 * (src/renderer/src/audio/) and the live turn timeline (src/renderer/src/timeline/).
 */
import type { AppState, CueApi, Notice } from '../../../shared/contract';
import type { TurnReport } from '../../../shared/report';
import type { Settings } from '../../../shared/settings';
import type { TimelineEvent } from '../../../shared/timeline';
import { useEffect, useRef } from 'react';
import type { AudioEngine, AudioEngineState } from '../audio/audio-engine';
import { useAudioEngine } from '../audio/use-audio-engine';
import { canvasSurface, LiveTimeline, pacedWriter } from '../timeline';
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
    contextRate: settings ? Number(settings.tts.sample_rate) : undefined,
  });
  const { state: micState, message } = audio.status;
  useMicrophoneNotice(micState, message, onNotice, onDismissNotice);
  useEffect(() => onMicrophone(micState), [micState, onMicrophone]);
  // A reply is coming: the speaker, if idle and suspended, is woken before its first audio.
  useEffect(() => {
    if (state.status === 'thinking' || state.status === 'speaking') audio.engine.prepareOutput();
  }, [state.status, audio.engine]);
  if (!state.running) return null;
  return (
    <div className="audio-status" data-mic-state={micState}>
      <span className="audio-status-label">{micLabel(micState, audio.status.device?.label)}</span>
      <InputLevelMeter engine={audio.engine} />
      {micState === 'error' && (
        <button type="button" className="btn btn--ghost" onClick={audio.retry}>
          Retry microphone
        </button>
      )}
    </div>
  );
}

const METER_MIN_DB = -60;
/** Above this the input is close to clipping: the bar changes colour. */
const METER_LOUD_DB = -6;
/** The meter's value for assistive technology moves in steps this big (dB). */
const METER_ARIA_STEP_DB = 5;
/** The meter's size in styles.css (.audio-level), used before it is laid out. */
const METER_CSS_WIDTH = 96;
const METER_CSS_HEIGHT = 8;

/**
 * The microphone's level. Readings (up to 10 a second, all day) are written to the element
 * directly, on the live frame grid the timeline draws on (one frame for both), and the bar is
 * drawn on a small canvas: a re-render, a layout or a frame of its own for each one cost the
 * window more than anything else it does while it listens, and so did moving the bar by a
 * transform (each one re-ran the compositing update of the whole page; a canvas's new pixels
 * do not).
 */
function InputLevelMeter({ engine }: { engine: AudioEngine }) {
  const meter = useRef<HTMLDivElement>(null);
  const bar = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    let ariaValue = NaN;
    let loud = false;
    const canvas = bar.current;
    const surface = canvas ? canvasSurface(canvas) : null;
    const context = surface?.context ?? null;
    if (canvas && surface) {
      // The backing store matches the device's pixels once, at mount (no layout read per reading).
      const ratio = canvas.ownerDocument.defaultView?.devicePixelRatio ?? 1;
      // A meter not laid out yet (a hidden parent) gets its CSS size (96 × 8) rather than one pixel.
      surface.resize(
        Math.round((canvas.clientWidth || METER_CSS_WIDTH) * ratio),
        Math.round((canvas.clientHeight || METER_CSS_HEIGHT) * ratio),
      );
    }
    const show = ({ level }: { level: number }) => {
      const db = Math.max(METER_MIN_DB, Math.min(0, level));
      const element = meter.current;
      if (element && db > METER_LOUD_DB !== loud) {
        loud = !loud;
        element.toggleAttribute('data-loud', loud);
      }
      if (canvas && surface && context) {
        const { width, height } = surface;
        context.clearRect(0, 0, width, height);
        // The bar's colour is the canvas's CSS colour (theme and loudness set it in styles.css).
        context.fillStyle = getComputedStyle(canvas).color;
        context.fillRect(0, 0, Math.round(width * (1 - db / METER_MIN_DB)), height);
      }
      if (!element) return;
      const stepped = Math.round(db / METER_ARIA_STEP_DB) * METER_ARIA_STEP_DB;
      if (stepped !== ariaValue) {
        ariaValue = stepped;
        element.setAttribute('aria-valuenow', String(stepped));
        element.setAttribute('aria-valuetext', stepped <= METER_MIN_DB ? 'silent' : `${stepped} dB`);
      }
    };
    show(engine.level);
    const paced = pacedWriter(show, { direct: surface?.direct });
    const unsubscribe = engine.onLevel((level) => paced.push(level));
    return () => {
      unsubscribe();
      paced.cancel();
    };
  }, [engine]);
  return (
    <div
      ref={meter}
      className="audio-level"
      role="meter"
      aria-label="Microphone level"
      aria-valuemin={METER_MIN_DB}
      aria-valuemax={0}
    >
      <canvas ref={bar} className="audio-level__bar" aria-hidden="true" />
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
