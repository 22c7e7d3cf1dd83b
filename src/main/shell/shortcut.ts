/**
 * The global push-to-talk shortcut.
 *
 * Electron's globalShortcut reports key presses only, never releases, so holding the shortcut
 * to talk is impossible: each press toggles push-to-talk instead (first press "pressed", next
 * press "released"). Some systems repeat the shortcut while it is held (X11 key auto-repeat,
 * Windows hot-key repeat), which would flip the state back and forth; presses that come less
 * than `repeatGuardMs` after the previous one (the repeat stream of a held key) are ignored.
 * AppInfo reports this as `hold: false`.
 *
 * The accelerator is configurable: `setAccelerator()` swaps it (for when the settings hold it);
 * the default is CommandOrControl+Shift+Space.
 */
import type { AppState } from '../../shared/contract';
import { DEFAULT_PUSH_TO_TALK_SHORTCUT } from '../../shared/settings';

export { DEFAULT_PUSH_TO_TALK_SHORTCUT };

/** Longer than the usual initial key-repeat delay (250–600 ms), shorter than a deliberate second press. */
export const REPEAT_GUARD_MS = 700;

/** Decides what a press of the shortcut means, given the latest app state. */
export class PushToTalkToggle {
  private running = false;
  private talking = false;
  private lastPress = Number.NEGATIVE_INFINITY;

  constructor(private readonly repeatGuardMs: number = REPEAT_GUARD_MS) {}

  /** Follows the app core's `state` events (push-to-talk may also be pressed in the window). */
  onState(state: Pick<AppState, 'running' | 'talking'>): void {
    this.running = state.running;
    this.talking = state.talking;
  }

  /** A press at `now` (ms): the `pressed` value to request, or null to do nothing. */
  press(now: number): boolean | null {
    const sincePrevious = now - this.lastPress;
    this.lastPress = now;
    if (sincePrevious < this.repeatGuardMs) return null;
    if (!this.running) return null;
    this.talking = !this.talking;
    return this.talking;
  }
}

export interface GlobalShortcutLike {
  register(accelerator: string, callback: () => void): boolean;
  unregister(accelerator: string): void;
}

export interface ShortcutStatus {
  accelerator: string;
  registered: boolean;
  /** Holding the shortcut to talk: never, see above. */
  hold: false;
}

export interface PushToTalkShortcut {
  status(): ShortcutStatus;
  /** Registers `accelerator` instead of the current one; the status says whether it took. */
  setAccelerator(accelerator: string): ShortcutStatus;
  onState(state: AppState): void;
  dispose(): void;
}

/**
 * Registers the shortcut; each accepted press calls `setPushToTalk(pressed)`. Registration
 * fails (registered: false) when the accelerator is invalid or another app holds it.
 */
export function createPushToTalkShortcut(options: {
  globalShortcut: GlobalShortcutLike;
  accelerator?: string;
  setPushToTalk(pressed: boolean): void;
  now?: () => number;
  repeatGuardMs?: number;
  warn?: (message: string) => void;
}): PushToTalkShortcut {
  const toggle = new PushToTalkToggle(options.repeatGuardMs);
  const now = options.now ?? (() => performance.now());
  const warn = options.warn ?? ((message: string) => console.warn(message));
  let current: ShortcutStatus = { accelerator: '', registered: false, hold: false };

  const onPress = (): void => {
    const pressed = toggle.press(now());
    if (pressed !== null) options.setPushToTalk(pressed);
  };

  const release = (): void => {
    if (current.registered) options.globalShortcut.unregister(current.accelerator);
    current = { accelerator: '', registered: false, hold: false };
  };

  const setAccelerator = (accelerator: string): ShortcutStatus => {
    release();
    let registered = false;
    if (accelerator.trim() !== '') {
      try {
        registered = options.globalShortcut.register(accelerator, onPress);
      } catch (error) {
        warn(`cue: invalid push-to-talk shortcut "${accelerator}": ${String(error)}`);
      }
      if (!registered) warn(`cue: the push-to-talk shortcut "${accelerator}" could not be registered`);
    }
    current = { accelerator, registered, hold: false };
    return { ...current };
  };

  setAccelerator(options.accelerator ?? DEFAULT_PUSH_TO_TALK_SHORTCUT);
  return {
    status: () => ({ ...current }),
    setAccelerator,
    onState: (state) => toggle.onState(state),
    dispose: release,
  };
}
