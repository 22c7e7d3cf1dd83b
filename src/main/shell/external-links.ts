/**
 * New windows and external links. The app never opens a window of its own content: every
 * `window.open` and every navigation away from the page is denied. A link may still be opened in
 * the user's browser (shell.openExternal), but only when all of these hold:
 *
 * - it is https, to one of the origins in EXTERNAL_LINK_ORIGINS (the providers' pages for keys),
 *   with no user name or password in it;
 * - the user has just clicked, tapped or typed in the window: an activation seen by main through
 *   the window's input events (which the page cannot fake), at most USER_ACTIVATION_MS ago, and
 *   each activation opens at most one link, so a page cannot open a stream of links from one click.
 */

/** Origins whose pages may be opened in the user's browser: where each provider's API keys are made. */
export const EXTERNAL_LINK_ORIGINS: readonly string[] = [
  'https://console.deepgram.com',
  'https://platform.openai.com',
  'https://elevenlabs.io',
];

/** How long an input event counts as a user activation: Chromium's transient activation, 5 s. */
export const USER_ACTIVATION_MS = 5_000;

/** Electron input-event types that are a user activation (HTML's activation-triggering input events). */
const ACTIVATING_INPUTS = new Set([
  'mouseDown',
  'mouseUp',
  'rawKeyDown',
  'keyDown',
  'gestureTap',
  'touchEnd',
  'pointerDown',
  'pointerUp',
]);

/** The window's recent user activation, fed from webContents 'input-event'. */
export class UserActivation {
  private activatedAt: number | undefined;

  constructor(
    private readonly now: () => number,
    private readonly lifespanMs: number = USER_ACTIVATION_MS,
  ) {}

  /** An input event of this Electron type reached the page. */
  noteInput(type: string): void {
    if (ACTIVATING_INPUTS.has(type)) this.activatedAt = this.now();
  }

  /** True, once, when the user activated the window within the lifespan; the activation is used up. */
  consume(): boolean {
    const at = this.activatedAt;
    if (at === undefined || this.now() - at > this.lifespanMs) return false;
    this.activatedAt = undefined;
    return true;
  }
}

/** Whether `url` is a link the app may hand to the user's browser (the activation aside). */
export function isAllowedExternalLink(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === 'https:' &&
    parsed.username === '' &&
    parsed.password === '' &&
    EXTERNAL_LINK_ORIGINS.includes(parsed.origin)
  );
}

/**
 * The decision for a `window.open` or a navigation away from the page: always denied in the app;
 * `openExternally` when it is an allowed link and the user has just activated the window (which
 * this uses up). The activation is looked at only for allowed links, so a refused one never
 * spends it.
 */
export function decideExternalOpen(url: string, activation: UserActivation): { openExternally: boolean } {
  return { openExternally: isAllowedExternalLink(url) && activation.consume() };
}
