/**
 * New windows and external links (src/main/shell/external-links.ts), and the main window's
 * options (src/main/shell/window-options.ts): every window.open denied, an allowlisted https link
 * opened in the browser only right after a user activation, once per activation; DevTools off in
 * packaged builds.
 */
import { describe, expect, it } from 'vitest';
import {
  decideExternalOpen,
  EXTERNAL_LINK_ORIGINS,
  isAllowedExternalLink,
  USER_ACTIVATION_MS,
  UserActivation,
} from '../../src/main/shell/external-links';
import { mainWindowOptions } from '../../src/main/shell/window-options';

function clock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('isAllowedExternalLink', () => {
  it('allows https pages of the allowlisted origins', () => {
    expect(EXTERNAL_LINK_ORIGINS.length).toBeGreaterThan(0);
    for (const origin of EXTERNAL_LINK_ORIGINS) {
      expect(isAllowedExternalLink(`${origin}/`), origin).toBe(true);
      expect(isAllowedExternalLink(`${origin}/some/page?x=1#y`), origin).toBe(true);
    }
  });

  it('refuses everything else', () => {
    for (const url of [
      'http://platform.openai.com/',
      'https://evil.example/',
      'https://platform.openai.com.evil.example/',
      'https://evil.example/?https://platform.openai.com',
      'https://user:pass@platform.openai.com/',
      'https://platform.openai.com:8443/',
      'file:///etc/passwd',
      'cue://app/index.html',
      'javascript:alert(1)',
      'mailto:someone@example.com',
      'smb://server/share',
      'not a url',
      '',
    ]) {
      expect(isAllowedExternalLink(url), url).toBe(false);
    }
  });
});

describe('UserActivation', () => {
  it('counts clicks, taps and key presses, not pointer moves or scrolling', () => {
    const time = clock();
    for (const type of [
      'mouseDown',
      'mouseUp',
      'keyDown',
      'rawKeyDown',
      'gestureTap',
      'touchEnd',
      'pointerDown',
    ]) {
      const activation = new UserActivation(time.now);
      activation.noteInput(type);
      expect(activation.consume(), type).toBe(true);
    }
    for (const type of [
      'mouseMove',
      'mouseWheel',
      'mouseEnter',
      'gestureScrollUpdate',
      'keyUp',
      'char',
      'undefined',
    ]) {
      const activation = new UserActivation(time.now);
      activation.noteInput(type);
      expect(activation.consume(), type).toBe(false);
    }
  });

  it('lasts USER_ACTIVATION_MS and is used up by one link', () => {
    const time = clock();
    const activation = new UserActivation(time.now);
    expect(activation.consume()).toBe(false);
    activation.noteInput('mouseDown');
    time.advance(USER_ACTIVATION_MS);
    expect(activation.consume()).toBe(true);
    expect(activation.consume()).toBe(false);
    activation.noteInput('keyDown');
    time.advance(USER_ACTIVATION_MS + 1);
    expect(activation.consume()).toBe(false);
  });
});

describe('decideExternalOpen', () => {
  const link = `${EXTERNAL_LINK_ORIGINS[0]}/keys`;

  it('opens an allowed link right after a click, once', () => {
    const time = clock();
    const activation = new UserActivation(time.now);
    activation.noteInput('mouseUp');
    expect(decideExternalOpen(link, activation)).toEqual({ openExternally: true });
    expect(decideExternalOpen(link, activation)).toEqual({ openExternally: false });
  });

  it('never opens without a user activation', () => {
    const activation = new UserActivation(clock().now);
    expect(decideExternalOpen(link, activation)).toEqual({ openExternally: false });
  });

  it('never opens a link off the allowlist, and such a link does not use up the activation', () => {
    const activation = new UserActivation(clock().now);
    activation.noteInput('mouseDown');
    expect(decideExternalOpen('https://evil.example/', activation)).toEqual({ openExternally: false });
    expect(decideExternalOpen('http://platform.openai.com/', activation)).toEqual({ openExternally: false });
    expect(decideExternalOpen(link, activation)).toEqual({ openExternally: true });
  });
});

describe('mainWindowOptions', () => {
  it('sandboxed and isolated without Node; DevTools only when not packaged', () => {
    const packaged = mainWindowOptions({ preload: '/p.cjs', packaged: true }).webPreferences!;
    expect(packaged).toMatchObject({
      preload: '/p.cjs',
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      devTools: false,
    });
    expect(mainWindowOptions({ preload: '/p.cjs', packaged: false }).webPreferences!.devTools).toBe(true);
  });
});
