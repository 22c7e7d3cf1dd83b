import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppCore, type DisposableVad, type TurnModelDeps } from '../../src/main/app/app-core';
import { RecordingsStore } from '../../src/main/app/recordings-store';
import type { SecretStore, SettingsStore } from '../../src/main/app/types';
import { settle, VirtualClock } from '../../src/main/engine/clock';
import { SAMPLE_RATE } from '../../src/main/engine/ports';
import { createScriptedProviders } from '../../src/main/engine/scripted/providers';
import { loadCase, type ScriptCase } from '../../src/main/engine/scripted/case';
import type { TurnModelDescriptor } from '../../src/main/engine/turn-detector/model-catalog';
import { TurnModelStore } from '../../src/main/engine/turn-detector/model-store';
import { SmartTurnDetector } from '../../src/main/engine/turn-detector/smart-turn';
import { buildStandInModel, writeCorruptModel } from '../../src/main/engine/turn-detector/stand-in-model';
import type {
  AppState,
  AudioDown,
  EventName,
  Events,
  Notice,
  ProviderId,
  TurnModelView,
} from '../../src/shared/contract';
import { defaultSettings, parseSettings, type Settings } from '../../src/shared/settings';
import type { TimelineEvent } from '../../src/shared/timeline';
import {
  buildCase,
  ScriptedVad,
  ScriptedVadWithAudio,
  speechSegments,
  ENGINE_TEST_STT,
} from '../helpers/session-harness';

class MemorySettingsStore implements SettingsStore {
  saved: Settings[] = [];
  constructor(private settings: Settings = defaultSettings()) {}
  load() {
    return { settings: this.settings, notices: [] };
  }
  save(settings: Settings) {
    this.saved.push(settings);
    this.settings = settings;
  }
}

class MemorySecrets implements SecretStore {
  readonly keys = new Map<ProviderId, string>();
  get(p: ProviderId) {
    return this.keys.get(p);
  }
  set(p: ProviderId, key: string) {
    this.keys.set(p, key);
  }
  clear(p: ProviderId) {
    this.keys.delete(p);
  }
  has(p: ProviderId) {
    return this.keys.has(p);
  }
  info() {
    return { encrypted: true, backend: 'test', warning: null };
  }
}

const KEYS: Record<ProviderId, string> = {
  deepgram: 'dg-secret-0123456789',
  openai: 'sk-secret-0123456789',
  elevenlabs: 'el-secret-0123456789',
};

