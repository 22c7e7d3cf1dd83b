/**
 * The permission decision of the window's session: the microphone for the app's own page,
 * nothing else. Electron asks twice, through the request handler (getUserMedia prompts) and
 * the check handler (permission queries, device labels); both use this decision:
 *
 * - permission `media` only (no notifications, geolocation, clipboard, display capture, HID…);
 * - audio only: a request is granted when every requested media type is `audio` (a request
 *   naming no type, or `video`, is denied); a check when its media type is `audio`;
 * - only from the main frame of our window showing the app's page (isAppUrl: cue://app/index.html,
 *   or the dev server's origin under electron-vite dev), judged by the requesting frame's URL.
 */
import { isAppUrl, type AppPage } from './app-origin';

export interface PermissionQuery {
  permission: string;
  /** URL of the frame asking (details.requestingUrl; the web contents' URL when absent). */
  requestingUrl: string | undefined;
  /** Whether the main frame asks (details.isMainFrame). */
  isMainFrame: boolean | undefined;
  /** Request handler: details.mediaTypes; check handler: [details.mediaType]. */
  mediaTypes: readonly string[] | undefined;
  /** The asking web contents is our window's. */
  fromAppWindow: boolean;
}

export function isPermissionGranted(query: PermissionQuery, page: AppPage): boolean {
  if (query.permission !== 'media') return false;
  if (!query.fromAppWindow || query.isMainFrame === false) return false;
  const types = query.mediaTypes ?? [];
  if (types.length === 0 || !types.every((type) => type === 'audio')) return false;
  return isAppUrl(query.requestingUrl, page);
}

/** The parts of Electron's Session the handlers are installed on (a stand-in in tests). */
export interface PermissionSession {
  setPermissionRequestHandler(
    handler: (
      contents: unknown,
      permission: string,
      callback: (granted: boolean) => void,
      details: { requestingUrl?: string; isMainFrame?: boolean; mediaTypes?: readonly string[] },
    ) => void,
  ): void;
  setPermissionCheckHandler(
    handler: (
      contents: unknown,
      permission: string,
      requestingOrigin: string,
      details: { requestingUrl?: string; isMainFrame?: boolean; mediaType?: string },
    ) => boolean,
  ): void;
}

interface ContentsLike {
  getURL?(): string;
}

/**
 * Installs the request and check handlers on `session`. `isAppContents(contents)` tells whether
 * the asking web contents is our window's (a null contents, as in some checks, never is).
 */
export function installPermissionHandlers(
  session: PermissionSession,
  options: {
    /** The app's page (or, under electron-vite dev, its dev server). */
    page: AppPage;
    isAppContents(contents: unknown): boolean;
  },
): void {
  const urlOf = (contents: unknown, url: string | undefined): string | undefined =>
    url || (contents as ContentsLike | null)?.getURL?.();
  session.setPermissionRequestHandler((contents, permission, callback, details) => {
    callback(
      isPermissionGranted(
        {
          permission,
          requestingUrl: urlOf(contents, details?.requestingUrl),
          isMainFrame: details?.isMainFrame,
          mediaTypes: details?.mediaTypes,
          fromAppWindow: contents != null && options.isAppContents(contents),
        },
        options.page,
      ),
    );
  });
  session.setPermissionCheckHandler((contents, permission, _origin, details) =>
    isPermissionGranted(
      {
        permission,
        requestingUrl: urlOf(contents, details?.requestingUrl),
        isMainFrame: details?.isMainFrame,
        mediaTypes: details?.mediaType ? [details.mediaType] : undefined,
        fromAppWindow: contents != null && options.isAppContents(contents),
      },
      options.page,
    ),
  );
}
