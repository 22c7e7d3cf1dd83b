/**
 * The recordings requests of the contract: the sessions list, opening one, replaying it under
 * other settings on the virtual clock (compared turn by turn with what was recorded), deleting.
 * Recordings stay in main; only summaries, timelines and comparisons go to the renderer.
 */
import type { Response } from '../../shared/contract';
import { parseSettings, SettingsError, type Settings } from '../../shared/settings';
import { RecordingFormatError } from '../engine/recording/format';
import { compareReplay, recordedSession, replayRecording } from '../engine/recording/replay-recording';
import type { TurnDetector } from '../engine/ports';
import type { VadStage } from '../engine/session';
import type { RecordingsStore } from './recordings-store';
import { mergeSettings } from './settings-store';

export interface RecordingRequestsDeps {
  store: RecordingsStore | undefined;
  createVad(settings: Settings): Promise<VadStage & { dispose?(): Promise<void> }>;
  currentSettings(): Settings;
  /**
   * The end-of-turn detector a live session would use under these settings (with the Smart Turn
   * model when the app has it); undefined: the transcript heuristic.
   */
  turnDetector?(settings: Settings): Promise<(TurnDetector & { idle?(): Promise<void> }) | undefined>;
  /** The id of the recording being written now, if any (it cannot be deleted). */
  writing(): string | undefined;
}

export class RecordingRequests {
  /** One replay at a time: a second waits for the first (they share the CPU with a live session). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: RecordingRequestsDeps) {}

  list(): Response<'recordings:list'> {
    return this.deps.store?.list() ?? [];
  }

  open(id: string): Response<'recordings:open'> {
    const store = this.deps.store;
    if (!store) return { ok: false, error: 'recording is not available in this run' };
    try {
      const { recording, bytes } = store.read(id);
      return { ok: true, session: recordedSession(recording, bytes) };
    } catch (error) {
      return { ok: false, error: describe(error) };
    }
  }

  replay(payload: {
    id: string;
    base: 'current' | 'recorded';
    patch: Record<string, unknown>;
  }): Promise<Response<'recordings:replay'>> {
    const run = this.queue.then(() => this.runReplay(payload));
    this.queue = run.catch(() => undefined);
    return run;
  }

  delete(id: string): Response<'recordings:delete'> {
    const store = this.deps.store;
    if (!store) return [];
    store.delete(id, this.deps.writing());
    return store.list();
  }

  deleteAll(): Response<'recordings:delete-all'> {
    const store = this.deps.store;
    if (!store) return [];
    store.deleteAll(this.deps.writing());
    return store.list();
  }

  private async runReplay(payload: {
    id: string;
    base: 'current' | 'recorded';
    patch: Record<string, unknown>;
  }): Promise<Response<'recordings:replay'>> {
    const store = this.deps.store;
    if (!store) return { ok: false, error: 'recording is not available in this run' };
    let recording;
    try {
      recording = store.read(payload.id).recording;
    } catch (error) {
      return { ok: false, error: describe(error) };
    }
    let settings: Settings;
    try {
      const base = payload.base === 'current' ? this.deps.currentSettings() : recording.settings;
      settings = parseSettings(mergeSettings(base, payload.patch));
    } catch (error) {
      if (error instanceof SettingsError) return { ok: false, error: error.problems.join('; ') };
      throw error;
    }
    const vad = await this.deps.createVad(settings);
    const turnDetector = await this.deps.turnDetector?.(settings);
    const started = performance.now();
    try {
      const result = await replayRecording(recording, {
        settings,
        vad,
        ...(turnDetector ? { turnDetector } : {}),
      });
      return { ok: true, comparison: compareReplay(recording, result, performance.now() - started) };
    } catch (error) {
      return { ok: false, error: `the replay failed: ${describe(error)}` };
    } finally {
      await vad.dispose?.().catch(() => undefined);
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof RecordingFormatError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
