/**
 * Builds the app with electron-vite into a temporary directory (under a second here)
 * and checks the security-relevant properties of the output:
 * - the preload is one self-contained CommonJS script that only requires 'electron';
 * - the renderer page has a strict CSP and no inline script;
 * - the main process opens a sandboxed, context-isolated window without Node, denies
 *   navigation, new windows and permissions, and points at the built preload and page.
 * Electron itself cannot run here: main runs against a recording stand-in for 'electron'.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import config from '../../electron.vite.config';

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

describe('electron.vite.config', () => {
  it('keeps onnxruntime-node external in main and bundles everything into a CommonJS preload', () => {
    expect(config.main?.build?.rolldownOptions?.external).toEqual(
      expect.arrayContaining(['onnxruntime-node']),
    );
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

  it('exposes window.cue with the package version through contextBridge, when run sandbox-style', () => {
    const code = readFileSync(join(out, 'preload', 'index.cjs'), 'utf8');
    const exposed: Record<string, unknown> = {};
    const required: string[] = [];
    const fakeRequire = (id: string) => {
      required.push(id);
      if (id !== 'electron') throw new Error(`a sandboxed preload cannot require ${id}`);
      return { contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) } };
    };
    const module = { exports: {} };
    vm.runInNewContext(code, { require: fakeRequire, module, exports: module.exports });
    expect(required).toEqual(['electron']);
    expect(Object.keys(exposed)).toEqual(['cue']);
    expect(exposed.cue).toEqual({ version: pkg.version });
    expect(Object.isFrozen(exposed.cue)).toBe(true);
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
    windows: {
      options: { webPreferences: Record<string, unknown> } & Record<string, unknown>;
      loadedFile?: string;
    }[];
    navigationPrevented: boolean;
    redirectPrevented: boolean;
    webviewPrevented: boolean;
    windowOpen: unknown;
    otherContentsNavigationPrevented: boolean;
    otherContentsWindowOpen: unknown;
    permissionGranted: unknown;
    permissionCheck: unknown;
    openedExternally: string[];
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
    writeFileSync(join(work, 'drive.mjs'), DRIVER);
    const stdout = execFileSync(process.execPath, [join(work, 'drive.mjs'), join(out, 'main', 'index.js')], {
      cwd: work,
      encoding: 'utf8',
      timeout: 30_000,
    });
    report = JSON.parse(stdout) as MainReport;
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

  it('uses the built CommonJS preload and loads the built renderer page', () => {
    const win = report.windows[0]!;
    expect(win.options.webPreferences.preload).toBe(join(out, 'preload', 'index.cjs'));
    expect(existsSync(win.options.webPreferences.preload as string)).toBe(true);
    expect(win.loadedFile).toBe(join(out, 'renderer', 'index.html'));
    expect(existsSync(win.loadedFile!)).toBe(true);
  });

  it('denies navigation, redirects, webviews, new windows and permissions', () => {
    expect(report.navigationPrevented).toBe(true);
    expect(report.redirectPrevented).toBe(true);
    expect(report.webviewPrevented).toBe(true);
    expect(report.windowOpen).toEqual({ action: 'deny' });
    expect(report.otherContentsNavigationPrevented).toBe(true);
    expect(report.otherContentsWindowOpen).toEqual({ action: 'deny' });
    expect(report.permissionGranted).toBe(false);
    expect(report.permissionCheck).toBe(false);
  });

  it('opens only https links externally', () => {
    expect(report.openedExternally).toEqual(['https://example.com/']);
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

const FAKE_ELECTRON = `
export const record = {
  sandboxEnabled: false,
  windows: [],
  appListeners: {},
  permissionRequest: undefined,
  permissionCheck: undefined,
  opened: [],
};
class WebContents {
  listeners = {};
  openHandler = undefined;
  on(name, listener) { (this.listeners[name] ??= []).push(listener); return this; }
  setWindowOpenHandler(handler) { this.openHandler = handler; }
}
export class BrowserWindow {
  constructor(options) {
    this.options = options;
    this.webContents = new WebContents();
    record.windows.push(this);
  }
  once() { return this; }
  on() { return this; }
  show() {}
  loadFile(file) { this.loadedFile = file; return Promise.resolve(); }
  loadURL(url) { this.loadedUrl = url; return Promise.resolve(); }
  static getAllWindows() { return record.windows; }
}
export const app = {
  enableSandbox() { record.sandboxEnabled = true; },
  on(name, listener) { (record.appListeners[name] ??= []).push(listener); return app; },
  whenReady() { return Promise.resolve(); },
  quit() {},
};
export const session = {
  defaultSession: {
    setPermissionRequestHandler(handler) { record.permissionRequest = handler; },
    setPermissionCheckHandler(handler) { record.permissionCheck = handler; },
  },
};
export const shell = { openExternal(url) { record.opened.push(url); return Promise.resolve(); } };
export default { BrowserWindow, app, session, shell };
`;

const DRIVER = `
import { pathToFileURL } from 'node:url';
import { record } from 'electron';

await import(pathToFileURL(process.argv[2]).href);
await new Promise((resolve) => setTimeout(resolve, 20));

const event = () => ({ prevented: false, preventDefault() { this.prevented = true; } });
const fire = (listeners, ...args) => { const e = event(); for (const l of listeners ?? []) l(e, ...args); return e.prevented; };

const win = record.windows[0];
const contents = win?.webContents;
const other = { listeners: {}, openHandler: undefined,
  on(name, l) { (this.listeners[name] ??= []).push(l); return this; },
  setWindowOpenHandler(h) { this.openHandler = h; } };
for (const l of record.appListeners['web-contents-created'] ?? []) l(event(), other);

let granted = 'not asked';
record.permissionRequest?.(contents, 'media', (allowed) => { granted = allowed; });

const windowOpen = contents?.openHandler?.({ url: 'https://example.com/' });
contents?.openHandler?.({ url: 'file:///etc/passwd' });
contents?.openHandler?.({ url: 'http://example.com/' });

console.log(JSON.stringify({
  sandboxEnabled: record.sandboxEnabled,
  windows: record.windows.map((w) => ({ options: w.options, loadedFile: w.loadedFile })),
  navigationPrevented: fire(contents?.listeners['will-navigate'], 'https://evil.example/'),
  redirectPrevented: fire(contents?.listeners['will-redirect'], 'https://evil.example/'),
  webviewPrevented: fire(contents?.listeners['will-attach-webview'], {}, {}),
  windowOpen,
  otherContentsNavigationPrevented: fire(other.listeners['will-navigate'], 'https://evil.example/'),
  otherContentsWindowOpen: other.openHandler?.({ url: 'https://evil.example/' }),
  permissionGranted: granted,
  permissionCheck: record.permissionCheck?.(contents, 'media', 'file://'),
  openedExternally: record.opened,
}));
`;
