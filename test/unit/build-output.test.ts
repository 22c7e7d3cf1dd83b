/**
 * Builds the app with electron-vite into a temporary directory (a few seconds here)
 * and checks the security-relevant properties of the output:
 * - the preload is one small self-contained CommonJS script that only requires 'electron' and
 *   exposes `window.cue` with exactly the contract's API and the microphone port request (run
 *   against a fake 'electron');
 * - the renderer page has a strict CSP and no inline script;
 * - the main process opens a sandboxed, context-isolated window without Node, denies
 *   navigation and new windows, grants the microphone (audio only) to the app page and nothing
 *   else, registers exactly the contract's IPC channels with the sender check, hands the audio
 *   port to the loaded page, takes microphone ports from the app page only, and sets up the
 *   tray and the global shortcut;
 * - the Smart Turn worker is its own file beside index.js, keeps onnxruntime-node external, and
 *   loads a (stand-in) model and answers from the built files in a worker thread.
 * Electron itself cannot run here: main runs against a recording stand-in for 'electron'
 * (with the real app core behind it, its dependencies linked from the project's node_modules).
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import config from '../../electron.vite.config';
import { decodeWav } from '../../src/main/engine/audio/wav';
import { SmartTurnModel } from '../../src/main/engine/turn-detector/smart-turn';
import type {
  SmartTurnWorkerData,
  SmartTurnWorkerReply,
} from '../../src/main/engine/turn-detector/smart-turn-worker';
import { writeStandInModel } from '../../src/main/engine/turn-detector/stand-in-model';
import { EVENT_NAMES, REQUEST_NAMES, ipcChannel } from '../../src/shared/contract';
import { MIC_PORT_MESSAGE } from '../../src/shared/contract-names';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const electronVite = join(dirname(require.resolve('electron-vite/package.json')), 'bin', 'electron-vite.js');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

let work: string;
let out: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cue-build-'));
  out = join(work, 'out');
  execFileSync(process.execPath, [electronVite, 'build', '--outDir', out, '--logLevel', 'error'], {
    cwd: root,
    stdio: 'pipe',
    timeout: 60_000,
  });
}, 90_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * The built files' npm dependencies, found through `<work>/node_modules` as in the app: links to
 * the project's packages (all but electron, which the main tests fake). Once.
 */
function linkDependencies(): void {
  if (existsSync(join(work, 'node_modules', 'onnxruntime-node'))) return;
  mkdirSync(join(work, 'node_modules'), { recursive: true });
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry.startsWith('.') || entry === 'electron') continue;
    symlinkSync(join(root, 'node_modules', entry), join(work, 'node_modules', entry), 'junction');
  }
}

describe('electron.vite.config', () => {
  it('keeps onnxruntime-node external in main and bundles everything into a CommonJS preload', () => {
    expect(config.main?.build?.rolldownOptions?.external).toEqual(
      expect.arrayContaining(['onnxruntime-node']),
    );
    // The Smart Turn worker thread is a second entry of the main build.
    expect(config.main?.build?.rolldownOptions?.input).toMatchObject({
      'smart-turn-worker': join(root, 'src', 'main', 'engine', 'turn-detector', 'smart-turn-worker.ts'),
    });
    expect(config.preload?.build?.externalizeDeps).toBe(false);
    expect(config.preload?.build?.rolldownOptions?.output).toMatchObject({ format: 'cjs' });
  });
});

