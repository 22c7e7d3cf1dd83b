/**
 * What counts as "our own page": the built renderer served by the app's own scheme,
 * `cue://app/index.html` (app-protocol.ts), packaged or not. Under `electron-vite dev`
 * (unpackaged only) the page comes from the Vite dev server on the loopback interface instead,
 * and is recognised by that server's exact origin.
 * Used by the IPC carrier (sender check) and the permission handlers.
 */
import { APP_HOST, APP_SCHEME } from './app-protocol';

/** The built page on the app's scheme, or the dev server that serves it under `electron-vite dev`. */
export type AppPage = { readonly kind: 'bundled' } | { readonly kind: 'dev-server'; readonly origin: string };

export const BUNDLED_PAGE: AppPage = { kind: 'bundled' };

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

/** The page to trust: the dev server when `devServerUrl` is a loopback one (never when packaged), else the bundled page. */
export function appPageFor(devServerUrl: string | undefined): AppPage {
  const origin = devServerOrigin(devServerUrl);
  return origin ? { kind: 'dev-server', origin } : BUNDLED_PAGE;
}

/**
 * True when `url` is the app's renderer page: exactly `cue://app/index.html` (query and fragment
 * ignored; no user, password or port), or, for a dev-server page, a URL of exactly that server's
 * origin.
 */
export function isAppUrl(url: unknown, page: AppPage): boolean {
  if (typeof url !== 'string' || url === '') return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (page.kind === 'dev-server') {
    const origin = devServerOrigin(page.origin);
    return origin !== undefined && parsed.origin === origin;
  }
  return (
    parsed.protocol === `${APP_SCHEME}:` &&
    parsed.host === APP_HOST &&
    parsed.username === '' &&
    parsed.password === '' &&
    parsed.pathname === '/index.html'
  );
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
): boolean {
  if (!frame || !contents) return false;
  if (frame.parent !== null || frame.detached === true || frame.isDestroyed?.() === true) return false;
  const main = contents.mainFrame;
  if (frame !== main && (frame.processId !== main.processId || frame.routingId !== main.routingId))
    return false;
  return isAppUrl(frame.url, page);
}
