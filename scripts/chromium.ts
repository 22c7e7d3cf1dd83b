/**
 * Where the e2e tests find a Chromium-based browser (playwright-core drives it and never
 * downloads one): CHROMIUM_PATH when set, else the usual install places of Chromium, Google Chrome
 * and Microsoft Edge on Linux, macOS and Windows. `scripts/pretest.ts` uses this before `npm test`
 * and installs Debian's chromium when it can; the e2e harness uses it to launch.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, win32 } from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

/** The places looked at, in order, for this platform (CHROMIUM_PATH first when set). */
export function chromiumCandidates(platform: string, env: Env, home: string = homedir()): string[] {
  const fromEnv = env['CHROMIUM_PATH']?.trim();
  const list: string[] = fromEnv ? [fromEnv] : [];
  if (platform === 'darwin') {
    for (const apps of ['/Applications', join(home, 'Applications')]) {
      list.push(
        join(apps, 'Chromium.app', 'Contents', 'MacOS', 'Chromium'),
        join(apps, 'Google Chrome.app', 'Contents', 'MacOS', 'Google Chrome'),
        join(apps, 'Microsoft Edge.app', 'Contents', 'MacOS', 'Microsoft Edge'),
      );
    }
  } else if (platform === 'win32') {
    const roots = [env['PROGRAMFILES'], env['PROGRAMFILES(X86)'], env['LOCALAPPDATA']].filter(
      (root): root is string => Boolean(root),
    );
    for (const root of roots) {
      list.push(
        win32.join(root, 'Chromium', 'Application', 'chrome.exe'),
        win32.join(root, 'Google', 'Chrome', 'Application', 'chrome.exe'),
        win32.join(root, 'Microsoft', 'Edge', 'Application', 'msedge.exe'),
      );
    }
  } else {
    list.push(
      '/usr/bin/chromium',
      '/usr/bin/chromium-browser',
      '/snap/bin/chromium',
      '/usr/bin/google-chrome-stable',
      '/usr/bin/google-chrome',
      '/usr/bin/microsoft-edge-stable',
      '/usr/bin/microsoft-edge',
    );
  }
  return list;
}

/** The first candidate that exists, or undefined. */
export function findChromium(
  platform: string = process.platform,
  env: Env = process.env,
  exists: (path: string) => boolean = existsSync,
): string | undefined {
  return chromiumCandidates(platform, env).find((path) => exists(path));
}

/** What to do before the tests: nothing, install Debian's chromium with apt, or explain and stop. */
export type ProvisionStep =
  { kind: 'ready'; path: string } | { kind: 'apt-install' } | { kind: 'explain'; message: string };

export function provisionStep(options: {
  found: string | undefined;
  platform: string;
  env: Env;
  /** Running as root (apt needs it). */
  isRoot: boolean;
  /** Debian or a derivative with apt-get. */
  hasApt: boolean;
  /** apt was tried already in this run. */
  aptTried?: boolean;
}): ProvisionStep {
  if (options.found) return { kind: 'ready', path: options.found };
  if (options.platform === 'linux' && options.isRoot && options.hasApt && !options.aptTried) {
    return { kind: 'apt-install' };
  }
  return { kind: 'explain', message: missingChromiumMessage(options) };
}

function missingChromiumMessage(options: {
  platform: string;
  env: Env;
  isRoot: boolean;
  hasApt: boolean;
}): string {
  const looked = chromiumCandidates(options.platform, options.env).join(', ');
  const how =
    options.platform === 'darwin'
      ? 'Install Google Chrome, Microsoft Edge or Chromium (e.g. `brew install --cask chromium`).'
      : options.platform === 'win32'
        ? 'Install Microsoft Edge or Google Chrome.'
        : options.hasApt
          ? options.isRoot
            ? "Installing it with apt failed (see above): `apt-get install chromium` needs Debian's package archive."
            : 'Install it with `sudo apt-get install chromium`, or run the tests as root (e.g. `sudo bash .ci/run`) and they install it.'
          : "Install your distribution's chromium package, or Google Chrome.";
  return (
    'The e2e tests need a Chromium-based browser (Chromium, Google Chrome or Microsoft Edge) and none was found. ' +
    `${how} A browser elsewhere can be named with CHROMIUM_PATH=/path/to/browser. Looked in: ${looked}.`
  );
}
