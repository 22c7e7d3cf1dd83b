/**
 * The capture and playback processors, run in a minimal fake AudioWorkletGlobalScope
 * (AudioWorkletProcessor with a port, registerProcessor, sampleRate, currentTime) and driven
 * quantum by quantum as the audio thread would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEVEL_FLOOR_DB, LevelMeter } from '../../src/renderer/src/audio/level-meter';
import type {
  CaptureIn,
  CaptureOut,
  MicFrameMessage,
  PlaybackIn,
  PlaybackOut,
  ProcessorConstructionOptions,
} from '../../src/renderer/src/audio/worklet-protocol';
import { CAPTURE_PROCESSOR, PLAYBACK_PROCESSOR } from '../../src/renderer/src/audio/worklet-protocol';

class FakePort {
  readonly sent: { message: unknown; transfer: unknown[] }[] = [];
  onmessage: ((event: { data: unknown }) => void) | null = null;
  postMessage(message: unknown, transfer: unknown[] = []): void {
    this.sent.push({ message, transfer });
  }
  /** A message from the node's side. */
  deliver(data: unknown): void {
    this.onmessage?.({ data });
  }
  take<T>(): T[] {
    return this.sent.splice(0).map((s) => s.message as T);
  }
}

/** The sink port the engine hands the capture worklet (its other end is main's). */
class FakeSink {
  readonly sent: { message: MicFrameMessage; transfer: unknown[] }[] = [];
  closed = false;
  postMessage(message: MicFrameMessage, transfer: unknown[] = []): void {
    if (this.closed) throw new Error('posted on a closed port');
    this.sent.push({ message, transfer });
  }
  close(): void {
    this.closed = true;
  }
}

type FrameOut = Extract<CaptureOut, { type: 'frame' }>;
type LevelOut = Extract<CaptureOut, { type: 'level' }>;
const framesOf = (messages: CaptureOut[]) => messages.filter((m): m is FrameOut => m.type === 'frame');
const levelsOf = (messages: CaptureOut[]) => messages.filter((m): m is LevelOut => m.type === 'level');

class FakeAudioWorkletProcessor {
  readonly port = new FakePort();
  constructor(_options?: unknown) {}
}

interface Processor {
  port: FakePort;
  process(
    inputs: Float32Array[][],
    outputs: Float32Array[][],
    parameters: Record<string, Float32Array>,
  ): boolean;
}
type ProcessorClass = new (options?: ProcessorConstructionOptions<unknown>) => Processor;

const registered = new Map<string, ProcessorClass>();
const scope = globalThis as unknown as Record<string, unknown>;
const saved = new Map<string, PropertyDescriptor | undefined>();
const GLOBALS = ['AudioWorkletProcessor', 'registerProcessor', 'sampleRate', 'currentTime'];

beforeAll(async () => {
  for (const name of GLOBALS) saved.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
  scope.AudioWorkletProcessor = FakeAudioWorkletProcessor;
  scope.registerProcessor = (name: string, processor: ProcessorClass) => registered.set(name, processor);
  scope.sampleRate = 48_000;
  scope.currentTime = 0;
  await import('../../src/renderer/src/audio/capture-worklet');
  await import('../../src/renderer/src/audio/playback-worklet');
});

afterAll(() => {
  for (const name of GLOBALS) {
    const descriptor = saved.get(name);
    if (descriptor) Object.defineProperty(globalThis, name, descriptor);
    else delete scope[name];
  }
});

function create(name: string, rate: number, processorOptions: unknown): Processor {
  scope.sampleRate = rate;
  scope.currentTime = 0;
  const Processor = registered.get(name);
  if (!Processor) throw new Error(`${name} was not registered`);
  return new Processor({ processorOptions });
}

/** Runs one render quantum at the scope's current time, then advances it. */
function quantum(p: Processor, inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
  const alive = p.process(inputs, outputs, {});
  scope.currentTime = (scope.currentTime as number) + 128 / (scope.sampleRate as number);
  return alive;
}

