/**
 * The renderer's one door to main. Everything else in the renderer asks `getCueApi()` and
 * talks to the CueApi it gets, never to a bridge:
 * - in Electron, the preload's `window.cue` (the contract over IPC), with the microphone's port
 *   to main received as the preload posts it (electron-mic-port.ts);
 * - in a browser (`npm run web`, e2e tests), the WebSocket client on this page's own address,
 *   with the run's token from this page's `?token=` query parameter, and the mic worker.
 */
import type { CueApi } from '../../../shared/contract';
import { withElectronMicPort } from './electron-mic-port';
import micWorkerUrl from './mic-worker.ts?worker&url';
import { connectWebBridge } from './ws-client';

let api: Promise<CueApi> | null = null;

export function getCueApi(): Promise<CueApi> {
  if (api) return api;
  const opening = open();
  api = opening;
  // A failed first connection is not kept: the next call tries again.
  opening.catch(() => {
    if (api === opening) api = null;
  });
  return opening;
}

function open(): Promise<CueApi> {
  const preload = (window as unknown as { cue?: Partial<CueApi> }).cue;
  if (preload && typeof preload.request === 'function')
    return Promise.resolve(withElectronMicPort(preload as CueApi, window));
  const token = new URLSearchParams(location.search).get('token');
  if (!token)
    return Promise.reject(
      new Error(
        'Cue is not running inside its app and this address has no ?token=: open the address printed by `npm run web`.',
      ),
    );
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return connectWebBridge(`${scheme}//${location.host}/bridge`, token, {
    createMicWorker: () => new Worker(micWorkerUrl, { name: 'cue-mic' }),
  });
}
