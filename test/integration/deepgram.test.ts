/**
 * The real Deepgram SDK (through DeepgramStt) against the Deepgram simulator on 127.0.0.1.
 *
 * Time: the simulator and the provider share one VirtualClock. A test streams audio in 20 ms
 * frames as a microphone would (advance the clock 20 ms, send a frame) and, after each frame,
 * awaits the simulator's `waitForAudio` barrier, so the frame has been received (and the events
 * it makes known scheduled) before time moves on. Events the provider emits are awaited
 * through promises resolved by the event handler. Nothing sleeps: vitest's test timeout is the
 * only wall-clock bound.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { VirtualClock } from '../../src/main/engine/clock';
import type { SttEvent } from '../../src/main/engine/ports';
import {
  defaultProfile,
  finalTranscript,
  loadCase,
  type CaseTurn,
} from '../../src/main/engine/scripted/case';
import { normalizeTranscript } from '../../src/main/engine/text/normalize';
import {
  CLOSE_TIMEOUT_MS,
  DeepgramStt,
  FLUX_CHUNK_MS,
  KEEPALIVE_INTERVAL_MS,
  RECONNECT_INITIAL_DELAY_MS,
  type DeepgramSttStream,
} from '../../src/main/providers/deepgram';
import { ProviderError } from '../../src/main/providers/errors';
import { defaultSettings, type SttSettings } from '../../src/shared/settings';
import { SIM_API_KEY, type Fault } from '../../sim/common';
import { IDEAL_STT } from '../../src/main/engine/scripted/case-events';
import {
  INACTIVITY_CLOSE_REASON,
  startDeepgramSim,
  type DeepgramSimConnection,
  type RunningDeepgramSim,
} from '../../sim/deepgram';
import { flight, FRAME, FRAME_MS, RATE } from '../helpers/flight-turn';

const caseData = { turns: [flight], profile: defaultProfile() };
const FLUX_CHUNK = (RATE * FLUX_CHUNK_MS) / 1000;

/** The provider's events, with a way to await one. */
class EventLog {
  readonly entries: { at: number; event: SttEvent }[] = [];
  private waiters: { test: (e: SttEvent) => boolean; count: number; resolve: (e: SttEvent) => void }[] = [];

  constructor(private readonly clock: VirtualClock) {}

  get events(): SttEvent[] {
    return this.entries.map((e) => e.event);
  }

  push = (event: SttEvent): void => {
    this.entries.push({ at: this.clock.now(), event });
    this.waiters = this.waiters.filter((w) => {
      const matches = this.events.filter(w.test);
      if (matches.length < w.count) return true;
      w.resolve(matches[w.count - 1]!);
      return false;
    });
  };

  /** Resolves with the `count`-th event (1-based, counting past ones) that passes `test`. */
  next(test: (e: SttEvent) => boolean, count = 1): Promise<SttEvent> {
    const matches = this.events.filter(test);
    if (matches.length >= count) return Promise.resolve(matches[count - 1]!);
    return new Promise((resolve) => this.waiters.push({ test, count, resolve }));
  }
}

const isFinal = (e: SttEvent) => e.type === 'final';
const isError = (e: SttEvent) => e.type === 'error';
const isTurn = (name: string) => (e: SttEvent) => e.type === 'turn' && e.event === name;

function describeEvent(e: SttEvent): string {
  switch (e.type) {
    case 'interim':
    case 'final':
      return `${e.type}${e.type === 'final' && e.speechFinal ? '!' : ''}:${e.transcript}`;
    case 'turn':
      return `${e.event}:${e.transcript}`;
    case 'error':
      return `error:${e.message}`;
    default:
      return e.type;
  }
}

/** A message the simulator sent, reduced to what the timing tests compare. */
function describeSent(entry: { at: number; message: unknown }): [number, string] {
  const m = entry.message as Record<string, unknown>;
  if (typeof m !== 'object') return [entry.at, 'malformed'];
  switch (m.type) {
    case 'Results': {
      const alt = (m.channel as { alternatives: { transcript: string }[] }).alternatives[0]!;
      const kind = m.is_final ? (m.speech_final ? 'final!' : 'final') : 'interim';
      return [entry.at, `${kind}:${alt.transcript}${m.from_finalize ? ' (from_finalize)' : ''}`];
    }
    case 'TurnInfo':
      return [entry.at, `${m.event as string}:${m.transcript as string}`];
    default:
      return [entry.at, m.type as string];
  }
}

function sttSettings(flux = false): SttSettings {
  const stt = defaultSettings().stt;
  stt.provider = flux ? 'deepgram-flux' : 'deepgram-nova';
  stt.nova.endpointing_ms = 300;
  stt.nova.utterance_end_ms = 1000;
  return stt;
}

interface Rig {
  clock: VirtualClock;
  sim: RunningDeepgramSim;
  log: EventLog;
  stream: DeepgramSttStream;
  /** Samples sent so far. */
  sent: number;
  /** Flux: the stream forwards audio in FLUX_CHUNK_MS chunks. */
  flux?: boolean;
}