describe('capture worklet', () => {
  it('registers under its name', () => {
    expect(registered.has(CAPTURE_PROCESSOR)).toBe(true);
    expect(registered.has(PLAYBACK_PROCESSOR)).toBe(true);
  });

  for (const rate of [48_000, 44_100]) {
    it(`downmixes, resamples ${rate} Hz to 16 kHz and posts 20 ms Int16 frames with their capture time`, () => {
      const p = create(CAPTURE_PROCESSOR, rate, { targetRate: 16_000, frameMs: 20 });
      const f = 1000;
      let n = 0;
      for (let q = 0; q < Math.ceil((rate * 0.5) / 128); q++) {
        // Left carries the tone at twice the level, right is silent: the mono mix is the tone.
        const left = Float32Array.from({ length: 128 }, (_, i) =>
          Math.sin((2 * Math.PI * f * (n + i)) / rate),
        );
        n += 128;
        expect(quantum(p, [[left, new Float32Array(128)]], [[new Float32Array(128)]])).toBe(true);
      }
      // Level messages interleave with the frames on the node's port.
      const sent = p.port.sent.splice(0).filter(({ message }) => (message as CaptureOut).type !== 'level');
      expect(sent.length).toBeGreaterThanOrEqual(24);
      sent.forEach(({ message, transfer }, k) => {
        expect((message as CaptureOut).type).toBe('frame');
        const frame = message as FrameOut;
        expect(frame.samples).toBeInstanceOf(Int16Array);
        expect(frame.samples.length).toBe(320);
        expect(transfer).toEqual([frame.samples.buffer]);
        // Frame k starts with 16 kHz sample 320k, captured at 20k ms.
        expect(frame.time).toBeCloseTo(k * 0.02, 6);
        if (k >= 2) {
          for (let i = 0; i < 320; i += 37) {
            const ideal = 0.5 * Math.sin((2 * Math.PI * f * (320 * k + i)) / 16_000);
            expect(Math.abs(frame.samples[i]! / 32768 - ideal)).toBeLessThan(0.002);
          }
        }
      });
    });
  }

  it('posts nothing without input, and stops after close', () => {
    const p = create(CAPTURE_PROCESSOR, 48_000, {});
    for (let q = 0; q < 50; q++) expect(quantum(p, [[]], [[new Float32Array(128)]])).toBe(true);
    expect(p.port.sent).toEqual([]);
    for (let q = 0; q < 10; q++) quantum(p, [[new Float32Array(128).fill(0.1)]], [[new Float32Array(128)]]);
    // One frame, and the first level reading, at once.
    expect(
      p.port
        .take<CaptureOut>()
        .map((m) => m.type)
        .sort(),
    ).toEqual(['frame', 'level']);
    p.port.deliver({ type: 'close' });
    expect(quantum(p, [[new Float32Array(128)]], [[new Float32Array(128)]])).toBe(false);
  });

  it('starts a fresh frame after reset', () => {
    const p = create(CAPTURE_PROCESSOR, 48_000, {});
    for (let q = 0; q < 5; q++) quantum(p, [[new Float32Array(128).fill(0.5)]], [[new Float32Array(128)]]);
    p.port.deliver({ type: 'reset' });
    for (let q = 0; q < 9; q++) quantum(p, [[new Float32Array(128).fill(0.5)]], [[new Float32Array(128)]]);
    const frames = framesOf(p.port.take<CaptureOut>());
    expect(frames.length).toBe(1);
    // The first sample of that frame entered the graph at the quantum after the reset.
    expect(frames[0]!.time).toBeCloseTo((5 * 128) / 48_000, 6);
  });
});

interface Posted<T> {
  /** Context time of the render quantum it was posted in, s. */
  at: number;
  message: T;
  transfer: unknown[];
}

/**
 * Runs `quanta` render quanta of a constant mono input and returns what was posted, on the node's
 * port and on `sink`, each with the time of its quantum.
 */
