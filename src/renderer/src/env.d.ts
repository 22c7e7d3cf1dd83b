/// <reference types="vite/client" />
import type { CueApi } from '../../shared/contract';

/** The bridge the preload exposes on `window` (src/preload/index.ts): the contract's API and the app version. */
export type CueBridge = CueApi & {
  /** App version from package.json. */
  readonly version: string;
};

declare global {
  interface Window {
    readonly cue: CueBridge;
  }
}