const sims: RunningDeepgramSim[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function startSim(clock: VirtualClock, faults: Fault[] = []): Promise<RunningDeepgramSim> {
  // The protocol, on an idealised STT (one interim per word, bare words); the realistic readings
  // are tested on their own below.
  const sim = await startDeepgramSim({ caseData, clock, faults, behaviour: IDEAL_STT });
  sims.push(sim);
  return sim;
}

async function startRig(
  options: { flux?: boolean; eager?: boolean; faults?: Fault[]; keepAliveIntervalMs?: number } = {},
): Promise<Rig> {
  const clock = new VirtualClock();
  const sim = await startSim(clock, options.faults);
  const log = new EventLog(clock);
  const stt = new DeepgramStt({
    settings: sttSettings(options.flux),
    apiKey: SIM_API_KEY,
    baseUrl: sim.url,
    clock,
    eager: options.eager ?? true,
    sampleRate: RATE,
    ...(options.keepAliveIntervalMs ? { keepAliveIntervalMs: options.keepAliveIntervalMs } : {}),
  });
  expect(stt.turnEvents).toBe(options.flux === true);
  const stream = await stt.connect(log.push);
  return { clock, sim, log, stream, sent: 0, flux: options.flux === true };
}

/**
 * Streams (silent) audio in real time on the virtual clock until `untilSeconds` of audio were
 * sent. After each frame it awaits the simulator having received it: connection `connection`
 * holds the audio from stream second `connectionStart` on.
 */
async function streamAudio(
  rig: Rig,
  untilSeconds: number,
  options: { connection?: number; connectionStart?: number; barrier?: boolean } = {},
): Promise<void> {
  const { connection = 0, connectionStart = 0, barrier = true } = options;
  const target = Math.round(untilSeconds * RATE);
  while (rig.sent < target) {
    await rig.clock.advanceBy(FRAME_MS);
    rig.stream.sendAudio(new Int16Array(FRAME));
    rig.sent += FRAME;
    // Flux audio goes out in whole chunks: the simulator has what the complete chunks hold.
    const forwarded = rig.flux ? Math.floor(rig.sent / FLUX_CHUNK) * FLUX_CHUNK : rig.sent;
    if (barrier) await rig.sim.stats.waitForAudio(forwarded / RATE - connectionStart, connection);
  }
}

/** Closes the stream (CloseStream, then the server's close), letting the clock run meanwhile. */
async function closeRig(rig: Rig): Promise<void> {
  await Promise.all([rig.stream.close(), rig.clock.advanceBy(CLOSE_TIMEOUT_MS + 100)]);
}

function sentLog(connection: DeepgramSimConnection | undefined, types?: string[]): [number, string][] {
  return (connection?.sent ?? [])
    .filter((e) => !types || types.includes((e.message as { type?: string }).type ?? ''))
    .map(describeSent);
}

// ---------- Nova ----------

describe('DeepgramStt (Nova, v1) against the simulator', () => {
  it('gets interims, finals, speech_final, SpeechStarted and UtteranceEnd timed from the audio received', async () => {
    const rig = await startRig();
    await streamAudio(rig, 5);
    const last = await rig.log.next((e) => e.type === 'utterance_end', 2);
    expect(last.type).toBe('utterance_end');

    const connection = rig.sim.stats.connection(0)!;
    expect(connection.api).toBe('v1');
    expect(connection.auth).toBe('token');
    expect(connection.query).toMatchObject({
      model: 'nova-3',
      encoding: 'linear16',
      sample_rate: '16000',
      interim_results: 'true',
      endpointing: '300',
      utterance_end_ms: '1000',
      vad_events: 'true',
      smart_format: 'true',
    });
    // Sim clock times: interims 150 ms after the audio up to the word's end was received, the
    // speech-final result 250 ms after the endpointing silence, UtteranceEnd 1 s after the last word.
    expect(sentLog(connection)).toEqual([
      [650, 'SpeechStarted'],
      [950, 'interim:book'],
      [1110, 'interim:book a'],
      [1550, 'interim:book a flight'],
      [1750, 'interim:book a flight to'],
      [2150, 'final!:Book a flight to.'],
      [2850, 'UtteranceEnd'],
      [2850, 'SpeechStarted'],
      [3150, 'interim:paris'],
      [3550, 'final!:Paris.'],
      [4250, 'UtteranceEnd'],
    ]);
    const firstFinal = connection.sent[5]!.message as Record<string, unknown>;
    expect(firstFinal).toMatchObject({
      type: 'Results',
      is_final: true,
      speech_final: true,
      from_finalize: false,
      start: 0,
      duration: 1.9,
      channel: {
        alternatives: [
          {
            transcript: 'Book a flight to.',
            words: [
              { word: 'book', start: 0.5, end: 0.8, punctuated_word: 'Book' },
              { word: 'a', start: 0.86, end: 0.96, punctuated_word: 'a' },
              { word: 'flight', start: 1, end: 1.4, punctuated_word: 'flight' },
              { word: 'to', start: 1.46, end: 1.6, punctuated_word: 'to.' },
            ],
          },
        ],
      },
    });
    expect(connection.sent[6]!.message).toMatchObject({ type: 'UtteranceEnd', last_word_end: 1.6 });
    expect(connection.sent[0]!.message).toMatchObject({ type: 'SpeechStarted', timestamp: 0.5 });
    // The next window starts where the last final ended.
    expect(connection.sent[9]!.message).toMatchObject({ start: 1.9, duration: 1.4, is_final: true });

    // The provider maps them one to one; interims carry only the text since the last final.
    expect(rig.log.events.map(describeEvent)).toEqual([
      'speech_started',
      'interim:book',
      'interim:book a',
      'interim:book a flight',
      'interim:book a flight to',
      'final!:Book a flight to.',
      'utterance_end',
      'speech_started',
      'interim:paris',
      'final!:Paris.',
      'utterance_end',
    ]);
    const final = rig.log.events[5]!;
    expect(final.type === 'final' && final.words).toEqual([
      { word: 'Book', start: 0.5, end: 0.8, confidence: 0.99 },
      { word: 'a', start: 0.86, end: 0.96, confidence: 0.99 },
      { word: 'flight', start: 1, end: 1.4, confidence: 0.99 },
      { word: 'to.', start: 1.46, end: 1.6, confidence: 0.99 },
    ]);
    await closeRig(rig);
    const closed = await rig.sim.stats.waitForClose(0);
    expect(closed.closeStreams).toBe(1);
    expect(closed.closeCode).toBe(1000);
    expect(closed.sent.at(-1)!.message).toMatchObject({ type: 'Metadata', duration: 5, channels: 1 });
  });

  it('Finalize makes Deepgram finalise what it heard (from_finalize), and the later final does not repeat it', async () => {
    const rig = await startRig();
    await streamAudio(rig, 1.2); // "book a" heard, "flight" not finished
    rig.stream.finalize();
    await rig.sim.stats.waitFor((s) => s.connection(0)!.finalizes === 1);
    await rig.clock.advanceBy(250);
    const finalized = await rig.log.next(isFinal);
    expect(finalized).toMatchObject({
      type: 'final',
      transcript: 'Book a',
      speechFinal: false,
      fromFinalize: true,
    });
    const wire = rig.sim.stats
      .connection(0)!
      .sent.find((e) => (e.message as { is_final?: boolean }).is_final)!;
    expect(wire.message).toMatchObject({ from_finalize: true, speech_final: false, start: 0, duration: 1.2 });

    await streamAudio(rig, 2.5);
    const next = await rig.log.next(isFinal, 2);
    expect(describeEvent(next)).toBe('final!:Flight to.');
    expect(
      rig.log.events
        .filter((e) => e.type === 'interim')
        .map(describeEvent)
        .slice(-2),
    ).toEqual(['interim:flight', 'interim:flight to']);
    await closeRig(rig);
  });

  it('a Finalize after the last final, with only silence since, gets no answer (as Deepgram documents)', async () => {
    const rig = await startRig();
    await streamAudio(rig, 4.5);
    await rig.log.next(isFinal, 2); // "Book a flight to." and "Paris.", both speech-final
    const finalsBefore = rig.log.events.filter(isFinal).length;
    rig.stream.finalize();
    await rig.sim.stats.waitFor((s) => s.connection(0)!.finalizes === 1);
    await streamAudio(rig, 5.5);
    expect(rig.sim.stats.connection(0)!.finalizesAnswered).toBe(0);
    expect(rig.log.events.filter(isFinal)).toHaveLength(finalsBefore);
    await closeRig(rig);
  });

  it('sends KeepAlive while no audio flows, which keeps the socket open past 10 s of silence', async () => {
    const rig = await startRig();
    for (let t = 1000; t <= 25_000; t += 1000) {
      await rig.clock.advanceTo(t);
      if (t % KEEPALIVE_INTERVAL_MS === 0)
        await rig.sim.stats.waitForKeepAlives(t / KEEPALIVE_INTERVAL_MS, 0);
    }
    const connection = rig.sim.stats.connection(0)!;
    expect(connection.keepAlives).toBe(Math.floor(25_000 / KEEPALIVE_INTERVAL_MS));
    expect(connection.closed).toBe(false);
    expect(rig.stream.isOpen).toBe(true);
    // No KeepAlive while audio flows.
    const before = connection.keepAlives;
    await streamAudio(rig, 4);
    expect(connection.keepAlives).toBe(before);
    expect(rig.log.events.filter(isError)).toEqual([]);
    await closeRig(rig);
  });

  it('without KeepAlive the simulator closes the socket after 10 s of silence (NET-0001), and the stream reconnects', async () => {
    const rig = await startRig({ keepAliveIntervalMs: 60_000 });
    await rig.clock.advanceTo(9_990);
    expect(rig.sim.stats.connection(0)!.closed).toBe(false);
    await rig.clock.advanceTo(10_000);
    const closed = await rig.sim.stats.waitForClose(0);
    expect(closed).toMatchObject({ closeCode: 1011, closeReason: INACTIVITY_CLOSE_REASON, keepAlives: 0 });
    const error = await rig.log.next(isError);
    expect(error).toMatchObject({ type: 'error', recoverable: true });
    expect(describeEvent(error)).toMatch(/connection lost \(close 1011: NET-0001/);
    await rig.clock.advanceBy(RECONNECT_INITIAL_DELAY_MS);
    await rig.sim.stats.waitForConnections(2);
    expect(rig.stream.connections).toBe(2);
    await closeRig(rig);
  });

  it('keeps the turn complete when the socket drops mid-utterance: reconnects, replays the unfinalised audio', async () => {
    const rig = await startRig({ faults: [{ kind: 'drop', afterAudioSeconds: 2.8 }] });
    await streamAudio(rig, 2.78);
    // The first phrase was finalised (up to 1.9 s of audio) before the drop.
    expect(describeEvent(await rig.log.next(isFinal))).toBe('final!:Book a flight to.');
    await streamAudio(rig, 2.8); // the simulator drops the connection on this frame, mid-"paris"
    const lost = await rig.log.next(isError);
    expect(lost).toMatchObject({ recoverable: true });
    expect(describeEvent(lost)).toMatch(/connection lost \(.+\); reconnecting/);
    const dropped = await rig.sim.stats.waitForClose(0);
    expect(dropped).toMatchObject({ fault: 'drop', closeCode: 1006 });

    // The microphone goes on while the stream reconnects (backoff on the clock): audio is buffered.
    const reconnectAt = rig.clock.now() + RECONNECT_INITIAL_DELAY_MS;
    await streamAudio(rig, reconnectAt / 1000 + 0.01, { barrier: false });
    await rig.sim.stats.waitForConnections(2);
    const resumed = rig.sim.stats.connection(1)!;
    // Deepgram had finalised up to 1.9 s: the replay starts there and covers everything since.
    await rig.sim.stats.waitForAudio(rig.sent / RATE - 1.9, 1);
    expect(resumed.startAt).toBe(1.9);
    expect(resumed.sessionId).toBe(dropped.sessionId);
    expect(resumed.audioSeconds).toBeCloseTo(rig.sent / RATE - 1.9, 6);

    await streamAudio(rig, 5, { connection: 1, connectionStart: 1.9 });
    const second = await rig.log.next(isFinal, 2);
    expect(describeEvent(second)).toBe('final!:Paris.');
    // Word times stay on the stream's timeline across connections.
    expect(second.type === 'final' && second.words?.[0]).toMatchObject({
      word: 'Paris.',
      start: 2.6,
      end: 3,
    });
    const finals = rig.log.events.filter(isFinal).map((e) => (e.type === 'final' ? e.transcript : ''));
    expect(normalizeTranscript(finals.join(' '))).toBe(normalizeTranscript(finalTranscript(flight)));
    expect(rig.log.events.filter(isError)).toHaveLength(1);
    expect(sentLog(resumed, ['Results']).map(([, what]) => what)).toEqual(['interim:paris', 'final!:Paris.']);
    await closeRig(rig);
  });

  it('replays from the start of the turn when the socket drops before any final', async () => {
    const rig = await startRig({ faults: [{ kind: 'drop', afterAudioSeconds: 1.2 }] });
    await streamAudio(rig, 1.2);
    await rig.log.next(isError);
    await streamAudio(rig, 1.2 + RECONNECT_INITIAL_DELAY_MS / 1000, { barrier: false });
    await rig.sim.stats.waitForConnections(2);
    await rig.sim.stats.waitForAudio(rig.sent / RATE, 1);
    expect(rig.sim.stats.connection(1)!.startAt).toBe(0);
    await streamAudio(rig, 5, { connection: 1 });
    await rig.log.next(isFinal, 2);
    const finals = rig.log.events.filter(isFinal).map(describeEvent);
    expect(finals).toEqual(['final!:Book a flight to.', 'final!:Paris.']);
    await closeRig(rig);
  });

  it('a delayed upgrade (delay fault) opens once the simulator clock has passed the delay', async () => {
    const clock = new VirtualClock();
    const sim = await startSim(clock, [{ kind: 'delay', ms: 500 }]);
    const stt = new DeepgramStt({
      settings: sttSettings(),
      apiKey: SIM_API_KEY,
      baseUrl: sim.url,
      clock,
      eager: true,
      sampleRate: RATE,
    });
    let connected = false;
    const connecting = stt
      .connect(() => {})
      .then((stream) => {
        connected = true;
        return stream;
      });
    await sim.stats.waitFor((s) => s.delayed === 1);
    await clock.advanceBy(499);
    expect(connected).toBe(false);
    expect(sim.stats.connections).toHaveLength(0);
    await clock.advanceBy(1);
    const stream = await connecting;
    expect(sim.stats.connection(0)!.openedAt).toBe(500);
    await Promise.all([stream.close(), clock.advanceBy(CLOSE_TIMEOUT_MS + 100)]);
  });

  it('reports a malformed message as a recoverable error and carries on', async () => {
    const rig = await startRig({ faults: [{ kind: 'malformed', afterChunks: 2 }] });
    await streamAudio(rig, 5);
    await rig.log.next((e) => e.type === 'utterance_end', 2);
    const errors = rig.log.events.filter(isError);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ type: 'error', recoverable: true });
    expect(describeEvent(errors[0]!)).toMatch(/not JSON/);
    expect(rig.sim.stats.connection(0)!.sent[2]!.message).toBeTypeOf('string');
    // Nothing lost: every event still arrives, in order, around the error.
    expect(rig.log.events.filter((e) => !isError(e)).map(describeEvent)).toEqual([
      'speech_started',
      'interim:book',
      'interim:book a',
      'interim:book a flight',
      'interim:book a flight to',
      'final!:Book a flight to.',
      'utterance_end',
      'speech_started',
      'interim:paris',
      'final!:Paris.',
      'utterance_end',
    ]);
    expect(rig.log.events.map(describeEvent)[2]).toMatch(/^error:/);
    expect(rig.stream.connections).toBe(1);
    await closeRig(rig);
  });
});

