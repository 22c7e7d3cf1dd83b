/**
 * The main window's options, after Electron's security checklist: sandboxed, context-isolated,
 * no Node anywhere, web security on, no webviews, no insecure content, and no DevTools in a
 * packaged build (they stay available in development, where they are needed).
 */
import type { BrowserWindowConstructorOptions } from 'electron';

export function mainWindowOptions(options: {
  preload: string;
  packaged: boolean;
}): BrowserWindowConstructorOptions {
  return {
    width: 960,
    height: 680,
    minWidth: 480,
    minHeight: 360,
    title: 'Cue',
    show: false,
    backgroundColor: '#101114',
    webPreferences: {
      preload: options.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      devTools: !options.packaged,
    },
  };
}
