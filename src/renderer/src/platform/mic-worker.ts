/**
 * The microphone's own way to main in a browser (a dedicated Worker, its own bundle: see
 * platform/index.ts). It holds a WebSocket to the bridge's mic endpoint and sends every frame
 * the capture worklet posts on the ports it is given, so 50 frames a second never queue behind
 * (or wake) the page's main thread.
 *
 *   page → worker: { type: 'connect', url }   the mic endpoint with the run's token
 *                  { type: 'port' } + a port  a port the capture worklet sends `mic` messages on
 *   worker → page: { type: 'state', open }    the socket opened or closed
 *
 * Frames while the socket is down are dropped (they are real time); a closed socket is reopened
 * with backoff, unless the bridge replaced this page with a newer one (close code 4000).
 */
import { createBrowserMicSender } from './browser-mic-sender';

interface WorkerScope {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as WorkerScope;

const sender = createBrowserMicSender((open) => scope.postMessage({ type: 'state', open }));

scope.onmessage = (event: MessageEvent) => {
  const data = event.data as { type?: unknown; url?: unknown } | null;
  if (data?.type === 'connect' && typeof data.url === 'string') sender.connect(data.url);
  else if (data?.type === 'port' && event.ports[0]) sender.addPort(event.ports[0]);
};