// ---------- Flux ----------

describe('DeepgramStt (Flux, v2) against the simulator', () => {
  const marks = (log: EventLog) =>
    log.entries
      .filter((g) => g.event.type === 'turn' && g.event.event !== 'Update')
      .map((g) => describeEvent(g.event));

  it('reports StartOfTurn, Update, EagerEndOfTurn, TurnResumed and EndOfTurn with eager on', async () => {
    const rig = await startRig({ flux: true, eager: true });
    await streamAudio(rig, 4);
    await rig.log.next(isTurn('EndOfTurn'));
    const connection = rig.sim.stats.connection(0)!;
    expect(connection.api).toBe('v2');
    expect(connection.query).toMatchObject({
      model: 'flux-general-en',
      encoding: 'linear16',
      sample_rate: '16000',
      eot_threshold: '0.7',
      eager_eot_threshold: '0.5',
      eot_timeout_ms: '5000',
    });
    // Flux hears the audio in 80 ms chunks: an event is known once the chunk holding its audio has
    // arrived (StartOfTurn at 0.5 s: the chunk ending at 0.56 s, + 150 ms).
    expect(sentLog(connection).filter(([, what]) => !what.startsWith('Update'))).toEqual([
      [0, 'Connected'],
      [710, 'StartOfTurn:'],
      [1760, 'EagerEndOfTurn:book a flight to'],
      [2790, 'TurnResumed:book a flight to'],
      [3200, 'EagerEndOfTurn:book a flight to paris'],
      [3360, 'EndOfTurn:book a flight to paris'],
    ]);
    // Every message carries a rising sequence_id, from 0.
    expect(connection.sent.map((e) => (e.message as { sequence_id: number }).sequence_id)).toEqual(
      connection.sent.map((_, i) => i),
    );
    expect(connection.sent.at(-1)!.message).toMatchObject({
      type: 'TurnInfo',
      event: 'EndOfTurn',
      turn_index: 0,
      audio_window_start: 0.5,
      audio_window_end: 3.3,
      end_of_turn_confidence: 0.92,
      trigger: 'model',
      words: [
        { word: 'book', confidence: 0.99 },
        { word: 'a', confidence: 0.99 },
        { word: 'flight', confidence: 0.99 },
        { word: 'to', confidence: 0.99 },
        { word: 'paris', confidence: 0.99 },
      ],
    });
    expect(marks(rig.log)).toEqual([
      'StartOfTurn:',
      'EagerEndOfTurn:book a flight to',
      'TurnResumed:book a flight to',
      'EagerEndOfTurn:book a flight to paris',
      'EndOfTurn:book a flight to paris',
    ]);
    expect(rig.log.events.find(isTurn('EagerEndOfTurn'))).toMatchObject({ confidence: 0.6 });
    expect(rig.log.events.filter(isTurn('Update')).map(describeEvent)).toEqual([
      'Update:book',
      'Update:book a',
      'Update:book a flight',
      'Update:book a flight to',
      'Update:book a flight to paris',
    ]);
    // Flux has no Finalize (nothing is sent) and no KeepAlive.
    rig.stream.finalize();
    // Less than a chunk waits for the next; closing sends it before CloseStream.
    await streamAudio(rig, 4.04);
    expect(rig.sim.stats.connection(0)!.audioSeconds).toBe(4);
    await closeRig(rig);
    expect(rig.sim.stats.connection(0)!).toMatchObject({ finalizes: 0, keepAlives: 0, closeStreams: 1 });
    expect(rig.sim.stats.connection(0)!.audioSeconds).toBeCloseTo(4.04, 6);
  });

  it('numbers Flux turns across the stream: a reconnection goes on counting from the turns that ended', async () => {
    const back: CaseTurn = {
      words: [
        { text: 'and', start: 5, end: 5.2 },
        { text: 'back', start: 5.26, end: 5.6 },
      ],
      holds: [],
      interims: [],
      end_eot_confidence: 0.9,
      reply: 'Returning when?',
    };
    const clock = new VirtualClock();
    const sim = await startDeepgramSim({
      caseData: { turns: [flight, back], profile: defaultProfile() },
      clock,
      faults: [{ kind: 'drop', afterAudioSeconds: 3.6 }],
      behaviour: IDEAL_STT,
    });
    sims.push(sim);
    const log = new EventLog(clock);
    const stt = new DeepgramStt({
      settings: sttSettings(true),
      apiKey: SIM_API_KEY,
      baseUrl: sim.url,
      clock,
      eager: true,
      sampleRate: RATE,
    });
    const rig: Rig = { clock, sim, log, stream: await stt.connect(log.push), sent: 0, flux: true };
    await streamAudio(rig, 3.6);
    await rig.log.next(isError);
    await streamAudio(rig, 3.6 + RECONNECT_INITIAL_DELAY_MS / 1000, { barrier: false });
    await rig.sim.stats.waitForConnections(2);
    expect(rig.sim.stats.connection(1)!.startAt).toBe(3.3);
    await rig.sim.stats.waitForAudio(Math.floor(rig.sent / FLUX_CHUNK) * (FLUX_CHUNK_MS / 1000) - 3.3, 1);
    await streamAudio(rig, 7, { connection: 1, connectionStart: 3.3 });
    await rig.log.next(isTurn('EndOfTurn'), 2);
    const wire = rig.sim.stats
      .connection(1)!
      .sent.filter((e) => (e.message as { type: string }).type === 'TurnInfo');
    expect(new Set(wire.map((e) => (e.message as { turn_index: number }).turn_index))).toEqual(new Set([0]));
    const turns = rig.log.events.flatMap((e) =>
      e.type === 'turn' && e.event !== 'Update' ? [`${e.turnIndex} ${e.event}:${e.transcript}`] : [],
    );
    expect(turns).toEqual([
      '0 StartOfTurn:',
      '0 EagerEndOfTurn:book a flight to',
      '0 TurnResumed:book a flight to',
      '0 EagerEndOfTurn:book a flight to paris',
      '0 EndOfTurn:book a flight to paris',
      '1 StartOfTurn:',
      '1 EagerEndOfTurn:and back',
      '1 EndOfTurn:and back',
    ]);
    await closeRig(rig);
  });

  it('sends no eager_eot_threshold with preemptive generation off: no EagerEndOfTurn or TurnResumed', async () => {
    const rig = await startRig({ flux: true, eager: false });
    await streamAudio(rig, 4);
    await rig.log.next(isTurn('EndOfTurn'));
    expect(rig.sim.stats.connection(0)!.query.eager_eot_threshold).toBeUndefined();
    expect(marks(rig.log)).toEqual(['StartOfTurn:', 'EndOfTurn:book a flight to paris']);
    const end = rig.sim.stats.connection(0)!.sent.at(-1)!;
    expect(describeSent(end)).toEqual([3360, 'EndOfTurn:book a flight to paris']);
    await closeRig(rig);
  });

  it('Configure retunes the thresholds mid-stream (ConfigureSuccess) and refuses bad ones (ConfigureFailure)', async () => {
    const rig = await startRig({ flux: true, eager: false });
    await expect(rig.stream.configure({ eot_threshold: 1.5 })).rejects.toMatchObject({
      provider: 'Deepgram',
      kind: 'bad_request',
    });
    await rig.stream.configure({ eager_eot_threshold: 0.5 });
    const connection = rig.sim.stats.connection(0)!;
    expect(connection.configures).toBe(2);
    expect(connection.sent.map((e) => (e.message as { type: string }).type)).toEqual([
      'Connected',
      'ConfigureFailure',
      'ConfigureSuccess',
    ]);
    expect(connection.sent[2]!.message).toMatchObject({
      thresholds: { eot_threshold: 0.7, eager_eot_threshold: 0.5, eot_timeout_ms: 5000 },
      sequence_id: 2,
    });
    await streamAudio(rig, 4);
    await rig.log.next(isTurn('EndOfTurn'));
    expect(marks(rig.log)).toEqual([
      'StartOfTurn:',
      'EagerEndOfTurn:book a flight to',
      'TurnResumed:book a flight to',
      'EagerEndOfTurn:book a flight to paris',
      'EndOfTurn:book a flight to paris',
    ]);
    await closeRig(rig);
  });
});