describe('build output: preload', () => {
  it('is a single CommonJS file', () => {
    expect(readdirSync(join(out, 'preload'))).toEqual(['index.cjs']);
    const code = readFileSync(join(out, 'preload', 'index.cjs'), 'utf8');
    // Parses as a classic script: no import/export statements.
    expect(() => new vm.Script(code, { filename: 'index.cjs' })).not.toThrow();
    expect(code).not.toMatch(/^\s*(?:import|export)\s/m);
    expect(code).not.toMatch(/\bimport\s*\(/);
  });

  it('requires nothing but electron (self-contained)', () => {
    const code = readFileSync(join(out, 'preload', 'index.cjs'), 'utf8');
    const calls = [...code.matchAll(/\brequire\s*\(([^)]*)\)/g)].map((m) => m[1]!.trim());
    expect(calls.length).toBeGreaterThan(0);
    for (const argument of calls) expect(argument).toMatch(/^["']electron["']$/);
  });

  it('stays small: the contract names come without zod', () => {
    const file = join(out, 'preload', 'index.cjs');
    expect(statSync(file).size).toBeLessThan(16_000);
    expect(readFileSync(file, 'utf8')).not.toMatch(/safeParse|ZodError|\$ZodType/);
  });

  /** Runs the built preload sandbox-style against a fake 'electron' and returns what it exposed. */
  function runPreload() {
    const code = readFileSync(join(out, 'preload', 'index.cjs'), 'utf8');
    const exposed: Record<string, unknown> = {};
    const required: string[] = [];
    const invoked: unknown[][] = [];
    /** ipcRenderer.postMessage calls, and window.postMessage calls (the preload's window). */
    const toMain: { channel: string; message: unknown; transfer: unknown[] }[] = [];
    const toWindow: { message: unknown; targetOrigin: string; transfer: unknown[] }[] = [];
    const rendererListeners = new Map<string, ((event: unknown, ...args: unknown[]) => void)[]>();
    const invokeResult: { value: Promise<unknown> } = { value: Promise.resolve('answer') };
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) },
      ipcRenderer: {
        invoke: (channel: string, ...args: unknown[]) => {
          invoked.push([channel, ...args]);
          return invokeResult.value;
        },
        on: (channel: string, listener: (event: unknown, ...args: unknown[]) => void) => {
          rendererListeners.set(channel, [...(rendererListeners.get(channel) ?? []), listener]);
        },
        postMessage: (channel: string, message: unknown, transfer: unknown[] = []) => {
          toMain.push({ channel, message, transfer });
        },
      },
    };
    const window = {
      postMessage: (message: unknown, targetOrigin: string, transfer: unknown[] = []) => {
        toWindow.push({ message, targetOrigin, transfer });
      },
    };
    let channels = 0;
    class MessageChannel {
      readonly port1 = { name: `port1 of channel ${++channels}` };
      readonly port2 = { name: `port2 of channel ${channels}` };
    }
    const fakeRequire = (id: string) => {
      required.push(id);
      if (id !== 'electron') throw new Error(`a sandboxed preload cannot require ${id}`);
      return electron;
    };
    const module = { exports: {} };
    const context = vm.createContext({
      require: fakeRequire,
      module,
      exports: module.exports,
      console,
      window,
      MessageChannel,
    });
    vm.runInContext(code, context);
    /** What main sends with webContents.send / postMessage. */
    const fromMain = (channel: string, event: unknown, ...args: unknown[]) => {
      for (const listener of rendererListeners.get(channel) ?? []) listener(event, ...args);
    };
    const Int16 = vm.runInContext('Int16Array', context) as Int16ArrayConstructor;
    return { exposed, required, invoked, invokeResult, fromMain, rendererListeners, Int16, toMain, toWindow };
  }

  interface Api {
    version: string;
    request(name: string, payload: unknown): Promise<unknown>;
    on(name: string, listener: (payload: unknown) => void): () => void;
    sendAudio(message: unknown): void;
    onAudio(listener: (message: unknown) => void): () => void;
    requestMicPort(): number;
  }

  it('exposes only window.cue, frozen, with exactly the contract API and the package version', () => {
    const { exposed, required, rendererListeners } = runPreload();
    expect(required).toEqual(['electron']);
    expect(Object.keys(exposed)).toEqual(['cue']);
    const cue = exposed.cue as Api;
    expect(Object.keys(cue).sort()).toEqual(
      ['onAudio', 'on', 'request', 'requestMicPort', 'sendAudio', 'version'].sort(),
    );
    expect(cue.version).toBe(pkg.version);
    for (const key of ['request', 'on', 'sendAudio', 'onAudio', 'requestMicPort'] as const)
      expect(typeof cue[key]).toBe('function');
    expect(Object.isFrozen(cue)).toBe(true);
    // It listens on the contract's channels only.
    expect([...rendererListeners.keys()].sort()).toEqual([ipcChannel.audioPort, ipcChannel.event].sort());
  });

  it('request(): invokes the contract channel with the payload, and refuses other names before sending', async () => {
    const { exposed, invoked, invokeResult } = runPreload();
    const cue = exposed.cue as Api;
    await expect(cue.request('app:state', {})).resolves.toBe('answer');
    await cue.request('session:mute', { muted: true });
    expect(invoked).toEqual([
      [ipcChannel.request('app:state'), {}],
      [ipcChannel.request('session:mute'), { muted: true }],
    ]);
    for (const name of ['shell:exec', '__proto__', 'constructor', 'toString', '', 'cue:request:app:state']) {
      await expect(cue.request(name, {})).rejects.toThrow(/unknown request/);
    }
    await expect(cue.request(42 as unknown as string, {})).rejects.toThrow(/unknown request/);
    expect(invoked).toHaveLength(2);
    // Main's errors come back without Electron's wrapping.
    invokeResult.value = Promise.reject(
      new Error(
        "Error invoking remote method 'cue:request:keys:set': ContractError: keys:set: key: too short",
      ),
    );
    const error = (await cue
      .request('keys:set', { provider: 'openai', key: 'x' })
      .catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('ContractError');
    expect(error.message).toBe('keys:set: key: too short');
    expect(REQUEST_NAMES.length).toBeGreaterThan(0);
  });

  it('on(): contract events only, the listener gets the payload without the Electron event', () => {
    const { exposed, fromMain } = runPreload();
    const cue = exposed.cue as Api;
    const got: unknown[][] = [];
    const off = cue.on('state', (...args) => got.push(args));
    cue.on('notice', (...args) => got.push(['notice', ...args]));
    expect(() => cue.on('ipc:secret', () => {})).toThrow(/unknown event/);
    const electronEvent = { sender: 'ipcRenderer', ports: [] };
    fromMain(ipcChannel.event, electronEvent, 'state', { status: 'listening' });
    fromMain(ipcChannel.event, electronEvent, 'not-an-event', { x: 1 });
    fromMain(ipcChannel.event, electronEvent, 'notice', { level: 'info', message: 'hi' });
    off();
    fromMain(ipcChannel.event, electronEvent, 'state', { status: 'thinking' });
    expect(got).toEqual([[{ status: 'listening' }], ['notice', { level: 'info', message: 'hi' }]]);
    expect(EVENT_NAMES).toContain('state');
  });

  it('audio: queues until the port arrives, transfers mic buffers, delivers AudioDown', () => {
    const { exposed, fromMain, Int16 } = runPreload();
    const cue = exposed.cue as Api;
    const early = { type: 'played', utterance: 1, ageMs: 3 };
    cue.sendAudio(early);
    const posted: { message: unknown; transfer: unknown[] }[] = [];
    const port = {
      onmessage: undefined as ((event: { data: unknown }) => void) | undefined,
      started: false,
      postMessage: (message: unknown, transfer: unknown[]) => posted.push({ message, transfer }),
      start() {
        this.started = true;
      },
      close() {},
    };
    fromMain(ipcChannel.audioPort, { ports: [port] });
    expect(port.started).toBe(true);
    expect(posted).toEqual([{ message: early, transfer: [] }]);
    const samples = new Int16(512);
    cue.sendAudio({ type: 'mic', samples, ageMs: 1 });
    expect(posted[1]!.transfer).toEqual([samples.buffer]);
    const down: unknown[] = [];
    cue.onAudio((message) => down.push(message));
    port.onmessage!({ data: { type: 'pause' } });
    port.onmessage!({ data: 'garbage' });
    expect(down).toEqual([{ type: 'pause' }]);
  });

  it('requestMicPort(): one end of a new channel to main, the other posted to the window with the id it returns', () => {
    const { exposed, toMain, toWindow } = runPreload();
    const cue = exposed.cue as { requestMicPort(): number };
    expect(toMain).toEqual([]);
    const first = cue.requestMicPort();
    const second = cue.requestMicPort();
    expect(second).not.toBe(first);
    expect(toMain).toEqual([
      { channel: ipcChannel.micPort, message: null, transfer: [{ name: 'port1 of channel 1' }] },
      { channel: ipcChannel.micPort, message: null, transfer: [{ name: 'port1 of channel 2' }] },
    ]);
    expect(toWindow).toEqual([
      {
        message: { [MIC_PORT_MESSAGE]: first },
        targetOrigin: '*',
        transfer: [{ name: 'port2 of channel 1' }],
      },
      {
        message: { [MIC_PORT_MESSAGE]: second },
        targetOrigin: '*',
        transfer: [{ name: 'port2 of channel 2' }],
      },
    ]);
  });
});

