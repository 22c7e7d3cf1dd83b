/// <reference types="vite/client" />

/** The bridge the preload exposes on `window` (src/preload/index.ts). */
export interface CueBridge {
  /** App version from package.json. */
  readonly version: string;
}

declare global {
  interface Window {
    readonly cue: CueBridge;
  }
}