// ---------- keys and refusals ----------

describe('DeepgramStt connection errors', () => {
  const provider = (sim: RunningDeepgramSim, clock: VirtualClock, apiKey: string | undefined, flux = false) =>
    new DeepgramStt({
      settings: sttSettings(flux),
      apiKey,
      baseUrl: sim.url,
      clock,
      eager: true,
      sampleRate: RATE,
    });

  it('a missing key is a missing_key ProviderError before any connection', async () => {
    const clock = new VirtualClock();
    const sim = await startSim(clock);
    for (const key of [undefined, '', '   ']) {
      const error = await provider(sim, clock, key)
        .connect(() => {})
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ provider: 'Deepgram', kind: 'missing_key', retryable: false });
      expect((error as Error).message).toMatch(/Deepgram API key in settings, or DEEPGRAM_API_KEY/);
    }
    expect(sim.stats.connections).toHaveLength(0);
    expect(sim.stats.refused).toHaveLength(0);
  });

  it("a wrong key is refused with 401 and Deepgram's body; connect() rejects with invalid_key naming the setting", async () => {
    const clock = new VirtualClock();
    const sim = await startSim(clock);
    for (const flux of [false, true]) {
      const error = await provider(sim, clock, 'not-the-key', flux)
        .connect(() => {})
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({
        provider: 'Deepgram',
        kind: 'invalid_key',
        status: 401,
        retryable: false,
      });
      expect((error as Error).message).toMatch(/^Deepgram: the API key was rejected \(401/);
      expect((error as Error).message).toMatch(/Deepgram API key in settings, or DEEPGRAM_API_KEY/);
    }
    expect(sim.stats.connections).toHaveLength(0);
    expect(sim.stats.refused.map((r) => [r.path, r.status, r.body.err_code, r.body.err_msg])).toEqual([
      ['/v1/listen', 401, 'INVALID_AUTH', 'Invalid credentials.'],
      ['/v2/listen', 401, 'INVALID_AUTH', 'Invalid credentials.'],
    ]);
  });

  it('maps a refused query (400) to bad_request and an injected 429 to a retryable rate_limited', async () => {
    const clock = new VirtualClock();
    const sim = await startSim(clock, [{ kind: 'status', status: 429 }]);
    const limited = await provider(sim, clock, SIM_API_KEY)
      .connect(() => {})
      .catch((e: unknown) => e);
    expect(limited).toMatchObject({ kind: 'rate_limited', status: 429, retryable: true });

    const settings = sttSettings(true);
    settings.flux.model = 'nova-3'; // not a Flux model
    const stt = new DeepgramStt({
      settings,
      apiKey: SIM_API_KEY,
      baseUrl: sim.url,
      clock,
      eager: true,
      sampleRate: RATE,
    });
    const refused = await stt.connect(() => {}).catch((e: unknown) => e);
    expect(refused).toMatchObject({ provider: 'Deepgram', kind: 'bad_request', status: 400 });
    expect(sim.stats.refused.map((r) => [r.status, r.body.err_code])).toEqual([
      [429, 'TOO_MANY_REQUESTS'],
      [400, 'INVALID_QUERY_PARAMETER'],
    ]);
  });
});