function setup(
  caseData: ScriptCase = buildCase([{ at: 0.5, text: 'what time is it', reply: 'It is noon.' }]),
  options: {
    turnModel?: TurnModelDeps;
    settings?: Settings;
    vad?: () => DisposableVad;
    microphoneAccess?: () => Promise<{ ok: true } | { ok: false; message: string }>;
    recordings?: RecordingsStore;
    /** Changes the scripted providers (e.g. an STT that fails a frame). */
    providers?: (
      providers: ReturnType<typeof createScriptedProviders>,
    ) => ReturnType<typeof createScriptedProviders>;
  } = {},
) {
  const clock = new VirtualClock();
  const store = new MemorySettingsStore(options.settings);
  const secrets = new MemorySecrets();
  const events: { name: EventName; payload: unknown }[] = [];
  const down: AudioDown[] = [];
  const core = new AppCore({
    settingsStore: store,
    secrets,
    env: {},
    clock,
    info: {
      version: '0.0.0-test',
      platform: 'test',
      shortcut: () => ({ accelerator: 'X', registered: true, hold: false }),
    },
    createVad: async () => options.vad?.() ?? new ScriptedVad(speechSegments(caseData)),
    createProviders: (settings) => {
      const scripted = createScriptedProviders(caseData, clock, settings.stt, { behaviour: ENGINE_TEST_STT });
      return { ...(options.providers?.(scripted) ?? scripted), close: async () => undefined };
    },
    ...(options.turnModel ? { turnModel: options.turnModel } : {}),
    ...(options.microphoneAccess ? { microphoneAccess: options.microphoneAccess } : {}),
    ...(options.recordings ? { recordings: options.recordings } : {}),
  });
  core.subscribe(<E extends EventName>(name: E, payload: Events[E]) => events.push({ name, payload }));
  core.onAudioDown((m) => down.push(m));
  const states = () =>
    events.filter((e) => e.name === 'state').map((e) => (e.payload as { status: string }).status);
  // Audio messages from main already answered (kept across converse() calls).
  let seen = 0;

  /**
   * Plays the renderer: streams the case audio as the mic, starts playing each utterance as its
   * first audio arrives, and reports it finished once all of its audio has played.
   */
  async function converse(seconds: number, fromSeconds = 0) {
    const step = (20 * SAMPLE_RATE) / 1000;
    const playing = new Map<number, { startedAt: number; ms: number; ended: boolean }>();
    for (let offset = fromSeconds * SAMPLE_RATE; offset < seconds * SAMPLE_RATE; offset += step) {
      const samples = caseData.audio.subarray(offset, offset + step);
      await clock.advanceTo(((offset + step) * 1000) / SAMPLE_RATE);
      core.audioUp({ type: 'mic', samples: samples.length ? samples : new Int16Array(step), ageMs: 20 });
      await settle();
      for (; seen < down.length; seen++) {
        const m = down[seen]!;
        if (m.type === 'audio') {
          const u = playing.get(m.utterance);
          if (!u) core.audioUp({ type: 'played', utterance: m.utterance, ageMs: 0 });
          const ms = (m.samples.length / m.sampleRate) * 1000;
          playing.set(m.utterance, {
            startedAt: u?.startedAt ?? clock.now(),
            ms: (u?.ms ?? 0) + ms,
            ended: false,
          });
        } else if (m.type === 'end' && playing.has(m.utterance)) playing.get(m.utterance)!.ended = true;
      }
      for (const [id, u] of playing) {
        if (u.ended && clock.now() >= u.startedAt + u.ms) {
          playing.delete(id);
          core.audioUp({
            type: 'finished',
            utterance: id,
            ageMs: clock.now() - (u.startedAt + u.ms),
            playedMs: u.ms,
          });
        }
      }
    }
  }
  return { clock, core, store, secrets, events, down, states, converse };
}

