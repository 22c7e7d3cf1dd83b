/**
 * What to do when the window's renderer process dies (webContents 'render-process-gone'). The
 * microphone and the speaker live in the page, but the session lives in main: a reloaded page
 * finds the session running, gets a new audio port and starts capturing again, so the
 * conversation goes on. The user is told what happened. A page that keeps dying (MAX_RELOADS
 * times within RELOAD_WINDOW_MS) is not reloaded again: the session is stopped cleanly, since
 * nobody can hear or speak to it, and the user is told to restart Cue. A failed integrity check
 * (app.asar was changed on disk) is never reloaded: the same damaged files would load again.
 */
import type { Notice } from '../../shared/contract';

export const RELOAD_WINDOW_MS = 60_000;
export const MAX_RELOADS = 3;

/** Electron's RenderProcessGoneDetails.reason values. */
export type GoneReason =
  | 'clean-exit'
  | 'abnormal-exit'
  | 'killed'
  | 'crashed'
  | 'oom'
  | 'launch-failed'
  | 'integrity-failure'
  | 'memory-eviction';

export interface RecoveryDecision {
  reload: boolean;
  stopSession: boolean;
  notice: Notice;
}

const WHY: Record<GoneReason, string> = {
  'clean-exit': 'closed unexpectedly',
  'abnormal-exit': 'stopped with an error',
  killed: 'was ended by the system',
  crashed: 'crashed',
  oom: 'ran out of memory',
  'launch-failed': 'could not start',
  'integrity-failure': "failed Electron's code integrity check",
  'memory-eviction': 'was closed by the system to free memory',
};

export class RendererRecovery {
  private reloads: number[] = [];

  constructor(
    private readonly now: () => number,
    private readonly windowMs: number = RELOAD_WINDOW_MS,
    private readonly maxReloads: number = MAX_RELOADS,
  ) {}

  onGone(details: { reason: string; exitCode: number }, sessionRunning: boolean): RecoveryDecision {
    const reason = (details.reason in WHY ? details.reason : 'crashed') as GoneReason;
    const what = `Cue's window ${WHY[reason]} (${reason}, exit code ${details.exitCode})`;
    if (reason === 'integrity-failure') {
      return {
        reload: false,
        stopSession: sessionRunning,
        notice: {
          level: 'error',
          message: `${what}: Cue's files were changed on disk. Reinstall Cue.`,
        },
      };
    }
    const now = this.now();
    this.reloads = this.reloads.filter((at) => now - at < this.windowMs);
    if (this.reloads.length >= this.maxReloads) {
      return {
        reload: false,
        stopSession: sessionRunning,
        notice: {
          level: 'error',
          message:
            `${what}, the ${this.maxReloads + 1}th time within ${Math.round(this.windowMs / 1000)} s, so it is not reopened again` +
            `${sessionRunning ? ' and the conversation was stopped' : ''}. Quit and restart Cue; if it keeps happening, the error log has details.`,
        },
      };
    }
    this.reloads.push(now);
    return {
      reload: true,
      stopSession: false,
      notice: {
        level: 'warning',
        message: `${what} and was reloaded.${sessionRunning ? ' The conversation went on; anything said while it was gone was not heard.' : ''}`,
      },
    };
  }
}