function feed(
  p: Processor,
  quanta: number,
  value: number,
  sink?: FakeSink,
): { port: Posted<CaptureOut>[]; sink: Posted<MicFrameMessage>[] } {
  const out: { port: Posted<CaptureOut>[]; sink: Posted<MicFrameMessage>[] } = { port: [], sink: [] };
  for (let q = 0; q < quanta; q++) {
    const at = scope.currentTime as number;
    expect(quantum(p, [[new Float32Array(128).fill(value)]], [[new Float32Array(128)]])).toBe(true);
    for (const { message, transfer } of p.port.sent.splice(0))
      out.port.push({ at, message: message as CaptureOut, transfer });
    for (const { message, transfer } of sink?.sent.splice(0) ?? []) out.sink.push({ at, message, transfer });
  }
  return out;
}

const seconds = (s: number, rate = 48_000) => Math.round((s * rate) / 128);
const messagesOf = <T>(posted: Posted<T>[]) => posted.map((p) => p.message);

/**
 * Every level message is the meter's reading of the frame completed in the same render quantum:
 * runs a meter of its own over all the frames, in order, and checks each level message against it.
 */
function expectReadingsOfTheirFrames(posted: Posted<CaptureOut>[]): void {
  const meter = new LevelMeter();
  const readingAt = new Map<number, LevelOut>();
  for (const { at, message } of posted) {
    if (message.type !== 'frame') continue;
    expect(readingAt.has(at), 'two frames in one quantum').toBe(false);
    const reading = meter.update(message.samples, 16_000);
    readingAt.set(at, { type: 'level', level: reading.level, peak: reading.peak });
  }
  const levels = posted.filter(({ message }) => message.type === 'level');
  expect(new Set(levels.map(({ at }) => at)).size).toBe(levels.length);
  for (const { at, message } of levels) expect(message).toEqual(readingAt.get(at));
}

/** The types of what was posted in one quantum, in a fixed order. */
const typesOf = (messages: CaptureOut[]) => messages.map((m) => m.type).sort();

