/**
 * The app's own page (isAppUrl, isTrustedFrame) and the permission decision of the window's
 * session: the microphone, audio only, for our page only.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { devServerOrigin, isAppUrl, isTrustedFrame, type FrameLike } from '../../src/main/shell/app-origin';
import {
  installPermissionHandlers,
  isPermissionGranted,
  type PermissionQuery,
  type PermissionSession,
} from '../../src/main/shell/permissions';

const INDEX = join(
  '/Applications',
  'Cue App.app',
  'Contents',
  'Resources',
  'app.asar',
  'out',
  'renderer',
  'index.html',
);
const APP_URL = pathToFileURL(INDEX).href;

describe('isAppUrl', () => {
  it('accepts the renderer page as file: URL, with or without query and fragment', () => {
    expect(APP_URL).toContain('Cue%20App.app');
    expect(isAppUrl(APP_URL, INDEX, 'linux')).toBe(true);
    expect(isAppUrl(`${APP_URL}#/settings`, INDEX, 'linux')).toBe(true);
    expect(isAppUrl(`${APP_URL}?x=1`, INDEX, 'linux')).toBe(true);
    expect(isAppUrl(APP_URL.replace('/out/', '/out/./'), INDEX, 'linux')).toBe(true);
  });

  it('rejects every other URL', () => {
    const others = [
      '',
      'not a url',
      'https://evil.example/',
      'http://localhost:5173/',
      `https://evil.example${new URL(APP_URL).pathname}`,
      APP_URL.replace('index.html', 'other.html'),
      APP_URL.replace('/renderer/', '/renderer/sub/'),
      APP_URL.replace('file:///', 'file://evil-host/'),
      APP_URL.replace('/out/renderer/', '/out%2Frenderer/'),
      pathToFileURL('/etc/passwd').href,
      'data:text/html,<script>1</script>',
      'devtools://devtools/bundled/index.html',
      'about:blank',
    ];
    for (const url of others) expect(isAppUrl(url, INDEX, 'linux'), url).toBe(false);
    expect(isAppUrl(undefined, INDEX, 'linux')).toBe(false);
    expect(isAppUrl(42, INDEX, 'linux')).toBe(false);
  });

  it('is case-sensitive on Linux only', () => {
    const upper = APP_URL.replace('index.html', 'INDEX.html');
    expect(isAppUrl(upper, INDEX, 'linux')).toBe(false);
    expect(isAppUrl(upper, INDEX, 'darwin')).toBe(true);
  });

  it('understands Windows paths', () => {
    const index = 'C:\\Program Files\\Cue\\resources\\app.asar\\out\\renderer\\index.html';
    const url = 'file:///C:/Program%20Files/Cue/resources/app.asar/out/renderer/index.html';
    expect(isAppUrl(url, index, 'win32')).toBe(true);
    expect(isAppUrl(url.replace('C:', 'c:').replace('Cue', 'cue'), index, 'win32')).toBe(true);
    expect(isAppUrl(url.replace('index.html', 'evil.html'), index, 'win32')).toBe(false);
    expect(isAppUrl('file://server/share/Cue/index.html', index, 'win32')).toBe(false);
  });
});

describe('the dev server page (electron-vite dev)', () => {
  const page = { file: INDEX, devServer: 'http://localhost:5173/' };

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

  it('trusts exactly that origin and nothing else, the built file included', () => {
    expect(isAppUrl('http://localhost:5173/', page, 'linux')).toBe(true);
    expect(isAppUrl('http://localhost:5173/index.html#/settings', page, 'linux')).toBe(true);
    expect(isAppUrl('http://localhost:5174/', page, 'linux')).toBe(false);
    expect(isAppUrl('http://127.0.0.1:5173/', page, 'linux')).toBe(false);
    expect(isAppUrl('https://localhost:5173/', page, 'linux')).toBe(false);
    expect(isAppUrl(APP_URL, page, 'linux')).toBe(false);
    expect(
      isAppUrl('http://localhost:5173/', { file: INDEX, devServer: 'http://example.com:5173' }, 'linux'),
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
        'linux',
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
    expect(isTrustedFrame(main, contents, INDEX, 'linux')).toBe(true);
    // The same frame seen through another wrapper object.
    expect(isTrustedFrame(frame(APP_URL), contents, INDEX, 'linux')).toBe(true);
  });

  it('rejects subframes, other frames, other URLs, detached or destroyed frames and missing ones', () => {
    expect(isTrustedFrame(frame(APP_URL, main, 3, 5), contents, INDEX, 'linux')).toBe(false);
    expect(isTrustedFrame(frame(APP_URL, null, 4, 1), contents, INDEX, 'linux')).toBe(false);
    expect(
      isTrustedFrame(
        frame('https://evil.example/'),
        { mainFrame: frame('https://evil.example/') },
        INDEX,
        'linux',
      ),
    ).toBe(false);
    expect(isTrustedFrame({ ...main, detached: true }, contents, INDEX, 'linux')).toBe(false);
    expect(isTrustedFrame({ ...main, isDestroyed: () => true }, contents, INDEX, 'linux')).toBe(false);
    expect(isTrustedFrame(null, contents, INDEX, 'linux')).toBe(false);
    expect(isTrustedFrame(main, undefined, INDEX, 'linux')).toBe(false);
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
  const granted = (patch: Partial<PermissionQuery>) =>
    isPermissionGranted({ ...base, ...patch }, INDEX, 'linux');

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
      { page: INDEX, isAppContents: (contents) => contents === ours, platform: 'linux' },
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
      check(ours, 'media', 'file:///', { requestingUrl: APP_URL, isMainFrame: true, mediaType: 'audio' }),
    ).toBe(true);
    expect(
      check(ours, 'media', 'file:///', { requestingUrl: APP_URL, isMainFrame: true, mediaType: 'video' }),
    ).toBe(false);
    expect(
      check(ours, 'media', 'file:///', { requestingUrl: APP_URL, isMainFrame: true, mediaType: 'unknown' }),
    ).toBe(false);
    expect(check(ours, 'media', 'file:///', { requestingUrl: APP_URL, isMainFrame: true })).toBe(false);
    expect(
      check(null, 'media', 'file:///', { requestingUrl: APP_URL, isMainFrame: true, mediaType: 'audio' }),
    ).toBe(false);
    expect(check(other, 'media', 'file:///', { isMainFrame: true, mediaType: 'audio' })).toBe(false);
    expect(check(ours, 'clipboard-read', 'file:///', { requestingUrl: APP_URL, isMainFrame: true })).toBe(
      false,
    );
  });
});
