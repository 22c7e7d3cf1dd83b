/**
 * In Electron, the page's `openMicPort()`: the preload makes the channel (contextBridge cannot
 * carry a MessagePort), sends one end to main and posts the other to this window tagged with an
 * id; this takes it from that message. Only a message from this window itself counts.
 */
import type { CueApi } from '../../../shared/contract';
import { MIC_PORT_MESSAGE } from '../../../shared/contract-names';

/** How long the preload's port may take to arrive before the page sends frames itself. */
export const MIC_PORT_TIMEOUT_MS = 5_000;

type PreloadApi = CueApi & { requestMicPort?: () => number };

/** The page's window, where the preload posts the port. */
export interface MicPortWindow {
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}

/** The preload's API with `openMicPort` (unchanged when the preload offers no mic port). */
export function withElectronMicPort(api: PreloadApi, win: MicPortWindow): CueApi {
  const requestMicPort = api.requestMicPort;
  if (typeof requestMicPort !== 'function') return api;
  return {
    request: (name, payload) => api.request(name, payload),
    on: (name, listener) => api.on(name, listener),
    sendAudio: (message) => api.sendAudio(message),
    onAudio: (listener) => api.onAudio(listener),
    openMicPort: () =>
      new Promise<MessagePort>((resolve, reject) => {
        let id: number | undefined;
        const done = (): void => {
          clearTimeout(timer);
          win.removeEventListener('message', onMessage);
        };
        const onMessage = (event: MessageEvent): void => {
          const data = event.data as Record<string, unknown> | null;
          if (event.source !== win || typeof data !== 'object' || data === null) return;
          if (data[MIC_PORT_MESSAGE] !== id || !event.ports[0]) return;
          done();
          resolve(event.ports[0]);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no microphone port from the preload within ${MIC_PORT_TIMEOUT_MS / 1000} s`));
        }, MIC_PORT_TIMEOUT_MS);
        win.addEventListener('message', onMessage);
        try {
          id = requestMicPort.call(api);
        } catch (error) {
          done();
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      }),
  };
}