describe('AppCore', () => {
  it('validates requests against the contract, naming the field', async () => {
    const { core } = setup();
    await expect(core.request('session:mute', { muted: 'yes' })).rejects.toThrow(/session:mute: muted: /);
    await expect(core.request('keys:set', { provider: 'google', key: '12345678' })).rejects.toThrow(
      /provider: must be one of deepgram, openai, elevenlabs/,
    );
    await expect(core.request('nope' as 'app:info', {})).rejects.toThrow(/unknown request "nope"/);
  });

  it('records a session when recording is on, lists, opens, replays and deletes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cue-app-recordings-'));
    try {
      const settings = parseSettings({ recording: { enabled: true } });
      const recordings = new RecordingsStore(dir, () => new Date('2025-03-04T05:06:07.000Z'));
      const { core, secrets, converse } = setup(undefined, { settings, recordings });
      for (const [p, k] of Object.entries(KEYS)) secrets.set(p as ProviderId, k);
      expect(await core.request('session:start', {})).toEqual({ ok: true });
      expect((await core.request('app:state', {})).recording).toBe(true);
      await converse(4);
      await core.request('session:stop', {});
      expect((await core.request('app:state', {})).recording).toBe(false);

      const list = await core.request('recordings:list', {});
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({
        id: '2025-03-04T05-06-07-000Z',
        turns: 1,
        problem: null,
        unreadable: false,
      });
      expect(list[0]!.duration_ms).toBeGreaterThan(3000);
      const text = readFileSync(join(dir, list[0]!.id, 'session.jsonl'), 'utf8');
      for (const key of Object.values(KEYS)) expect(text).not.toContain(key);

      const opened = await core.request('recordings:open', { id: list[0]!.id });
      if (!opened.ok) throw new Error(opened.error);
      expect(opened.session.events.some((e) => e.type === 'turn_committed')).toBe(true);

      const replay = await core.request('recordings:replay', {
        id: list[0]!.id,
        base: 'recorded',
        patch: { turn_handling: { endpointing: { min_delay: 1.4 } } },
      });
      if (!replay.ok) throw new Error(replay.error);
      const { comparison } = replay;
      expect(comparison.changed).toEqual([
        { path: 'turn_handling.endpointing.min_delay', from: 0.9, to: 1.4 },
      ]);
      expect(comparison.approximate).toEqual([]);
      expect(comparison.settings.turn_handling.endpointing.min_delay).toBe(1.4);
      const turn = comparison.turns[0]!;
      expect(turn.replayed!.committed_ms! - turn.recorded!.committed_ms!).toBeGreaterThan(400);

      const bad = await core.request('recordings:replay', {
        id: list[0]!.id,
        base: 'current',
        patch: { turn_handling: { endpointing: { min_delay: 99 } } },
      });
      expect(bad).toMatchObject({
        ok: false,
        error: expect.stringMatching(
          /^turn_handling\.endpointing\.min_delay: must be between 0 and 10 s \(got 99\)/,
        ),
      });
      await expect(core.request('recordings:open', { id: '../etc' })).rejects.toThrow(
        /id: must be the id of a recording/,
      );
      expect(await core.request('recordings:open', { id: 'missing' })).toEqual({
        ok: false,
        error: 'recording "missing": no such recording',
      });
      expect(await core.request('recordings:delete', { id: list[0]!.id })).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start without keys, naming each provider and the setting', async () => {
    const { core } = setup();
    const result = await core.request('session:start', {});
    expect(result).toEqual({
      ok: false,
      error: [
        'Deepgram: no API key; set the Deepgram API key in settings, or DEEPGRAM_API_KEY',
        'OpenAI: no API key; set the OpenAI API key in settings, or OPENAI_API_KEY',
        'ElevenLabs: no API key; set the ElevenLabs API key in settings, or ELEVENLABS_API_KEY',
      ].join('\n'),
    });
  });

  it('updates settings: invalid values refused with the field, valid ones saved and announced', async () => {
    const { core, store, events } = setup();
    const bad = await core.request('settings:update', {
      patch: { turn_handling: { endpointing: { max_delay: 99 } } },
    });
    expect(bad).toEqual({
      ok: false,
      problems: ['turn_handling.endpointing.max_delay: must be between 0.1 and 30 s (got 99)'],
    });
    expect(store.saved).toHaveLength(0);
    const good = await core.request('settings:update', {
      patch: { turn_handling: { turn_detection: 'manual' } },
    });
    expect(good).toMatchObject({ ok: true, needsRestart: [] });
    expect(store.saved.at(-1)!.turn_handling.turn_detection).toBe('manual');
    expect(events.some((e) => e.name === 'settings:changed')).toBe(true);
    expect((await core.request('app:state', {})).mode).toBe('push-to-talk');
  });

  it('marks a live settings change on the timeline, and the next turn runs under it', async () => {
    const caseData = buildCase([
      { at: 0.5, text: 'what time is it', reply: 'It is noon.' },
      { at: 6, text: 'what day is it', reply: 'It is Monday.' },
    ]);
    const { core, events, converse } = setup(caseData);
    for (const [p, k] of Object.entries(KEYS))
      await core.request('keys:set', { provider: p as ProviderId, key: k });
    // Without a session there is no timeline to mark.
    await core.request('settings:update', { patch: { agent: { greeting: '' } } });
    expect(await core.request('session:start', {})).toEqual({ ok: true });
    await converse(5.5);
    const update = await core.request('settings:update', {
      patch: { turn_handling: { endpointing: { min_delay: 1.3 } }, llm: { model: 'gpt-4.1-mini' } },
    });
    expect(update).toMatchObject({ ok: true, needsRestart: ['llm.model'] });
    await converse(14, 5.5);
    const all = events.filter((e) => e.name === 'timeline').map((e) => e.payload as TimelineEvent);
    const marks = all.filter((e) => e.type === 'settings_changed');
    expect(marks).toHaveLength(1);
    expect(marks[0]).toMatchObject({
      type: 'settings_changed',
      turn: 0,
      changes: [
        { path: 'turn_handling.endpointing.min_delay', from: 0.9, to: 1.3, live: true },
        { path: 'llm.model', from: 'gpt-4o-mini', to: 'gpt-4.1-mini', live: false },
      ],
    });
    // Turn 0 waited min_delay 0.9 s after a likely end, turn 1 (after the mark) 1.3 s.
    const waits = all.filter((e) => e.type === 'endpointing_wait_started');
    const byTurn = (turn: number) => waits.filter((w) => w.turn === turn).map((w) => w.delay);
    const [first] = byTurn(0);
    const [second] = byTurn(1);
    expect(first).toBeDefined();
    expect(second! - first!).toBeCloseTo(400, 6);
    expect(marks[0]!.t).toBeLessThan(all.find((e) => e.type === 'user_speech_started' && e.turn === 1)!.t);
    await core.shutdown();
  });

  it('runs a conversation over the audio channel, reporting status and each turn', async () => {
    const { core, secrets, states, events, down, converse } = setup();
    for (const [p, k] of Object.entries(KEYS))
      await core.request('keys:set', { provider: p as ProviderId, key: k });
    expect(await core.request('session:start', {})).toEqual({ ok: true });
    await converse(8);
    expect(states()).toEqual(['listening', 'thinking', 'speaking', 'listening']);
    const turn = events.find((e) => e.name === 'turn')!.payload as {
      transcript: string;
      e2e_latency_ms: number;
    };
    expect(turn.transcript).toBe('what time is it');
    expect(turn.e2e_latency_ms).toBeGreaterThan(0);
    expect(down.some((m) => m.type === 'audio')).toBe(true);
    expect(down.some((m) => m.type === 'end')).toBe(true);
    const report = await core.request('session:report', {});
    expect(report!.history.map((m) => m.content)).toEqual(['what time is it', 'It is noon.']);
    // The turn is reported once the reply's end has been recorded, so it agrees with the session report.
    expect(turn).toEqual(report!.turns[0]);
    await core.request('session:stop', {});
    expect(states().at(-1)).toBe('stopped');
    expect(secrets.keys.size).toBe(3);
  });

  it('reports a microphone frame that fails and goes on with the frames after it', async () => {
    let frames = 0;
    const { core, events, converse } = setup(undefined, {
      providers: (scripted) => {
        const connect = scripted.stt.connect.bind(scripted.stt);
        scripted.stt.connect = async (onEvent) => {
          const stream = await connect(onEvent);
          const send = stream.sendAudio.bind(stream);
          stream.sendAudio = (samples) => {
            // The third frame fails (a provider bug); the STT gets every other frame.
            if (++frames === 3) throw new Error('socket buffer full');
            send(samples);
          };
          return stream;
        };
        return scripted;
      },
    });
    for (const [p, k] of Object.entries(KEYS))
      await core.request('keys:set', { provider: p as ProviderId, key: k });
    expect(await core.request('session:start', {})).toEqual({ ok: true });
    await converse(8);
    const notices = events.filter((e) => e.name === 'notice').map((e) => e.payload as Notice);
    expect(notices).toEqual([
      {
        level: 'warning',
        message:
          'A piece of microphone audio could not be processed (socket buffer full); listening goes on.',
      },
    ]);
    const turn = events.find((e) => e.name === 'turn')!.payload as { transcript: string };
    expect(turn.transcript).toBe('what time is it');
    await core.request('session:stop', {});
  });

  it('does not start a session the OS refuses the microphone to, and says why', async () => {
    const { core, states } = setup(undefined, {
      microphoneAccess: async () => ({
        ok: false,
        message: 'Cue cannot hear you: turn it on in System Settings.',
      }),
    });
    for (const [p, k] of Object.entries(KEYS))
      await core.request('keys:set', { provider: p as ProviderId, key: k });
    expect(await core.request('session:start', {})).toEqual({
      ok: false,
      error: 'Cue cannot hear you: turn it on in System Settings.',
    });
    expect(core.sessionRunning).toBe(false);
    expect(states()).toEqual([]);
  });

  it('keeps notices from the shell for pages that load later', async () => {
    const { core, events } = setup();
    core.addNotice({ level: 'warning', message: "Cue's window crashed and was reloaded." });
    expect(events).toContainEqual({
      name: 'notice',
      payload: { level: 'warning', message: "Cue's window crashed and was reloaded." },
    });
    expect((await core.request('settings:get', {})).notices).toContainEqual({
      level: 'warning',
      message: "Cue's window crashed and was reloaded.",
    });
  });

  it('never sends an API key to the renderer, in any response or event', async () => {
    const { core, events, down, converse } = setup();
    const responses: unknown[] = [];
    for (const [p, k] of Object.entries(KEYS)) {
      responses.push(await core.request('keys:set', { provider: p as ProviderId, key: k }));
    }
    responses.push(await core.request('keys:status', {}));
    responses.push(await core.request('app:info', {}));
    responses.push(await core.request('settings:get', {}));
    responses.push(await core.request('session:start', {}));
    await converse(8);
    responses.push(await core.request('session:report', {}));
    responses.push(await core.request('app:state', {}));
    const everything = JSON.stringify([responses, events, down.filter((m) => m.type !== 'audio')]);
    for (const key of Object.values(KEYS)) expect(everything).not.toContain(key);
    expect(responses[3]).toEqual({
      deepgram: { set: true, source: 'store' },
      openai: { set: true, source: 'store' },
      elevenlabs: { set: true, source: 'store' },
      llm_endpoint: { set: false, source: null },
    });
  });

  it('mute turns the microphone into silence, so nothing is heard', async () => {
    const { core, events, converse } = setup();
    for (const [p, k] of Object.entries(KEYS))
      await core.request('keys:set', { provider: p as ProviderId, key: k });
    await core.request('session:start', {});
    await core.request('session:mute', { muted: true });
    await converse(6);
    expect(
      events.some(
        (e) => e.name === 'timeline' && (e.payload as { type: string }).type === 'transcript_final',
      ),
    ).toBe(false);
  });
});

