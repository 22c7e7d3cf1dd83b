/**
 * What the tray shows for an AppState: which icon, which tooltip, which menu. Pure: the shell
 * (src/main/index.ts) turns the result into Electron's Tray, nativeImage and Menu, and maps each
 * menu action onto a contract request.
 *
 * Icons live in resources/tray/<name>.png (16 px) with <name>@2x.png (32 px) beside them.
 */
import type { AppState } from '../../shared/contract';
import type { ContractHandler } from '../app/types';

export const TRAY_ICONS = ['stopped', 'listening', 'thinking', 'speaking'] as const;
export type TrayIcon = (typeof TRAY_ICONS)[number];

/** The state the tray shows before the app core's first `state` event. */
export const INITIAL_APP_STATE: AppState = {
  status: 'stopped',
  running: false,
  muted: false,
  talking: false,
  mode: 'always-on',
  pendingRestart: [],
};

export function trayIcon(state: AppState): TrayIcon {
  if (!state.running) return 'stopped';
  return state.status;
}

export function trayTooltip(state: AppState): string {
  if (!state.running) return 'Cue: stopped';
  const parts: string[] = [state.status];
  if (state.mode === 'push-to-talk') parts.push(state.talking ? 'push-to-talk held' : 'push-to-talk');
  if (state.muted) parts.push('muted');
  return `Cue: ${parts.join(', ')}`;
}

export type TrayAction =
  'show' | 'start' | 'stop' | 'mute' | 'unmute' | 'mode:push-to-talk' | 'mode:always-on' | 'quit';

export type TrayMenuItem =
  | { type: 'normal'; label: string; action: TrayAction; enabled: boolean }
  | { type: 'checkbox'; label: string; action: TrayAction; checked: boolean; enabled: boolean }
  | { type: 'separator' };

/**
 * The tray menu for `state`. Checkbox items carry the action their click means now
 * (a click on a checked "Mute" unmutes).
 */
export function trayMenu(state: AppState): TrayMenuItem[] {
  return [
    { type: 'normal', label: 'Show Cue', action: 'show', enabled: true },
    { type: 'separator' },
    state.running
      ? { type: 'normal', label: 'Stop', action: 'stop', enabled: true }
      : { type: 'normal', label: 'Start', action: 'start', enabled: true },
    {
      type: 'checkbox',
      label: 'Mute',
      action: state.muted ? 'unmute' : 'mute',
      checked: state.muted,
      enabled: true,
    },
    {
      type: 'checkbox',
      label: 'Push-to-talk mode',
      action: state.mode === 'push-to-talk' ? 'mode:always-on' : 'mode:push-to-talk',
      checked: state.mode === 'push-to-talk',
      enabled: true,
    },
    { type: 'separator' },
    { type: 'normal', label: 'Quit Cue', action: 'quit', enabled: true },
  ];
}

/** The turn detection modes that are not push-to-talk (settings' turn_handling.turn_detection). */
export type AlwaysOnDetection = 'vad' | 'stt' | 'model';

/**
 * The settings patch that switches the mode. Leaving push-to-talk restores the detection mode
 * in use before it (`previous`), else the settings default.
 */
export function modePatch(
  target: AppState['mode'],
  previous: AlwaysOnDetection | undefined,
  fallback: AlwaysOnDetection,
): { turn_handling: { turn_detection: 'manual' | AlwaysOnDetection } } {
  return {
    turn_handling: { turn_detection: target === 'push-to-talk' ? 'manual' : (previous ?? fallback) },
  };
}

/**
 * What each tray action does, as contract requests (show and quit are the shell's own).
 * Start failing opens the window, where the app core's notice says why. The mode toggle
 * switches turn detection to "manual" and back to the mode used before (remembered while the
 * app runs), else to `defaultDetection`.
 */
export function createTrayActions(options: {
  handler: Pick<ContractHandler, 'request'>;
  show(): void;
  quit(): void;
  defaultDetection: AlwaysOnDetection;
}): (action: TrayAction) => Promise<void> {
  const { handler } = options;
  let beforePushToTalk: AlwaysOnDetection | undefined;
  return async (action) => {
    switch (action) {
      case 'show':
        return options.show();
      case 'quit':
        return options.quit();
      case 'start': {
        const result = await handler.request('session:start', {});
        if (!result.ok) options.show();
        return;
      }
      case 'stop':
        await handler.request('session:stop', {});
        return;
      case 'mute':
      case 'unmute':
        await handler.request('session:mute', { muted: action === 'mute' });
        return;
      case 'mode:push-to-talk':
      case 'mode:always-on': {
        const { settings } = await handler.request('settings:get', {});
        const current = settings.turn_handling.turn_detection;
        if (current !== 'manual') beforePushToTalk = current;
        const target = action === 'mode:push-to-talk' ? 'push-to-talk' : 'always-on';
        await handler.request('settings:update', {
          patch: modePatch(target, beforePushToTalk, options.defaultDetection),
        });
        return;
      }
    }
  };
}
