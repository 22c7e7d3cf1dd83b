/**
 * Preload for the sandboxed renderer. Built as one self-contained CommonJS file
 * (out/preload/index.cjs): a sandboxed preload cannot be ESM and may only require
 * 'electron'. Exposes the `window.cue` bridge through contextBridge, nothing else.
 */
import { contextBridge } from 'electron';

/** App version, injected at build time from package.json (electron.vite.config.ts). */
declare const __CUE_VERSION__: string;

const cue = Object.freeze({
  version: __CUE_VERSION__,
});

contextBridge.exposeInMainWorld('cue', cue);