// ---------- the end-of-turn model ----------

const STAND_IN = Buffer.from(buildStandInModel({ denseWeightBytes: 128_000 }));
const STAND_IN_SHA256 = createHash('sha256').update(STAND_IN).digest('hex');
const MODEL_FILE = 'smart-turn-v3.2-cpu.onnx';

describe('AppCore: the end-of-turn model', () => {
  let server: Server;
  let base: string;
  let requests: string[];
  let root: string;

  beforeEach(async () => {
    requests = [];
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url !== '/smart-turn.onnx') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': String(STAND_IN.length) });
      // In 16 KB writes a millisecond apart, so the download reports progress.
      const write = (offset: number): void => {
        if (offset >= STAND_IN.length) {
          res.end();
          return;
        }
        res.write(STAND_IN.subarray(offset, offset + 16_384), () =>
          setTimeout(() => write(offset + 16_384), 1),
        );
      };
      write(0);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    root = mkdtempSync(join(tmpdir(), 'cue-app-turn-model-'));
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(root, { recursive: true, force: true });
  });

  function turnModel(
    url = `${base}/smart-turn.onnx`,
  ): TurnModelDeps & { cacheDir: string; resourcesDir: string } {
    const model: TurnModelDescriptor = {
      id: 'smart-turn-v3.2-cpu',
      name: 'Smart Turn v3.2',
      fileName: MODEL_FILE,
      url,
      sha256: STAND_IN_SHA256,
      sizeBytes: STAND_IN.length,
      license: 'BSD-2-Clause',
    };
    const cacheDir = join(root, 'user-data', 'models');
    const resourcesDir = join(root, 'resources');
    return {
      store: new TurnModelStore({ model, cacheDir, resourcesDir, clock: new VirtualClock() }),
      load: (path) => SmartTurnDetector.load(path),
      cacheDir,
      resourcesDir,
    };
  }

  async function started(core: AppCore) {
    for (const [p, k] of Object.entries(KEYS))
      await core.request('keys:set', { provider: p as ProviderId, key: k });
    expect(await core.request('session:start', {})).toEqual({ ok: true });
  }

  const views = (events: { name: EventName; payload: unknown }[]): TurnModelView[] =>
    events
      .filter((e) => e.name === 'state')
      .map((e) => (e.payload as AppState).turnModel)
      .filter((v): v is TurnModelView => v !== undefined)
      .filter((v, i, all) => i === 0 || JSON.stringify(v) !== JSON.stringify(all[i - 1]));
  const timeline = (events: { name: EventName; payload: unknown }[]) =>
    events.filter((e) => e.name === 'timeline').map((e) => e.payload as TimelineEvent);
  const notices = (events: { name: EventName; payload: unknown }[]) =>
    events.filter((e) => e.name === 'notice').map((e) => e.payload as Notice);
  async function stateOf(core: AppCore, wanted: TurnModelView['state']) {
    await vi.waitFor(
      async () => expect((await core.request('app:state', {})).turnModel?.state).toBe(wanted),
      {
        timeout: 15_000,
        interval: 5,
      },
    );
  }

  it('downloads the model on first use without holding up the session, shows progress, then decides with it', async () => {
    const caseData = await loadCase(join(__dirname, '..', 'fixtures', 'cases', 'weather-question'));
    const deps = turnModel();
    const { core, events, converse } = setup(caseData, {
      turnModel: deps,
      vad: () => new ScriptedVadWithAudio(speechSegments(caseData)),
    });
    await started(core);
    // The session runs at once, with the heuristic, while the model is fetched.
    expect((await core.request('app:state', {})).turnModel?.state).toBe('checking');
    await stateOf(core, 'ready');

    const seen = views(events);
    expect(seen.map((v) => v.state)).toEqual([
      'checking',
      ...seen.slice(1, -2).map(() => 'downloading'),
      'checking',
      'ready',
    ]);
    const progress = seen.filter((v) => v.state === 'downloading');
    expect(progress.length).toBeGreaterThan(2);
    const received = progress.map((v) => v.receivedBytes);
    expect(received).toEqual([...received].sort((a, b) => a - b));
    expect(progress.at(-1)).toEqual({
      state: 'downloading',
      name: 'Smart Turn v3.2',
      receivedBytes: STAND_IN.length,
      totalBytes: STAND_IN.length,
    });
    expect(seen.at(-1)).toEqual({ state: 'ready', name: 'Smart Turn v3.2', source: 'download' });
    expect(readFileSync(join(deps.cacheDir, MODEL_FILE)).equals(STAND_IN)).toBe(true);
    expect(requests).toEqual(['/smart-turn.onnx']);

    await converse(10);
    const decisions = timeline(events).filter((e) => e.type === 'turn_detector_decision');
    expect(decisions.length).toBeGreaterThan(0);
    for (const d of decisions)
      expect(d.source).toMatch(/^smart-turn-v3 0\.\d\d \+ heuristic 0\.90 \(complete\)$/);
    expect(events.some((e) => e.name === 'turn')).toBe(true);
    expect(notices(events)).toEqual([]);

    // The next session uses the model already loaded: no second download.
    await core.request('session:stop', {});
    await started(core);
    await stateOf(core, 'ready');
    expect(requests).toEqual(['/smart-turn.onnx']);
    await core.shutdown();
  });

  it('offline: says the model is unavailable and why, and the heuristic with silence takes over', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closed = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { core, events, converse } = setup(undefined, {
      turnModel: turnModel(`http://127.0.0.1:${closed}/smart-turn.onnx`),
    });
    await started(core);
    await stateOf(core, 'unavailable');
    expect(views(events).map((v) => v.state)).toEqual(['checking', 'downloading', 'unavailable']);
    expect(views(events).at(-1)).toMatchObject({
      state: 'unavailable',
      name: 'Smart Turn v3.2',
      reason: 'offline',
      message: expect.stringMatching(
        /^Could not download Smart Turn v3\.2 from http:\/\/127\.0\.0\.1:\d+\/smart-turn\.onnx/,
      ),
    });
    await vi.waitFor(() => expect(notices(events)).toHaveLength(1), { timeout: 5000, interval: 5 });
    expect(notices(events)[0]).toMatchObject({ level: 'warning' });
    expect(notices(events)[0]!.message).toMatch(
      /^Turn model unavailable \(offline\): using the transcript heuristic and silence instead\. Could not download/,
    );
    const errors = timeline(events).filter((e) => e.type === 'error');
    expect(errors).toEqual([expect.objectContaining({ source: 'turn_detector', recoverable: true })]);

    await converse(8);
    const decisions = timeline(events).filter((e) => e.type === 'turn_detector_decision');
    expect(decisions.map((d) => d.source)).toEqual([
      'heuristic 0.90 (complete); smart-turn-v3 unavailable (offline)',
    ]);
    const statuses = events
      .filter((e) => e.name === 'state')
      .map((e) => (e.payload as AppState).status)
      .filter((s, i, all) => s !== all[i - 1]);
    expect(statuses).toEqual(['listening', 'thinking', 'speaking', 'listening']);
    expect(notices(events)).toHaveLength(1);
    await core.shutdown();
  });

  it('a corrupt model file in the resources: unavailable (corrupt), nothing downloaded, the heuristic decides', async () => {
    const deps = turnModel();
    mkdirSync(join(deps.resourcesDir, 'models'), { recursive: true });
    writeCorruptModel(join(deps.resourcesDir, 'models', MODEL_FILE), 'garbage');
    const { core, events } = setup(undefined, { turnModel: deps });
    await started(core);
    await stateOf(core, 'unavailable');
    expect(views(events).at(-1)).toMatchObject({ state: 'unavailable', reason: 'corrupt' });
    expect(requests).toEqual([]);
    await vi.waitFor(() => expect(notices(events)).toHaveLength(1), { timeout: 5000, interval: 5 });
    expect(notices(events)[0]!.message).toMatch(
      /^Turn model unavailable \(corrupt\): using the transcript heuristic/,
    );
    await core.shutdown();
  });

  it('"heuristic" in the settings: no download; switched to Smart Turn live, the model is fetched then', async () => {
    const deps = turnModel();
    const settings = parseSettings({ turn_handling: { turn_detector: { model: 'heuristic' } } });
    const { core, events, converse } = setup(undefined, { turnModel: deps, settings });
    await started(core);
    expect((await core.request('app:state', {})).turnModel).toEqual({
      state: 'off',
      name: 'Smart Turn v3.2',
    });
    await converse(8);
    const decisions = timeline(events).filter((e) => e.type === 'turn_detector_decision');
    expect(decisions.map((d) => d.source)).toEqual(['heuristic 0.90 (complete)']);
    expect(requests).toEqual([]);
    expect(existsSync(deps.cacheDir)).toBe(false);

    const update = await core.request('settings:update', {
      patch: { turn_handling: { turn_detector: { model: 'smart-turn-v3' } } },
    });
    expect(update).toMatchObject({ ok: true, needsRestart: [] });
    await stateOf(core, 'ready');
    expect(requests).toEqual(['/smart-turn.onnx']);
    await core.shutdown();
  });
});
