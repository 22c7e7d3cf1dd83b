/**
 * Errors of the main process that nobody caught, written to `main.log` in the app's logs folder
 * (app.getPath('logs')), one entry per error with its time and stack. When the file passes
 * `maxBytes` it becomes `main.old.log` and a new one starts, so the log never grows without
 * bound. Writing never throws: a log that cannot be written must not take the app down with it.
 */
import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ERROR_LOG_FILE = 'main.log';
export const ERROR_LOG_OLD_FILE = 'main.old.log';

export class ErrorLog {
  readonly file: string;
  private readonly oldFile: string;

  constructor(
    private readonly dir: string,
    private readonly now: () => Date = () => new Date(),
    private readonly maxBytes: number = 1_000_000,
  ) {
    this.file = join(dir, ERROR_LOG_FILE);
    this.oldFile = join(dir, ERROR_LOG_OLD_FILE);
  }

  /** Appends one entry; returns whether it was written. */
  write(kind: string, error: unknown): boolean {
    const detail =
      error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
    const entry = `[${this.now().toISOString()}] ${kind}: ${detail}\n`;
    try {
      mkdirSync(this.dir, { recursive: true });
      const size = statSync(this.file, { throwIfNoEntry: false })?.size ?? 0;
      if (size > 0 && size + Buffer.byteLength(entry) > this.maxBytes) renameSync(this.file, this.oldFile);
      appendFileSync(this.file, entry, 'utf8');
      return true;
    } catch {
      return false;
    }
  }
}

/** The parts of `process` the handlers are installed on. */
export interface ProcessLike {
  on(event: 'uncaughtException', listener: (error: Error) => void): unknown;
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
}

/**
 * Logs every uncaught exception and unhandled rejection of main to `log` and tells `onError`
 * (the app shows a notice). The process keeps running, as Electron's own default does after
 * showing its dialog.
 */
export function logUncaughtErrors(
  target: ProcessLike,
  log: ErrorLog,
  onError: (kind: 'uncaughtException' | 'unhandledRejection', error: unknown) => void = () => {},
): void {
  target.on('uncaughtException', (error) => {
    log.write('uncaughtException', error);
    onError('uncaughtException', error);
  });
  target.on('unhandledRejection', (reason) => {
    log.write('unhandledRejection', reason);
    onError('unhandledRejection', reason);
  });
}
