/**
 * Updates (electron-updater, from the project's GitHub Releases; see electron-builder.yml
 * `publish`). Checked once at start in packaged builds; a new version downloads in the
 * background and installs when the user quits Cue (autoInstallOnAppQuit), never by itself: quitting
 * stops the session first, so no update ever cuts into a conversation. Cue never calls
 * quitAndInstall.
 */
import type { Notice } from '../../shared/contract';

/** Whether to check for updates: packaged builds only, unless CUE_DISABLE_UPDATES=1. */
export function shouldCheckForUpdates(options: {
  packaged: boolean;
  env: Readonly<Record<string, string | undefined>>;
}): boolean {
  return options.packaged && options.env['CUE_DISABLE_UPDATES'] !== '1';
}

/** The settings electron-updater runs with. */
export const UPDATER_SETTINGS = {
  autoDownload: true,
  autoInstallOnAppQuit: true,
  allowPrerelease: false,
  allowDowngrade: false,
} as const;

/** What the user is told once an update has downloaded. */
export function updateReadyNotice(version: string, sessionRunning: boolean): Notice {
  return {
    level: 'info',
    message:
      `Cue ${version} has been downloaded and installs when you quit Cue` +
      (sessionRunning ? ': your conversation is not interrupted.' : '.'),
  };
}
