/**
 * The app's own page is served from `cue://app/`, a privileged standard scheme handled with
 * `protocol.handle`, instead of `file://` (Electron's security checklist, item 18). A standard
 * scheme gives the page a real origin, so the CSP's 'self', the sender check and the permission
 * handler can name exactly it; responses carry headers (the CSP among them), which file:// never
 * does; and the file-protocol extra privileges fuse can be turned off.
 *
 * Only the built renderer (out/renderer, inside app.asar when packaged) is reachable: one host,
 * GET and HEAD, no `..` (encoded or not), nothing outside that folder (renderer-files.ts holds the
 * path rules, shared with the web bridge). The Electron wiring in index.ts registers the scheme
 * before `ready` and hands `createAppProtocolHandler` a `fetchFile` (Electron's `net.fetch` of the
 * file: URL, which reads inside app.asar) and an `isFile` check (fs.statSync, which also sees
 * inside app.asar); everything else here runs in plain Node.
 */
import { pathToFileURL } from 'node:url';
import { contentTypeOf, REFUSAL_CSP, rendererPath, securityHeaders } from './renderer-files';

export const APP_SCHEME = 'cue';
export const APP_HOST = 'app';
/** The page the window loads. */
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/**
 * protocol.registerSchemesAsPrivileged's privileges: a standard, secure scheme (a real origin,
 * a secure context for getUserMedia and AudioWorklet), fetch() for same-origin assets, V8's code
 * cache. Not granted: bypassCSP, corsEnabled (no other origin may read these files), service
 * workers, streaming.
 */
export const APP_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
  codeCache: true,
} as const;

/** What a request to the app's scheme gets: a file under the renderer's folder, or a refusal. */
export type AppRequestTarget =
  | { kind: 'file'; file: string; contentType: string }
  | { kind: 'refused'; status: 400 | 403 | 404 | 405; reason: string };

/** Decides what `method url` of the app's scheme names under `rendererRoot` (no file system access). */
export function appRequestTarget(url: string, method: string, rendererRoot: string): AppRequestTarget {
  if (method !== 'GET' && method !== 'HEAD') {
    return { kind: 'refused', status: 405, reason: `${method} is not allowed (GET and HEAD are)` };
  }
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/i.exec(url);
  if (!match) return { kind: 'refused', status: 400, reason: `"${url}" is not a URL of the app` };
  const [, scheme, authority, rawPath] = match;
  if (scheme!.toLowerCase() !== APP_SCHEME || authority!.toLowerCase() !== APP_HOST) {
    return {
      kind: 'refused',
      status: 404,
      reason: `only ${APP_SCHEME}://${APP_HOST}/ is served (got "${scheme}://${authority}")`,
    };
  }
  const target = rendererPath(rendererRoot, rawPath || '/');
  if (!target.ok) return { kind: 'refused', status: target.status, reason: target.reason };
  return { kind: 'file', file: target.file, contentType: contentTypeOf(target.file) };
}

export interface AppProtocolOptions {
  /** The built renderer (out/renderer). */
  rendererRoot: string;
  /** The policy sent with every file (renderer-files.ts rendererCsp: the page's own, with frame-ancestors). */
  csp: string;
  /** Whether the path is a regular file (a directory would be listed by a file: URL fetch). */
  isFile(file: string): boolean;
  /** Reads a file: URL (Electron's net.fetch in the app; it reads inside app.asar). */
  fetchFile(fileUrl: string): Promise<Response>;
  /** Told about each refusal (the app logs them). */
  onRefused?(url: string, reason: string): void;
}

/** The `protocol.handle` handler of the app's scheme. */
export function createAppProtocolHandler(
  options: AppProtocolOptions,
): (request: { url: string; method: string }) => Promise<Response> {
  const refuse = (url: string, status: number, reason: string): Response => {
    options.onRefused?.(url, reason);
    return new Response(status === 405 ? 'Method Not Allowed' : status === 404 ? 'Not Found' : 'Refused', {
      status,
      headers: {
        'Content-Type': 'text/plain; charset=utf-8',
        'X-Content-Type-Options': 'nosniff',
        'Content-Security-Policy': REFUSAL_CSP,
        ...(status === 405 ? { Allow: 'GET, HEAD' } : {}),
      },
    });
  };
  return async (request) => {
    const target = appRequestTarget(request.url, request.method, options.rendererRoot);
    if (target.kind === 'refused') return refuse(request.url, target.status, target.reason);
    if (!options.isFile(target.file)) return refuse(request.url, 404, `${target.file} is not a file`);
    let upstream: Response;
    try {
      upstream = await options.fetchFile(pathToFileURL(target.file).href);
    } catch {
      return refuse(request.url, 404, `${target.file} could not be read`);
    }
    if (!upstream.ok) return refuse(request.url, 404, `${target.file} does not exist`);
    return new Response(request.method === 'HEAD' ? null : upstream.body, {
      status: 200,
      headers: {
        ...securityHeaders(options.csp),
        'Content-Type': target.contentType,
        'Cache-Control': 'no-store',
      },
    });
  };
}
