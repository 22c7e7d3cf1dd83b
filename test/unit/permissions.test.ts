/**
 * The app's own page (isAppUrl, isTrustedFrame) and the permission decision of the window's
 * session: the microphone, audio only, for our page only.
 */
import { describe, expect, it } from 'vitest';
import {
  appPageFor,
  BUNDLED_PAGE,
  devServerOrigin,
  isAppUrl,
  isTrustedFrame,
  type AppPage,
  type FrameLike,
} from '../../src/main/shell/app-origin';
import { APP_ENTRY_URL } from '../../src/main/shell/app-protocol';
import {
  installPermissionHandlers,
  isPermissionGranted,
  type PermissionQuery,
  type PermissionSession,
} from '../../src/main/shell/permissions';

const PAGE = BUNDLED_PAGE;
const APP_URL = APP_ENTRY_URL;

describe('isAppUrl', () => {
  it('accepts the page on the app scheme, with or without query and fragment', () => {
    expect(APP_URL).toBe('cue://app/index.html');
    expect(isAppUrl(APP_URL, PAGE)).toBe(true);
    expect(isAppUrl(`${APP_URL}#/settings`, PAGE)).toBe(true);
    expect(isAppUrl(`${APP_URL}?x=1`, PAGE)).toBe(true);
    expect(isAppUrl('cue://app/./index.html', PAGE)).toBe(true);
  });

  it('rejects every other URL, the built page as a file: URL included', () => {
    const others = [
      '',
      'not a url',
      'https://evil.example/',
      'https://evil.example/index.html',
      'http://localhost:5173/',
      'cue://app/other.html',
      'cue://app/',
      'cue://app/assets/index.html',
      'cue://evil/index.html',
      'cue://app:8080/index.html',
      'cue://user:pass@app/index.html',
      'cue://app.evil/index.html',
      'cue-app://app/index.html',
      'file:///opt/Cue/resources/app.asar/out/renderer/index.html',
      'file:///etc/passwd',
      'data:text/html,<script>1</script>',
      'devtools://devtools/bundled/index.html',
      'about:blank',
    ];
    for (const url of others) expect(isAppUrl(url, PAGE), url).toBe(false);
    expect(isAppUrl(undefined, PAGE)).toBe(false);
    expect(isAppUrl(42, PAGE)).toBe(false);
  });
});

describe('the dev server page (electron-vite dev)', () => {
  const page: AppPage = { kind: 'dev-server', origin: 'http://localhost:5173' };

  it('takes ELECTRON_RENDERER_URL only as plain http on loopback', () => {
    expect(devServerOrigin('http://localhost:5173/')).toBe('http://localhost:5173');
    expect(devServerOrigin('http://127.0.0.1:5173/index.html')).toBe('http://127.0.0.1:5173');
    expect(devServerOrigin('http://[::1]:5173')).toBe('http://[::1]:5173');
    for (const refused of [
      'https://localhost:5173',
      'http://example.com:5173',
      'http://localhost.evil.com',
      'file:///x',
      'nonsense',
      '',
      undefined,
    ])
      expect(devServerOrigin(refused)).toBeUndefined();
  });

  it('appPageFor: the dev server only for a loopback URL, else the bundled page', () => {
    expect(appPageFor('http://localhost:5173/')).toEqual(page);
    expect(appPageFor('http://example.com:5173/')).toEqual(BUNDLED_PAGE);
    expect(appPageFor(undefined)).toEqual(BUNDLED_PAGE);
  });

  it('trusts exactly that origin and nothing else, the bundled page included', () => {
    expect(isAppUrl('http://localhost:5173/', page)).toBe(true);
    expect(isAppUrl('http://localhost:5173/index.html#/settings', page)).toBe(true);
    expect(isAppUrl('http://localhost:5174/', page)).toBe(false);
    expect(isAppUrl('http://127.0.0.1:5173/', page)).toBe(false);
    expect(isAppUrl('https://localhost:5173/', page)).toBe(false);
    expect(isAppUrl(APP_URL, page)).toBe(false);
    expect(
      isAppUrl('http://localhost:5173/', { kind: 'dev-server', origin: 'http://example.com:5173' }),
    ).toBe(false);
    expect(
      isPermissionGranted(
        {
          permission: 'media',
          requestingUrl: 'http://localhost:5173/',
          isMainFrame: true,
          mediaTypes: ['audio'],
          fromAppWindow: true,
        },
        page,
      ),
    ).toBe(true);
  });
});

describe('isTrustedFrame', () => {
  const frame = (url: string, parent: FrameLike | null = null, processId = 3, routingId = 1): FrameLike => ({
    url,
    parent,
    processId,
    routingId,
  });
  const main = frame(APP_URL);
  const contents = { mainFrame: main };

  it('trusts the main frame of our contents on the app page', () => {
    expect(isTrustedFrame(main, contents, PAGE)).toBe(true);
    // The same frame seen through another wrapper object.
    expect(isTrustedFrame(frame(APP_URL), contents, PAGE)).toBe(true);
  });

  it('rejects subframes, other frames, other URLs, detached or destroyed frames and missing ones', () => {
    expect(isTrustedFrame(frame(APP_URL, main, 3, 5), contents, PAGE)).toBe(false);
    expect(isTrustedFrame(frame(APP_URL, null, 4, 1), contents, PAGE)).toBe(false);
    expect(
      isTrustedFrame(frame('https://evil.example/'), { mainFrame: frame('https://evil.example/') }, PAGE),
    ).toBe(false);
    expect(isTrustedFrame({ ...main, detached: true }, contents, PAGE)).toBe(false);
    expect(isTrustedFrame({ ...main, isDestroyed: () => true }, contents, PAGE)).toBe(false);
    expect(isTrustedFrame(null, contents, PAGE)).toBe(false);
    expect(isTrustedFrame(main, undefined, PAGE)).toBe(false);
  });
});