describe('build output: renderer', () => {
  const html = () => readFileSync(join(out, 'renderer', 'index.html'), 'utf8');

  it('has a strict Content-Security-Policy meta tag', () => {
    const match = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(html());
    expect(match).not.toBeNull();
    const policy = match![1]!;
    const directives = new Map(
      policy
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .filter((parts) => parts[0])
        .map((parts) => [parts[0]!, parts.slice(1)]),
    );
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:|data:[^;]*script/);
  });

  it('has no inline script, style or event handler, and its assets exist', () => {
    const page = html();
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc="\.\/assets\/[^"]+\.js"/);
      expect(body!.trim()).toBe('');
    }
    expect(page).not.toMatch(/<style\b/i);
    expect(page).not.toMatch(/\son[a-z]+\s*=/i);
    expect(page).not.toMatch(/javascript:/i);
    const assets = [...page.matchAll(/(?:src|href)="(\.\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) expect(existsSync(resolve(out, 'renderer', asset))).toBe(true);
    expect(page).toMatch(/<title>Cue<\/title>/);
  });
});

describe('build output: main', () => {
  interface MainReport {
    sandboxEnabled: boolean;
    singleInstance: boolean;
    windows: {
      options: { webPreferences: Record<string, unknown> } & Record<string, unknown>;
      loadedFile?: string;
      loadedUrl?: string;
    }[];
    navigationPrevented: boolean;
    redirectPrevented: boolean;
    webviewPrevented: boolean;
    windowOpen: unknown;
    otherContentsNavigationPrevented: boolean;
    otherContentsWindowOpen: unknown;
    permissionGranted: unknown;
    permissionCheck: unknown;
    permissions: Record<string, boolean>;
    ipcChannels: string[];
    ipcListeners: string[];
    micPortFromApp: { started: boolean; closed: boolean; listeners: number };
    micPortFromSubframe: { started: boolean; closed: boolean; listeners: number };
    requestFromApp: unknown;
    requestFromSubframe: string;
    requestFromOtherPage: string;
    audioPorts: { channel: string; message: unknown; ports: number }[];
    tray: { tooltip?: string; image?: string; menu: string[] } | null;
    shortcuts: string[];
    errors: string[];
    openedExternally: string[];
    privilegedSchemes: { scheme: string; privileges: Record<string, boolean> }[];
    reloadsAfterCrash: number;
    crashNotices: { level: string; message: string }[];
    readyAtSchemeRegistration: boolean | undefined;
    scheme: Record<
      'page' | 'traversal' | 'otherHost' | 'post',
      { status: number; type: string | null; csp: string | null; body: string }
    > | null;
  }

  let report: MainReport;

  beforeAll(() => {
    // A recording stand-in for the 'electron' module, found by the built main through node_modules.
    const fake = join(work, 'node_modules', 'electron');
    mkdirSync(fake, { recursive: true });
    writeFileSync(
      join(fake, 'package.json'),
      JSON.stringify({ name: 'electron', type: 'module', main: 'index.js' }),
    );
    writeFileSync(join(fake, 'index.js'), FAKE_ELECTRON);
    // Main's other dependencies (the app core's) come from the project's node_modules.
    linkDependencies();
    writeFileSync(join(work, 'drive.mjs'), DRIVER);
    const stdout = execFileSync(process.execPath, [join(work, 'drive.mjs'), join(out, 'main', 'index.js')], {
      cwd: work,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, CUE_TEST_USER_DATA: join(work, 'user-data'), CUE_TEST_APP_PATH: root },
    });
    report = JSON.parse(stdout.trim().split('\n').at(-1)!) as MainReport;
  }, 40_000);

  it('starts without errors, as the single instance', () => {
    expect(report.errors).toEqual([]);
    expect(report.singleInstance).toBe(true);
  });

  it('opens one sandboxed, context-isolated window without Node integration', () => {
    expect(report.sandboxEnabled).toBe(true);
    expect(report.windows).toHaveLength(1);
    const prefs = report.windows[0]!.options.webPreferences;
    expect(prefs).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      webSecurity: true,
    });
    expect(prefs.allowRunningInsecureContent).not.toBe(true);
    expect(prefs.webviewTag).not.toBe(true);
    expect(prefs.nodeIntegrationInWorker).not.toBe(true);
  });

  it('uses the built CommonJS preload and loads the page from the app scheme, never file://', () => {
    const win = report.windows[0]!;
    expect(win.options.webPreferences.preload).toBe(join(out, 'preload', 'index.cjs'));
    expect(existsSync(win.options.webPreferences.preload as string)).toBe(true);
    expect(win.loadedUrl).toBe('cue://app/index.html');
    expect(win.loadedFile).toBeUndefined();
    // Unpackaged here (the stand-in says isPackaged: false), so DevTools stay available.
    expect(win.options.webPreferences.devTools).toBe(true);
  });

  it('registers cue: as a privileged standard scheme before ready, and serves the built page on it', () => {
    expect(report.privilegedSchemes).toEqual([
      { scheme: 'cue', privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
    ]);
    expect(report.readyAtSchemeRegistration).toBe(false);
    const scheme = report.scheme!;
    expect(scheme.page).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(scheme.page.body.toLowerCase()).toContain('<!doctype html>');
    expect(scheme.page.csp).toMatch(/^default-src 'self';.*frame-ancestors 'none'$/);
    expect(scheme.traversal.status).toBe(403);
    expect(scheme.otherHost.status).toBe(404);
    expect(scheme.post.status).toBe(405);
  });

  it('denies navigation, redirects, webviews, new windows and untyped permission requests', () => {
    expect(report.navigationPrevented).toBe(true);
    expect(report.redirectPrevented).toBe(true);
    expect(report.webviewPrevented).toBe(true);
    expect(report.windowOpen).toEqual({ action: 'deny' });
    expect(report.otherContentsNavigationPrevented).toBe(true);
    expect(report.otherContentsWindowOpen).toEqual({ action: 'deny' });
    // A media request or check that names no media type is denied.
    expect(report.permissionGranted).toBe(false);
    expect(report.permissionCheck).toBe(false);
  });

  it('grants the microphone (audio only) to the app page, and nothing else to anyone', () => {
    expect(report.permissions).toEqual({
      'request media audio, app page': true,
      'check media audio, app page': true,
      'request media video, app page': false,
      'request media audio+video, app page': false,
      'request media audio, other URL': false,
      'request media audio, subframe': false,
      'request media audio, other web contents': false,
      'check media audio, other URL': false,
      'check media video, app page': false,
      'request notifications, app page': false,
      'request geolocation, app page': false,
      'check clipboard-read, app page': false,
      'request display-capture, app page': false,
    });
  });

  it('registers exactly the contract request channels and checks the sender frame', () => {
    expect([...report.ipcChannels].sort()).toEqual(
      REQUEST_NAMES.map((name) => ipcChannel.request(name)).sort(),
    );
    expect(report.requestFromApp).toMatchObject({ running: false, status: 'stopped' });
    expect(report.requestFromSubframe).toMatch(/refused/);
    expect(report.requestFromOtherPage).toMatch(/refused/);
  });

  it('takes microphone ports on their channel, from the app page only', () => {
    expect(report.ipcListeners).toEqual([ipcChannel.micPort]);
    expect(report.micPortFromApp).toEqual({ started: true, closed: false, listeners: 1 });
    expect(report.micPortFromSubframe).toEqual({ started: false, closed: true, listeners: 0 });
  });

  it('hands one audio port to the page once it has loaded', () => {
    expect(report.audioPorts).toEqual([{ channel: ipcChannel.audioPort, message: null, ports: 1 }]);
  });

  it('shows a tray icon with its menu, and registers the push-to-talk shortcut', () => {
    expect(report.tray).not.toBeNull();
    expect(report.tray!.tooltip).toBe('Cue: stopped');
    expect(report.tray!.image).toMatch(/[\\/]tray[\\/]stopped\.png$/);
    expect(report.tray!.menu).toEqual([
      'Show Cue',
      '-',
      'Start',
      'Mute',
      'Push-to-talk mode',
      '-',
      'Quit Cue',
    ]);
    expect(report.shortcuts).toEqual(['CommandOrControl+Shift+Space']);
  });

  it('keeps the CSP in the page too, the same policy as the header', () => {
    const page = readFileSync(join(out, 'renderer', 'index.html'), 'utf8');
    const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/i.exec(page);
    expect(meta).not.toBeNull();
    expect(report.scheme!.page.csp).toBe(
      `${meta![1]!.replace(/\s+/g, ' ').trim().replace(/;\s*$/, '')}; frame-ancestors 'none'`,
    );
  });

  it('reloads a crashed page and keeps a notice for it, so the reloaded page shows it', () => {
    expect(report.reloadsAfterCrash).toBe(1);
    expect(report.crashNotices).toContainEqual({
      level: 'warning',
      message: "Cue's window crashed (crashed, exit code 11) and was reloaded.",
    });
  });

  it('opens an allowlisted https link externally only after a click, once; everything else never', () => {
    expect(report.openedExternally).toEqual(['https://platform.openai.com/api-keys']);
  });

  it('keeps the security options literally in the bundle', () => {
    const code = readFileSync(join(out, 'main', 'index.js'), 'utf8');
    expect(code).toMatch(/sandbox:\s*true/);
    expect(code).toMatch(/contextIsolation:\s*true/);
    expect(code).toMatch(/nodeIntegration:\s*false/);
    expect(code).not.toMatch(
      /sandbox:\s*false|contextIsolation:\s*false|webSecurity:\s*false|nodeIntegration:\s*true/,
    );
  });
});