describe('capture worklet: sink port and level meter', () => {
  it('with a sink, sends each frame there as a mic message with its age (input latency added), buffer transferred', () => {
    const p = create(CAPTURE_PROCESSOR, 48_000, { targetRate: 16_000, frameMs: 20 });
    const reference = create(CAPTURE_PROCESSOR, 48_000, { targetRate: 16_000, frameMs: 20 });
    const sink = new FakeSink();
    const message: CaptureIn = { type: 'sink', port: sink as unknown as MessagePort, inputLatencyMs: 12 };
    p.port.deliver(message);
    const sent = { port: [] as Posted<CaptureOut>[], sink: [] as Posted<MicFrameMessage>[] };
    const expectedFrames: FrameOut[] = [];
    let n = 0;
    for (let q = 0; q < seconds(0.2); q++) {
      const tone = Float32Array.from(
        { length: 128 },
        (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * (n + i)) / 48_000),
      );
      n += 128;
      const at = scope.currentTime as number;
      quantum(p, [[tone]], [[new Float32Array(128)]]);
      scope.currentTime = at;
      quantum(reference, [[tone]], [[new Float32Array(128)]]);
      for (const s of p.port.sent.splice(0))
        sent.port.push({ at, message: s.message as CaptureOut, transfer: s.transfer });
      for (const s of sink.sent.splice(0)) sent.sink.push({ at, ...s });
      expectedFrames.push(...framesOf(reference.port.take<CaptureOut>()));
    }
    expect(sent.sink.length).toBe(9);
    expect(expectedFrames).toHaveLength(9);
    sent.sink.forEach(({ at, message: mic, transfer }, k) => {
      expect(Object.keys(mic).sort()).toEqual(['ageMs', 'samples', 'type']);
      expect(mic.type).toBe('mic');
      expect(mic.samples).toBeInstanceOf(Int16Array);
      // The same frame the worklet would have posted to the page...
      expect(mic.samples).toEqual(expectedFrames[k]!.samples);
      expect(transfer).toEqual([mic.samples.buffer]);
      // ...aged from its first sample's capture time to the end of the quantum that completed it
      // (processed once all of it was captured), plus the input latency the engine gave.
      const quantumEnd = at + 128 / 48_000;
      expect(mic.ageMs).toBeCloseTo((quantumEnd - expectedFrames[k]!.time) * 1000 + 12, 6);
      expect(mic.ageMs).toBeGreaterThan(12 + 20);
      expect(mic.ageMs).toBeLessThan(12 + 20 + (2 * 128 * 1000) / 48_000);
    });
    // The page's port gets no frame, only the meter.
    expect(sent.port.length).toBeGreaterThan(0);
    expect(sent.port.every(({ message }) => message.type === 'level')).toBe(true);
  });

  it('sink null goes back to frames on the node port; a replaced sink is closed', () => {
    const p = create(CAPTURE_PROCESSOR, 48_000, {});
    const first = new FakeSink();
    const second = new FakeSink();
    p.port.deliver({ type: 'sink', port: first, inputLatencyMs: 0 });
    expect(framesOf(messagesOf(feed(p, seconds(0.1), 0.1, first).port))).toEqual([]);
    expect(first.closed).toBe(false);
    p.port.deliver({ type: 'sink', port: second, inputLatencyMs: 5 });
    expect(first.closed).toBe(true);
    const toSecond = feed(p, seconds(0.1), 0.1, second);
    expect(toSecond.sink.length).toBeGreaterThanOrEqual(4);
    expect(framesOf(messagesOf(toSecond.port))).toEqual([]);
    p.port.deliver({ type: 'sink', port: null, inputLatencyMs: 0 });
    expect(second.closed).toBe(true);
    const back = feed(p, seconds(0.1), 0.1, second);
    expect(back.sink).toEqual([]);
    const frames = back.port.filter(({ message }) => message.type === 'frame');
    expect(frames.length).toBeGreaterThanOrEqual(4);
    for (const { message, transfer } of frames) {
      const frame = message as FrameOut;
      expect(frame.samples).toHaveLength(320);
      expect(typeof frame.time).toBe('number');
      expect(transfer).toEqual([frame.samples.buffer]);
    }
  });

  it('close closes the sink and stops', () => {
    const p = create(CAPTURE_PROCESSOR, 48_000, {});
    const sink = new FakeSink();
    p.port.deliver({ type: 'sink', port: sink, inputLatencyMs: 0 });
    feed(p, 10, 0.1, sink);
    expect(sink.closed).toBe(false);
    p.port.deliver({ type: 'close' });
    expect(sink.closed).toBe(true);
    expect(quantum(p, [[new Float32Array(128).fill(0.1)]], [[new Float32Array(128)]])).toBe(false);
  });

  it('posts the first level at once, then at most every levelIntervalMs and only when it moved by levelStepDb', () => {
    const p = create(CAPTURE_PROCESSOR, 48_000, { levelIntervalMs: 100, levelStepDb: 1 });
    const all: Posted<CaptureOut>[] = [];
    // Silence: the first frame comes with the first reading, in the same quantum.
    const silence = feed(p, 10, 0);
    all.push(...silence.port);
    expect(typesOf(messagesOf(silence.port))).toEqual(['frame', 'level']);
    expect(silence.port[0]!.at).toBe(silence.port[1]!.at);
    expect(levelsOf(messagesOf(silence.port))).toEqual([
      { type: 'level', level: LEVEL_FLOOR_DB, peak: LEVEL_FLOOR_DB },
    ]);
    const firstAt = silence.port[0]!.at;

    // Loud at once: the level jumps by 90 dB, but the next reading waits for the interval.
    const loud = feed(p, seconds(0.3), 0.5);
    all.push(...loud.port);
    const early = loud.port.filter(({ at }) => at < firstAt + 0.1);
    expect(early.filter(({ message }) => message.type === 'frame').length).toBeGreaterThanOrEqual(3);
    expect(early.filter(({ message }) => message.type === 'level')).toEqual([]);
    const loudLevels = loud.port.filter(({ message }) => message.type === 'level');
    expect(loudLevels.length).toBeGreaterThanOrEqual(1);
    // Due at the first frame completed at least 100 ms after the first reading.
    const firstFrameDue = loud.port.find(
      ({ at, message }) => message.type === 'frame' && at >= firstAt + 0.1,
    )!;
    expect(loudLevels[0]!.at).toBe(firstFrameDue.at);
    expect((loudLevels[0]!.message as LevelOut).level).toBeGreaterThan(-8);

    // Steady, then 0.5 dB quieter: the level moves by less than 1 dB, nothing is posted.
    const steady = feed(p, seconds(1), 0.5);
    const slightlyQuieter = feed(p, seconds(1), 0.5 * 10 ** (-0.5 / 20));
    all.push(...steady.port, ...slightlyQuieter.port);
    expect(levelsOf(messagesOf(steady.port))).toEqual([]);
    expect(levelsOf(messagesOf(slightlyQuieter.port))).toEqual([]);
    expect(framesOf(messagesOf(slightlyQuieter.port)).length).toBeGreaterThanOrEqual(49);

    // 12 dB quieter: the level falls slowly (release); readings follow, each ≥ 100 ms and ≥ 1 dB
    // from the one before.
    const falling = feed(p, seconds(1.5), 0.125);
    const before = levelsOf(messagesOf(all)).at(-1)!;
    all.push(...falling.port);
    const readings = falling.port.filter(({ message }) => message.type === 'level');
    expect(readings.length).toBeGreaterThanOrEqual(3);
    let previous = before;
    let previousAt = -Infinity;
    for (const { at, message } of readings) {
      const reading = message as LevelOut;
      expect(at - previousAt).toBeGreaterThanOrEqual(0.1 - 1e-9);
      expect(Math.abs(reading.level - previous.level)).toBeGreaterThanOrEqual(1);
      previous = reading;
      previousAt = at;
    }
    expect(previous.level).toBeLessThan(-16);
    expectReadingsOfTheirFrames(all);
  });

  it('meter off stops the readings (frames go on); on sends the next one at once', () => {
    const p = create(CAPTURE_PROCESSOR, 48_000, {});
    const all: Posted<CaptureOut>[] = [];
    all.push(...feed(p, seconds(0.5), 0.5).port);
    expect(levelsOf(messagesOf(all)).length).toBeGreaterThanOrEqual(1);
    p.port.deliver({ type: 'meter', on: false } satisfies CaptureIn);
    const off: Posted<CaptureOut>[] = [];
    for (let k = 0; k < 10; k++) off.push(...feed(p, seconds(0.1), k % 2 ? 0.5 : 0.01).port);
    off.push(...feed(p, seconds(1), 0.5).port);
    all.push(...off);
    expect(levelsOf(messagesOf(off))).toEqual([]);
    expect(framesOf(messagesOf(off)).length).toBeGreaterThanOrEqual(99);

    // The level is back where it was at the last reading (−6 dB): it has not moved by 1 dB, so
    // only `on` explains a reading now, with the very next frame.
    p.port.deliver({ type: 'meter', on: true } satisfies CaptureIn);
    const on = feed(p, 8, 0.5).port;
    all.push(...on);
    expect(typesOf(messagesOf(on))).toEqual(['frame', 'level']);
    // Again, within the interval of that reading: still at once.
    p.port.deliver({ type: 'meter', on: false } satisfies CaptureIn);
    p.port.deliver({ type: 'meter', on: true } satisfies CaptureIn);
    const again = feed(p, 8, 0.5).port;
    all.push(...again);
    expect(typesOf(messagesOf(again))).toEqual(['frame', 'level']);
    expect(again[0]!.at - on[0]!.at).toBeLessThan(0.1);
    // And then the usual rules: steady level, nothing more.
    const after = feed(p, seconds(0.5), 0.5).port;
    all.push(...after);
    expect(levelsOf(messagesOf(after))).toEqual([]);
    // The meter kept running while off: the readings are those of the frames, all along.
    expectReadingsOfTheirFrames(all);
  });
});

