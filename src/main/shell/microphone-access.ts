/**
 * The microphone on macOS. There the OS itself asks the user once per app (TCC) and remembers the
 * answer; a denial makes getUserMedia fail with nothing but "permission denied", so Cue asks
 * through Electron's systemPreferences before a session starts and, when the answer is no, says
 * where to turn it back on. Other systems have no such per-app switch that Electron can read:
 * there the page's own permission prompt and its messages cover it.
 */

/** The parts of Electron's systemPreferences used here. */
export interface SystemPreferencesLike {
  getMediaAccessStatus(mediaType: 'microphone'): string;
  askForMediaAccess(mediaType: 'microphone'): Promise<boolean>;
}

/** Opens System Settings at Privacy & Security → Microphone (shell.openExternal). */
export const MAC_MICROPHONE_SETTINGS_URL =
  'x-apple.systempreferences:com.apple.preference.security?Privacy_Microphone';

export const MICROPHONE_DENIED_MESSAGE =
  'Cue cannot hear you: microphone access for Cue is turned off in macOS. Open System Settings → ' +
  'Privacy & Security → Microphone, switch on Cue, then start again (macOS may ask you to reopen Cue).';

export const MICROPHONE_RESTRICTED_MESSAGE =
  'Cue cannot hear you: microphone access is blocked on this Mac by a configuration profile or ' +
  'Screen Time (System Settings → Privacy & Security → Microphone shows it locked). Whoever manages ' +
  'this Mac has to allow it.';

export type MicrophoneAccess = { ok: true } | { ok: false; message: string };

/** Asks macOS for the microphone when it has not been asked yet; explains a refusal. */
export async function ensureMicrophoneAccess(
  platform: string,
  preferences: SystemPreferencesLike,
): Promise<MicrophoneAccess> {
  if (platform !== 'darwin') return { ok: true };
  const status = preferences.getMediaAccessStatus('microphone');
  switch (status) {
    case 'granted':
      return { ok: true };
    case 'not-determined':
      return (await preferences.askForMediaAccess('microphone'))
        ? { ok: true }
        : { ok: false, message: MICROPHONE_DENIED_MESSAGE };
    case 'denied':
      return { ok: false, message: MICROPHONE_DENIED_MESSAGE };
    case 'restricted':
      return { ok: false, message: MICROPHONE_RESTRICTED_MESSAGE };
    default:
      // 'unknown': nothing to go on; the page's own request decides.
      return { ok: true };
  }
}
