/**
 * The shell's decisions about the operating system, in plain Node: the macOS microphone
 * permission (asked once, a denial explained), a renderer that dies (reload and go on, or stop
 * cleanly when it keeps dying), uncaught errors of main (logged to a file in the logs folder) and
 * updates (checked when packaged, installed only when the user quits).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ensureMicrophoneAccess,
  MICROPHONE_DENIED_MESSAGE,
  MICROPHONE_RESTRICTED_MESSAGE,
  type SystemPreferencesLike,
} from '../../src/main/shell/microphone-access';
import { ErrorLog, logUncaughtErrors, type ProcessLike } from '../../src/main/shell/error-log';
import { MAX_RELOADS, RELOAD_WINDOW_MS, RendererRecovery } from '../../src/main/shell/renderer-recovery';
import {
  shouldCheckForUpdates,
  UPDATER_SETTINGS,
  updateReadyNotice,
} from '../../src/main/shell/update-policy';

function preferences(status: string, answer = true) {
  const asked: string[] = [];
  const prefs: SystemPreferencesLike = {
    getMediaAccessStatus: () => status,
    askForMediaAccess: (type) => {
      asked.push(type);
      return Promise.resolve(answer);
    },
  };
  return { prefs, asked };
}

describe('ensureMicrophoneAccess (macOS)', () => {
  it('asks macOS when it has not been asked, and goes on when the user agrees', async () => {
    const { prefs, asked } = preferences('not-determined', true);
    expect(await ensureMicrophoneAccess('darwin', prefs)).toEqual({ ok: true });
    expect(asked).toEqual(['microphone']);
  });

  it('explains a refusal with where to turn it on', async () => {
    const { prefs } = preferences('not-determined', false);
    expect(await ensureMicrophoneAccess('darwin', prefs)).toEqual({
      ok: false,
      message: MICROPHONE_DENIED_MESSAGE,
    });
    expect(MICROPHONE_DENIED_MESSAGE).toContain('System Settings → Privacy & Security → Microphone');
  });

  it('does not ask again once denied or restricted, and says which', async () => {
    const denied = preferences('denied');
    expect(await ensureMicrophoneAccess('darwin', denied.prefs)).toEqual({
      ok: false,
      message: MICROPHONE_DENIED_MESSAGE,
    });
    expect(denied.asked).toEqual([]);
    const restricted = preferences('restricted');
    expect(await ensureMicrophoneAccess('darwin', restricted.prefs)).toEqual({
      ok: false,
      message: MICROPHONE_RESTRICTED_MESSAGE,
    });
  });

  it('goes on when granted, and never asks on other systems', async () => {
    expect(await ensureMicrophoneAccess('darwin', preferences('granted').prefs)).toEqual({ ok: true });
    const other = preferences('denied');
    for (const platform of ['linux', 'win32']) {
      expect(await ensureMicrophoneAccess(platform, other.prefs)).toEqual({ ok: true });
    }
    expect(other.asked).toEqual([]);
  });
});

describe('RendererRecovery', () => {
  it('reloads a crashed page and keeps the session going, telling the user', () => {
    const recovery = new RendererRecovery(() => 0);
    const decision = recovery.onGone({ reason: 'oom', exitCode: 5 }, true);
    expect(decision).toEqual({
      reload: true,
      stopSession: false,
      notice: {
        level: 'warning',
        message:
          "Cue's window ran out of memory (oom, exit code 5) and was reloaded. The conversation went on; anything said while it was gone was not heard.",
      },
    });
  });

  it('stops reloading a page that keeps dying, and stops the session cleanly', () => {
    let now = 0;
    const recovery = new RendererRecovery(() => now);
    for (let i = 0; i < MAX_RELOADS; i++) {
      expect(recovery.onGone({ reason: 'crashed', exitCode: 1 }, true).reload).toBe(true);
      now += 1_000;
    }
    const last = recovery.onGone({ reason: 'crashed', exitCode: 1 }, true);
    expect(last).toMatchObject({ reload: false, stopSession: true, notice: { level: 'error' } });
    expect(last.notice.message).toContain('Quit and restart Cue');
    // Long after, a crash is reloaded again.
    now += RELOAD_WINDOW_MS;
    expect(recovery.onGone({ reason: 'crashed', exitCode: 1 }, false).reload).toBe(true);
  });

  it('never reloads after a failed integrity check', () => {
    const decision = new RendererRecovery(() => 0).onGone({ reason: 'integrity-failure', exitCode: 0 }, true);
    expect(decision).toMatchObject({ reload: false, stopSession: true });
    expect(decision.notice.message).toContain('Reinstall Cue');
  });
});

describe('ErrorLog', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cue-logs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('logs uncaught exceptions and unhandled rejections of main with time and stack', () => {
    const logs = join(dir, 'logs');
    const log = new ErrorLog(logs, () => new Date('2025-05-06T07:08:09.000Z'));
    const target = new EventEmitter();
    const told: string[] = [];
    logUncaughtErrors(target as unknown as ProcessLike, log, (kind) => told.push(kind));
    target.emit('uncaughtException', new TypeError('boom'));
    target.emit('unhandledRejection', 'nobody caught this');
    const text = readFileSync(log.file, 'utf8');
    expect(log.file).toBe(join(logs, 'main.log'));
    expect(text).toContain('[2025-05-06T07:08:09.000Z] uncaughtException: TypeError: boom\n    at ');
    expect(text).toContain('[2025-05-06T07:08:09.000Z] unhandledRejection: nobody caught this\n');
    expect(told).toEqual(['uncaughtException', 'unhandledRejection']);
  });

  it('starts a new file past its size, keeping the previous one', () => {
    const log = new ErrorLog(dir, () => new Date(0), 200);
    for (let i = 0; i < 5; i++) log.write('test', `entry ${i} ${'x'.repeat(60)}`);
    expect(existsSync(join(dir, 'main.old.log'))).toBe(true);
    expect(readFileSync(log.file, 'utf8').length).toBeLessThanOrEqual(200);
    expect(readFileSync(log.file, 'utf8')).toContain('entry 4');
  });

  it('never throws when it cannot write', () => {
    // A folder that cannot exist: its parent is a file.
    writeFileSync(join(dir, 'a-file'), '');
    const log = new ErrorLog(join(dir, 'a-file', 'logs'));
    expect(log.write('test', new Error('x'))).toBe(false);
  });
});

describe('update policy', () => {
  it('checks only packaged builds, unless turned off', () => {
    expect(shouldCheckForUpdates({ packaged: true, env: {} })).toBe(true);
    expect(shouldCheckForUpdates({ packaged: false, env: {} })).toBe(false);
    expect(shouldCheckForUpdates({ packaged: true, env: { CUE_DISABLE_UPDATES: '1' } })).toBe(false);
  });

  it('downloads in the background and installs only when the user quits', () => {
    expect(UPDATER_SETTINGS).toMatchObject({
      autoDownload: true,
      autoInstallOnAppQuit: true,
      allowDowngrade: false,
    });
    expect(updateReadyNotice('1.2.3', true).message).toBe(
      'Cue 1.2.3 has been downloaded and installs when you quit Cue: your conversation is not interrupted.',
    );
    expect(updateReadyNotice('1.2.3', false).message).toBe(
      'Cue 1.2.3 has been downloaded and installs when you quit Cue.',
    );
  });
});
