import { describe, expect, it, vi } from 'vitest';
import type {
  AppState,
  CueApi,
  EventName,
  Events,
  RequestName,
  RequestPayload,
  Response,
} from '../../src/shared/contract';
import type { SessionReport, TurnReport } from '../../src/shared/report';
import type { TimelineEvent } from '../../src/shared/timeline';
import { defaultSettings, describeOptions } from '../../src/shared/settings';
import { CueStore } from '../../src/renderer/src/app/store';
import { appState } from '../helpers/app-state';

const idle: AppState = appState();

type Handler = (payload: unknown) => unknown;

/** An in-memory CueApi: requests answered by handlers, events emitted by the test. */
function fakeApi(overrides: Partial<Record<RequestName, Handler>> = {}) {
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  const sent: { name: RequestName; payload: unknown }[] = [];
  let state = { ...idle };
  const handlers: Partial<Record<RequestName, Handler>> = {
    'app:info': () => ({
      version: '9.9.9',
      platform: 'linux',
      secretStorage: {
        encrypted: false,
        backend: 'basic_text',
        warning: 'Keys are only obfuscated on disk.',
      },
      shortcut: { accelerator: 'CommandOrControl+Shift+Space', registered: true, hold: false },
    }),
    'app:state': () => state,
    'settings:get': () => ({
      settings: defaultSettings(),
      notices: [{ level: 'warning', message: 'Keys are only obfuscated on disk.' }],
    }),
    'settings:describe': () => describeOptions(),
    'keys:status': () => ({
      deepgram: { set: true, source: 'environment' },
      openai: { set: false, source: null },
      elevenlabs: { set: true, source: 'store' },
    }),
    'session:start': () => ({ ok: true }),
    'session:stop': () => ({ ok: true }),
    'session:mute': (p) => (state = { ...state, muted: (p as { muted: boolean }).muted }),
    'session:push-to-talk': (p) => (state = { ...state, talking: (p as { pressed: boolean }).pressed }),
    'session:report': () => null,
    ...overrides,
  };
  const api: CueApi = {
    async request<K extends RequestName>(name: K, payload: RequestPayload<K>): Promise<Response<K>> {
      sent.push({ name, payload });
      const handler = handlers[name];
      if (!handler) throw new Error(`no handler for ${name}`);
      return handler(payload) as Response<K>;
    },
    on<E extends EventName>(name: E, listener: (payload: Events[E]) => void) {
      const set = listeners.get(name) ?? new Set();
      set.add(listener as (payload: never) => void);
      listeners.set(name, set);
      return () => set.delete(listener as (payload: never) => void);
    },
    sendAudio: () => undefined,
    onAudio: () => () => undefined,
  };
  const emit = <E extends EventName>(name: E, payload: Events[E]) => {
    for (const listener of listeners.get(name) ?? []) (listener as (p: Events[E]) => void)(payload);
  };
  const count = (name: EventName) => listeners.get(name)?.size ?? 0;
  return { api, emit, sent, count };
}

/**
 * A request handler whose answers wait until the test lets them go, in order: `waiting` holds one
 * release per request; each answers with what `answer` makes of the request's payload.
 */
function heldAnswers(answer: (payload: unknown) => AppState) {
  const waiting: (() => void)[] = [];
  const handler: Handler = (payload) =>
    new Promise((resolve) => {
      waiting.push(() => resolve(answer(payload)));
    });
  return { handler, waiting };
}

