/**
 * Electron main process: glue only. The decisions live in small modules tested in plain Node:
 * the app core (./app), the IPC carrier (./ipc-carrier), the sender and permission checks
 * (./shell/app-origin, ./shell/permissions), the tray (./shell/tray-state) and the shortcut
 * (./shell/shortcut).
 *
 * Security, after Electron's checklist: one sandboxed, context-isolated window without Node,
 * web security on, no navigation, no new windows, no webviews; IPC accepted only from the main
 * frame of that window showing the app's page; permissions: the microphone (audio only) for that
 * page, nothing else. The Content-Security-Policy is the <meta> tag of src/renderer/index.html:
 * the page is loaded from file://, and file responses carry no HTTP headers, so a CSP set through
 * session.webRequest.onHeadersReceived would never apply to it.
 *
 * The global push-to-talk shortcut (default CommandOrControl+Shift+Space) toggles: Electron's
 * globalShortcut reports presses but no releases, so it cannot be held to talk (see shell/shortcut).
 */
import { join } from 'node:path';
import {
  BrowserWindow,
  MessageChannelMain,
  app,
  dialog,
  globalShortcut,
  ipcMain,
  safeStorage,
  session,
  shell,
} from 'electron';
import type { AppState } from '../shared/contract';
import { defaultSettings } from '../shared/settings';
import { createAppCore } from './app/app-core';
import type { ContractHandler } from './app/types';
import { registerIpcCarrier } from './ipc-carrier';
import { devServerOrigin, isTrustedFrame, type AppPage } from './shell/app-origin';
import { installPermissionHandlers } from './shell/permissions';
import { createPushToTalkShortcut, type PushToTalkShortcut } from './shell/shortcut';
import { createAppTray, type AppTray } from './shell/tray';
import { INITIAL_APP_STATE, createTrayActions } from './shell/tray-state';

const PRELOAD = join(import.meta.dirname, '../preload/index.cjs');
const RENDERER_HTML = join(import.meta.dirname, '../renderer/index.html');
/**
 * Under `electron-vite dev` (never packaged) the page comes from the Vite dev server on loopback,
 * so edits reload live; the sender check and the permission handlers then trust that origin only.
 */
const DEV_SERVER = app.isPackaged ? undefined : devServerOrigin(process.env['ELECTRON_RENDERER_URL']);
const APP_PAGE: AppPage = DEV_SERVER ? { file: RENDERER_HTML, devServer: DEV_SERVER } : RENDERER_HTML;
/** Bundled assets (tray icons, models/): extraResources when packaged, ./resources in development. */
const RESOURCES = app.isPackaged ? process.resourcesPath : join(app.getAppPath(), 'resources');

let core: ContractHandler | undefined;
let mainWindow: BrowserWindow | undefined;
let tray: AppTray | undefined;
let shortcut: PushToTalkShortcut | undefined;
let quitting = false;

function createWindow(handler: ContractHandler): BrowserWindow {
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
  mainWindow = win;
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

  const unregister = registerIpcCarrier({
    ipcMain,
    handler,
    isTrustedSender: (frame) => isTrustedFrame(frame, contents, APP_PAGE),
    getWindow: () => win,
    createMessageChannel: () => new MessageChannelMain(),
  });
  // The microphone lives in the page: with a tray, closing the window hides it so listening goes
  // on (Linux desktops may show no tray icon, so there closing quits).
  win.on('close', (event) => {
    if (!quitting && tray && process.platform !== 'linux') {
      event.preventDefault();
      win.hide();
    }
  });
  win.on('closed', () => {
    unregister();
    if (mainWindow === win) mainWindow = undefined;
  });

  if (DEV_SERVER) void win.loadURL(process.env['ELECTRON_RENDERER_URL']!);
  else void win.loadFile(RENDERER_HTML);
  return win;
}

function showWindow(): void {
  if (!core) return;
  const win = mainWindow ?? createWindow(core);
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}

function isExternalLink(url: string): boolean {
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return false;
  }
}

async function start(): Promise<void> {
  installPermissionHandlers(session.defaultSession, {
    page: APP_PAGE,
    isAppContents: (contents) => mainWindow !== undefined && contents === mainWindow.webContents,
  });

  shortcut = createPushToTalkShortcut({
    globalShortcut,
    setPushToTalk: (pressed) => {
      core?.request('session:push-to-talk', { pressed }).catch((error: unknown) => console.error(error));
    },
  });

  const handler = await createAppCore({
    userDataDir: app.getPath('userData'),
    safeStorage,
    env: process.env,
    platform: process.platform,
    version: app.getVersion(),
    resourcesDir: RESOURCES,
    shortcut: () => shortcut?.status() ?? { accelerator: '', registered: false, hold: false },
  });
  core = handler;
  shortcut.setAccelerator(handler.currentSettings.app.push_to_talk_shortcut);

  const initial: AppState = await handler.request('app:state', {}).catch(() => INITIAL_APP_STATE);
  shortcut.onState(initial);
  const standard = defaultSettings().turn_handling.turn_detection;
  const onAction = createTrayActions({
    handler,
    show: showWindow,
    quit: () => app.quit(),
    defaultDetection: standard === 'manual' ? 'vad' : standard,
  });
  tray = createAppTray({
    iconDir: join(RESOURCES, 'tray'),
    initial,
    onAction: (action) => void onAction(action).catch((error: unknown) => console.error(error)),
  });
  handler.subscribe((name, payload) => {
    if (name === 'settings:changed') {
      const wanted = handler.currentSettings.app.push_to_talk_shortcut;
      if (shortcut && shortcut.status().accelerator !== wanted) shortcut.setAccelerator(wanted);
      return;
    }
    if (name !== 'state') return;
    const state = payload as AppState;
    tray?.update(state);
    shortcut?.onState(state);
  });

  createWindow(handler);
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.enableSandbox();

  app.on('second-instance', () => showWindow());

  app.on('web-contents-created', (_event, contents) => {
    // Defence in depth for any web contents, not only our window.
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });

  void app.whenReady().then(() =>
    start().catch((error: unknown) => {
      console.error(error);
      dialog.showErrorBox('Cue could not start', error instanceof Error ? error.message : String(error));
      app.exit(1);
    }),
  );

  app.on('activate', () => showWindow());

  app.on('before-quit', () => {
    quitting = true;
  });

  // Stop the session (and its provider connections) before quitting, within two seconds.
  let stopped = false;
  app.on('will-quit', (event) => {
    shortcut?.dispose();
    if (stopped || !core) return;
    event.preventDefault();
    stopped = true;
    const stop = core.request('session:stop', {}).catch(() => undefined);
    const timeout = new Promise((resolve) => setTimeout(resolve, 2000).unref());
    void Promise.race([stop, timeout]).finally(() => {
      tray?.destroy();
      app.quit();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
