/**
 * Electron main process: glue only. The decisions live in small modules tested in plain Node:
 * the app core (./app), the IPC carrier (./ipc-carrier), the app's scheme (./shell/app-protocol),
 * the sender and permission checks (./shell/app-origin, ./shell/permissions), the window's options
 * (./shell/window-options), new windows and external links (./shell/external-links), the tray
 * (./shell/tray-state) and the shortcut (./shell/shortcut).
 *
 * Security, after Electron's checklist: one sandboxed, context-isolated window without Node,
 * web security on, DevTools off when packaged, the page served from the app's own privileged
 * scheme (cue://app/, never file://) with its CSP as a response header and as a <meta> tag, no
 * navigation, every window.open denied (an allowlisted https link opens in the user's browser,
 * only right after a click or key press in the window), no webviews; IPC accepted only from the
 * main frame of that window showing the app's page; permissions: the microphone (audio only) for
 * that page, nothing else. The fuses set in electron-builder.yml close ELECTRON_RUN_AS_NODE,
 * NODE_OPTIONS, --inspect, loading anything but app.asar and file:// privileges.
 *
 * The global push-to-talk shortcut (default CommandOrControl+Shift+Space) toggles: Electron's
 * globalShortcut reports presses but no releases, so it cannot be held to talk (see shell/shortcut).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import {
  BrowserWindow,
  MessageChannelMain,
  app,
  dialog,
  globalShortcut,
  ipcMain,
  net,
  protocol,
  safeStorage,
  session,
  shell,
  systemPreferences,
} from 'electron';
import type { AppState } from '../shared/contract';
import { defaultSettings } from '../shared/settings';
import { createAppCore, type AppCore } from './app/app-core';
import { registerIpcCarrier } from './ipc-carrier';
import { appPageFor, isTrustedFrame } from './shell/app-origin';
import {
  APP_ENTRY_URL,
  APP_SCHEME,
  APP_SCHEME_PRIVILEGES,
  createAppProtocolHandler,
} from './shell/app-protocol';
import { ErrorLog, logUncaughtErrors } from './shell/error-log';
import { decideExternalOpen, UserActivation } from './shell/external-links';
import { ensureMicrophoneAccess } from './shell/microphone-access';
import { installPermissionHandlers } from './shell/permissions';
import { rendererCsp } from './shell/renderer-files';
import { RendererRecovery } from './shell/renderer-recovery';
import { createPushToTalkShortcut, type PushToTalkShortcut } from './shell/shortcut';
import { createAppTray, type AppTray } from './shell/tray';
import { INITIAL_APP_STATE, createTrayActions } from './shell/tray-state';
import { shouldCheckForUpdates, UPDATER_SETTINGS, updateReadyNotice } from './shell/update-policy';
import { mainWindowOptions } from './shell/window-options';

const PRELOAD = join(import.meta.dirname, '../preload/index.cjs');
const RENDERER_ROOT = join(import.meta.dirname, '../renderer');
/**
 * Under `electron-vite dev` (never packaged) the page comes from the Vite dev server on loopback,
 * so edits reload live; the sender check and the permission handlers then trust that origin only.
 */
const APP_PAGE = appPageFor(app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL']);
/** Bundled assets (tray icons, models/): extraResources when packaged, ./resources in development. */
const RESOURCES = app.isPackaged ? process.resourcesPath : join(app.getAppPath(), 'resources');

let core: AppCore | undefined;
/** Uncaught errors of main, in <logs>/main.log (shell/error-log). */
const errorLog = new ErrorLog(app.getPath('logs'));
const rendererRecovery = new RendererRecovery(() => performance.now());
let mainWindow: BrowserWindow | undefined;
let tray: AppTray | undefined;
let shortcut: PushToTalkShortcut | undefined;
let quitting = false;

function createWindow(handler: AppCore): BrowserWindow {
  const win = new BrowserWindow(mainWindowOptions({ preload: PRELOAD, packaged: app.isPackaged }));
  mainWindow = win;
  win.once('ready-to-show', () => win.show());

  const contents = win.webContents;
  // Clicks and key presses reach main as input events, which the page cannot fake: an external
  // link opens only right after one (shell/external-links).
  const activation = new UserActivation(() => performance.now());
  contents.on('input-event', (_event, input) => activation.noteInput(input.type));
  const openIfAllowed = (url: string): void => {
    if (decideExternalOpen(url, activation).openExternally) void shell.openExternal(url);
  };
  // The page never navigates anywhere and opens no window of its own.
  contents.on('will-navigate', (event) => {
    event.preventDefault();
    openIfAllowed(event.url);
  });
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openIfAllowed(url);
    return { action: 'deny' };
  });
  // A dead page is reloaded (the session goes on and the page reconnects to it), or, when it keeps
  // dying, the session is stopped; either way the user is told (shell/renderer-recovery).
  contents.on('render-process-gone', (_event, details) => {
    errorLog.write('render-process-gone', `${details.reason} (exit code ${details.exitCode})`);
    const decision = rendererRecovery.onGone(details, handler.sessionRunning);
    if (decision.stopSession) void handler.request('session:stop', {}).catch(() => undefined);
    handler.addNotice(decision.notice);
    if (decision.reload) contents.reload();
    else dialog.showErrorBox('Cue', decision.notice.message);
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

  void win.loadURL(APP_PAGE.kind === 'dev-server' ? process.env['ELECTRON_RENDERER_URL']! : APP_ENTRY_URL);
  return win;
}

function showWindow(): void {
  if (!core) return;
  const win = mainWindow ?? createWindow(core);
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}

/** Serves the built renderer on the app's scheme (the file: reads go through net.fetch, which sees inside app.asar). */
function serveAppScheme(): void {
  protocol.handle(
    APP_SCHEME,
    createAppProtocolHandler({
      rendererRoot: RENDERER_ROOT,
      csp: rendererCsp(RENDERER_ROOT),
      isFile: (file) => statSync(file, { throwIfNoEntry: false })?.isFile() === true,
      fetchFile: (fileUrl) => net.fetch(fileUrl),
      onRefused: (url, reason) => console.warn(`cue: refused ${url}: ${reason}`),
    }),
  );
}

async function start(): Promise<void> {
  serveAppScheme();
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
    microphoneAccess: () => ensureMicrophoneAccess(process.platform, systemPreferences),
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
  if (shouldCheckForUpdates({ packaged: app.isPackaged, env: process.env })) {
    checkForUpdates(handler).catch((error: unknown) => errorLog.write('update check', error));
  }
}

/**
 * Checks GitHub Releases once (shell/update-policy): a new version downloads in the background
 * and installs when the user quits Cue, never during a conversation.
 */
async function checkForUpdates(handler: AppCore): Promise<void> {
  const { default: updater } = await import('electron-updater');
  const { autoUpdater } = updater;
  Object.assign(autoUpdater, UPDATER_SETTINGS);
  autoUpdater.on('update-downloaded', (info) =>
    handler.addNotice(updateReadyNotice(info.version, handler.sessionRunning)),
  );
  autoUpdater.on('error', (error) => errorLog.write('update', error));
  await autoUpdater.checkForUpdates();
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.enableSandbox();
  logUncaughtErrors(process, errorLog, (kind, error) =>
    core?.addNotice({
      level: 'error',
      message: `Cue hit an internal error (${kind}: ${error instanceof Error ? error.message : String(error)}). Details are in ${errorLog.file}.`,
    }),
  );
  // Before ready: the scheme's privileges (standard, secure) are fixed at startup.
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }]);

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