// ---------- an independent client ----------

type Inbox = ReturnType<typeof collect>;

/**
 * Opens a plain `ws` client (its messages collected from the start); resolves when open, or
 * with the refused upgrade's status, headers and JSON body.
 */
function openPlain(
  url: string,
  options: { protocols?: string[]; headers?: Record<string, string> } = {},
): Promise<
  | { ws: WebSocket; inbox: Inbox }
  | { status: number; body: Record<string, unknown>; headers: Record<string, unknown> }
> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {} });
    const inbox = collect(ws);
    ws.once('open', () => resolve({ ws, inbox }));
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          body: JSON.parse(text) as Record<string, unknown>,
          headers: res.headers,
        });
        ws.terminate();
      });
    });
    ws.once('error', reject);
  });
}

/** Collects a plain client's messages, with a way to await one. */
function collect(ws: WebSocket) {
  const messages: Record<string, unknown>[] = [];
  let waiters: {
    test: (m: Record<string, unknown>) => boolean;
    resolve: (m: Record<string, unknown>) => void;
  }[] = [];
  ws.on('message', (data, isBinary) => {
    expect(isBinary).toBe(false);
    const message = JSON.parse(String(data)) as Record<string, unknown>;
    messages.push(message);
    waiters = waiters.filter((w) => (w.test(message) ? (w.resolve(message), false) : true));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })),
  );
  return {
    messages,
    closed,
    next: (test: (m: Record<string, unknown>) => boolean) => {
      const found = messages.find(test);
      if (found) return Promise.resolve(found);
      return new Promise<Record<string, unknown>>((resolve) => waiters.push({ test, resolve }));
    },
  };
}

