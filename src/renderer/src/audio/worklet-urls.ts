/**
 * The two worklet modules as built files. `?worker&url` makes Vite bundle each worklet with its
 * imports into one self-contained script (assets/<name>-<hash>.js in the build, served by the dev
 * server in development) and gives its URL, which `audioWorklet.addModule` loads from the app's
 * own origin, as the CSP `script-src 'self'` requires. (A plain `new URL('./x.ts',
 * import.meta.url)` would not be compiled: Vite inlines the TypeScript source as a data: URL.)
 */
import captureWorkletUrl from './capture-worklet.ts?worker&url';
import playbackWorkletUrl from './playback-worklet.ts?worker&url';

export const WORKLET_URLS = { capture: captureWorkletUrl, playback: playbackWorkletUrl } as const;
