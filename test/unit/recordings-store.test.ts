import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordingsStore } from '../../src/main/app/recordings-store';
import { VirtualClock } from '../../src/main/engine/clock';
import { parseSettings, type Settings } from '../../src/shared/settings';

describe('the recordings in the user data folder', () => {
  let dir: string;
  let now: Date;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cue-recordings-'));
    now = new Date('2025-05-01T10:00:00.000Z');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const store = () => new RecordingsStore(dir, () => now);

  /** A session of `seconds` of audio recorded and finished, started at the store's `now`. */
  function record(settings: Settings, seconds: number): string {
    const clock = new VirtualClock();
    const active = store().begin({ clock, settings, appVersion: 'test' });
    for (let ms = 0; ms < seconds * 1000; ms += 20) {
      active.tap.audio({ samples: new Int16Array(320).fill(ms % 100), capturedAt: ms });
    }
    active.tap.finish(null);
    active.sink.close();
    now = new Date(now.getTime() + 60_000);
    return active.id;
  }

  it('keeps at most recording.keep_sessions, deleting the oldest when a session starts', () => {
    const settings = parseSettings({ recording: { enabled: true, keep_sessions: 2 } });
    const ids = [record(settings, 1), record(settings, 1), record(settings, 1)];
    expect(readdirSync(dir).sort()).toEqual([ids[1], ids[2]]);
    expect(
      store()
        .list()
        .map((s) => s.id),
    ).toEqual([ids[2], ids[1]]);
  });

  it('keeps the recordings under recording.max_total_mb: the oldest make room, a session alone over it stops', () => {
    const settings = parseSettings({ recording: { enabled: true, max_total_mb: 10 } });
    const first = record(settings, 150); // about 6.4 MB
    const second = record(settings, 150); // the first is deleted when the second needs its room
    expect(readdirSync(dir)).toEqual([second]);
    expect(store().list()[0]).toMatchObject({ id: second, problem: null, duration_ms: 150_000 });
    expect(first).not.toBe(second);
    const third = record(settings, 300); // about 12.8 MB: over the cap on its own
    expect(readdirSync(dir)).toEqual([third]);
    const [summary] = store().list();
    expect(summary!.bytes).toBeLessThanOrEqual(10_000_000);
    expect(summary!.bytes).toBeGreaterThan(9_000_000);
    expect(summary!.problem).toBe('recording stopped early: size cap reached');
  });

  it('lists a foreign or damaged folder as unreadable, with why, and deletes one or all', () => {
    const settings = parseSettings({ recording: { enabled: true } });
    const id = record(settings, 2);
    mkdirSync(join(dir, 'foreign'));
    writeFileSync(join(dir, 'foreign', 'session.jsonl'), 'PK\u0003\u0004 not json\n');
    const list = store().list();
    expect(list.find((s) => s.id === 'foreign')).toMatchObject({
      unreadable: true,
      problem: 'not a Cue recording (its first line is not a "cue-recording" header)',
    });
    expect(list.find((s) => s.id === id)).toMatchObject({
      unreadable: false,
      problem: null,
      duration_ms: 2000,
    });
    expect(() => store().read('../x')).toThrow(/no such recording/);
    store().delete('foreign');
    expect(
      store()
        .list()
        .map((s) => s.id),
    ).toEqual([id]);
    expect(() => store().delete(id, id)).toThrow(/being written/);
    store().deleteAll();
    expect(store().list()).toEqual([]);
  });
});
