/**
 * Finding a browser for the e2e tests on a fresh machine (scripts/chromium.ts): where it looks on
 * each OS, CHROMIUM_PATH first, and what pretest does when nothing is found (apt as root on
 * Debian, else a message naming what to install).
 */
import { describe, expect, it } from 'vitest';
import { chromiumCandidates, findChromium, provisionStep } from '../../scripts/chromium';

describe('chromiumCandidates', () => {
  it('Linux: Debian chromium first, then Chrome and Edge', () => {
    const list = chromiumCandidates('linux', {});
    expect(list[0]).toBe('/usr/bin/chromium');
    expect(list).toEqual(
      expect.arrayContaining(['/usr/bin/google-chrome-stable', '/usr/bin/microsoft-edge-stable']),
    );
  });

  it('macOS: Chromium, Chrome and Edge in /Applications and ~/Applications', () => {
    const list = chromiumCandidates('darwin', {}, '/Users/ada');
    expect(list).toContain('/Applications/Google Chrome.app/Contents/MacOS/Google Chrome');
    expect(list).toContain('/Users/ada/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge');
  });

  it('Windows: Edge and Chrome under Program Files and the local app data', () => {
    const list = chromiumCandidates('win32', {
      PROGRAMFILES: 'C:\\Program Files',
      'PROGRAMFILES(X86)': 'C:\\Program Files (x86)',
      LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local',
    });
    expect(list).toContain('C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe');
    expect(list).toContain('C:\\Users\\ada\\AppData\\Local\\Google\\Chrome\\Application\\chrome.exe');
  });

  it('CHROMIUM_PATH comes first', () => {
    expect(chromiumCandidates('linux', { CHROMIUM_PATH: '/opt/chrome/chrome' })[0]).toBe(
      '/opt/chrome/chrome',
    );
  });
});

describe('findChromium', () => {
  it('returns the first that exists', () => {
    const present = new Set(['/usr/bin/google-chrome', '/snap/bin/chromium']);
    expect(findChromium('linux', {}, (p) => present.has(p))).toBe('/snap/bin/chromium');
    expect(findChromium('linux', {}, () => false)).toBeUndefined();
  });
});

describe('provisionStep', () => {
  const base = { platform: 'linux', env: {}, isRoot: false, hasApt: true };

  it('does nothing when a browser is there', () => {
    expect(provisionStep({ ...base, found: '/usr/bin/chromium' })).toEqual({
      kind: 'ready',
      path: '/usr/bin/chromium',
    });
  });

  it('installs Debian chromium with apt as root, once', () => {
    expect(provisionStep({ ...base, found: undefined, isRoot: true })).toEqual({ kind: 'apt-install' });
    const after = provisionStep({ ...base, found: undefined, isRoot: true, aptTried: true });
    expect(after).toMatchObject({
      kind: 'explain',
      message: expect.stringContaining('Installing it with apt failed'),
    });
  });

  it('without root, names the apt command and the root route', () => {
    const step = provisionStep({ ...base, found: undefined });
    expect(step).toMatchObject({ kind: 'explain' });
    if (step.kind !== 'explain') throw new Error('no message');
    expect(step.message).toContain('sudo apt-get install chromium');
    expect(step.message).toContain('CHROMIUM_PATH');
    expect(step.message).toContain('/usr/bin/chromium');
  });

  it('on macOS and Windows, names the browsers to install', () => {
    const mac = provisionStep({ ...base, platform: 'darwin', hasApt: false, found: undefined });
    expect(mac).toMatchObject({
      kind: 'explain',
      message: expect.stringContaining('Google Chrome, Microsoft Edge or Chromium'),
    });
    const win = provisionStep({ ...base, platform: 'win32', hasApt: false, isRoot: true, found: undefined });
    expect(win).toMatchObject({
      kind: 'explain',
      message: expect.stringContaining('Install Microsoft Edge or Google Chrome'),
    });
  });
});
