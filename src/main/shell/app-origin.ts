/**
 * What counts as "our own page": the built renderer, loaded from disk as
 * `file://…/renderer/index.html` (packaged or not). file:// URLs have an opaque origin, so
 * comparing origins says nothing: the page is recognised by its exact file path instead.
 * Under `electron-vite dev` (unpackaged only) the page comes from the Vite dev server on the
 * loopback interface instead, and is recognised by that server's exact origin.
 * Used by the IPC carrier (sender check) and the permission handlers.
 */
import { posix, win32 } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The renderer's index.html, or the dev server that serves it under `electron-vite dev`. */
export type AppPage = string | { readonly file: string; readonly devServer: string };

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The dev server's origin from `ELECTRON_RENDERER_URL`, when it is plain http on the loopback
 * interface; anything else (another host, https to elsewhere, garbage) is refused with undefined.
 */
export function devServerOrigin(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname) ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when `url` is the app's renderer page: a file: URL without a host whose path is exactly
 * the page's file (query and fragment ignored; case-insensitive on Windows and macOS, whose
 * default file systems are), or, for a dev-server page, a URL of exactly that server's origin.
 */
export function isAppUrl(url: unknown, page: AppPage, platform: string = process.platform): boolean {
  if (typeof url !== 'string' || url === '') return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (typeof page !== 'string') {
    const origin = devServerOrigin(page.devServer);
    return origin !== undefined && parsed.origin === origin;
  }
  const rendererIndexPath = page;
  if (parsed.protocol !== 'file:' || parsed.host !== '') return false;
  parsed.search = '';
  parsed.hash = '';
  let path: string;
  try {
    path = fileURLToPath(parsed, { windows: platform === 'win32' });
  } catch {
    return false; // encoded separators and the like
  }
  const expected = (platform === 'win32' ? win32 : posix).resolve(rendererIndexPath);
  if (platform === 'win32' || platform === 'darwin') return path.toLowerCase() === expected.toLowerCase();
  return path === expected;
}

/** The parts of Electron's WebFrameMain the sender check reads. */
export interface FrameLike {
  readonly url: string;
  readonly parent: FrameLike | null;
  readonly processId: number;
  readonly routingId: number;
  readonly detached?: boolean;
  isDestroyed?(): boolean;
}

/**
 * True when `frame` is the main frame of `contents` (our window's web contents) and shows the
 * app's page. A subframe, a frame of another web contents, a detached or destroyed frame and
 * any other URL are not trusted.
 */
export function isTrustedFrame(
  frame: FrameLike | null | undefined,
  contents: { readonly mainFrame: FrameLike } | null | undefined,
  page: AppPage,
  platform: string = process.platform,
): boolean {
  if (!frame || !contents) return false;
  if (frame.parent !== null || frame.detached === true || frame.isDestroyed?.() === true) return false;
  const main = contents.mainFrame;
  if (frame !== main && (frame.processId !== main.processId || frame.routingId !== main.routingId))
    return false;
  return isAppUrl(frame.url, page, platform);
}