describe('permission decision', () => {
  const base: PermissionQuery = {
    permission: 'media',
    requestingUrl: APP_URL,
    isMainFrame: true,
    mediaTypes: ['audio'],
    fromAppWindow: true,
  };
  const granted = (patch: Partial<PermissionQuery>) => isPermissionGranted({ ...base, ...patch }, PAGE);

  it('grants the microphone to the app page', () => {
    expect(granted({})).toBe(true);
    expect(granted({ isMainFrame: undefined })).toBe(true);
  });

  it('denies video, audio with video, and media requests naming no type', () => {
    expect(granted({ mediaTypes: ['video'] })).toBe(false);
    expect(granted({ mediaTypes: ['audio', 'video'] })).toBe(false);
    expect(granted({ mediaTypes: [] })).toBe(false);
    expect(granted({ mediaTypes: undefined })).toBe(false);
    expect(granted({ mediaTypes: ['unknown'] })).toBe(false);
  });

  it('denies every other permission', () => {
    for (const permission of [
      'notifications',
      'geolocation',
      'clipboard-read',
      'display-capture',
      'fullscreen',
      'openExternal',
      'hid',
      'serial',
      'usb',
      'midiSysex',
      'pointerLock',
      'unknown',
    ]) {
      expect(granted({ permission }), permission).toBe(false);
    }
  });

  it('denies other origins, subframes and other web contents', () => {
    expect(granted({ requestingUrl: 'https://evil.example/' })).toBe(false);
    expect(granted({ requestingUrl: 'file:///etc/passwd' })).toBe(false);
    expect(granted({ requestingUrl: undefined })).toBe(false);
    expect(granted({ isMainFrame: false })).toBe(false);
    expect(granted({ fromAppWindow: false })).toBe(false);
  });
});

describe('installPermissionHandlers', () => {
  function install() {
    let request: Parameters<PermissionSession['setPermissionRequestHandler']>[0] | undefined;
    let check: Parameters<PermissionSession['setPermissionCheckHandler']>[0] | undefined;
    const ours = { getURL: () => APP_URL };
    const other = { getURL: () => 'https://evil.example/' };
    installPermissionHandlers(
      {
        setPermissionRequestHandler: (handler) => (request = handler),
        setPermissionCheckHandler: (handler) => (check = handler),
      },
      { page: PAGE, isAppContents: (contents) => contents === ours },
    );
    const ask = (contents: unknown, permission: string, details: Record<string, unknown>): boolean => {
      let answer: boolean | undefined;
      request!(contents, permission, (granted) => (answer = granted), details);
      if (answer === undefined) throw new Error('the request handler did not answer');
      return answer;
    };
    return { ours, other, ask, check: check! };
  }

  it('answers requests: audio for our page only', () => {
    const { ours, other, ask } = install();
    expect(ask(ours, 'media', { requestingUrl: APP_URL, isMainFrame: true, mediaTypes: ['audio'] })).toBe(
      true,
    );
    expect(ask(ours, 'media', { requestingUrl: APP_URL, isMainFrame: true, mediaTypes: ['video'] })).toBe(
      false,
    );
    expect(
      ask(ours, 'media', { requestingUrl: APP_URL, isMainFrame: true, mediaTypes: ['audio', 'video'] }),
    ).toBe(false);
    expect(ask(ours, 'notifications', { requestingUrl: APP_URL, isMainFrame: true })).toBe(false);
    expect(ask(other, 'media', { requestingUrl: APP_URL, isMainFrame: true, mediaTypes: ['audio'] })).toBe(
      false,
    );
    expect(
      ask(ours, 'media', {
        requestingUrl: 'https://evil.example/',
        isMainFrame: true,
        mediaTypes: ['audio'],
      }),
    ).toBe(false);
    // No requesting URL: the web contents' URL decides.
    expect(ask(ours, 'media', { isMainFrame: true, mediaTypes: ['audio'] })).toBe(true);
  });

  it('answers checks: audio for our page only', () => {
    const { ours, other, check } = install();
    expect(
      check(ours, 'media', 'cue://app', { requestingUrl: APP_URL, isMainFrame: true, mediaType: 'audio' }),
    ).toBe(true);
    expect(
      check(ours, 'media', 'cue://app', { requestingUrl: APP_URL, isMainFrame: true, mediaType: 'video' }),
    ).toBe(false);
    expect(
      check(ours, 'media', 'cue://app', { requestingUrl: APP_URL, isMainFrame: true, mediaType: 'unknown' }),
    ).toBe(false);
    expect(check(ours, 'media', 'cue://app', { requestingUrl: APP_URL, isMainFrame: true })).toBe(false);
    expect(
      check(null, 'media', 'cue://app', { requestingUrl: APP_URL, isMainFrame: true, mediaType: 'audio' }),
    ).toBe(false);
    expect(check(other, 'media', 'cue://app', { isMainFrame: true, mediaType: 'audio' })).toBe(false);
    expect(check(ours, 'clipboard-read', 'cue://app', { requestingUrl: APP_URL, isMainFrame: true })).toBe(
      false,
    );
  });
});
