/**
 * The audio engine for React: one AudioEngine per component that uses the hook (use it once, near
 * the top of the app), started while `enabled`, restarted on the microphone when the device or
 * the processing options change, stopped on unmount.
 *
 *   const audio = useAudioEngine({ api, enabled: state.running, deviceId, echoCancellation: true, ... });
 *   audio.status.state      'idle' | 'starting' | 'capturing' | 'error'
 *   audio.status.message    what to tell the user (errors; notices such as a fallback device)
 *   audio.engine.onLevel(l) input level in dBFS for a meter that draws it itself (<InputLevelMeter>)
 *   audio.devices           microphones for the picker
 *   audio.retry()           after an error
 */
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { CueApi } from '../../../shared/contract';
import { getCueApi } from '../platform';
import {
  AudioEngine,
  DEFAULT_CAPTURE_OPTIONS,
  type AudioEngineDeps,
  type AudioEngineStatus,
  type InputDevice,
} from './audio-engine';
import { CAPTURE_WORKER, WORKLET_URLS } from './worklet-urls';

export interface UseAudioEngineOptions {
  /** Capture and playback run while true (e.g. while the session runs). */
  enabled: boolean;
  /** Microphone from `devices`; undefined or '' for the system default. */
  deviceId?: string;
  echoCancellation?: boolean;
  noiseSuppression?: boolean;
  autoGainControl?: boolean;
  /** The page's audio rate, Hz (the TTS's), read when the audio opens: see CaptureOptions.contextRate. */
  contextRate?: number;
  /** The bridge to main; `getCueApi()` by default. Read when the engine is created. */
  api?: CueApi;
  /** Playback prebuffer, ms (at most 100); read when the engine is created. */
  prebufferMs?: number;
  /** An engine made elsewhere (tests, a shared instance); by default the hook makes its own. */
  engine?: AudioEngine;
}

export interface UseAudioEngineResult {
  status: AudioEngineStatus;
  devices: InputDevice[];
  /** Tries to open the microphone again now. */
  retry: () => void;
  /** Lists the devices again (e.g. when the picker opens). */
  refreshDevices: () => void;
  engine: AudioEngine;
}

/** An engine wired to the app's bridge, its built worklets and its capture worker. */
export function createAudioEngine(overrides: Partial<AudioEngineDeps> = {}): AudioEngine {
  return new AudioEngine({
    workletUrls: WORKLET_URLS,
    ...(typeof Worker === 'function' && {
      createCaptureWorker: () => new Worker(CAPTURE_WORKER.url, CAPTURE_WORKER.options),
    }),
    focusTarget: typeof window === 'undefined' ? undefined : window,
    visibility: typeof document === 'undefined' ? undefined : document,
    ...overrides,
    api: overrides.api ?? getCueApi,
  });
}

export function useAudioEngine(options: UseAudioEngineOptions): UseAudioEngineResult {
  const {
    enabled,
    deviceId,
    echoCancellation = DEFAULT_CAPTURE_OPTIONS.echoCancellation,
    noiseSuppression = DEFAULT_CAPTURE_OPTIONS.noiseSuppression,
    autoGainControl = DEFAULT_CAPTURE_OPTIONS.autoGainControl,
    contextRate,
  } = options;
  const [engine] = useState(() => {
    if (options.engine) return options.engine;
    const overrides: Partial<AudioEngineDeps> = {};
    if (options.api) overrides.api = options.api;
    if (options.prebufferMs !== undefined) overrides.prebufferMs = options.prebufferMs;
    return createAudioEngine(overrides);
  });
  const status = useSyncExternalStore(engine.subscribe, engine.getStatus, engine.getStatus);
  const [devices, setDevices] = useState<InputDevice[]>([]);

  const refreshDevices = useCallback(() => {
    engine.listInputDevices().then(setDevices, () => setDevices([]));
  }, [engine]);

  useEffect(() => {
    const unsubscribe = engine.onDevicesChange(setDevices);
    refreshDevices();
    return unsubscribe;
  }, [engine, refreshDevices]);

  useEffect(() => {
    if (!enabled) {
      void engine.stop();
      return;
    }
    void engine
      .start({ deviceId, echoCancellation, noiseSuppression, autoGainControl, contextRate })
      .then(() => {
        // Labels appear once the permission is granted.
        refreshDevices();
      });
  }, [
    engine,
    enabled,
    deviceId,
    echoCancellation,
    noiseSuppression,
    autoGainControl,
    contextRate,
    refreshDevices,
  ]);

  useEffect(
    () => () => {
      void engine.stop();
    },
    [engine],
  );

  const retry = useCallback(() => {
    void engine.retry();
  }, [engine]);

  return { status, devices, retry, refreshDevices, engine };
}
