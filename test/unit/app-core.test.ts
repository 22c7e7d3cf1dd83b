import { describe, expect, it } from 'vitest';
import { AppCore } from '../../src/main/app/app-core';
import type { SecretStore, SettingsStore } from '../../src/main/app/types';
import { settle, VirtualClock } from '../../src/main/engine/clock';
import { SAMPLE_RATE } from '../../src/main/engine/ports';
import { createScriptedProviders } from '../../src/main/engine/scripted/providers';
import type { ScriptCase } from '../../src/main/engine/scripted/case';
import type { AudioDown, EventName, Events, ProviderId } from '../../src/shared/contract';
import { defaultSettings, type Settings } from '../../src/shared/settings';
import { buildCase, ScriptedVad, speechSegments } from '../helpers/session-harness';

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
) {
  const clock = new VirtualClock();
  const store = new MemorySettingsStore();
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
    createVad: async () => new ScriptedVad(speechSegments(caseData)),
    createProviders: (settings) => ({
      ...createScriptedProviders(caseData, clock, settings.stt),
      close: async () => undefined,
    }),
  });
  core.subscribe(<E extends EventName>(name: E, payload: Events[E]) => events.push({ name, payload }));
  core.onAudioDown((m) => down.push(m));
  const states = () =>
    events.filter((e) => e.name === 'state').map((e) => (e.payload as { status: string }).status);

  /**
   * Plays the renderer: streams the case audio as the mic, starts playing each utterance as its
   * first audio arrives, and reports it finished once all of its audio has played.
   */
  async function converse(seconds: number) {
    const step = (20 * SAMPLE_RATE) / 1000;
    let seen = 0;
    const playing = new Map<number, { startedAt: number; ms: number; ended: boolean }>();
    for (let offset = 0; offset < seconds * SAMPLE_RATE; offset += step) {
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
    await core.request('session:stop', {});
    expect(states().at(-1)).toBe('stopped');
    expect(secrets.keys.size).toBe(3);
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
