/** The global push-to-talk shortcut: toggling (no key-up from the OS), key-repeat guard, re-registration. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PUSH_TO_TALK_SHORTCUT,
  PushToTalkToggle,
  createPushToTalkShortcut,
  type GlobalShortcutLike,
} from '../../src/main/shell/shortcut';
import { INITIAL_APP_STATE } from '../../src/main/shell/tray-state';

const running = { ...INITIAL_APP_STATE, running: true, status: 'listening' as const };

describe('PushToTalkToggle', () => {
  it('toggles pressed and released on successive presses', () => {
    const toggle = new PushToTalkToggle(700);
    toggle.onState(running);
    expect(toggle.press(0)).toBe(true);
    expect(toggle.press(2_000)).toBe(false);
    expect(toggle.press(4_000)).toBe(true);
  });

  it('ignores the repeat stream of a held key', () => {
    const toggle = new PushToTalkToggle(700);
    toggle.onState(running);
    expect(toggle.press(0)).toBe(true);
    // Auto-repeat: first repeat after 500 ms, then every 33 ms for two seconds.
    for (let t = 500; t < 2_500; t += 33) expect(toggle.press(t)).toBeNull();
    expect(toggle.press(4_000)).toBe(false);
  });

  it('does nothing while no session runs', () => {
    const toggle = new PushToTalkToggle(700);
    toggle.onState(INITIAL_APP_STATE);
    expect(toggle.press(0)).toBeNull();
  });

  it('follows the state when push-to-talk changes elsewhere', () => {
    const toggle = new PushToTalkToggle(700);
    toggle.onState({ ...running, talking: true }); // held in the window
    expect(toggle.press(0)).toBe(false);
    toggle.onState({ ...running, talking: false });
    expect(toggle.press(1_000)).toBe(true);
  });
});

function fakeGlobalShortcut(refuse: string[] = []) {
  const registered = new Map<string, () => void>();
  const shortcut: GlobalShortcutLike = {
    register(accelerator, callback) {
      if (accelerator === 'Nonsense+++') throw new Error('conversion failure');
      if (refuse.includes(accelerator)) return false;
      registered.set(accelerator, callback);
      return true;
    },
    unregister(accelerator) {
      registered.delete(accelerator);
    },
  };
  return { shortcut, registered };
}

describe('createPushToTalkShortcut', () => {
  it('registers the default accelerator and requests push-to-talk on presses', () => {
    const { shortcut, registered } = fakeGlobalShortcut();
    const requests: boolean[] = [];
    let now = 0;
    const ptt = createPushToTalkShortcut({
      globalShortcut: shortcut,
      setPushToTalk: (pressed) => requests.push(pressed),
      now: () => now,
      warn: () => {},
    });
    expect(ptt.status()).toEqual({
      accelerator: DEFAULT_PUSH_TO_TALK_SHORTCUT,
      registered: true,
      hold: false,
    });
    const press = registered.get(DEFAULT_PUSH_TO_TALK_SHORTCUT)!;
    press(); // not running: nothing
    ptt.onState(running);
    now = 1_000;
    press();
    now = 1_100;
    press(); // repeat: ignored
    now = 3_000;
    press();
    expect(requests).toEqual([true, false]);
  });

  it('swaps accelerators and reports the ones it could not register', () => {
    const { shortcut, registered } = fakeGlobalShortcut(['Alt+F1']);
    const warnings: string[] = [];
    const ptt = createPushToTalkShortcut({
      globalShortcut: shortcut,
      accelerator: 'F9',
      setPushToTalk: () => {},
      warn: (message) => warnings.push(message),
    });
    expect([...registered.keys()]).toEqual(['F9']);
    expect(ptt.setAccelerator('Alt+F1')).toEqual({ accelerator: 'Alt+F1', registered: false, hold: false });
    expect([...registered.keys()]).toEqual([]);
    expect(ptt.setAccelerator('Nonsense+++')).toMatchObject({ registered: false });
    expect(warnings.join('\n')).toMatch(/Alt\+F1/);
    expect(warnings.join('\n')).toMatch(/invalid push-to-talk shortcut "Nonsense\+\+\+"/);
    expect(ptt.setAccelerator('F10')).toMatchObject({ registered: true });
    ptt.dispose();
    expect([...registered.keys()]).toEqual([]);
  });
});