describe('playback worklet', () => {
  const send = (p: Processor, message: PlaybackIn) => p.port.deliver(message);
  const render = (p: Processor, channels = 2) => {
    const out = Array.from({ length: channels }, () => new Float32Array(128));
    expect(quantum(p, [], [out])).toBe(true);
    return out;
  };

  it('plays queued audio after the prebuffer and reports played / finished in context time', () => {
    const p = create(PLAYBACK_PROCESSOR, 48_000, { prebufferMs: 20, fadeFrames: 0 });
    render(p);
    render(p);
    send(p, { type: 'audio', utterance: 4, samples: new Float32Array(500).fill(0.25) });
    expect(render(p)[0]!.every((v) => v === 0)).toBe(true);
    send(p, { type: 'audio', utterance: 4, samples: new Float32Array(500).fill(0.25) });
    expect(p.port.take()).toEqual([]);
    const [left, right] = render(p);
    expect(left!.every((v) => v === 0.25)).toBe(true);
    expect(right).toEqual(left);
    expect(p.port.take<PlaybackOut>()).toEqual([
      { type: 'played', utterance: 4, contextTime: (3 * 128) / 48_000 },
    ]);
    send(p, { type: 'end', utterance: 4 });
    for (let q = 0; q < 10; q++) render(p);
    const finished = p.port.take<PlaybackOut>();
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ type: 'finished', utterance: 4 });
    const f = finished[0] as Extract<PlaybackOut, { type: 'finished' }>;
    expect(f.contextTime).toBeCloseTo((3 * 128 + 1000) / 48_000, 9);
    expect(f.playedMs).toBeCloseTo((1000 / 48_000) * 1000, 9);
  });

  it('answers clear at once and is silent from the next quantum', () => {
    const p = create(PLAYBACK_PROCESSOR, 48_000, { prebufferMs: 0, fadeFrames: 0 });
    send(p, { type: 'audio', utterance: 1, samples: new Float32Array(48_000).fill(0.5) });
    for (let q = 0; q < 5; q++) render(p);
    p.port.take();
    send(p, { type: 'clear', utterance: 1 });
    expect(p.port.take()).toEqual([{ type: 'cleared', utterance: 1, playedMs: ((5 * 128) / 48_000) * 1000 }]);
    expect(render(p)[0]!.every((v) => v === 0)).toBe(true);
    // Audio of the cleared utterance still on its way is dropped.
    send(p, { type: 'audio', utterance: 1, samples: new Float32Array(1000).fill(0.5) });
    expect(render(p)[0]!.every((v) => v === 0)).toBe(true);
    expect(p.port.take()).toEqual([]);
  });

  it('pauses in place and resumes', () => {
    const p = create(PLAYBACK_PROCESSOR, 48_000, { prebufferMs: 0, fadeFrames: 0 });
    const ramp = Float32Array.from({ length: 1000 }, (_, i) => i / 1000);
    send(p, { type: 'audio', utterance: 2, samples: ramp });
    render(p, 1);
    send(p, { type: 'pause' });
    expect(render(p, 1)[0]!.every((v) => v === 0)).toBe(true);
    send(p, { type: 'resume' });
    expect(render(p, 1)[0]).toEqual(ramp.subarray(128, 256));
  });

  it('stops after close', () => {
    const p = create(PLAYBACK_PROCESSOR, 48_000, {});
    send(p, { type: 'close' });
    expect(p.process([], [[new Float32Array(128)]], {})).toBe(false);
  });
});
