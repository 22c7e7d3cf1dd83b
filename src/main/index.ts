/**
 * Electron main process: one locked-down window showing the built renderer.
 * The full shell (IPC, settings, audio bridge) comes later; this keeps the security
 * baseline of Electron's checklist from the start: sandboxed renderer with context
 * isolation and no Node, web security on, no navigation, no new windows, no
 * webviews, no permissions granted.
 */
import { join } from 'node:path';
import { BrowserWindow, app, session, shell } from 'electron';

const PRELOAD = join(import.meta.dirname, '../preload/index.cjs');
const RENDERER_HTML = join(import.meta.dirname, '../renderer/index.html');

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 960,
    height: 680,
    minWidth: 480,
    minHeight: 360,
    title: 'Cue',
    show: false,
    backgroundColor: '#101114',
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });

  win.once('ready-to-show', () => win.show());

  const contents = win.webContents;
  // The page never navigates anywhere: deny every navigation and redirect.
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  // No new windows; https links open in the user's browser.
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalLink(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });

  void win.loadFile(RENDERER_HTML);
  return win;
}

function isExternalLink(url: string): boolean {
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return false;
  }
}

app.enableSandbox();

app.on('web-contents-created', (_event, contents) => {
  // Defence in depth for any web contents, not only our window.
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

void app.whenReady().then(() => {
  // Nothing is granted yet (the microphone comes with the audio bridge).
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
