/**
 * The ElevenLabs providers (the real SDK over HTTP, the `ws` multi-context client) against the
 * ElevenLabs simulator on 127.0.0.1, both on one VirtualClock. Time moves only when a test
 * advances the clock; between steps the test awaits what it expects over the real sockets
 * (`waitUntil`, which yields to I/O until a condition holds, with a wall-clock guard) and never
 * sleeps. `drive` advances in 5 ms steps and, after each, waits until the client has received all
 * the audio the simulator has sent, so client-side arrival times equal the simulator's send times.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startElevenLabsSim, type RunningElevenLabsSim } from '../../sim/elevenlabs';
import type { Fault } from '../../sim/common';
import { AsyncQueue } from '../../src/main/engine/async-queue';
import { VirtualClock, type Clock } from '../../src/main/engine/clock';
import type { TtsAudio, TtsProvider } from '../../src/main/engine/ports';
import { defaultProfile } from '../../src/main/engine/scripted/case';
import { scriptedVoice, ttsCharsCompleted, ttsSamplesFor } from '../../src/main/engine/scripted/providers';
import { ProviderError } from '../../src/main/providers/errors';
import {
  ElevenLabsHttpTts,
  ElevenLabsWebSocketTts,
  type ElevenLabsWebSocketTtsOptions,
} from '../../src/main/providers/elevenlabs';
import { defaultSettings, type TtsSettings } from '../../src/shared/settings';

/** Default profile: first audio 200 ms after the text, 60 ms of audio per character, 100 ms chunks made in 25 ms. */
const profile = defaultProfile();
const KEY = 'sim-key';

// ---------- harness ----------

let clock: VirtualClock;
let sim: RunningElevenLabsSim;
const cleanup: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startSim(faults: Fault[] = []): Promise<void> {
  clock = new VirtualClock();
  sim = await startElevenLabsSim({ caseData: { turns: [], profile }, clock, faults, apiKey: KEY });
  cleanup.push(() => sim.close());
}

function ttsSettings(overrides: Partial<TtsSettings> = {}): TtsSettings {
  return { ...defaultSettings().tts, sample_rate: '16000', ...overrides };
}

/** `apiKey` null: no key at all. */
function httpTts(settings = ttsSettings(), apiKey: string | null = KEY): ElevenLabsHttpTts {
  return new ElevenLabsHttpTts({ settings, apiKey: apiKey ?? undefined, baseUrl: sim.url, clock });
}

function wsTts(
  options: Partial<ElevenLabsWebSocketTtsOptions> = {},
  apiKey: string | null = KEY,
): ElevenLabsWebSocketTts {
  const tts = new ElevenLabsWebSocketTts({
    settings: ttsSettings(),
    apiKey: apiKey ?? undefined,
    baseUrl: sim.url,
    clock,
    ...options,
  });
  cleanup.push(() => tts.close());
  return tts;
}

/** Consumes a TTS stream, stamping each chunk with the clock time it arrived. */
class Collector {
  readonly chunks: { at: number; audio: TtsAudio }[] = [];
  error: unknown;
  done = false;

  constructor(clockNow: Clock, stream: AsyncIterable<TtsAudio>) {
    void (async () => {
      try {
        for await (const audio of stream) this.chunks.push({ at: clockNow.now(), audio });
      } catch (error) {
        this.error = error;
      } finally {
        this.done = true;
      }
    })();
  }

  get samples(): number {
    return this.chunks.reduce((n, c) => n + c.audio.samples.length, 0);
  }

  get characters(): number {
    return this.chunks.reduce((n, c) => n + (c.audio.characters ?? 0), 0);
  }

  get times(): number[] {
    return this.chunks.map((c) => c.at);
  }

  pcm(): Int16Array {
    const out = new Int16Array(this.samples);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c.audio.samples, at);
      at += c.audio.samples.length;
    }
    return out;
  }
}

interface Reply {
  text: AsyncQueue<string>;
  abort: AbortController;
  got: Collector;
}

function speak(tts: TtsProvider, ...chunks: string[]): Reply {
  const text = new AsyncQueue<string>();
  for (const chunk of chunks) text.push(chunk);
  const abort = new AbortController();
  return { text, abort, got: new Collector(clock, tts.synthesize({ text, signal: abort.signal })) };
}

