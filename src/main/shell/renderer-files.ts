/**
 * How the built renderer (out/renderer) is served, whoever serves it: the app's own `cue://`
 * protocol in Electron (app-protocol.ts) and the local web bridge (bridge/ws-bridge.ts). One set
 * of rules for which request path names which file, the content types, the security headers and
 * the Content-Security-Policy, so the two can never drift apart.
 */
import { readFileSync } from 'node:fs';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Used only when index.html carries no CSP meta tag; the same policy as src/renderer/index.html. */
const FALLBACK_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self'; media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
  '.onnx': 'application/octet-stream',
};

/** The Content-Type for a file, by its extension (unknown ones as opaque bytes). */
export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** A request path resolved to a file under the renderer's root, or why it is refused. */
export type RendererPath = { ok: true; file: string } | { ok: false; status: 400 | 403; reason: string };

/**
 * The file a request path (the URL's pathname, still percent-encoded) names under `root`: `/` is
 * index.html. Refused: a path that does not decode, holds a NUL or a backslash (400), a `..`
 * segment, encoded or not, or anything that resolves outside `root` (403). Whether the file exists
 * (and, where the file system allows, whether a symlink leads out of `root`) is the caller's check.
 */
export function rendererPath(root: string, rawPathname: string): RendererPath {
  let pathname: string;
  try {
    pathname = decodeURIComponent(rawPathname);
  } catch {
    return { ok: false, status: 400, reason: `the path "${rawPathname}" is not valid percent-encoding` };
  }
  if (!pathname.startsWith('/') || pathname.includes('\0') || pathname.includes('\\')) {
    return {
      ok: false,
      status: 400,
      reason: `the path "${rawPathname}" must start with / and hold no NUL or \\`,
    };
  }
  if (pathname.split('/').some((segment) => segment === '..')) {
    return { ok: false, status: 403, reason: `the path "${rawPathname}" leaves the renderer's folder` };
  }
  const file = resolve(root, pathname === '/' ? 'index.html' : pathname.slice(1));
  if (!isInside(root, file)) {
    return { ok: false, status: 403, reason: `the path "${rawPathname}" leaves the renderer's folder` };
  }
  return { ok: true, file };
}

/** True when `path` is `root` itself or lies below it. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** Headers for every renderer file: its policy, no sniffing, no framing, nothing cross-origin. */
export function securityHeaders(csp: string): Record<string, string> {
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
  };
}

/** The policy of a refusal (plain text, nothing to run or embed). */
export const REFUSAL_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * The policy the renderer's files are served with: the page's own CSP meta tag (so the header and
 * the page can never differ) with `frame-ancestors 'none'`, which a meta tag cannot carry.
 */
export function rendererCsp(root: string): string {
  let html: string;
  try {
    html = readFileSync(join(root, 'index.html'), 'utf8');
  } catch {
    throw new Error(`no index.html in ${root}: build the renderer first (electron-vite build)`);
  }
  let policy = FALLBACK_CSP;
  for (const tag of html.match(/<meta\b[^>]*>/gis) ?? []) {
    if (!/http-equiv\s*=\s*["']content-security-policy["']/i.test(tag)) continue;
    const content = /content\s*=\s*"([^"]*)"|content\s*=\s*'([^']*)'/i.exec(tag);
    const found = (content?.[1] ?? content?.[2] ?? '').replace(/\s+/g, ' ').trim();
    if (found) {
      policy = found.replace(/;\s*$/, '');
      break;
    }
  }
  return `${policy}; frame-ancestors 'none'`;
}