describe('build output: Smart Turn worker', () => {
  const workerFile = () => join(out, 'main', 'smart-turn-worker.js');

  /** The built files a module loads (relative imports, transitively) and the packages it imports. */
  function importGraph(entry: string): { files: string[]; packages: Set<string> } {
    const files: string[] = [];
    const packages = new Set<string>();
    const todo = [entry];
    while (todo.length > 0) {
      const file = todo.pop()!;
      if (files.includes(file)) continue;
      files.push(file);
      const code = readFileSync(file, 'utf8');
      const specifiers = [
        ...code.matchAll(/^\s*(?:import|export)\b[^'"]*?(?:from\s*)?["']([^"']+)["']/gm),
        ...code.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g),
        ...code.matchAll(/\brequire\s*\(\s*["']([^"']+)["']\s*\)/g),
      ].map((m) => m[1]!);
      for (const specifier of specifiers) {
        if (specifier.startsWith('.')) todo.push(resolve(dirname(file), specifier));
        else packages.add(specifier);
      }
    }
    return { files, packages };
  }

  it('is emitted beside index.js and imports onnxruntime-node as an external, nothing else but Node', () => {
    expect(existsSync(workerFile())).toBe(true);
    const { files, packages } = importGraph(workerFile());
    expect(files.length).toBeGreaterThan(1); // the model code, shared with index.js
    expect(packages).toContain('onnxruntime-node');
    for (const name of packages) expect(name).toMatch(/^(?:node:[a-z_/]+|onnxruntime-node)$/);
    for (const file of files) {
      // onnxruntime's own code (onnxruntime-common, its backend) is not bundled in.
      expect(readFileSync(file, 'utf8')).not.toMatch(/onnxruntime-common|OnnxruntimeSessionHandler/);
    }
    // index.js reaches onnxruntime-node the same way (Silero, and the in-thread Smart Turn).
    expect(importGraph(join(out, 'main', 'index.js')).packages).toContain('onnxruntime-node');
  });

  it('is found by the main thread: the client that names it lies in out/main, beside it', () => {
    const named = (readdirSync(join(out, 'main'), { recursive: true }) as string[])
      .map((file) => join(out, 'main', file))
      .filter(
        (file) => file.endsWith('.js') && readFileSync(file, 'utf8').includes('"smart-turn-worker.js"'),
      );
    expect(named.length).toBeGreaterThan(0);
    for (const file of named) expect(dirname(file)).toBe(join(out, 'main'));
  });

  /** Starts the built worker on `modelPath`; resolves with its first reply and the worker. */
  function startBuiltWorker(modelPath: string): Promise<{ worker: Worker; reply: SmartTurnWorkerReply }> {
    const workerData: SmartTurnWorkerData = { kind: 'cue-smart-turn', modelPath };
    const worker = new Worker(workerFile(), { workerData });
    return new Promise((resolvePromise, reject) => {
      worker.once('message', (reply: SmartTurnWorkerReply) => resolvePromise({ worker, reply }));
      worker.once('error', reject);
    });
  }

  it('loads the model and answers in a worker thread, from the built files', async () => {
    linkDependencies();
    const modelPath = join(work, 'stand-in.onnx');
    writeStandInModel(modelPath);
    const { worker, reply } = await startBuiltWorker(modelPath);
    try {
      expect(reply).toEqual({ type: 'ready' });
      const wav = readFileSync(join(root, 'test/fixtures/cases/weather-question/audio.wav'));
      const audio = decodeWav(wav, 'weather-question').samples.subarray(0, 3 * 16_000);
      const local = await SmartTurnModel.load(modelPath);
      const expected = await local.predict(audio);
      await local.dispose();
      const answer = new Promise<SmartTurnWorkerReply>((resolvePromise) =>
        worker.once('message', resolvePromise),
      );
      const copy = audio.slice();
      worker.postMessage({ type: 'predict', id: 7, audio: copy }, [copy.buffer]);
      const result = await answer;
      expect(result).toMatchObject({ type: 'result', id: 7 });
      expect(result.type === 'result' && Math.abs(result.probability - expected)).toBeLessThanOrEqual(1e-6);
    } finally {
      await worker.terminate();
    }
  });

  it('reports a model it cannot load (TurnModelLoadError reason) and exits', async () => {
    linkDependencies();
    const { worker, reply } = await startBuiltWorker(join(work, 'no-such-model.onnx'));
    const code = await new Promise<number>((resolvePromise) => worker.once('exit', resolvePromise));
    expect(reply).toMatchObject({ type: 'load-error', reason: 'missing' });
    expect(code).toBe(0);
  });
});

const FAKE_ELECTRON = `
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const record = {
  sandboxEnabled: false,
  singleInstance: false,
  windows: [],
  appListeners: {},
  permissionRequest: undefined,
  permissionCheck: undefined,
  opened: [],
  ipcHandlers: new Map(),
  ipcListeners: new Map(),
  trays: [],
  shortcuts: new Map(),
  errors: [],
  privilegedSchemes: [],
  protocolHandlers: new Map(),
  readyAtSchemeRegistration: undefined,
};
let ready = false;
let nextRouting = 1;
export class Frame {
  constructor(url, parent = null, processId = 11, routingId = nextRouting++) {
    Object.assign(this, { url, parent, processId, routingId });
  }
  isDestroyed() { return false; }
}
class WebContents {
  listeners = {};
  openHandler = undefined;
  mainFrame = new Frame('');
  posted = [];
  sent = [];
  on(name, listener) { (this.listeners[name] ??= []).push(listener); return this; }
  once(name, listener) { return this.on(name, listener); }
  removeListener(name, listener) { this.listeners[name] = (this.listeners[name] ?? []).filter((l) => l !== listener); return this; }
  emit(name, ...args) { for (const l of this.listeners[name] ?? []) l(...args); }
  setWindowOpenHandler(handler) { this.openHandler = handler; }
  reloads = 0;
  reload() { this.reloads++; }
  isDestroyed() { return false; }
  getURL() { return this.mainFrame.url; }
  send(channel, ...args) { this.sent.push([channel, ...args]); }
  postMessage(channel, message, transfer = []) { this.posted.push({ channel, message, ports: transfer.length }); }
}
export class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    this.options = options;
    this.webContents = new WebContents();
    record.windows.push(this);
  }
  show() {}
  hide() {}
  focus() {}
  restore() {}
  isMinimized() { return false; }
  isDestroyed() { return false; }
  loadFile(file) {
    this.loadedFile = file;
    this.webContents.mainFrame = new Frame(pathToFileURL(file).href);
    this.webContents.emit('did-finish-load');
    return Promise.resolve();
  }
  loadURL(url) {
    this.loadedUrl = url;
    this.webContents.mainFrame = new Frame(url);
    this.webContents.emit('did-finish-load');
    return Promise.resolve();
  }
  static getAllWindows() { return record.windows; }
}
export class MessageChannelMain {
  port1 = new EventEmitter();
  port2 = new EventEmitter();
  constructor() {
    for (const port of [this.port1, this.port2]) Object.assign(port, { start() {}, close() {}, postMessage() {} });
  }
}
export const app = {
  isPackaged: false,
  enableSandbox() { record.sandboxEnabled = true; },
  requestSingleInstanceLock() { record.singleInstance = true; return true; },
  on(name, listener) { (record.appListeners[name] ??= []).push(listener); return app; },
  whenReady() { ready = true; return Promise.resolve(); },
  getPath(name) { return join(process.env.CUE_TEST_USER_DATA, name); },
  getAppPath() { return process.env.CUE_TEST_APP_PATH; },
  getVersion() { return '0.0.0-test'; },
  quit() {},
  exit(code) { record.errors.push('exit ' + code); },
};
export const session = {
  defaultSession: {
    setPermissionRequestHandler(handler) { record.permissionRequest = handler; },
    setPermissionCheckHandler(handler) { record.permissionCheck = handler; },
  },
};
export const shell = { openExternal(url) { record.opened.push(url); return Promise.resolve(); } };
export const protocol = {
  registerSchemesAsPrivileged(schemes) {
    record.readyAtSchemeRegistration = ready;
    record.privilegedSchemes.push(...schemes);
  },
  handle(scheme, handler) { record.protocolHandlers.set(scheme, handler); },
};
// Electron's net.fetch of a file: URL, read from disk here.
export const net = {
  async fetch(url) {
    const { readFile } = await import('node:fs/promises');
    const { fileURLToPath } = await import('node:url');
    try { return new Response(await readFile(fileURLToPath(url))); }
    catch { return new Response('', { status: 404 }); }
  },
};
export const ipcMain = {
  handle(channel, listener) {
    if (record.ipcHandlers.has(channel)) throw new Error('Attempted to register a second handler for ' + channel);
    record.ipcHandlers.set(channel, listener);
  },
  removeHandler(channel) { record.ipcHandlers.delete(channel); },
  on(channel, listener) { record.ipcListeners.set(channel, [...(record.ipcListeners.get(channel) ?? []), listener]); return ipcMain; },
  removeListener(channel, listener) { record.ipcListeners.set(channel, (record.ipcListeners.get(channel) ?? []).filter((l) => l !== listener)); return ipcMain; },
};
export const safeStorage = {
  isEncryptionAvailable: () => true,
  encryptString: (text) => Buffer.from('enc:' + text),
  decryptString: (buffer) => buffer.toString().slice(4),
  getSelectedStorageBackend: () => 'gnome_libsecret',
};
export const nativeImage = { createFromPath: (path) => ({ path }) };
export class Tray {
  constructor(image) { this.image = image.path; this.listeners = {}; record.trays.push(this); }
  on(name, listener) { this.listeners[name] = listener; return this; }
  setImage(image) { this.image = image.path; }
  setToolTip(tooltip) { this.tooltip = tooltip; }
  setContextMenu(menu) { this.menu = menu; }
  destroy() {}
}
export const Menu = { buildFromTemplate: (template) => ({ template }) };
export const globalShortcut = {
  register(accelerator, callback) { record.shortcuts.set(accelerator, callback); return true; },
  unregister(accelerator) { record.shortcuts.delete(accelerator); },
};
export const dialog = { showErrorBox(title, message) { record.errors.push(title + ': ' + message); } };
export const systemPreferences = {
  getMediaAccessStatus() { return 'granted'; },
  askForMediaAccess() { return Promise.resolve(true); },
};
export default { BrowserWindow, MessageChannelMain, Menu, Tray, app, dialog, globalShortcut, ipcMain, nativeImage, net, protocol, safeStorage, session, shell, systemPreferences };
`;

const DRIVER = `
import { pathToFileURL } from 'node:url';
import { Frame, record } from 'electron';

const realError = console.error;
console.error = (...args) => { record.errors.push(args.map(String).join(' ')); realError(...args); };

await import(pathToFileURL(process.argv[2]).href);
for (let i = 0; i < 200 && record.windows.length === 0 && record.errors.length === 0; i++) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}
await new Promise((resolve) => setTimeout(resolve, 20));

const event = () => ({ prevented: false, preventDefault() { this.prevented = true; } });
const fire = (listeners, ...args) => { const e = event(); for (const l of listeners ?? []) l(e, ...args); return e.prevented; };

const win = record.windows[0];
const contents = win?.webContents;
const appUrl = contents?.mainFrame.url;
const other = { listeners: {}, openHandler: undefined,
  on(name, l) { (this.listeners[name] ??= []).push(l); return this; },
  setWindowOpenHandler(h) { this.openHandler = h; },
  getURL() { return 'https://evil.example/'; } };
for (const l of record.appListeners['web-contents-created'] ?? []) l(event(), other);

const ask = (who, permission, details) => {
  let answer = 'not answered';
  record.permissionRequest?.(who, permission, (allowed) => { answer = allowed; }, details);
  return answer;
};
const check = (who, permission, details) => record.permissionCheck?.(who, permission, 'file:///', details);

let granted = 'not asked';
record.permissionRequest?.(contents, 'media', (allowed) => { granted = allowed; });

const main = { requestingUrl: appUrl, isMainFrame: true };
const permissions = {
  'request media audio, app page': ask(contents, 'media', { ...main, mediaTypes: ['audio'] }),
  'check media audio, app page': check(contents, 'media', { ...main, mediaType: 'audio' }),
  'request media video, app page': ask(contents, 'media', { ...main, mediaTypes: ['video'] }),
  'request media audio+video, app page': ask(contents, 'media', { ...main, mediaTypes: ['audio', 'video'] }),
  'request media audio, other URL': ask(contents, 'media', { requestingUrl: 'https://evil.example/', isMainFrame: true, mediaTypes: ['audio'] }),
  'request media audio, subframe': ask(contents, 'media', { requestingUrl: appUrl, isMainFrame: false, mediaTypes: ['audio'] }),
  'request media audio, other web contents': ask(other, 'media', { ...main, mediaTypes: ['audio'] }),
  'check media audio, other URL': check(contents, 'media', { requestingUrl: 'https://evil.example/', isMainFrame: true, mediaType: 'audio' }),
  'check media video, app page': check(contents, 'media', { ...main, mediaType: 'video' }),
  'request notifications, app page': ask(contents, 'notifications', main),
  'request geolocation, app page': ask(contents, 'geolocation', main),
  'check clipboard-read, app page': check(contents, 'clipboard-read', main),
  'request display-capture, app page': ask(contents, 'display-capture', { ...main, mediaTypes: ['audio'] }),
};

const invoke = async (channel, frame, payload) => {
  try {
    return await record.ipcHandlers.get(channel)({ sender: contents, senderFrame: frame }, payload);
  } catch (error) {
    return String(error?.message ?? error);
  }
};
const requestFromApp = await invoke('cue:request:app:state', contents?.mainFrame, {});
const requestFromSubframe = await invoke('cue:request:app:state', new Frame(appUrl, contents?.mainFrame), {});
const requestFromOtherPage = await invoke('cue:request:app:state', new Frame('https://evil.example/', null, 11, contents?.mainFrame.routingId), {});

// Microphone ports (ipcRenderer.postMessage from the preload): from the app page, and from a subframe.
const micPort = (frame) => {
  const port = { started: false, closed: false, listeners: 0,
    on(name) { if (name === 'message') this.listeners++; return this; },
    start() { this.started = true; }, close() { this.closed = true; }, postMessage() {} };
  for (const l of record.ipcListeners.get('cue:mic-port') ?? []) l({ sender: contents, senderFrame: frame, ports: [port] });
  return { started: port.started, closed: port.closed, listeners: port.listeners };
};
const micPortFromApp = micPort(contents?.mainFrame);
const micPortFromSubframe = micPort(new Frame(appUrl, contents?.mainFrame));

// No click yet: even an allowlisted link stays closed.
const windowOpen = contents?.openHandler?.({ url: 'https://platform.openai.com/api-keys?before-click' });
// A click, then links: the off-list ones are refused and leave the click for the allowed one.
for (const l of contents?.listeners['input-event'] ?? []) l(event(), { type: 'mouseDown' });
contents?.openHandler?.({ url: 'https://example.com/' });
contents?.openHandler?.({ url: 'file:///etc/passwd' });
contents?.openHandler?.({ url: 'http://platform.openai.com/' });
contents?.openHandler?.({ url: 'https://platform.openai.com/api-keys' });
// The click is used up.
contents?.openHandler?.({ url: 'https://platform.openai.com/api-keys?second' });

const serve = record.protocolHandlers.get('cue');
const answer = async (url, method = 'GET') => {
  const response = await serve({ url, method });
  return { status: response.status, type: response.headers.get('content-type'), csp: response.headers.get('content-security-policy'), body: (await response.text()).slice(0, 40) };
};
const scheme = serve ? {
  page: await answer('cue://app/index.html'),
  traversal: await answer('cue://app/%2e%2e/main/index.js'),
  otherHost: await answer('cue://evil/index.html'),
  post: await answer('cue://app/index.html', 'POST'),
} : null;

// The page crashes once: it is reloaded, not given up on.
for (const l of contents?.listeners['render-process-gone'] ?? []) l(event(), { reason: 'crashed', exitCode: 11 });
const reloadsAfterCrash = contents?.reloads;
const crashNotices = (await invoke('cue:request:settings:get', contents?.mainFrame, {}))?.notices ?? [];

const tray = record.trays[0];
console.log(JSON.stringify({
  reloadsAfterCrash,
  crashNotices,
  sandboxEnabled: record.sandboxEnabled,
  singleInstance: record.singleInstance,
  windows: record.windows.map((w) => ({ options: w.options, loadedFile: w.loadedFile, loadedUrl: w.loadedUrl })),
  navigationPrevented: fire(contents?.listeners['will-navigate'], 'https://evil.example/'),
  redirectPrevented: fire(contents?.listeners['will-redirect'], 'https://evil.example/'),
  webviewPrevented: fire(contents?.listeners['will-attach-webview'], {}, {}),
  windowOpen,
  otherContentsNavigationPrevented: fire(other.listeners['will-navigate'], 'https://evil.example/'),
  otherContentsWindowOpen: other.openHandler?.({ url: 'https://evil.example/' }),
  permissionGranted: granted,
  permissionCheck: record.permissionCheck?.(contents, 'media', 'file://', { isMainFrame: true }),
  permissions,
  ipcChannels: [...record.ipcHandlers.keys()],
  ipcListeners: [...record.ipcListeners].filter(([, listeners]) => listeners.length > 0).map(([channel]) => channel),
  micPortFromApp,
  micPortFromSubframe,
  requestFromApp,
  requestFromSubframe,
  requestFromOtherPage,
  audioPorts: contents?.posted ?? [],
  tray: tray ? { tooltip: tray.tooltip, image: tray.image, menu: tray.menu?.template.map((i) => i.type === 'separator' ? '-' : i.label) ?? [] } : null,
  shortcuts: [...record.shortcuts.keys()],
  errors: record.errors,
  openedExternally: record.opened,
  privilegedSchemes: record.privilegedSchemes,
  readyAtSchemeRegistration: record.readyAtSchemeRegistration,
  scheme,
}));
process.exit(0);
`;
