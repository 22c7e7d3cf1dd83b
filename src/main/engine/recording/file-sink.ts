/**
 * Writes a recording to its folder: records are buffered and appended as whole lines, at most
 * `flushMs` apart, so a crash loses at most that much and never leaves a half record before a
 * whole one. Writing stops (the recording is kept up to there) when the file would pass
 * `maxBytes` or the disk refuses a write (full disk); `onStopped` says why.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BodyRecord, HeaderRecord } from './format';
import { RECORDING_FILE } from './format';
import type { RecordSink } from './tap';

export interface FileSinkOptions {
  /** Bytes this recording may take (its share of the size cap). */
  maxBytes: number;
  /**
   * Asked when the next record would pass `maxBytes`: makes room if it can (deleting older
   * recordings) and returns the new limit; writing stops when that is still too little.
   */
  grow?: (needed: number) => number;
  /** Buffered records are written at least this often (ms, wall clock). 0: each record at once. */
  flushMs?: number;
  onStopped?: (reason: string) => void;
}

export class RecordingFileSink implements RecordSink {
  readonly file: string;
  private buffer: string[] = [];
  private bufferedBytes = 0;
  private written = 0;
  private stopped: string | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;
  private maxBytes: number;

  constructor(
    readonly dir: string,
    private readonly options: FileSinkOptions,
  ) {
    this.maxBytes = options.maxBytes;
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, RECORDING_FILE);
    const flushMs = options.flushMs ?? 250;
    if (flushMs > 0) {
      this.timer = setInterval(() => this.flush(), flushMs);
      this.timer.unref?.();
    }
  }

  get bytes(): number {
    return this.written + this.bufferedBytes;
  }

  /** Why writing stopped early (null while it goes on). */
  get stoppedReason(): string | null {
    return this.stopped;
  }

  write(record: HeaderRecord | BodyRecord): void {
    if (this.stopped) return;
    const line = `${JSON.stringify(record)}\n`;
    const size = Buffer.byteLength(line);
    if (this.bytes + size > this.maxBytes && this.options.grow)
      this.maxBytes = this.options.grow(this.bytes + size);
    if (this.bytes + size > this.maxBytes && record.kind !== 'end') {
      this.buffer.push(
        `${JSON.stringify({ kind: 'end', a: 'a' in record ? record.a : 0, reason: 'size cap reached' })}\n`,
      );
      this.flush();
      this.stop(
        `the recording reached the size cap (${Math.round(this.maxBytes / 1e6)} MB for this session) and stopped`,
      );
      return;
    }
    this.buffer.push(line);
    this.bufferedBytes += size;
    if (this.options.flushMs === 0 || this.bufferedBytes > 256_000 || record.kind === 'end') this.flush();
  }

  flush(): void {
    if (!this.buffer.length) return;
    const text = this.buffer.join('');
    this.buffer = [];
    this.bufferedBytes = 0;
    try {
      appendFileSync(this.file, text);
      this.written += Buffer.byteLength(text);
    } catch (error) {
      this.stop(
        `could not write the recording (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); it is kept up to here`,
      );
    }
  }

  close(): void {
    this.flush();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private stop(reason: string): void {
    if (this.stopped) return;
    this.stopped = reason;
    this.buffer = [];
    this.bufferedBytes = 0;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.options.onStopped?.(reason);
  }
}
