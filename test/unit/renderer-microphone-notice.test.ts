/**
 * useMicrophoneNotice with React's real client renderer in Node (the probe renders nothing, as in
 * renderer-audio-hook.test.ts) and the app's real store: a microphone message is a notice for as
 * long as it stands, and is withdrawn when the microphone comes back or the audio stops.
 */
import { act, createElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { AudioEngineState } from '../../src/renderer/src/audio/audio-engine';
import { CueStore } from '../../src/renderer/src/app/store';
import { useMicrophoneNotice } from '../../src/renderer/src/app/use-microphone-notice';
import { rootContainer, useReactInNode } from '../helpers/react-node';

useReactInNode();

function Probe({
  store,
  state,
  message,
}: {
  store: CueStore;
  state: AudioEngineState;
  message: string | undefined;
}) {
  useMicrophoneNotice(state, message, store.actions.pushNotice, store.actions.dismissNotice);
  return null;
}

const LOST = 'The microphone was disconnected. Reconnect it.';
const FALLBACK = 'The selected microphone is not connected: using the default microphone until it is back.';

describe('useMicrophoneNotice', () => {
  let root: Root | undefined;
  afterEach(() => {
    act(() => root?.unmount());
    root = undefined;
  });

  function mount(store: CueStore) {
    root = createRoot(rootContainer());
    return (state: AudioEngineState, message: string | undefined) =>
      act(() => root!.render(createElement(Probe, { store, state, message })));
  }

  const shown = (store: CueStore) => store.getSnapshot().notices.map((n) => `${n.level}: ${n.message}`);

  it('shows the problem while it stands and withdraws it when the microphone is back', () => {
    const store = new CueStore({ getApi: () => Promise.reject(new Error('unused')), saveReport: () => {} });
    store.actions.pushNotice({ level: 'warning', message: 'Something else' });
    const render = mount(store);
    render('capturing', undefined);
    expect(shown(store)).toEqual(['warning: Something else']);
    render('error', LOST);
    expect(shown(store)).toEqual(['warning: Something else', `error: ${LOST}`]);
    // A background retry that fails again changes nothing (the same notice, not a repeat).
    const before = store.getSnapshot().notices;
    render('error', LOST);
    expect(store.getSnapshot().notices).toBe(before);
    render('capturing', FALLBACK);
    expect(shown(store)).toEqual(['warning: Something else', `info: ${FALLBACK}`]);
    render('capturing', undefined);
    expect(shown(store)).toEqual(['warning: Something else']);
  });

  it('withdraws the notice when the audio stops', () => {
    const store = new CueStore({ getApi: () => Promise.reject(new Error('unused')), saveReport: () => {} });
    const render = mount(store);
    render('error', LOST);
    expect(shown(store)).toEqual([`error: ${LOST}`]);
    act(() => root!.unmount());
    root = undefined;
    expect(shown(store)).toEqual([]);
  });

  it('pushNotice returns the id of the notice shown, the same one for a repeat', () => {
    const store = new CueStore({ getApi: () => Promise.reject(new Error('unused')), saveReport: () => {} });
    const id = store.actions.pushNotice({ level: 'error', message: LOST });
    expect(store.actions.pushNotice({ level: 'error', message: ` ${LOST} ` })).toBe(id);
    expect(store.getSnapshot().notices).toMatchObject([{ id, count: 2 }]);
    expect(store.actions.pushNotice({ level: 'info', message: '  ' })).toBeUndefined();
    store.actions.dismissNotice(id!);
    expect(store.getSnapshot().notices).toEqual([]);
  });
});
