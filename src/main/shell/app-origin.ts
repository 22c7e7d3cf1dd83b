/**
 * What counts as "our own page": the built renderer, loaded from disk as
 * `file://…/renderer/index.html` (packaged or not). file:// URLs have an opaque origin, so
 * comparing origins says nothing: the page is recognised by its exact file path instead.
 * Used by the IPC carrier (sender check) and the permission handlers.
 */
import { posix, win32 } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * True when `url` is the app's renderer page: a file: URL without a host whose path is exactly
 * `rendererIndexPath` (query and fragment ignored; case-insensitive on Windows and macOS,
 * whose default file systems are).
 */
export function isAppUrl(
  url: unknown,
  rendererIndexPath: string,
  platform: string = process.platform,
): boolean {
  if (typeof url !== 'string' || url === '') return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
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
  rendererIndexPath: string,
  platform: string = process.platform,
): boolean {
  if (!frame || !contents) return false;
  if (frame.parent !== null || frame.detached === true || frame.isDestroyed?.() === true) return false;
  const main = contents.mainFrame;
  if (frame !== main && (frame.processId !== main.processId || frame.routingId !== main.routingId))
    return false;
  return isAppUrl(frame.url, rendererIndexPath, platform);
}