describe('CueStore', () => {
  it('says plainly when main is not connected, and retries', async () => {
    const fake = fakeApi();
    const getApi = vi
      .fn<() => Promise<CueApi>>()
      .mockRejectedValueOnce(new Error('Cue is not running inside its app'))
      .mockResolvedValue(fake.api);
    const store = new CueStore({ getApi, saveReport: () => undefined });
    await store.connect();
    expect(store.getSnapshot().connection).toEqual({
      status: 'failed',
      error: 'Cue is not running inside its app',
    });
    await store.actions.connect();
    expect(store.getSnapshot().connection).toEqual({ status: 'connected' });
  });

  it('loads info, state, settings, options and key status, with the storage warning once', async () => {
    const fake = fakeApi();
    const store = new CueStore({ getApi: async () => fake.api, saveReport: () => undefined });
    await store.connect();
    const s = store.getSnapshot();
    expect(s.info?.version).toBe('9.9.9');
    expect(s.state).toEqual(idle);
    expect(s.settings).toEqual(defaultSettings());
    expect(s.options.length).toBe(describeOptions().length);
    expect(s.keys?.openai).toEqual({ set: false, source: null });
    expect(s.notices).toEqual([
      expect.objectContaining({ level: 'warning', message: 'Keys are only obfuscated on disk.', count: 1 }),
    ]);
  });

  it('follows events: state, notices (deduplicated), settings, timeline and turn reports', async () => {
    const fake = fakeApi();
    const store = new CueStore({ getApi: async () => fake.api, saveReport: () => undefined });
    await store.connect();
    const seen: string[] = [];
    store.subscribeTimeline((e) => seen.push(e.type));
    fake.emit('state', { ...idle, running: true, status: 'listening' });
    expect(store.getSnapshot().state?.status).toBe('listening');
    fake.emit('notice', { level: 'error', message: 'Deepgram: connection lost' });
    fake.emit('notice', { level: 'error', message: 'Deepgram: connection lost' });
    expect(store.getSnapshot().notices.filter((n) => n.level === 'error')).toEqual([
      expect.objectContaining({ count: 2 }),
    ]);
    fake.emit('timeline', { t: 0, turn: -1, type: 'session_started' });
    fake.emit('timeline', { t: 10, turn: 0, type: 'transcript_interim', text: 'hello' });
    expect(store.getSnapshot().conversation.live?.interim).toBe('hello');
    const before = store.getSnapshot();
    fake.emit('timeline', { t: 20, turn: 0, type: 'vad_probability', probability: 0.9, speaking: true });
    expect(store.getSnapshot()).toBe(before);
    fake.emit('timeline', {
      t: 30,
      turn: 0,
      type: 'turn_committed',
      transcript: 'hello there',
      speculation_reused: false,
    });
    fake.emit('timeline', { t: 40, turn: 0, type: 'agent_speech_started', request: 1, text_so_far: 'Hi' });
    fake.emit('timeline', {
      t: 50,
      turn: 0,
      type: 'agent_speech_ended',
      request: 1,
      interrupted: true,
      played_ms: 5,
      spoken_text: 'Hi',
    });
    fake.emit('turn', { index: 0, e2e_latency_ms: 700 } as TurnReport);
    const s = store.getSnapshot();
    expect(s.turns.map((t) => t.index)).toEqual([0]);
    expect(s.conversation.entries.map((e) => e.kind)).toEqual(['user', 'agent']);
    expect(s.conversation.entries[1]).toMatchObject({ interrupted: true, report: { e2e_latency_ms: 700 } });
    expect(seen).toEqual([
      'session_started',
      'transcript_interim',
      'vad_probability',
      'turn_committed',
      'agent_speech_started',
      'agent_speech_ended',
    ]);
    const settings = { ...defaultSettings(), llm: { ...defaultSettings().llm, model: 'llama3' } };
    fake.emit('settings:changed', { settings });
    expect(store.getSnapshot().settings?.llm.model).toBe('llama3');
  });

  it('stops listening on disconnect', async () => {
    const fake = fakeApi();
    const store = new CueStore({ getApi: async () => fake.api, saveReport: () => undefined });
    await store.connect();
    expect(fake.count('state')).toBe(1);
    expect(fake.count('timeline:batch')).toBe(1);
    store.disconnect();
    expect(fake.count('state')).toBe(0);
    expect(fake.count('timeline:batch')).toBe(0);
    await store.connect();
    expect(fake.count('state')).toBe(1);
  });

  describe('a timeline batch', () => {
    const vad = (t: number): TimelineEvent => ({
      type: 'vad_probability',
      t,
      turn: 0,
      probability: 0.9,
      speaking: true,
    });
    const conversationEvents: TimelineEvent[] = [
      { t: 0, turn: -1, type: 'session_started' },
      vad(5),
      { t: 10, turn: 0, type: 'transcript_interim', text: 'hello' },
      vad(37),
      { t: 30, turn: 0, type: 'turn_committed', transcript: 'hello there', speculation_reused: false },
      { t: 40, turn: 0, type: 'agent_speech_started', request: 1, text_so_far: 'Hi' },
    ];

    async function connectedStore() {
      const fake = fakeApi();
      const store = new CueStore({ getApi: async () => fake.api, saveReport: () => undefined });
      await store.connect();
      const seen: TimelineEvent[] = [];
      store.subscribeTimeline((event) => seen.push(event));
      let notified = 0;
      store.subscribe(() => notified++);
      return { fake, store, seen, notifications: () => notified };
    }

    it('hands every event to the timeline listeners in order and notifies once', async () => {
      const { fake, store, seen, notifications } = await connectedStore();
      fake.emit('timeline:batch', conversationEvents);
      expect(seen).toEqual(conversationEvents);
      expect(notifications()).toBe(1);
      // The same events one by one build the same conversation (and notify once per change).
      const single = await connectedStore();
      for (const event of conversationEvents) single.fake.emit('timeline', event);
      expect(single.notifications()).toBe(4);
      expect(store.getSnapshot().conversation).toEqual(single.store.getSnapshot().conversation);
      expect(store.getSnapshot().conversation.entries.map((e) => e.kind)).toEqual(['user', 'agent']);
    });

    it('of VAD frames alone leaves the snapshot as it was and tells nobody', async () => {
      const { fake, store, seen, notifications } = await connectedStore();
      const before = store.getSnapshot();
      fake.emit('timeline:batch', [vad(0), vad(32), vad(64)]);
      expect(store.getSnapshot()).toBe(before);
      expect(notifications()).toBe(0);
      expect(seen.map((e) => e.t)).toEqual([0, 32, 64]);
    });

    it('withdraws the STT reconnecting warning like single events do, with one notification', async () => {
      const { fake, store, notifications } = await connectedStore();
      const message = 'Deepgram: connection lost (socket closed); reconnecting';
      fake.emit('timeline:batch', [
        { type: 'error', t: 1000, turn: 0, source: 'stt', message, recoverable: true },
        vad(1032),
      ]);
      fake.emit('notice', { level: 'warning', message });
      const shown = () => store.getSnapshot().notices.map((n) => n.message);
      expect(shown()).toContain(message);
      const before = notifications();
      fake.emit('timeline:batch', [
        vad(1064),
        { type: 'transcript_interim', t: 2500, turn: 0, text: 'what' },
      ]);
      expect(shown()).not.toContain(message);
      expect(store.getSnapshot().conversation.live?.interim).toBe('what');
      expect(notifications() - before).toBe(1);
    });
  });

  it('starts, reports a refused start as an error notice, mutes, and sends push-to-talk changes once', async () => {
    const fake = fakeApi({
      'session:start': () => ({ ok: false, error: 'OpenAI: no API key; set the OpenAI API key in settings' }),
    });
    const store = new CueStore({ getApi: async () => fake.api, saveReport: () => undefined });
    await store.connect();
    await store.start();
    const error = store.getSnapshot().notices.find((n) => n.level === 'error');
    expect(error?.message).toBe('Could not start: OpenAI: no API key; set the OpenAI API key in settings');
    expect(error?.action?.section).toBe('providers');
    expect(store.getSnapshot().busy.starting).toBe(false);
    await store.setMuted(true);
    expect(store.getSnapshot().state?.muted).toBe(true);
    store.pushToTalk(true);
    store.pushToTalk(true);
    await Promise.resolve();
    store.pushToTalk(false);
    await new Promise((r) => setTimeout(r, 0));
    expect(fake.sent.filter((r) => r.name === 'session:push-to-talk').map((r) => r.payload)).toEqual([
      { pressed: true },
      { pressed: false },
    ]);
    expect(store.getSnapshot().state?.talking).toBe(false);
  });

  it('sends the push-to-talk release even when a state from before the press arrives in between', async () => {
    let talking = false;
    const answers = heldAnswers((p) => {
      talking = (p as { pressed: boolean }).pressed;
      return { ...idle, running: true, talking };
    });
    const fake = fakeApi({ 'session:push-to-talk': answers.handler });
    const store = new CueStore({ getApi: async () => fake.api, saveReport: () => undefined });
    await store.connect();
    store.pushToTalk(true);
    // A busy page: main's state from before it heard the press (an earlier answer or event) is
    // handled now, and the key is released before the press is answered.
    fake.emit('state', { ...idle, running: true, talking: false });
    store.pushToTalk(false);
    while (answers.waiting.length) {
      answers.waiting.shift()!();
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(fake.sent.filter((r) => r.name === 'session:push-to-talk').map((r) => r.payload)).toEqual([
      { pressed: true },
      { pressed: false },
    ]);
    expect(talking).toBe(false);
    expect(store.getSnapshot().state?.talking).toBe(false);
  });

  it('toggles mute from the value last asked: two clicks before main answers end unmuted', async () => {
    let muted = false;
    const answers = heldAnswers((p) => {
      muted = (p as { muted: boolean }).muted;
      return { ...idle, running: true, muted };
    });
    const fake = fakeApi({ 'session:mute': answers.handler });
    const store = new CueStore({ getApi: async () => fake.api, saveReport: () => undefined });
    await store.connect();
    const first = store.toggleMuted();
    const second = store.toggleMuted();
    while (answers.waiting.length) answers.waiting.shift()!();
    await Promise.all([first, second]);
    expect(fake.sent.filter((r) => r.name === 'session:mute').map((r) => r.payload)).toEqual([
      { muted: true },
      { muted: false },
    ]);
    expect(muted).toBe(false);
    expect(store.getSnapshot().state?.muted).toBe(false);
    const third = store.toggleMuted();
    answers.waiting.shift()!();
    await third;
    expect(store.getSnapshot().state?.muted).toBe(true);
  });

  it('restarts with stop then start', async () => {
    const fake = fakeApi();
    const store = new CueStore({ getApi: async () => fake.api, saveReport: () => undefined });
    await store.connect();
    await store.restart();
    expect(fake.sent.map((r) => r.name).filter((n) => n.startsWith('session:'))).toEqual([
      'session:stop',
      'session:start',
    ]);
  });

  it('exports the report, or says there is none yet', async () => {
    const report = { version: 1, turns: [] } as unknown as SessionReport;
    let answer: SessionReport | null = null;
    const fake = fakeApi({ 'session:report': () => answer });
    const saved: SessionReport[] = [];
    const store = new CueStore({ getApi: async () => fake.api, saveReport: (r) => saved.push(r) });
    await store.connect();
    await store.exportReport();
    expect(saved).toEqual([]);
    expect(store.getSnapshot().notices.at(-1)?.message).toMatch(/No session report yet/);
    answer = report;
    await store.exportReport();
    expect(saved).toEqual([report]);
  });

  it('returns settings problems without throwing, and key results', async () => {
    const fake = fakeApi({
      'settings:update': () => ({
        ok: false,
        problems: ['llm.temperature: must be between 0 and 2 (got 3)'],
      }),
      'keys:set': () => {
        throw new Error('keys:set: key: must be at least 8 characters');
      },
    });
    const store = new CueStore({ getApi: async () => fake.api, saveReport: () => undefined });
    await store.connect();
    expect(await store.updateSettings({ llm: { temperature: 3 } })).toEqual({
      ok: false,
      problems: ['llm.temperature: must be between 0 and 2 (got 3)'],
    });
    expect(await store.setKey('openai', 'short')).toEqual({
      ok: false,
      error: 'keys:set: key: must be at least 8 characters',
    });
  });

  it('withdraws the STT reconnecting warning once transcripts come again', async () => {
    const fake = fakeApi();
    const store = new CueStore({ getApi: async () => fake.api, saveReport: () => undefined });
    await store.connect();
    const message = 'Deepgram: connection lost (socket closed); reconnecting';
    fake.emit('timeline', { type: 'error', t: 1000, turn: 0, source: 'stt', message, recoverable: true });
    fake.emit('notice', { level: 'warning', message });
    const shown = () => store.getSnapshot().notices.map((n) => n.message);
    expect(shown()).toContain(message);
    // Audio and VAD frames say nothing about the STT: the warning stays.
    fake.emit('timeline', { type: 'vad_probability', t: 1100, turn: 0, probability: 0.9, speaking: true });
    expect(shown()).toContain(message);
    fake.emit('timeline', { type: 'transcript_interim', t: 2500, turn: 0, text: 'what time' });
    expect(shown()).not.toContain(message);
    // Other notices are left alone.
    expect(shown()).toContain('Keys are only obfuscated on disk.');
  });

  it('rebuilds the conversation and the turn reports from main when it connects mid-session (a reload)', async () => {
    const turn = (index: number, transcript: string, reply: string, interrupted = false): TurnReport =>
      ({
        index,
        transcript,
        reply,
        spoken_reply: interrupted ? reply.slice(0, 10) : reply,
        interrupted,
        speculation_reused: false,
        started_ms: 1000 + index * 5000,
        committed_ms: 3000 + index * 5000,
        first_audio_ms: 3600 + index * 5000,
        e2e_latency_ms: 900,
        requests: [{ id: index + 1, outcome: 'spoken' }],
      }) as unknown as TurnReport;
    const report = {
      turns: [
        turn(0, 'what time is it', 'It is noon.'),
        turn(1, 'tell me a story', 'Once upon a time…', true),
      ],
    } as unknown as SessionReport;
    const fake = fakeApi({
      'app:state': () => ({ ...idle, running: true, status: 'listening' }),
      'session:report': () => report,
    });
    const store = new CueStore({ getApi: async () => fake.api, saveReport: () => undefined });
    await store.connect();
    await vi.waitFor(() => expect(store.getSnapshot().turns).toHaveLength(2));
    const entries = store.getSnapshot().conversation.entries;
    expect(entries.map((e) => (e.kind === 'session' ? 'session' : `${e.kind}: ${e.text}`))).toEqual([
      'user: what time is it',
      'agent: It is noon.',
      'user: tell me a story',
      'agent: Once upon ',
    ]);
    expect(entries[3]).toMatchObject({ interrupted: true, state: 'done' });
    // Not running: nothing to rebuild, and the report is not asked for.
    const stopped = fakeApi();
    const fresh = new CueStore({ getApi: async () => stopped.api, saveReport: () => undefined });
    await fresh.connect();
    expect(stopped.sent.some((r) => r.name === 'session:report')).toBe(false);
  });
});
