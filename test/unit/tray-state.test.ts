/** What the tray shows for each app state, and the settings patch behind its mode toggle. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { AppState } from '../../src/shared/contract';
import { defaultSettings, type Settings } from '../../src/shared/settings';
import {
  INITIAL_APP_STATE,
  TRAY_ICONS,
  createTrayActions,
  modePatch,
  trayIcon,
  trayMenu,
  trayTooltip,
  type TrayMenuItem,
} from '../../src/main/shell/tray-state';

const running: AppState = { ...INITIAL_APP_STATE, running: true, status: 'listening' };
const item = (menu: TrayMenuItem[], label: string) => {
  const found = menu.find((entry) => entry.type !== 'separator' && entry.label === label);
  if (!found || found.type === 'separator') throw new Error(`no menu item "${label}"`);
  return found;
};

describe('tray icon and tooltip', () => {
  it('follows the agent status while running', () => {
    for (const status of ['listening', 'thinking', 'speaking'] as const) {
      expect(trayIcon({ ...running, status })).toBe(status);
      expect(trayTooltip({ ...running, status })).toBe(`Cue: ${status}`);
    }
  });

  it('shows stopped when the session is not running, whatever the status says', () => {
    expect(trayIcon(INITIAL_APP_STATE)).toBe('stopped');
    expect(trayIcon({ ...INITIAL_APP_STATE, status: 'speaking' })).toBe('stopped');
    expect(trayIcon({ ...running, status: 'stopped' })).toBe('stopped');
    expect(trayTooltip({ ...INITIAL_APP_STATE, muted: true })).toBe('Cue: stopped');
  });

  it('mentions push-to-talk and mute', () => {
    expect(trayTooltip({ ...running, muted: true })).toBe('Cue: listening, muted');
    expect(trayTooltip({ ...running, mode: 'push-to-talk' })).toBe('Cue: listening, push-to-talk');
    expect(trayTooltip({ ...running, mode: 'push-to-talk', talking: true, muted: true })).toBe(
      'Cue: listening, push-to-talk held, muted',
    );
  });

  it('has a 16 px and a 32 px PNG for every icon', () => {
    for (const name of TRAY_ICONS) {
      for (const [file, size] of [
        [`${name}.png`, 16],
        [`${name}@2x.png`, 32],
      ] as const) {
        const path = fileURLToPath(new URL(`../../resources/tray/${file}`, import.meta.url));
        expect(existsSync(path), path).toBe(true);
        const png = readFileSync(path);
        expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
        expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([size, size]);
      }
    }
  });
});

describe('tray menu', () => {
  it('offers Start when stopped and Stop when running', () => {
    expect(item(trayMenu(INITIAL_APP_STATE), 'Start')).toMatchObject({ action: 'start', enabled: true });
    expect(trayMenu(INITIAL_APP_STATE).some((e) => e.type !== 'separator' && e.label === 'Stop')).toBe(false);
    expect(item(trayMenu(running), 'Stop')).toMatchObject({ action: 'stop' });
  });

  it('has Mute and Push-to-talk mode checkboxes whose click flips them', () => {
    expect(item(trayMenu(running), 'Mute')).toMatchObject({
      type: 'checkbox',
      checked: false,
      action: 'mute',
    });
    expect(item(trayMenu({ ...running, muted: true }), 'Mute')).toMatchObject({
      checked: true,
      action: 'unmute',
    });
    expect(item(trayMenu(running), 'Push-to-talk mode')).toMatchObject({
      type: 'checkbox',
      checked: false,
      action: 'mode:push-to-talk',
    });
    expect(item(trayMenu({ ...running, mode: 'push-to-talk' }), 'Push-to-talk mode')).toMatchObject({
      checked: true,
      action: 'mode:always-on',
    });
  });

  it('always has Show and Quit', () => {
    for (const state of [INITIAL_APP_STATE, running]) {
      const menu = trayMenu(state);
      expect(item(menu, 'Show Cue').action).toBe('show');
      expect(menu.at(-1)).toMatchObject({ label: 'Quit Cue', action: 'quit' });
    }
  });
});

describe('mode patch', () => {
  it('switches to manual turn detection for push-to-talk', () => {
    expect(modePatch('push-to-talk', 'stt', 'model')).toEqual({
      turn_handling: { turn_detection: 'manual' },
    });
  });

  it('restores the previous detection mode, else the fallback', () => {
    expect(modePatch('always-on', 'vad', 'model')).toEqual({ turn_handling: { turn_detection: 'vad' } });
    expect(modePatch('always-on', undefined, 'model')).toEqual({
      turn_handling: { turn_detection: 'model' },
    });
  });
});

describe('tray actions', () => {
  function setup(detection: Settings['turn_handling']['turn_detection'] = 'stt', startOk = true) {
    const settings = defaultSettings();
    settings.turn_handling.turn_detection = detection;
    const requests: [string, unknown][] = [];
    const calls: string[] = [];
    const handler = {
      request: async (name: string, payload: unknown): Promise<never> => {
        requests.push([name, payload]);
        if (name === 'settings:get') return { settings, notices: [] } as never;
        if (name === 'settings:update') {
          const patch = (payload as { patch: { turn_handling: { turn_detection: typeof detection } } }).patch;
          settings.turn_handling.turn_detection = patch.turn_handling.turn_detection;
          return { ok: true, settings, needsRestart: [] } as never;
        }
        if (name === 'session:start')
          return (startOk ? { ok: true } : { ok: false, error: 'no key' }) as never;
        return {} as never;
      },
    };
    const act = createTrayActions({
      handler: handler as never,
      show: () => calls.push('show'),
      quit: () => calls.push('quit'),
      defaultDetection: 'model',
    });
    return { act, requests, calls, settings };
  }

  it('maps session actions onto contract requests', async () => {
    const { act, requests, calls } = setup();
    await act('start');
    await act('mute');
    await act('unmute');
    await act('stop');
    expect(requests).toEqual([
      ['session:start', {}],
      ['session:mute', { muted: true }],
      ['session:mute', { muted: false }],
      ['session:stop', {}],
    ]);
    expect(calls).toEqual([]);
    await act('show');
    await act('quit');
    expect(calls).toEqual(['show', 'quit']);
  });

  it('opens the window when the session cannot start', async () => {
    const { act, calls } = setup('stt', false);
    await act('start');
    expect(calls).toEqual(['show']);
  });

  it('switches to push-to-talk and back to the detection mode used before', async () => {
    const { act, requests, settings } = setup('stt');
    await act('mode:push-to-talk');
    expect(settings.turn_handling.turn_detection).toBe('manual');
    await act('mode:always-on');
    expect(settings.turn_handling.turn_detection).toBe('stt');
    expect(requests.filter(([name]) => name === 'settings:update').map(([, payload]) => payload)).toEqual([
      { patch: { turn_handling: { turn_detection: 'manual' } } },
      { patch: { turn_handling: { turn_detection: 'stt' } } },
    ]);
  });

  it('leaves push-to-talk for the default mode when the previous one is unknown', async () => {
    const { act, settings } = setup('manual');
    await act('mode:always-on');
    expect(settings.turn_handling.turn_detection).toBe('model');
  });
});
