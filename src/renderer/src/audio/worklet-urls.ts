/**
 * The two worklet modules as built files. `?worker&url` makes Vite bundle each worklet with its
 * imports into one self-contained script (assets/<name>-<hash>.js in the build, served by the dev
 * server in development) and gives its URL, which `audioWorklet.addModule` loads from the app's
 * own origin, as the CSP `script-src 'self'` requires. (A plain `new URL('./x.ts',
 * import.meta.url)` would not be compiled: Vite inlines the TypeScript source as a data: URL.)
 */
import captureWorkerUrl from './capture-worker.ts?worker&url';
import captureWorkletUrl from './capture-worklet.ts?worker&url';
import playbackWorkletUrl from './playback-worklet.ts?worker&url';

export const WORKLET_URLS = { capture: captureWorkletUrl, playback: playbackWorkletUrl } as const;

/**
 * The capture worker (capture-worker.ts), built the same way, and how it is started: as a module
 * worker, since the dev server serves it as an ES module with imports (the build's self-contained
 * script runs as a module too).
 */
export const CAPTURE_WORKER = {
  url: captureWorkerUrl,
  options: { name: 'cue-capture', type: 'module' } satisfies WorkerOptions,
} as const;
