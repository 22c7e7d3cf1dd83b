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
    expect(sim.stats.sockets[0]).toMatchObject({ multi: true, outputFormat: 'pcm_16000', autoMode: true });

    const first = speak(tts, 'Hello there. ');
    await waitUntil(() => sim.stats.context('cue-1')?.text === 'Hello there. ', 'the first text');
    await drive(() => clock.now() >= 300, wsSynced([first, 'cue-1']));
    first.text.push('How are you? '); // arrives while the first chunk is spoken
    await waitUntil(() => sim.stats.context('cue-1')?.text.length === 26, 'the second text');
    first.text.close();
    await waitUntil(() => sim.stats.context('cue-1')?.flushes === 1, 'the flush');
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
    expect(sim.stats.context('cue-1')).toMatchObject({ text, flushes: 1, outcome: 'completed', socket: 0 });

    const t0 = clock.now();
    const second = speak(tts, 'Fine, thanks.');
    second.text.close();
    await waitUntil(() => sim.stats.context('cue-2')?.flushes === 1, 'the second reply');
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
    await waitUntil(() => sim.stats.context('cue-1')?.flushes === 1, 'the text');
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
    const long = speak(tts, 'x'.repeat(100));
    const other = speak(tts, 'Hello there, how are you? ');
    other.text.close();
    await waitUntil(
      () => sim.stats.context('cue-1')?.text.length === 100 && sim.stats.context('cue-2')?.flushes === 1,
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

  it('without auto_mode the server buffers to the chunk schedule: audio only after the flush', async () => {
    await startSim();
    const tts = wsTts({ autoMode: false });
    await tts.connect();
    const reply = speak(tts, 'Hello there. ');
    await waitUntil(() => sim.stats.context('cue-1')?.text === 'Hello there. ', 'the text');
    await clock.advanceTo(1000);
    expect(sim.stats.context('cue-1')).toMatchObject({ rendered: 0, chunksSent: 0 });
    reply.text.close(); // flush
    await waitUntil(() => sim.stats.context('cue-1')?.flushes === 1, 'the flush');
    await drive(() => reply.got.done, wsSynced([reply, 'cue-1']));
    expect(reply.got.times[0]).toBe(1200);
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
    await waitUntil(() => sim.stats.context('cue-1')?.flushes === 1, 'the reply');
    await drive(() => reply.got.done, wsSynced([reply, 'cue-1']), 40_000);
    expect(reply.got.error).toBeUndefined();
    expect(tts.socketsOpened).toBe(2);
    expect(sim.stats.context('cue-1')!.socket).toBe(1);
  });

  it('keep-alives hold the socket open well past the inactivity timeout', async () => {
    await startSim();
    const tts = wsTts({ inactivityTimeoutS: 20, keepAliveMs: 10_000 });
    await tts.connect();
    for (let k = 1; k <= 12; k++) {
      await clock.advanceTo(k * 10_000);
      await waitUntil(() => sim.stats.sockets[0]!.keepAlives === k, `keep-alive ${k}`);
    }
    expect(sim.stats.closes).toBe(0);
    const reply = speak(tts, 'Still here.');
    reply.text.close();
    await waitUntil(() => sim.stats.context('cue-1')?.flushes === 1, 'the reply');
    await drive(() => reply.got.done, wsSynced([reply, 'cue-1']), 200_000);
    expect(reply.got.error).toBeUndefined();
    expect(tts.socketsOpened).toBe(1);
  });

  it('a rejected key on the upgrade is an invalid_key error naming ElevenLabs and the setting', async () => {
    await startSim();
    const tts = wsTts({}, 'not-the-key');
    const reply = speak(tts, 'Hello.');
    reply.text.close();
    await waitUntil(() => reply.got.done, 'the error');
    const error = errorOf(reply);
    expect(error).toMatchObject({ kind: 'invalid_key', status: 401 });
    expect(error.message).toContain('ElevenLabs');
    expect(error.message).toContain('the ElevenLabs API key in settings, or ELEVENLABS_API_KEY');
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
    await waitUntil(() => sim.stats.context('cue-1')?.flushes === 1, 'the text');
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
    await waitUntil(() => sim.stats.context('cue-1')?.flushes === 1, 'the text');
    await drive(() => reply.got.done, wsSynced([reply, 'cue-1']));
    expect(errorOf(reply).kind).toBe('connection');
    expect(sim.stats.sockets[0]!.closedBy).toBe('fault');

    const next = speak(tts, 'Again.');
    next.text.close();
    await waitUntil(() => sim.stats.context('cue-2')?.flushes === 1, 'the next reply');
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
    await waitUntil(() => sim.stats.context('cue-1')?.flushes === 1, 'the text');
    await drive(() => reply.got.done, wsSynced([reply, 'cue-1']));
    const error = errorOf(reply);
    expect(error.kind).toBe('protocol');
    expect(error.message).toContain('malformed');

    const next = speak(tts, 'Again.');
    next.text.close();
    await waitUntil(() => sim.stats.context('cue-2')?.flushes === 1, 'the next reply');
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

  it('refuses an upgrade without a key with ElevenLabs 401 body', async () => {
    await startSim();
    const ws = new WebSocket(
      `${sim.url.replace('http', 'ws')}/v1/text-to-speech/v/multi-stream-input?output_format=pcm_16000`,
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
    expect(status.code).toBe(401);
    expect(JSON.parse(status.body)).toEqual({
      detail: {
        status: 'needs_authorization',
        message: 'Neither authorization header nor xi-api-key received, please provide one.',
      },
    });
  });
});