/** Yields to I/O until `condition` holds; fails after a wall-clock guard (not a timing assumption). */
async function waitUntil(condition: () => boolean, what: string, guardMs = 5000): Promise<void> {
  const deadline = performance.now() + guardMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Advances in `step` ms steps until `until` holds, letting the client catch up (`synced`) after each. */
async function drive(until: () => boolean, synced: () => boolean, limitMs = 30_000, step = 5): Promise<void> {
  for (;;) {
    await waitUntil(synced, 'the client to receive what the simulator sent');
    if (until()) return;
    if (clock.now() >= limitMs) throw new Error(`still waiting at ${clock.now()} ms`);
    await clock.advanceBy(step);
  }
}

/** HTTP: the client has all audio of the requests in order: completed ones, then the one under way. */
function httpSynced(reply: Reply): () => boolean {
  return () => {
    if (reply.got.done) return true;
    let sent = 0;
    for (const request of sim.stats.requests) {
      sent += request.samplesSent;
      if (request.outcome !== 'completed') break;
    }
    return reply.got.samples === sent;
  };
}

/** WebSocket: each reply's collector has all the audio its context was sent. */
function wsSynced(...pairs: [Reply, string][]): () => boolean {
  return () =>
    pairs.every(
      ([reply, id]) => reply.got.done || reply.got.samples === (sim.stats.context(id)?.samplesSent ?? 0),
    );
}

/** The client has closed the context (close_context, after the end of its text). */
function closed(id: string): () => boolean {
  return () => (sim.stats.context(id)?.closeContextAt ?? null) !== null;
}

function errorOf(reply: Reply): ProviderError {
  expect(reply.got.error).toBeInstanceOf(ProviderError);
  return reply.got.error as ProviderError;
}

/** Expected timing of a context or request of `chars` characters starting at `t0` (16 kHz, default profile). */
function expectedTimes(chars: number, t0 = 0): number[] {
  const total = ttsSamplesFor(profile, chars);
  const times: number[] = [];
  let at = t0 + profile.tts_ttfb_ms;
  for (let sent = 0; sent < total; sent += 1600) {
    const n = Math.min(1600, total - sent);
    if (sent > 0) at += (n / 16) * profile.tts_realtime_factor;
    times.push(at);
  }
  return times;
}

// ---------- HTTP (the real SDK) ----------

describe('ElevenLabs over HTTP (SDK) against the simulator', () => {
  it.each(['16000', '22050', '24000'] as const)(
    'streams PCM at %s Hz: first audio tts_ttfb_ms after the request, tts_ms_per_char of audio per character',
    async (rate) => {
      await startSim();
      const sampleRate = Number(rate);
      const reply = speak(httpTts(ttsSettings({ sample_rate: rate })), 'Hello there.');
      reply.text.close();
      await waitUntil(() => sim.stats.requests.length === 1, 'the request');
      await drive(() => reply.got.done, httpSynced(reply));

      expect(reply.got.error).toBeUndefined();
      expect(reply.got.samples).toBe(ttsSamplesFor(profile, 12, sampleRate)); // 720 ms
      expect(reply.got.chunks.every((c) => c.audio.sampleRate === sampleRate)).toBe(true);
      expect(reply.got.chunks.every((c) => c.audio.characters === undefined)).toBe(true);
      // 100 ms chunks produced 4× faster than real time: 25 ms apart (the last, 20 ms of audio, 5 ms).
      expect(reply.got.times).toEqual([200, 225, 250, 275, 300, 325, 350, 355]);
      // The scripted voice, marked as the simulator's first synthesis.
      expect([...reply.got.pcm()]).toEqual([...scriptedVoice(0, reply.got.samples, sampleRate, 0)]);
      expect(sim.stats.requests[0]).toMatchObject({
        text: 'Hello there.',
        voiceId: ttsSettings().voice_id,
        modelId: ttsSettings().model_id,
        outputFormat: `pcm_${rate}`,
        outcome: 'completed',
        charactersSynthesized: 12,
        firstAudioAt: 200,
      });
    },
  );

  it('sends one request per chunk, starts the next while one plays, and keeps the audio in order', async () => {
    await startSim();
    const chunks = ['One, ', 'two, ', 'and three.'];
    const reply = speak(httpTts(), ...chunks);
    reply.text.close();
    await waitUntil(() => sim.stats.requests.length === 2, 'two requests in flight');
    await drive(() => reply.got.done, httpSynced(reply));

    expect(reply.got.error).toBeUndefined();
    const requests = sim.stats.requests;
    expect(requests.map((r) => r.text)).toEqual(chunks);
    expect(requests.every((r) => r.outcome === 'completed')).toBe(true);
    // Pipelined: the second request was produced while the first played; the third (at most two
    // in flight) started once the first had ended.
    expect(requests[1]!.firstAudioAt).toBe(200);
    expect(requests[2]!.receivedAt).toBeGreaterThanOrEqual(requests[0]!.endedAt!);
    // In order: each request's voice (marked with its own mark), one after the other.
    const expected = requests.flatMap((r) => [
      ...scriptedVoice(0, ttsSamplesFor(profile, r.text.length), r.sampleRate, r.voiceMark),
    ]);
    expect([...reply.got.pcm()]).toEqual(expected);
  });

  it('aborting stops the request at the network level and ends the stream quietly', async () => {
    await startSim();
    const reply = speak(httpTts(), 'x'.repeat(100));
    await waitUntil(() => sim.stats.requests.length === 1, 'the request');
    await drive(() => clock.now() >= 260, httpSynced(reply)); // chunks at 200, 225 and 250
    reply.abort.abort();
    await waitUntil(() => sim.stats.requests[0]!.outcome === 'cancelled', 'the simulator to see the abort');
    await waitUntil(() => reply.got.done, 'the stream to end');
    expect(reply.got.error).toBeUndefined();
    const sent = sim.stats.requests[0]!.chunksSent;
    expect(sent).toBe(3);
    await clock.advanceBy(5_000);
    expect(sim.stats.requests[0]!.chunksSent).toBe(sent);
    expect(sim.stats.requests[0]!.charactersSynthesized).toBeLessThan(100);
  });

  it('delays the response with a delay fault', async () => {
    await startSim([{ kind: 'delay', ms: 300 }]);
    const reply = speak(httpTts(), 'Hi.');
    reply.text.close();
    await waitUntil(() => sim.stats.requests.length === 1, 'the request');
    await drive(() => reply.got.done, httpSynced(reply));
    expect(reply.got.times[0]).toBe(500);
  });

  it('a rejected key is an invalid_key error naming ElevenLabs, the setting and ELEVENLABS_API_KEY', async () => {
    await startSim();
    const reply = speak(httpTts(ttsSettings(), 'not-the-key'), 'Hello.');
    reply.text.close();
    await waitUntil(() => reply.got.done, 'the error');
    const error = errorOf(reply);
    expect(error.kind).toBe('invalid_key');
    expect(error.status).toBe(401);
    expect(error.message).toMatch(/^ElevenLabs: /);
    expect(error.message).toContain('Invalid API key');
    expect(error.message).toContain('the ElevenLabs API key in settings');
    expect(error.message).toContain('ELEVENLABS_API_KEY');
    expect(sim.stats.rejections[0]).toMatchObject({
      status: 401,
      body: { detail: { status: 'invalid_api_key' } },
    });
  });

  it('no key is a missing_key error, and nothing is sent', async () => {
    await startSim();
    const reply = speak(httpTts(ttsSettings(), null), 'Hello.');
    reply.text.close();
    await waitUntil(() => reply.got.done, 'the error');
    expect(errorOf(reply).kind).toBe('missing_key');
    expect(errorOf(reply).message).toContain('ELEVENLABS_API_KEY');
    expect(sim.stats.requests).toHaveLength(0);
    expect(sim.stats.rejections).toHaveLength(0);
  });

  it.each([
    [429, 'rate_limited', 'Too many concurrent requests'],
    [500, 'server_error', 'something went wrong'],
  ] as const)('answers %i as %s, retryable', async (status, kind, text) => {
    await startSim([{ kind: 'status', status }]);
    const reply = speak(httpTts(), 'Hello.');
    reply.text.close();
    await waitUntil(() => reply.got.done, 'the error');
    const error = errorOf(reply);
    expect(error).toMatchObject({ kind, status, retryable: true, provider: 'ElevenLabs' });
    expect(error.message).toContain(text);
  });

  it('a stream cut halfway is an error, after the audio that did arrive', async () => {
    await startSim([{ kind: 'cut', afterChunks: 2 }]);
    const reply = speak(httpTts(), 'x'.repeat(40));
    reply.text.close();
    await waitUntil(() => sim.stats.requests.length === 1, 'the request');
    await drive(() => reply.got.done, httpSynced(reply));
    expect(errorOf(reply).kind).toBe('connection');
    expect(reply.got.samples).toBe(2 * 1600);
    expect(sim.stats.requests[0]).toMatchObject({ outcome: 'failed', reason: 'fault: cut', chunksSent: 2 });
  });
});

// ---------- WebSocket (ws, multi-context) ----------

describe('ElevenLabs over the multi-context WebSocket against the simulator', () => {
  it('keeps one socket across two replies: text streamed, flush and close_context at the end, alignment as characters', async () => {
    await startSim();
    const tts = wsTts();
    await tts.connect();
    expect(sim.stats.sockets).toHaveLength(1);
    expect(sim.stats.sockets[0]).toMatchObject({ multi: true, outputFormat: 'pcm_16000', autoMode: false });

    const first = speak(tts, 'Hello there. ');
    await waitUntil(() => sim.stats.context('cue-1')?.text === 'Hello there. ', 'the first text');
    await drive(() => clock.now() >= 300, wsSynced([first, 'cue-1']));
    first.text.push('How are you? '); // arrives while the first chunk is spoken
    await waitUntil(() => sim.stats.context('cue-1')?.text.length === 26, 'the second text');
    first.text.close();
    await waitUntil(closed('cue-1'), 'the end of the text');
    await drive(() => first.got.done, wsSynced([first, 'cue-1']));

    expect(first.got.error).toBeUndefined();
    const text = 'Hello there. How are you? ';
    expect(first.got.samples).toBe(ttsSamplesFor(profile, text.length));
    expect(first.got.times).toEqual(expectedTimes(text.length));
    // Alignment → characters completed by each chunk, as many as the text has in all.
    const perChunk = first.got.chunks.map((c) => c.audio.characters);
    let samples = 0;
    const expected = first.got.chunks.map((c) => {
      const before = ttsCharsCompleted(profile, samples);
      samples += c.audio.samples.length;
      return ttsCharsCompleted(profile, samples) - before;
    });
    expect(perChunk).toEqual(expected);
    expect(first.got.characters).toBe(text.length);
    // Flushed: the first text, the sentence end, and the end of the reply.
    expect(sim.stats.context('cue-1')).toMatchObject({ text, flushes: 3, outcome: 'completed', socket: 0 });

    const t0 = clock.now();
    const second = speak(tts, 'Fine, thanks.');
    second.text.close();
    await waitUntil(closed('cue-2'), 'the second reply');
    await drive(() => second.got.done, wsSynced([second, 'cue-2']));
    expect(second.got.times[0]).toBe(t0 + 200);
    expect(second.got.characters).toBe('Fine, thanks.'.length);
    expect(sim.stats.context('cue-2')).toMatchObject({ outcome: 'completed', socket: 0 });
    expect(sim.stats.sockets).toHaveLength(1);
    expect(sim.stats.closes).toBe(0);
    expect(tts.socketsOpened).toBe(1);
  });

  it('delivers the sample rate asked for (pcm_22050)', async () => {
    await startSim();
    const tts = wsTts({ settings: ttsSettings({ sample_rate: '22050' }) });
    await tts.connect();
    expect(sim.stats.sockets[0]!.outputFormat).toBe('pcm_22050');
    const reply = speak(tts, 'Hello there. ');
    reply.text.close();
    await waitUntil(closed('cue-1'), 'the text');
    await drive(() => reply.got.done, wsSynced([reply, 'cue-1']));
    expect(reply.got.samples).toBe(ttsSamplesFor(profile, 13, 22_050));
    expect(reply.got.chunks.every((c) => c.audio.sampleRate === 22_050)).toBe(true);
    expect(reply.got.characters).toBe(13);
    const mark = sim.stats.context('cue-1')!.voiceMark;
    expect([...reply.got.pcm()]).toEqual([...scriptedVoice(0, reply.got.samples, 22_050, mark)]);
  });

  it('close_context on abort cancels that context only: nothing more is sent for it, the other goes on', async () => {
    await startSim();
    const tts = wsTts();
    await tts.connect();
    // The first text is flushed (rendered at once); the rest, mid-sentence, by the chunk schedule.
    const long = speak(tts, 'Well, ', 'x'.repeat(100));
    const other = speak(tts, 'Hello there, how are you? ');
    other.text.close();
    await waitUntil(
      () => sim.stats.context('cue-1')?.text.length === 106 && closed('cue-2')(),
      'both contexts',
    );
    const synced = wsSynced([long, 'cue-1'], [other, 'cue-2']);
    await drive(() => clock.now() >= 260, synced);
    expect(long.got.chunks).toHaveLength(3);

    long.abort.abort();
    await waitUntil(() => sim.stats.context('cue-1')!.outcome === 'cancelled', 'the cancel');
    expect(sim.stats.context('cue-1')!.reason).toBe('close_context');
    expect(long.got.done).toBe(true);
    expect(long.got.error).toBeUndefined();
    const sentBefore = sim.stats.context('cue-1')!.chunksSent;

    await drive(() => other.got.done, synced);
    expect(other.got.error).toBeUndefined();
    expect(other.got.samples).toBe(ttsSamplesFor(profile, 26));
    expect(sim.stats.context('cue-2')!.outcome).toBe('completed');
    expect(sim.stats.context('cue-1')!.chunksSent).toBe(sentBefore);
    expect(long.got.chunks).toHaveLength(3);
    expect(sim.stats.closes).toBe(0);
    expect(sim.stats.sockets[0]!.contexts).toEqual(['cue-1', 'cue-2']);
  });

  it('renders the first text and each sentence end at once; mid-sentence text waits for the chunk schedule', async () => {
    await startSim();
    const tts = wsTts();
    await tts.connect();
    const reply = speak(tts, 'Well, ');
    await waitUntil(() => sim.stats.context('cue-1')?.text === 'Well, ', 'the first text');
    expect(sim.stats.context('cue-1')).toMatchObject({ rendered: 6, flushes: 1 });
    expect(sim.stats.context('cue-1')!.generationConfig).toEqual({
      chunk_length_schedule: [50, 120, 160, 250],
    });
    reply.text.push('I think that ');
    await waitUntil(() => sim.stats.context('cue-1')?.text.length === 19, 'the clause');
    await clock.advanceTo(1000);
    // Buffered: under the schedule's first 50 characters and no sentence end.
    expect(sim.stats.context('cue-1')).toMatchObject({ rendered: 6, flushes: 1 });
    reply.text.push('it will rain tomorrow. ');
    await waitUntil(() => sim.stats.context('cue-1')?.flushes === 2, 'the sentence end');
    expect(sim.stats.context('cue-1')!.rendered).toBe(42);
    reply.text.close();
    await waitUntil(closed('cue-1'), 'the end');
    await drive(() => reply.got.done, wsSynced([reply, 'cue-1']));
    expect(reply.got.error).toBeUndefined();
    expect(reply.got.times[0]).toBe(200);
    expect(reply.got.characters).toBe(42);
  });

  it('with auto_mode, as ElevenLabs documents it for whole phrases, nothing is flushed before the end', async () => {
    await startSim();
    const tts = wsTts({ autoMode: true });
    await tts.connect();
    expect(sim.stats.sockets[0]!.autoMode).toBe(true);
    const reply = speak(tts, 'Hello there. ', 'How are you? ');
    reply.text.close();
    await waitUntil(closed('cue-1'), 'the end');
    await drive(() => reply.got.done, wsSynced([reply, 'cue-1']));
    expect(sim.stats.context('cue-1')).toMatchObject({ flushes: 1, outcome: 'completed' });
    expect(sim.stats.context('cue-1')!.generationConfig).toBeUndefined();
  });

  it('the server closes an idle socket after inactivity_timeout; the next reply opens a new one', async () => {
    await startSim();
    const tts = wsTts({ inactivityTimeoutS: 20, keepAliveMs: 0 });
    await tts.connect();
    expect(sim.stats.sockets[0]!.inactivityTimeoutS).toBe(20);
    await clock.advanceTo(19_999);
    expect(sim.stats.closes).toBe(0);
    await clock.advanceTo(20_000);
    await waitUntil(() => sim.stats.closes === 1, 'the inactivity close');
    expect(sim.stats.sockets[0]).toMatchObject({ closedBy: 'inactivity', closeCode: 1008 });

    const reply = speak(tts, 'Hello.');
    reply.text.close();
    await waitUntil(closed('cue-1'), 'the reply');
    await drive(() => reply.got.done, wsSynced([reply, 'cue-1']), 40_000);
    expect(reply.got.error).toBeUndefined();
    expect(tts.socketsOpened).toBe(2);
    expect(sim.stats.context('cue-1')!.socket).toBe(1);
  });

  it('keep-alives hold the idle socket open well past the inactivity timeout, without opening a context', async () => {
    await startSim();
    const tts = wsTts({ inactivityTimeoutS: 20, keepAliveMs: 10_000 });
    await tts.connect();
    for (let k = 1; k <= 12; k++) {
      await clock.advanceTo(k * 10_000);
      await waitUntil(() => sim.stats.sockets[0]!.keepAlives === k, `keep-alive ${k}`);
    }
    expect(sim.stats.closes).toBe(0);
    // A keep-alive that named a context would open it, and it would hold one of the 5 slots.
    expect(sim.stats.contexts).toEqual([]);
    const reply = speak(tts, 'Still here.');
    reply.text.close();
    await waitUntil(closed('cue-1'), 'the reply');
    await drive(() => reply.got.done, wsSynced([reply, 'cue-1']), 200_000);
    expect(reply.got.error).toBeUndefined();
    expect(tts.socketsOpened).toBe(1);
    expect(sim.stats.contexts.map((c) => c.contextId)).toEqual(['cue-1']);
  });

  it('keeps an open context alive by its id while it waits for text', async () => {
    await startSim();
    const tts = wsTts({ inactivityTimeoutS: 20, keepAliveMs: 10_000 });
    await tts.connect();
    const reply = speak(tts, 'Hold on, ');
    await waitUntil(() => sim.stats.context('cue-1')?.text === 'Hold on, ', 'the text');
    await clock.advanceTo(25_000);
    await waitUntil(() => (sim.stats.context('cue-1')?.keepAlives ?? 0) >= 2, 'the keep-alives');
    expect(sim.stats.closes).toBe(0);
    reply.text.push('here it is.');
    reply.text.close();
    await waitUntil(closed('cue-1'), 'the end');
    await drive(() => reply.got.done, wsSynced([reply, 'cue-1']), 60_000);
    expect(reply.got.error).toBeUndefined();
    expect(sim.stats.contexts.map((c) => c.contextId)).toEqual(['cue-1']);
  });

  it("sends voice settings with the socket's first context only, and never a null setting", async () => {
    await startSim();
    const tts = wsTts({ voiceSettings: { stability: 0.4, similarityBoost: 0.8 } });
    await tts.connect();
    for (const id of ['cue-1', 'cue-2']) {
      const reply = speak(tts, 'Hello there. ');
      reply.text.close();
      await waitUntil(closed(id), id);
      await drive(() => reply.got.done, wsSynced([reply, id]), 60_000);
      expect(reply.got.error).toBeUndefined();
    }
    const [first, second] = sim.stats.contexts;
    expect(first!.voiceSettings).toEqual({ stability: 0.4, similarity_boost: 0.8 });
    expect(second!.voiceSettings).toBeUndefined();
    expect(sim.stats.closes).toBe(0);

    // Without voice settings none are sent: no "voice_settings": null, no "generation_config": null.
    const plain = wsTts({ autoMode: true });
    await plain.connect();
    const reply = speak(plain, 'Hello there. ');
    reply.text.close();
    await waitUntil(
      () => sim.stats.contexts.length === 3 && sim.stats.contexts[2]!.closeContextAt !== null,
      'the reply',
    );
    expect('voiceSettings' in sim.stats.contexts[2]! && sim.stats.contexts[2]!.voiceSettings).toBe(undefined);
    expect(sim.stats.contexts[2]!.generationConfig).toBeUndefined();
    expect(sim.stats.contexts.every((c) => c.voiceSettings !== null && c.generationConfig !== null)).toBe(
      true,
    );
  });

  it('an error about a context the client no longer tracks leaves the live replies alone', async () => {
    await startSim([{ kind: 'context_error', contextId: 'cue-0', afterChunks: 1 }]);
    const tts = wsTts();
    await tts.connect();
    const reply = speak(tts, 'x'.repeat(40));
    reply.text.close();
    await waitUntil(closed('cue-1'), 'the text');
    await drive(() => reply.got.done, wsSynced([reply, 'cue-1']));
    expect(reply.got.error).toBeUndefined();
    expect(reply.got.samples).toBe(ttsSamplesFor(profile, 40));
    expect(sim.stats.closes).toBe(0);
  });

  it('an error about one context fails that reply only', async () => {
    await startSim([{ kind: 'context_error', contextId: 'cue-1', afterChunks: 1 }]);
    const tts = wsTts();
    await tts.connect();
    const failing = speak(tts, 'x'.repeat(40));
    const other = speak(tts, 'y'.repeat(40));
    failing.text.close();
    other.text.close();
    await waitUntil(() => closed('cue-1')() && closed('cue-2')(), 'both texts');
    await drive(() => failing.got.done && other.got.done, wsSynced([failing, 'cue-1'], [other, 'cue-2']));
    expect(errorOf(failing).message).toContain('context_closed');
    expect(other.got.error).toBeUndefined();
    expect(other.got.samples).toBe(ttsSamplesFor(profile, 40));
    expect(sim.stats.closes).toBe(0);
  });

  it('never holds more than 5 contexts on a socket: under barge-in churn, replies go to a second socket', async () => {
    await startSim();
    const tts = wsTts();
    await tts.connect();
    // Five replies start and are cut off (barge-ins): the server is still closing them.
    const cut: Reply[] = [];
    for (let i = 1; i <= 5; i++) cut.push(speak(tts, `Reply number ${i}, `, 'x'.repeat(60)));
    await waitUntil(
      () => sim.stats.contexts.length === 5 && sim.stats.contexts.every((c) => c.text.length > 60),
      'five contexts',
    );
    await clock.advanceTo(50);
    for (const reply of cut) reply.abort.abort();
    await waitUntil(() => sim.stats.contexts.every((c) => c.outcome === 'cancelled'), 'the cancels');
    expect(sim.stats.contexts.every((c) => c.slotFreedAt === null)).toBe(true);
    // The next replies come at once.
    const next = [speak(tts, 'Sorry, go on. '), speak(tts, 'Yes? ')];
    for (const reply of next) reply.text.close();
    await waitUntil(() => closed('cue-6')() && closed('cue-7')(), 'the next replies');
    await drive(() => next.every((r) => r.got.done), wsSynced([next[0]!, 'cue-6'], [next[1]!, 'cue-7']));
    for (const reply of next) expect(reply.got.error).toBeUndefined();
    expect(sim.stats.sockets.map((s) => s.mostContexts).every((n) => n <= 5)).toBe(true);
    expect(sim.stats.sockets.every((s) => s.closeCode !== 1008)).toBe(true);
    expect(sim.stats.context('cue-6')!.socket).toBe(1);
    // Once the cancelled contexts are closed, the warm socket takes replies again, and the extra one is let go.
    await drive(
      () => sim.stats.sockets[1]!.closedAt !== null,
      () => true,
    );
    const later = speak(tts, 'Back to one socket. ');
    later.text.close();
    await waitUntil(closed('cue-8'), 'the later reply');
    expect(sim.stats.context('cue-8')!.socket).toBe(0);
    expect(tts.socketsOpened).toBe(2);
  });

  it('a rejected key (a 1008 close after the socket opened) is an invalid_key error, not a retryable drop', async () => {
    await startSim();
    const tts = wsTts({}, 'not-the-key');
    const reply = speak(tts, 'Hello.');
    reply.text.close();
    await waitUntil(() => reply.got.done, 'the error');
    const error = errorOf(reply);
    expect(error).toMatchObject({ kind: 'invalid_key', retryable: false });
    expect(error.message).toContain('ElevenLabs');
    expect(error.message).toContain('Invalid API key');
    expect(error.message).toContain('the ElevenLabs API key in settings, or ELEVENLABS_API_KEY');
    expect(sim.stats.sockets[0]).toMatchObject({ closeCode: 1008, closedBy: 'server' });
    expect(sim.stats.contexts).toEqual([]);
  });

  it('an unknown voice (a 1008 close) is a bad_request naming tts.voice_id', async () => {
    clock = new VirtualClock();
    sim = await startElevenLabsSim({
      caseData: { turns: [], profile },
      clock,
      apiKey: KEY,
      voiceIds: ['21m00Tcm4TlvDq8ikWAM'],
    });
    cleanup.push(() => sim.close());
    const tts = wsTts({ settings: ttsSettings({ voice_id: 'no-such-voice' }) });
    const reply = speak(tts, 'Hello.');
    reply.text.close();
    await waitUntil(() => reply.got.done, 'the error');
    const error = errorOf(reply);
    expect(error).toMatchObject({ kind: 'bad_request', retryable: false });
    expect(error.message).toContain('A voice with the voice_id no-such-voice was not found.');
    expect(error.message).toContain('tts.voice_id');
  });

  it('refuses eleven_v3, which has no multi-context socket, naming the transport to use; no socket is opened', async () => {
    await startSim();
    const tts = wsTts({ settings: ttsSettings({ model_id: 'eleven_v3' }) });
    const reply = speak(tts, 'Hello.');
    reply.text.close();
    await waitUntil(() => reply.got.done, 'the error');
    const error = errorOf(reply);
    expect(error).toMatchObject({ kind: 'bad_request', retryable: false });
    expect(error.message).toContain('tts.transport to "http"');
    expect(sim.stats.sockets).toHaveLength(0);
  });

  it('no key is a missing_key error and no socket is opened', async () => {
    await startSim();
    const tts = wsTts({}, null);
    const reply = speak(tts, 'Hello.');
    reply.text.close();
    await waitUntil(() => reply.got.done, 'the error');
    expect(errorOf(reply).kind).toBe('missing_key');
    expect(sim.stats.sockets).toHaveLength(0);
    expect(sim.stats.rejections).toHaveLength(0);
  });

  it.each([
    [429, 'rate_limited'],
    [500, 'server_error'],
  ] as const)('an upgrade answered %i is %s', async (status, kind) => {
    await startSim([{ kind: 'status', status }]);
    const tts = wsTts({ warm: false });
    const reply = speak(tts, 'Hello.');
    reply.text.close();
    await waitUntil(() => reply.got.done, 'the error');
    expect(errorOf(reply)).toMatchObject({ kind, status, retryable: true });
  });

  it('a context the server stops sending for (cut) fails with a timeout once its audio is overdue', async () => {
    await startSim([{ kind: 'cut', afterChunks: 2 }]);
    const tts = wsTts({ stallTimeoutMs: 5_000 });
    await tts.connect();
    const reply = speak(tts, 'x'.repeat(40));
    reply.text.close();
    await waitUntil(closed('cue-1'), 'the text');
    await drive(() => sim.stats.context('cue-1')!.outcome !== 'pending', wsSynced([reply, 'cue-1']));
    expect(sim.stats.context('cue-1')).toMatchObject({
      outcome: 'failed',
      reason: 'fault: cut',
      chunksSent: 2,
    });
    // The last message came at 225 ms; the watchdog fires 5 s later.
    await clock.advanceTo(5_224);
    expect(reply.got.done).toBe(false);
    await clock.advanceTo(5_225);
    await waitUntil(() => reply.got.done, 'the timeout');
    expect(errorOf(reply).kind).toBe('timeout');
    expect(reply.got.chunks).toHaveLength(2);
  });

  it('a dropped socket fails the reply (connection); the next reply reopens', async () => {
    await startSim([{ kind: 'drop', afterChunks: 3 }]);
    const tts = wsTts();
    await tts.connect();
    const reply = speak(tts, 'x'.repeat(40));
    reply.text.close();
    await waitUntil(closed('cue-1'), 'the text');
    await drive(() => reply.got.done, wsSynced([reply, 'cue-1']));
    expect(errorOf(reply).kind).toBe('connection');
    expect(sim.stats.sockets[0]!.closedBy).toBe('fault');

    const next = speak(tts, 'Again.');
    next.text.close();
    await waitUntil(closed('cue-2'), 'the next reply');
    await drive(() => next.got.done, wsSynced([next, 'cue-2']));
    expect(next.got.error).toBeUndefined();
    expect(tts.socketsOpened).toBe(2);
  });

  it('a malformed frame is a protocol error, without a crash; the next reply works', async () => {
    await startSim([{ kind: 'malformed', afterChunks: 1 }]);
    const tts = wsTts();
    await tts.connect();
    const reply = speak(tts, 'x'.repeat(40));
    reply.text.close();
    await waitUntil(closed('cue-1'), 'the text');
    await drive(() => reply.got.done, wsSynced([reply, 'cue-1']));
    const error = errorOf(reply);
    expect(error.kind).toBe('protocol');
    expect(error.message).toContain('malformed');

    const next = speak(tts, 'Again.');
    next.text.close();
    await waitUntil(closed('cue-2'), 'the next reply');
    await drive(() => next.got.done, wsSynced([next, 'cue-2']));
    expect(next.got.error).toBeUndefined();
    expect(next.got.samples).toBe(ttsSamplesFor(profile, 6));
  });
});

// ---------- the simulator's protocol, from an independent client ----------

interface PlainSocket {
  ws: WebSocket;
  messages: Record<string, unknown>[];
  closed: { code: number; reason: string } | null;
}

async function plainSocket(path: string): Promise<PlainSocket> {
  const ws = new WebSocket(`${sim.url.replace('http', 'ws')}${path}`, { headers: { 'xi-api-key': KEY } });
  const socket: PlainSocket = { ws, messages: [], closed: null };
  ws.on('message', (data) => socket.messages.push(JSON.parse(String(data)) as Record<string, unknown>));
  ws.on('close', (code, reason) => (socket.closed = { code, reason: reason.toString() }));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  cleanup.push(() => ws.terminate());
  return socket;
}

describe('the simulator speaks the ElevenLabs WebSocket protocol to any client', () => {
  it('multi-stream-input: contexts by context_id or contextId, keep-alive, alignment, isFinal, close_socket', async () => {
    await startSim();
    const s = await plainSocket(
      '/v1/text-to-speech/voice-1/multi-stream-input?model_id=eleven_flash_v2_5&output_format=pcm_24000&inactivity_timeout=30',
    );
    const send = (m: unknown) => s.ws.send(JSON.stringify(m));
    send({
      text: ' ',
      context_id: 'a',
      voice_settings: { stability: 0.5 },
      generation_config: { chunk_length_schedule: [50] },
    });
    send({ text: 'Hi there. ', context_id: 'a', flush: false });
    send({ context_id: 'a', flush: true });
    send({ contextId: 'b', text: ' ' });
    send({ contextId: 'b', text: 'Yo. ', flush: true });
    send({ text: '', context_id: 'a' }); // keep-alive
    await waitUntil(
      () => sim.stats.context('b')?.flushes === 1 && sim.stats.sockets[0]!.keepAlives === 1,
      'messages',
    );
    expect(sim.stats.context('a')).toMatchObject({ text: 'Hi there. ', rendered: 10, keepAlives: 1 });

    await clock.advanceTo(200);
    await waitUntil(() => s.messages.length === 2, 'the first audio of both contexts');
    const first = s.messages.find((m) => m.contextId === 'a')!;
    expect(Buffer.from(first.audio as string, 'base64').length).toBe(2400 * 2); // 100 ms at 24 kHz
    expect(first.alignment).toEqual({
      chars: ['H', 'i'],
      charStartTimesMs: [0, 60],
      charDurationsMs: [60, 60],
    });
    expect(first.normalizedAlignment).toEqual(first.alignment);

    send({ context_id: 'a', close_context: true }); // after a flush: finish, then isFinal
    await waitUntil(() => sim.stats.sockets[0]!.messages === 7, 'close_context');
    await clock.advanceTo(1_000);
    await waitUntil(() => s.messages.some((m) => m.isFinal === true && m.contextId === 'a'), 'isFinal for a');
    const audioA = s.messages.filter((m) => m.contextId === 'a' && typeof m.audio === 'string');
    const charsA = audioA.flatMap((m) => (m.alignment as { chars: string[] }).chars).join('');
    expect(charsA).toBe('Hi there. ');
    expect(sim.stats.context('a')!.outcome).toBe('completed');
    // b was flushed but never closed: it stays open, without isFinal.
    expect(s.messages.some((m) => m.isFinal === true && m.contextId === 'b')).toBe(false);

    send({ close_socket: true });
    await waitUntil(() => s.closed !== null, 'the close');
    expect(s.closed!.code).toBe(1000);
    expect(sim.stats.sockets[0]!.closedBy).toBe('client');
  });

  it('stream-input: text, then {"text":""} renders the rest, sends isFinal and closes', async () => {
    await startSim();
    const s = await plainSocket(
      '/v1/text-to-speech/voice-1/stream-input?output_format=pcm_16000&auto_mode=true',
    );
    const send = (m: unknown) => s.ws.send(JSON.stringify(m));
    send({ text: ' ', voice_settings: { stability: 0.5, similarity_boost: 0.8 } });
    send({ text: 'Hello world. ', flush: false });
    send({ text: '' });
    await waitUntil(() => sim.stats.sockets[0]!.messages === 3, 'messages');
    await clock.advanceTo(2_000);
    await waitUntil(() => s.closed !== null, 'the close');
    const final = s.messages.at(-1)!;
    expect(final).toEqual({ isFinal: true });
    const audio = s.messages.filter((m) => typeof m.audio === 'string');
    const bytes = audio.reduce((n, m) => n + Buffer.from(m.audio as string, 'base64').length, 0);
    expect(bytes).toBe(ttsSamplesFor(profile, 13) * 2);
    expect(audio.every((m) => m.contextId === undefined)).toBe(true);
    expect(s.closed!.code).toBe(1000);
  });

  it("takes the key with the first message: a socket without one closes with 1008 and ElevenLabs' message", async () => {
    await startSim();
    const ws = new WebSocket(
      `${sim.url.replace('http', 'ws')}/v1/text-to-speech/v/multi-stream-input?output_format=pcm_16000`,
    );
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const closedWith = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.send(JSON.stringify({ text: ' ', context_id: 'a' }));
    expect(await closedWith).toEqual({
      code: 1008,
      reason: 'Neither authorization header nor xi-api-key received, please provide one.',
    });
    expect(sim.stats.contexts).toEqual([]);

    // The key in the first message (xi_api_key) is accepted as well as the header.
    const keyed = new WebSocket(
      `${sim.url.replace('http', 'ws')}/v1/text-to-speech/v/multi-stream-input?output_format=pcm_16000`,
    );
    cleanup.push(() => keyed.terminate());
    await new Promise((resolve, reject) => keyed.once('open', resolve).once('error', reject));
    keyed.send(JSON.stringify({ text: ' ', context_id: 'b', xi_api_key: KEY }));
    await waitUntil(() => sim.stats.contexts.length === 1, 'the context');
    expect(sim.stats.sockets[1]!.closedAt).toBeNull();
  });

  it('refuses a multi-context socket for eleven_v3 at the upgrade', async () => {
    await startSim();
    const ws = new WebSocket(
      `${sim.url.replace('http', 'ws')}/v1/text-to-speech/v/multi-stream-input?model_id=eleven_v3&output_format=pcm_16000`,
      { headers: { 'xi-api-key': KEY } },
    );
    const status = await new Promise<{ code: number; body: string }>((resolve) => {
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      });
      ws.on('error', () => {});
    });
    ws.terminate();
    expect(status.code).toBe(400);
    expect(JSON.parse(status.body)).toEqual({
      detail: {
        status: 'invalid_model',
        message: 'Multi-context WebSockets are not available for the eleven_v3 model.',
      },
    });
  });

  it('a keep-alive naming an unknown context opens it; a changed voice_settings closes the socket with 1008', async () => {
    await startSim();
    const socket = await plainSocket('/v1/text-to-speech/v/multi-stream-input?output_format=pcm_16000');
    socket.ws.send(JSON.stringify({ text: ' ', context_id: 'a', voice_settings: { stability: 0.5 } }));
    socket.ws.send(JSON.stringify({ text: '', context_id: 'ghost' }));
    socket.ws.send(JSON.stringify({ text: '' }));
    await waitUntil(() => sim.stats.sockets[0]!.messages === 3, 'the messages');
    expect(sim.stats.contexts.map((c) => c.contextId)).toEqual(['a', 'ghost']);
    expect(sim.stats.sockets[0]!.keepAlives).toBe(1);
    // The same settings again, or none, are fine; other ones are not.
    socket.ws.send(JSON.stringify({ text: ' ', context_id: 'b', voice_settings: { stability: 0.5 } }));
    socket.ws.send(JSON.stringify({ text: ' ', context_id: 'c' }));
    socket.ws.send(JSON.stringify({ text: ' ', context_id: 'd', voice_settings: { stability: 0.9 } }));
    await waitUntil(() => socket.closed !== null, 'the close');
    expect(socket.closed).toEqual({
      code: 1008,
      reason:
        'voice_settings field must be provided in the first message and then either be not provided or not change.',
    });
    expect(sim.stats.contexts.map((c) => c.contextId)).toEqual(['a', 'ghost', 'b', 'c']);
  });

  it('frees the slot of a cancelled context only when it has finished closing (isFinal); a sixth context is refused with 1008', async () => {
    await startSim();
    const socket = await plainSocket('/v1/text-to-speech/v/multi-stream-input?output_format=pcm_16000');
    for (const id of ['a', 'b', 'c', 'd', 'e']) {
      socket.ws.send(JSON.stringify({ text: 'Hello there, how are you? ', context_id: id, flush: false }));
    }
    await waitUntil(() => sim.stats.contexts.length === 5, 'five contexts');
    // "a" is being rendered (first audio due at 200 ms): closing it takes until that step is done.
    socket.ws.send(JSON.stringify({ context_id: 'a', flush: true }));
    socket.ws.send(JSON.stringify({ text: 'more ', context_id: 'a' }));
    await clock.advanceTo(50);
    socket.ws.send(JSON.stringify({ context_id: 'a', close_context: true }));
    await waitUntil(() => sim.stats.context('a')!.outcome === 'cancelled', 'the cancel');
    expect(sim.stats.context('a')!.slotFreedAt).toBeNull();
    await clock.advanceTo(200);
    await waitUntil(
      () => socket.messages.some((m) => m.isFinal === true && m.contextId === 'a'),
      'its isFinal',
    );
    expect(sim.stats.context('a')!.slotFreedAt).toBe(200);
    // The freed slot takes a new context; one more is too many.
    socket.ws.send(JSON.stringify({ text: ' ', context_id: 'f' }));
    socket.ws.send(JSON.stringify({ text: ' ', context_id: 'g' }));
    await waitUntil(() => socket.closed !== null, 'the close');
    expect(socket.closed).toEqual({ code: 1008, reason: 'max_active_conversations' });
    expect(socket.messages.at(-1)).toMatchObject({ error: 'max_active_conversations', code: 1008 });
    expect(sim.stats.sockets[0]!.mostContexts).toBe(5);
  });
});
