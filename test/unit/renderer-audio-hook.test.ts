/**
 * useAudioEngine with React's real client renderer, in Node: the component renders nothing, so
 * the root needs only a stand-in container. The engine is a stub recording what the hook asks.
 */
import { act, createElement, StrictMode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { AudioEngine, AudioEngineStatus, InputDevice } from '../../src/renderer/src/audio/audio-engine';
import {
  useAudioEngine,
  type UseAudioEngineOptions,
  type UseAudioEngineResult,
} from '../../src/renderer/src/audio/use-audio-engine';
import { rootContainer, useReactInNode } from '../helpers/react-node';

useReactInNode();

class StubEngine {
  readonly calls: string[] = [];
  status: AudioEngineStatus = { state: 'idle' };
  private listeners = new Set<() => void>();
  private deviceListeners = new Set<(d: InputDevice[]) => void>();
  readonly getStatus = () => this.status;
  readonly subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
  onDevicesChange(listener: (d: InputDevice[]) => void) {
    this.deviceListeners.add(listener);
    return () => this.deviceListeners.delete(listener);
  }
  async listInputDevices(): Promise<InputDevice[]> {
    return [{ deviceId: 'mic', label: 'Mic', groupId: 'g', isDefault: false }];
  }
  async start(options: object) {
    this.calls.push(`start ${JSON.stringify(options)}`);
  }
  async stop() {
    this.calls.push('stop');
  }
  async retry() {
    this.calls.push('retry');
  }
  emit(status: AudioEngineStatus) {
    this.status = status;
    for (const l of this.listeners) l();
  }
  devices(list: InputDevice[]) {
    for (const l of this.deviceListeners) l(list);
  }
}

let root: Root | null = null;
afterEach(async () => {
  await act(async () => root?.unmount());
  root = null;
});

async function mount(engine: StubEngine, props: Omit<UseAudioEngineOptions, 'engine'>) {
  const seen: { current: UseAudioEngineResult | null } = { current: null };
  function Probe(p: UseAudioEngineOptions) {
    seen.current = useAudioEngine(p);
    return null;
  }
  const render = async (next: Omit<UseAudioEngineOptions, 'engine'>) =>
    act(async () => {
      root!.render(
        createElement(
          StrictMode,
          null,
          createElement(Probe, { ...next, engine: engine as unknown as AudioEngine }),
        ),
      );
    });
  root = createRoot(rootContainer());
  await render(props);
  return { seen, render };
}

describe('useAudioEngine', () => {
  it('starts while enabled with the defaults on, follows option changes, stops when disabled and on unmount', async () => {
    const engine = new StubEngine();
    const { seen, render } = await mount(engine, { enabled: true });
    const on = '{"echoCancellation":true,"noiseSuppression":true,"autoGainControl":true}';
    // StrictMode runs the effects twice: start, stop, start.
    expect(engine.calls).toEqual([`start ${on}`, 'stop', `start ${on}`]);
    expect(seen.current!.devices.map((d) => d.deviceId)).toEqual(['mic']);
    engine.calls.length = 0;
    await render({ enabled: true, deviceId: 'usb', noiseSuppression: false });
    expect(engine.calls).toEqual([
      'start {"deviceId":"usb","echoCancellation":true,"noiseSuppression":false,"autoGainControl":true}',
    ]);
    engine.calls.length = 0;
    await render({ enabled: false });
    expect(engine.calls).toEqual(['stop']);
    await render({ enabled: true });
    engine.calls.length = 0;
    await act(async () => root!.unmount());
    root = null;
    expect(engine.calls).toEqual(['stop']);
  });

  it('re-renders with the engine status and device list, and retries on request', async () => {
    const engine = new StubEngine();
    const { seen } = await mount(engine, { enabled: true });
    await act(async () =>
      engine.emit({
        state: 'error',
        problem: 'no-device',
        message: 'No microphone',
      }),
    );
    expect(seen.current!.status).toMatchObject({ state: 'error', message: 'No microphone' });
    await act(async () => engine.devices([]));
    expect(seen.current!.devices).toEqual([]);
    await act(async () => seen.current!.retry());
    expect(engine.calls.at(-1)).toBe('retry');
  });
});
