/**
 * The app's scheme (cue://app/): which request names which file of the built renderer, what is
 * refused (other hosts, other methods, `..` plain or encoded, backslashes, NUL, directories,
 * missing files) and the headers every answer carries. The handler runs against a real folder,
 * with Node's own fetch-like file reader standing in for Electron's net.fetch.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_ENTRY_URL,
  APP_SCHEME_PRIVILEGES,
  appRequestTarget,
  createAppProtocolHandler,
} from '../../src/main/shell/app-protocol';
import { rendererCsp } from '../../src/main/shell/renderer-files';

let dir: string;
let root: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cue-app-protocol-'));
  root = join(dir, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(
    join(root, 'index.html'),
    `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self'; object-src 'none'" /></head><body></body></html>`,
  );
  writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1);');
  writeFileSync(join(root, 'assets', 'capture worklet.js'), 'registerProcessor;');
  writeFileSync(join(dir, 'secret.txt'), 'outside the renderer');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('appRequestTarget', () => {
  it('maps the page and its assets to files under the renderer folder', () => {
    expect(appRequestTarget(APP_ENTRY_URL, 'GET', root)).toEqual({
      kind: 'file',
      file: join(root, 'index.html'),
      contentType: 'text/html; charset=utf-8',
    });
    expect(appRequestTarget('cue://app/', 'GET', root)).toMatchObject({ file: join(root, 'index.html') });
    expect(appRequestTarget('cue://app', 'HEAD', root)).toMatchObject({ file: join(root, 'index.html') });
    expect(appRequestTarget('cue://app/assets/index-abc.js?v=1#x', 'GET', root)).toEqual({
      kind: 'file',
      file: join(root, 'assets', 'index-abc.js'),
      contentType: 'text/javascript; charset=utf-8',
    });
    expect(appRequestTarget('cue://app/assets/capture%20worklet.js', 'GET', root)).toMatchObject({
      file: join(root, 'assets', 'capture worklet.js'),
    });
    expect(appRequestTarget('cue://APP/index.html', 'GET', root)).toMatchObject({ kind: 'file' });
  });

  it('refuses traversal out of the folder, plain or encoded, with 403', () => {
    for (const url of [
      'cue://app/../secret.txt',
      'cue://app/assets/../../secret.txt',
      'cue://app/%2e%2e/secret.txt',
      'cue://app/%2E%2E/%2E%2E/etc/passwd',
      'cue://app/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      'cue://app/..%2fsecret.txt',
    ]) {
      const target = appRequestTarget(url, 'GET', root);
      expect(target, url).toMatchObject({ kind: 'refused', status: 403 });
    }
  });

  it('refuses malformed paths with 400', () => {
    for (const url of [
      'cue://app/%E0%A4%A',
      'cue://app/assets%5C..%5Csecret.txt',
      'cue://app/index.html%00.js',
    ]) {
      expect(appRequestTarget(url, 'GET', root), url).toMatchObject({ kind: 'refused', status: 400 });
    }
  });

  it('serves one host of one scheme, and only GET and HEAD', () => {
    expect(appRequestTarget('cue://other/index.html', 'GET', root)).toMatchObject({
      kind: 'refused',
      status: 404,
      reason: expect.stringContaining('only cue://app/ is served'),
    });
    expect(appRequestTarget('cue://app:99/index.html', 'GET', root)).toMatchObject({ status: 404 });
    expect(appRequestTarget('cue://x@app/index.html', 'GET', root)).toMatchObject({ status: 404 });
    expect(appRequestTarget('file:///etc/passwd', 'GET', root)).toMatchObject({ status: 404 });
    expect(appRequestTarget('not a url', 'GET', root)).toMatchObject({ status: 400 });
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      expect(appRequestTarget(APP_ENTRY_URL, method, root), method).toMatchObject({
        kind: 'refused',
        status: 405,
        reason: `${method} is not allowed (GET and HEAD are)`,
      });
    }
  });
});

describe('the protocol handler', () => {
  const refused: string[] = [];
  const handler = () =>
    createAppProtocolHandler({
      rendererRoot: root,
      csp: rendererCsp(root),
      isFile: (file) => statSync(file, { throwIfNoEntry: false })?.isFile() === true,
      // Stands in for Electron's net.fetch of a file: URL.
      fetchFile: async (url) => {
        try {
          return new Response(readFileSync(fileURLToPath(url)));
        } catch {
          return new Response('missing', { status: 404 });
        }
      },
      onRefused: (url) => refused.push(url),
    });

  it('answers the page with its content type and the page CSP as a header, with frame-ancestors', async () => {
    const response = await handler()({ url: APP_ENTRY_URL, method: 'GET' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'",
    );
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(await response.text()).toContain('<!doctype html>');
  });

  it('answers scripts as JavaScript (module scripts and worklets need it), HEAD without a body', async () => {
    const script = await handler()({ url: 'cue://app/assets/index-abc.js', method: 'GET' });
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toBe('console.log(1);');
    const head = await handler()({ url: 'cue://app/assets/index-abc.js', method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('refuses traversal, directories, missing files and other methods, and says so', async () => {
    refused.length = 0;
    const cases: [string, string, number][] = [
      ['cue://app/%2e%2e/secret.txt', 'GET', 403],
      ['cue://app/assets', 'GET', 404],
      ['cue://app/assets/', 'GET', 404],
      ['cue://app/missing.js', 'GET', 404],
      [APP_ENTRY_URL, 'POST', 405],
    ];
    for (const [url, method, status] of cases) {
      const response = await handler()({ url, method });
      expect(response.status, `${method} ${url}`).toBe(status);
      expect(await response.text()).not.toContain('outside the renderer');
      expect(response.headers.get('content-security-policy')).toBe(
        "default-src 'none'; frame-ancestors 'none'",
      );
    }
    expect(refused).toHaveLength(cases.length);
  });
});

describe('the scheme privileges', () => {
  it('standard and secure, fetch and code cache, and no CSP bypass, CORS or service workers', () => {
    expect(APP_SCHEME_PRIVILEGES).toEqual({
      standard: true,
      secure: true,
      supportFetchAPI: true,
      codeCache: true,
    });
  });
});