describe("the simulator speaks Deepgram's documented protocol to a plain WebSocket client", () => {
  it('v1 with the browser subprotocol auth: real case audio in, Results out, Finalize, KeepAlive, CloseStream → Metadata and 1000', async () => {
    const weather = await loadCase('test/fixtures/cases/weather-question');
    const clock = new VirtualClock();
    const sim = await startDeepgramSim({ caseData: weather, clock, behaviour: IDEAL_STT });
    sims.push(sim);
    const base = sim.url.replace('http', 'ws');
    const query =
      'model=nova-3&encoding=linear16&sample_rate=16000&channels=1&interim_results=true&endpointing=300&utterance_end_ms=1000&vad_events=true&punctuate=true';
    const opened = await openPlain(`${base}/v1/listen?${query}`, { protocols: ['token', SIM_API_KEY] });
    if (!('ws' in opened)) throw new Error(`refused: ${opened.status}`);
    const { ws, inbox } = opened;
    expect(ws.protocol).toBe('token');
    expect(sim.stats.connection(0)).toMatchObject({ auth: 'subprotocol', sessionId: null });

    // The case audio, 100 ms at a time in real time (little-endian 16-bit PCM), to 4 s.
    const chunk = RATE / 10;
    for (let i = 0; i * chunk < 4 * RATE; i++) {
      await clock.advanceBy(100);
      const samples = weather.audio.subarray(i * chunk, (i + 1) * chunk);
      ws.send(Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
      await sim.stats.waitForAudio(Math.min((i + 1) * chunk, weather.audio.length) / RATE, 0);
    }
    const final = await inbox.next((m) => m.type === 'Results' && m.speech_final === true);
    const alternative = (final.channel as { alternatives: { transcript: string }[] }).alternatives[0]!;
    expect(normalizeTranscript(alternative.transcript)).toBe(
      normalizeTranscript(finalTranscript(weather.turns[0]!)),
    );
    expect(alternative.transcript).toBe("What's the weather like in paris today?");
    expect(final).toMatchObject({ is_final: true, from_finalize: false, channel_index: [0, 1] });
    expect(inbox.messages[0]).toMatchObject({ type: 'SpeechStarted', channel: [0], timestamp: 0.5 });

    ws.send(JSON.stringify({ type: 'KeepAlive' }));
    ws.send(JSON.stringify({ type: 'Finalize' }));
    await sim.stats.waitFor((s) => s.connection(0)!.finalizes === 1);
    expect(sim.stats.connection(0)!.keepAlives).toBe(1);
    await clock.advanceBy(weather.profile.stt_final_lag_ms * 2);
    // Nothing but silence since the last final: Deepgram does not answer that Finalize.
    expect(sim.stats.connection(0)!.finalizesAnswered).toBe(0);
    expect(inbox.messages.some((m) => m.from_finalize === true)).toBe(false);

    ws.send(JSON.stringify({ type: 'CloseStream' }));
    const metadata = await inbox.next((m) => m.type === 'Metadata');
    expect(metadata).toMatchObject({ type: 'Metadata', duration: 4, channels: 1 });
    expect(await inbox.closed).toEqual({ code: 1000, reason: '' });
  });

  it('v1 with silence withheld by the client: audio is placed by content, timestamps count what was received', async () => {
    const threeTurns = await loadCase('test/fixtures/cases/three-turns');
    const clock = new VirtualClock();
    const sim = await startDeepgramSim({ caseData: threeTurns, clock, behaviour: IDEAL_STT });
    sims.push(sim);
    const query =
      'model=nova-3&encoding=linear16&sample_rate=16000&channels=1&interim_results=true&endpointing=25';
    const opened = await openPlain(`${sim.url.replace('http', 'ws')}/v1/listen?${query}`, {
      headers: { Authorization: `Token ${SIM_API_KEY}` },
    });
    if (!('ws' in opened)) throw new Error(`refused: ${opened.status}`);
    // 0–4 s and 7.5–10.5 s of the case, 100 ms a chunk in real time: the 3.5 s between are not sent.
    const chunk = RATE / 10;
    let sent = 0;
    for (let i = 0; i < 105; i++) {
      await clock.advanceBy(100);
      if (i >= 40 && i < 75) continue;
      const samples = threeTurns.audio.subarray(i * chunk, (i + 1) * chunk);
      opened.ws.send(Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
      sent += samples.length;
      await sim.stats.waitForAudio(sent / RATE, 0);
    }
    const second = threeTurns.turns[1]!;
    const final = await opened.inbox.next(
      (m) =>
        m.type === 'Results' &&
        m.speech_final === true &&
        normalizeTranscript(
          (m.channel as { alternatives: { transcript: string }[] }).alternatives[0]!.transcript,
        ) === normalizeTranscript(second.words.at(-1)!.text),
    );
    const words = (final.channel as { alternatives: { words: { start: number }[] }[] }).alternatives[0]!
      .words;
    // Deepgram's times run on the audio it received: 3.5 s earlier than on the case.
    expect(words[0]!.start).toBeCloseTo(second.words.at(-1)!.start - 3.5, 5);
    const transcripts = opened.inbox.messages
      .filter((m) => m.type === 'Results' && m.is_final === true)
      .map((m) => (m.channel as { alternatives: { transcript: string }[] }).alternatives[0]!.transcript)
      .join(' ');
    expect(normalizeTranscript(transcripts)).toBe(
      normalizeTranscript(`${finalTranscript(threeTurns.turns[0]!)} ${finalTranscript(second)}`),
    );
    expect(sim.stats.connection(0)!.audioSeconds).toBeCloseTo(7, 5);
    opened.ws.close();
  });

  it('v1 with speech replaced by silence after withheld silence (LiveKit AEC warm-up): the chunk is still placed by content', async () => {
    const threeTurns = await loadCase('test/fixtures/cases/three-turns');
    const clock = new VirtualClock();
    const sim = await startDeepgramSim({ caseData: threeTurns, clock });
    sims.push(sim);
    const query =
      'model=nova-3&encoding=linear16&sample_rate=16000&channels=1&interim_results=true&endpointing=25';
    const opened = await openPlain(`${sim.url.replace('http', 'ws')}/v1/listen?${query}`, {
      headers: { Authorization: `Token ${SIM_API_KEY}` },
    });
    if (!('ws' in opened)) throw new Error(`refused: ${opened.status}`);
    // 0–4 s and 7.9–10.5 s of the case, 100 ms a chunk: 4–7.9 s are not sent, and the first half of
    // the chunk at 7.9 s (the second turn starts at 7.78 s) is sent as zeros.
    const chunk = RATE / 10;
    let sent = 0;
    for (let i = 0; i < 105; i++) {
      await clock.advanceBy(100);
      if (i >= 40 && i < 79) continue;
      const samples = Int16Array.from(threeTurns.audio.subarray(i * chunk, (i + 1) * chunk));
      if (i === 79) samples.fill(0, 0, chunk / 2);
      opened.ws.send(Buffer.from(samples.buffer));
      sent += samples.length;
      await sim.stats.waitForAudio(sent / RATE, 0);
    }
    await clock.advanceBy(1000);
    opened.ws.send(JSON.stringify({ type: 'CloseStream' }));
    await opened.inbox.closed;
    const second = threeTurns.turns[1]!;
    const speechFinals = opened.inbox.messages.filter((m) => m.type === 'Results' && m.speech_final === true);
    const last = speechFinals.at(-1)!.channel as {
      alternatives: { transcript: string; words: { start: number }[] }[];
    };
    expect(normalizeTranscript(last.alternatives[0]!.transcript)).toContain(
      normalizeTranscript(second.words.at(-1)!.text),
    );
    // Placed where it was in the case: its times are 3.9 s (the audio withheld) earlier.
    expect(last.alternatives[0]!.words.at(-1)!.start).toBeCloseTo(second.words.at(-1)!.start - 3.9, 5);
  });

  it('v2 with the Authorization header: Connected, TurnInfo, Configure → ConfigureSuccess, all with sequence_id', async () => {
    const clock = new VirtualClock();
    const sim = await startSim(clock);
    const base = sim.url.replace('http', 'ws');
    const opened = await openPlain(
      `${base}/v2/listen?model=flux-general-en&encoding=linear16&sample_rate=16000&eot_threshold=0.8`,
      { headers: { Authorization: `Bearer ${SIM_API_KEY}` } },
    );
    if (!('ws' in opened)) throw new Error(`refused: ${opened.status}`);
    const { inbox } = opened;
    expect(await inbox.next((m) => m.type === 'Connected')).toMatchObject({ sequence_id: 0 });
    opened.ws.send(JSON.stringify({ type: 'Configure', thresholds: { eager_eot_threshold: 0.4 } }));
    expect(await inbox.next((m) => m.type === 'ConfigureSuccess')).toMatchObject({
      sequence_id: 1,
      thresholds: { eot_threshold: 0.8, eager_eot_threshold: 0.4, eot_timeout_ms: 5000 },
    });
    for (let i = 0; i < 45; i++) {
      await clock.advanceBy(80);
      opened.ws.send(Buffer.alloc((RATE * 80 * 2) / 1000));
      await sim.stats.waitForAudio(((i + 1) * 80) / 1000, 0);
    }
    const end = await inbox.next((m) => m.type === 'TurnInfo' && m.event === 'EndOfTurn');
    expect(end).toMatchObject({ transcript: 'book a flight to paris', turn_index: 0, trigger: 'model' });
    expect(inbox.messages.map((m) => m.sequence_id)).toEqual(inbox.messages.map((_, i) => i));
    // v2 has no KeepAlive: an unknown message is an Error, then the server closes.
    opened.ws.send(JSON.stringify({ type: 'KeepAlive' }));
    expect(await inbox.next((m) => m.type === 'Error')).toMatchObject({ code: 'UNPARSABLE_CLIENT_MESSAGE' });
    expect((await inbox.closed).code).toBe(1011);
  });

  it("refuses bad keys and bad query values at the upgrade with Deepgram's error bodies", async () => {
    const clock = new VirtualClock();
    const sim = await startSim(clock);
    const base = sim.url.replace('http', 'ws');
    const good = 'encoding=linear16&sample_rate=16000';
    const cases: [string, Record<string, string>, number, string][] = [
      [`/v1/listen?model=nova-3&${good}`, {}, 401, 'INVALID_AUTH'],
      [`/v1/listen?model=nova-3&${good}`, { Authorization: 'Token wrong' }, 401, 'INVALID_AUTH'],
      [
        `/v1/listen?model=nova-3&encoding=mulaw&sample_rate=8000`,
        { Authorization: `Token ${SIM_API_KEY}` },
        400,
        'INVALID_QUERY_PARAMETER',
      ],
      [
        `/v2/listen?model=flux-general-en&${good}&eot_threshold=0.3`,
        { Authorization: `Token ${SIM_API_KEY}` },
        400,
        'INVALID_QUERY_PARAMETER',
      ],
      [
        `/v2/listen?model=flux-general-en&${good}&eager_eot_threshold=0.95`,
        { Authorization: `Token ${SIM_API_KEY}` },
        400,
        'INVALID_QUERY_PARAMETER',
      ],
      [
        `/v2/listen?model=flux-general-en&${good}&eot_threshold=0.6&eager_eot_threshold=0.8`,
        { Authorization: `Token ${SIM_API_KEY}` },
        400,
        'INVALID_QUERY_PARAMETER',
      ],
      [`/v1/speak?${good}`, { Authorization: `Token ${SIM_API_KEY}` }, 404, 'NOT_FOUND'],
    ];
    for (const [path, headers, status, errCode] of cases) {
      const result = await openPlain(`${base}${path}`, { headers });
      if ('ws' in result) throw new Error(`${path} was accepted`);
      expect(result.status).toBe(status);
      expect(Object.keys(result.body).sort()).toEqual(['err_code', 'err_msg', 'request_id']);
      expect(result.body.err_code).toBe(errCode);
      expect(result.headers['dg-request-id']).toBe(result.body.request_id);
    }
    const invalid = sim.stats.refused[0]!.body;
    expect(invalid.err_msg).toBe('Invalid credentials.');
    expect(sim.stats.refused[2]!.body.err_msg).toMatch(/encoding/);
    expect(sim.stats.refused[3]!.body.err_msg).toMatch(/eot_threshold/);
    expect(sim.stats.refused[5]!.body.err_msg).toMatch(
      /eager_eot_threshold: 0\.8 \(must not exceed eot_threshold 0\.6\)/,
    );
    expect(sim.stats.connections).toHaveLength(0);
  });
});
