import { INITIAL_APP_STATE } from '../../src/main/shell/tray-state';
import type { AppState } from '../../src/shared/contract';

/** The app state before any session (stopped, always-on), with the given fields changed. */
export const appState = (patch: Partial<AppState> = {}): AppState => ({ ...INITIAL_APP_STATE, ...patch });

/** A running session that is listening, with the given fields changed. */
export const listeningState = (patch: Partial<AppState> = {}): AppState =>
  appState({ status: 'listening', running: true, ...patch });
