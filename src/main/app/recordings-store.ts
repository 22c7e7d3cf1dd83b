/**
 * The recorded sessions in the user data folder (`<userData>/recordings/<id>/session.jsonl`):
 * starting a recording (after making room under the size cap and the retention count), the
 * sessions list, opening, replaying and deleting. Recordings never leave this computer.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordingSummary } from '../../shared/recording';
import type { RecordingSettings, Settings } from '../../shared/settings';
import type { Clock } from '../engine/clock';
import { RecordingFileSink } from '../engine/recording/file-sink';
import { RECORDING_FILE, RecordingFormatError } from '../engine/recording/format';
import { readRecording, type Recording } from '../engine/recording/reader';
import { summarize } from '../engine/recording/replay-recording';
import { RecordingTap } from '../engine/recording/tap';

/** What an id may look like: the folder names this store makes (and nothing that walks out of the folder). */
export const RECORDING_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export interface ActiveRecording {
  id: string;
  tap: RecordingTap;
  sink: RecordingFileSink;
}

export class RecordingsStore {
  private readonly cache = new Map<string, { key: string; summary: RecordingSummary }>();

  constructor(
    readonly dir: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Makes room (retention count, size cap) and opens a recording for a session starting now. */
  begin(options: {
    clock: Clock;
    settings: Settings;
    appVersion: string;
    onStopped?: (reason: string) => void;
  }): ActiveRecording {
    const limits = options.settings.recording;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const budget = this.makeRoom(limits);
    const id = this.newId();
    const cap = limits.max_total_mb * 1_000_000;
    const sink = new RecordingFileSink(join(this.dir, id), {
      maxBytes: budget,
      // Past its share, the oldest other recordings make room, up to the whole cap.
      grow: (needed) => {
        for (const old of this.ids().sort()) {
          if (old === id || this.othersBytes(id) + needed <= cap) continue;
          rmSync(join(this.dir, old), { recursive: true, force: true });
          this.cache.delete(old);
        }
        return cap - this.othersBytes(id);
      },
      ...(options.onStopped ? { onStopped: options.onStopped } : {}),
    });
    const tap = new RecordingTap({
      clock: options.clock,
      sink,
      settings: options.settings,
      appVersion: options.appVersion,
      createdAt: this.now().toISOString(),
    });
    return { id, tap, sink };
  }

  /** Every recording, newest first; one that cannot be read is listed with why. */
  list(): RecordingSummary[] {
    const out: RecordingSummary[] = [];
    for (const id of this.ids()) {
      const file = join(this.dir, id, RECORDING_FILE);
      const stat = statSync(file, { throwIfNoEntry: false });
      const bytes = this.folderBytes(id);
      const key = `${stat?.size ?? -1}:${stat?.mtimeMs ?? 0}`;
      const cached = this.cache.get(id);
      if (cached?.key === key) {
        out.push(cached.summary);
        continue;
      }
      let summary: RecordingSummary;
      try {
        summary = summarize(readRecording(join(this.dir, id)), bytes);
      } catch (error) {
        summary = {
          id,
          created_at: stat ? new Date(stat.mtimeMs).toISOString() : '',
          duration_ms: 0,
          turns: 0,
          e2e_p50_ms: null,
          cut_ins: 0,
          bytes,
          problem: error instanceof RecordingFormatError ? error.problem : (error as Error).message,
          unreadable: true,
        };
      }
      this.cache.set(id, { key, summary });
      out.push(summary);
    }
    return out.sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id));
  }

  /** Reads one recording; throws a RecordingFormatError naming what is wrong. */
  read(id: string): { recording: Recording; bytes: number } {
    this.check(id);
    return { recording: readRecording(join(this.dir, id)), bytes: this.folderBytes(id) };
  }

  delete(id: string, except?: string): void {
    this.check(id);
    if (id === except) throw new Error(`recording "${id}" is being written; stop the session first`);
    rmSync(join(this.dir, id), { recursive: true, force: true });
    this.cache.delete(id);
  }

  /** Deletes every recording but the one being written (`except`). */
  deleteAll(except?: string): void {
    for (const id of this.ids()) if (id !== except) this.delete(id);
  }

  private check(id: string): void {
    if (!RECORDING_ID.test(id) || !existsSync(join(this.dir, id))) {
      throw new RecordingFormatError(id, 'no such recording');
    }
  }

  private ids(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && RECORDING_ID.test(d.name))
      .map((d) => d.name);
  }

  private othersBytes(except: string): number {
    return this.ids().reduce((n, id) => n + (id === except ? 0 : this.folderBytes(id)), 0);
  }

  private folderBytes(id: string): number {
    const folder = join(this.dir, id);
    if (!existsSync(folder)) return 0;
    return readdirSync(folder).reduce(
      (n, f) => n + (statSync(join(folder, f), { throwIfNoEntry: false })?.size ?? 0),
      0,
    );
  }

  /**
   * Deletes the oldest recordings until one more fits the retention count and the others leave
   * room under the cap (at least a tenth of it); returns the bytes the new one may take before it
   * asks for more (the sink's `grow`).
   */
  private makeRoom(limits: RecordingSettings): number {
    const cap = limits.max_total_mb * 1_000_000;
    const oldestFirst = this.ids().sort();
    const sizes = new Map(oldestFirst.map((id) => [id, this.folderBytes(id)]));
    let total = [...sizes.values()].reduce((a, b) => a + b, 0);
    let count = oldestFirst.length;
    for (const id of oldestFirst) {
      if (count < limits.keep_sessions && cap - total >= cap / 10) break;
      rmSync(join(this.dir, id), { recursive: true, force: true });
      this.cache.delete(id);
      total -= sizes.get(id)!;
      count--;
    }
    return Math.max(0, cap - total);
  }

  /** A folder name that sorts by start time: 2025-01-02T03-04-05-678Z (with a suffix if taken). */
  private newId(): string {
    const base = this.now().toISOString().replace(/:/g, '-').replace(/\./g, '-');
    let id = base;
    for (let n = 2; existsSync(join(this.dir, id)); n++) id = `${base}-${n}`;
    return id;
  }
}
