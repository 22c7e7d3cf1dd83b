/**
 * The capture worker, run in a minimal fake dedicated-worker scope (postMessage, close, the
 * onmessage it sets) with a stubbed performance clock, reading a real ReadableStream of fake
 * AudioData chunks (48 kHz stereo, 10 ms each) that each test enqueues one at a time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LEVEL_FLOOR_DB, LevelMeter } from '../../src/renderer/src/audio/level-meter';
import type {
  CaptureProcessorOptions,
  CaptureWorkerIn,
  CaptureWorkerOut,
  MicFrameMessage,
} from '../../src/renderer/src/audio/worklet-protocol';

const OPTIONS: CaptureProcessorOptions = {
  targetRate: 16_000,
  frameMs: 20,
  levelIntervalMs: 100,
  levelStepDb: 1,
};
const RATE = 48_000;
const CHUNK = 480;
const TIME_ORIGIN = 1_700_000_000_000.25;
/** Capture time of the first sample, on the worker's clock (performance.now()), ms. */
const T0 = 5_000;
/** How long after a chunk's last sample was captured the worker reads it, ms. */
const LATENCY = 3;

interface Posted<T> {
  /** performance.now() when it was posted, ms. */
  at: number;
  message: T;
  transfer: unknown[];
}

let clock = 0;
let posted: Posted<CaptureWorkerOut>[] = [];
let scopeCloses = 0;
const scope = globalThis as unknown as Record<string, unknown>;
const GLOBALS = ['postMessage', 'close', 'onmessage'];
const saved = new Map<string, PropertyDescriptor | undefined>();

class FakeSink {
  readonly sent: Posted<MicFrameMessage>[] = [];
  closed = false;
  postMessage(message: MicFrameMessage, transfer: unknown[] = []): void {
    if (this.closed) throw new Error('posted on a closed port');
    this.sent.push({ at: clock, message, transfer });
  }
  close(): void {
    this.closed = true;
  }
}

class FakeAudioData {
  closed = false;
  constructor(
    readonly timestamp: number,
    private readonly planes: Float32Array[],
    readonly sampleRate = RATE,
  ) {}
  get numberOfFrames(): number {
    return this.planes[0]!.length;
  }
  get numberOfChannels(): number {
    return this.planes.length;
  }
  copyTo(dest: Float32Array, options: { planeIndex: number; frameCount: number; format: string }): void {
    if (this.closed) throw new Error('copyTo on a closed AudioData');
    if (options.format !== 'f32-planar') throw new Error(`unexpected format ${options.format}`);
    dest.set(this.planes[options.planeIndex]!.subarray(0, options.frameCount));
  }
  close(): void {
    this.closed = true;
  }
}

/** The track's chunk stream; `n` counts the 48 kHz samples sent. */
class Mic {
  controller!: ReadableStreamDefaultController<FakeAudioData>;
  cancels = 0;
  n = 0;
  readonly chunks: FakeAudioData[] = [];
  /** Added to each chunk's timestamp, ms: a timestamp on another clock. */
  constructor(private readonly clockOffsetMs = 0) {}
  readonly readable = new ReadableStream<FakeAudioData>({
    start: (controller) => void (this.controller = controller),
    cancel: () => void this.cancels++,
  });

  /** Sends `count` chunks, one at a time, each read LATENCY ms after its last sample; `sample(n, channel)`. */
  async send(count: number, sample: (n: number, channel: number) => number): Promise<void> {
    for (let k = 0; k < count; k++) {
      const n0 = this.n;
      const planes = [0, 1].map((c) => Float32Array.from({ length: CHUNK }, (_, i) => sample(n0 + i, c)));
      const chunk = new FakeAudioData((T0 + (n0 * 1000) / RATE + this.clockOffsetMs) * 1000, planes);
      this.n += CHUNK;
      this.chunks.push(chunk);
      clock = T0 + (this.n * 1000) / RATE + LATENCY;
      this.controller.enqueue(chunk);
      await flush();
    }
  }
}

/** Lets the worker's read loop run (promises only, no wall-clock wait). */
async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

const deliver = (data: CaptureWorkerIn) =>
  (scope.onmessage as ((e: { data: unknown }) => void) | null)?.({ data });
const start = (mic: Mic) => deliver({ type: 'start', readable: mic.readable, options: OPTIONS });
const typed = <T extends CaptureWorkerOut['type']>(type: T) =>
  posted.filter((p): p is Posted<Extract<CaptureWorkerOut, { type: T }>> => p.message.type === type);
/** Left 0.6, right 0.2: their mean, 0.4, is 13107 in Int16. */
const constant = (_: number, c: number) => (c === 0 ? 0.6 : 0.2);

beforeEach(async () => {
  vi.resetModules();
  for (const name of GLOBALS) saved.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
  posted = [];
  scopeCloses = 0;
  clock = 0;
  scope.postMessage = (message: CaptureWorkerOut, transfer: unknown[] = []) =>
    posted.push({ at: clock, message, transfer });
  scope.close = () => void scopeCloses++;
  scope.onmessage = null;
  vi.spyOn(performance, 'now').mockImplementation(() => clock);
  vi.spyOn(performance, 'timeOrigin', 'get').mockReturnValue(TIME_ORIGIN);
  await import('../../src/renderer/src/audio/capture-worker');
});

afterEach(() => {
  deliver({ type: 'close' });
  vi.restoreAllMocks();
  for (const name of GLOBALS) {
    const descriptor = saved.get(name);
    if (descriptor) Object.defineProperty(globalThis, name, descriptor);
    else delete scope[name];
  }
});

describe('capture worker', () => {
  it('posts 20 ms 16 kHz mono Int16 frames to the engine, each with its first sample’s capture time', async () => {
    const mic = new Mic();
    start(mic);
    // Left: 0.3 + a 1 kHz tone at 0.5, right: 0.1. The mono mix is 0.2 + the tone at 0.25.
    await mic.send(50, (n, c) => (c === 0 ? 0.3 + 0.5 * Math.sin((2 * Math.PI * 1000 * n) / RATE) : 0.1));
    const frames = typed('frame');
    expect(frames.length).toBe(24);
    expect(posted.filter((p) => p.message.type !== 'frame' && p.message.type !== 'level')).toEqual([]);
    frames.forEach(({ message: frame, transfer }, k) => {
      expect(frame.samples).toBeInstanceOf(Int16Array);
      expect(frame.samples.length).toBe(320);
      expect(transfer).toEqual([frame.samples.buffer]);
      // Frame k starts with 16 kHz sample 320k: captured 20k ms after the first chunk's first sample.
      expect(frame.capturedAt - TIME_ORIGIN).toBeCloseTo(T0 + 20 * k, 3);
      if (k < 1) return;
      for (let i = 0; i < 320; i += 7) {
        const ideal = 0.2 + 0.25 * Math.sin((2 * Math.PI * 1000 * (320 * k + i)) / 16_000);
        expect(Math.abs(frame.samples[i]! / 32768 - ideal)).toBeLessThan(0.002);
      }
    });
    expect(mic.chunks.every((c) => c.closed)).toBe(true);
  });

  it('with a sink, sends the frames there as mic messages with their age; a new sink closes the old one', async () => {
    const mic = new Mic();
    start(mic);
    await mic.send(10, constant);
    const toEngine = typed('frame').length;
    expect(toEngine).toBeGreaterThanOrEqual(4);
    const first = new FakeSink();
    const second = new FakeSink();
    deliver({ type: 'sink', port: first as unknown as MessagePort, inputLatencyMs: 12 });
    await mic.send(20, constant);
    deliver({ type: 'sink', port: second as unknown as MessagePort, inputLatencyMs: 0 });
    expect(first.closed).toBe(true);
    await mic.send(20, constant);
    expect(typed('frame').length).toBe(toEngine);
    expect(first.sent.length).toBeGreaterThanOrEqual(9);
    expect(second.sent.length).toBeGreaterThanOrEqual(9);
    [...first.sent, ...second.sent].forEach(({ at, message: mic, transfer }, j) => {
      const k = toEngine + j;
      expect(Object.keys(mic).sort()).toEqual(['ageMs', 'samples', 'type']);
      expect(mic.type).toBe('mic');
      expect(mic.samples).toHaveLength(320);
      expect(transfer).toEqual([mic.samples.buffer]);
      expect(mic.samples.every((v) => v === 13107)).toBe(true);
      // performance.now() at posting less the first sample's capture time; the chunk timestamps
      // count the input latency already, so the sink's inputLatencyMs is not added.
      expect(mic.ageMs).toBeCloseTo(at - (T0 + 20 * k), 6);
      expect(mic.ageMs).toBeGreaterThan(20 + LATENCY);
      expect(mic.ageMs).toBeLessThan(20 + LATENCY + 10 + 2);
    });
    // Sink null: back to the engine.
    deliver({ type: 'sink', port: null, inputLatencyMs: 0 });
    expect(second.closed).toBe(true);
    const sentToSecond = second.sent.length;
    await mic.send(10, constant);
    expect(second.sent.length).toBe(sentToSecond);
    expect(typed('frame').length).toBeGreaterThanOrEqual(toEngine + 4);
    expect(mic.chunks.every((c) => c.closed)).toBe(true);
  });

  it.each([
    ['the monotonic clock of an older Chromium', 62_169_000],
    ['a clock ahead of this one', 1_500],
    [
      "each chunk's delivery, not its first sample (Chromium's fake microphone)",
      (CHUNK * 1000) / RATE + LATENCY,
    ],
  ])(
    'timestamps on %s are not believed: a chunk counts as captured just before it arrived',
    async (_, offset) => {
      const mic = new Mic(offset);
      start(mic);
      const sink = new FakeSink();
      deliver({ type: 'sink', port: sink as unknown as MessagePort, inputLatencyMs: 0 });
      await mic.send(20, constant);
      expect(sink.sent.length).toBeGreaterThanOrEqual(8);
      sink.sent.forEach(({ at, message }, k) => {
        // Each chunk taken as captured LATENCY ms later than it was: the frames are that much younger.
        expect(message.ageMs).toBeCloseTo(at - (T0 + 20 * k + LATENCY), 6);
      });
    },
  );

  it('posts levels at most every levelIntervalMs and only when they moved by levelStepDb; meter off stops them', async () => {
    const mic = new Mic();
    start(mic);
    await mic.send(10, () => 0);
    // The first frame comes with the first reading, silence.
    expect(typed('level').map((p) => p.message)).toEqual([
      { type: 'level', level: LEVEL_FLOOR_DB, peak: LEVEL_FLOOR_DB },
    ]);
    const firstAt = typed('level')[0]!.at;
    await mic.send(30, () => 0.5);
    const loud = typed('level').slice(1);
    expect(loud.length).toBeGreaterThanOrEqual(1);
    // Due with the first frame posted 100 ms after the first reading (or the next one: the framer
    // compares performance.now() / 1000 in seconds, and 5.133 − 5.033 < 0.1 in floating point).
    expect(loud[0]!.at - firstAt).toBeGreaterThanOrEqual(100);
    expect(loud[0]!.at - firstAt).toBeLessThanOrEqual(120);
    expect(loud[0]!.message.level).toBeGreaterThan(-8);
    // Steady: nothing.
    const before = typed('level').length;
    await mic.send(100, () => 0.5);
    expect(typed('level').length).toBe(before);
    // Quieter: the level falls slowly; each reading ≥ 100 ms and ≥ 1 dB from the one before.
    await mic.send(100, () => 0.05);
    const levels = typed('level');
    expect(levels.length).toBeGreaterThanOrEqual(before + 3);
    for (let i = 1; i < levels.length; i++) {
      expect(levels[i]!.at - levels[i - 1]!.at).toBeGreaterThanOrEqual(100);
      expect(Math.abs(levels[i]!.message.level - levels[i - 1]!.message.level)).toBeGreaterThanOrEqual(1);
    }
    // Meter off: frames go on, no reading; on: the next frame brings one, though nothing moved.
    deliver({ type: 'meter', on: false });
    const off = posted.length;
    await mic.send(50, (n) => (Math.floor(n / 4800) % 2 ? 0.5 : 0.01));
    await mic.send(50, () => 0.05);
    expect(posted.slice(off).filter((p) => p.message.type === 'level')).toEqual([]);
    expect(posted.length - off).toBeGreaterThanOrEqual(49);
    deliver({ type: 'meter', on: true });
    const on = posted.length;
    await mic.send(2, () => 0.05);
    expect(posted.slice(on).map((p) => p.message.type)).toEqual(['level', 'frame']);
    // Each reading is the meter's reading of the frame posted right after it, the meter running
    // over every frame, also while off.
    const meter = new LevelMeter();
    let matched = 0;
    posted.forEach(({ message }, i) => {
      if (message.type !== 'frame') return;
      const { level, peak } = meter.update(message.samples, 16_000);
      const previous = posted[i - 1]?.message;
      if (previous?.type !== 'level') return;
      expect(previous).toEqual({ type: 'level', level, peak });
      matched++;
    });
    expect(matched).toBe(typed('level').length);
    expect(mic.chunks.every((c) => c.closed)).toBe(true);
  });

  it('meter off before start: no readings at all', async () => {
    deliver({ type: 'meter', on: false });
    const mic = new Mic();
    start(mic);
    await mic.send(20, () => 0.5);
    expect(typed('frame').length).toBeGreaterThanOrEqual(9);
    expect(typed('level')).toEqual([]);
  });

  it('posts ended once when the stream ends', async () => {
    const mic = new Mic();
    start(mic);
    await mic.send(5, constant);
    mic.controller.close();
    await flush();
    expect(typed('ended')).toHaveLength(1);
    expect(typed('failed')).toEqual([]);
    deliver({ type: 'close' });
    await flush();
    expect(typed('ended')).toHaveLength(1);
    expect(scopeCloses).toBe(1);
    expect(mic.chunks.every((c) => c.closed)).toBe(true);
  });

  it('close cancels the stream, closes the sink and the worker, and posts nothing more', async () => {
    const mic = new Mic();
    start(mic);
    const sink = new FakeSink();
    deliver({ type: 'sink', port: sink as unknown as MessagePort, inputLatencyMs: 0 });
    await mic.send(5, constant);
    const sent = sink.sent.length;
    expect(sent).toBeGreaterThanOrEqual(1);
    // A chunk on its way when close comes is closed, not framed.
    const late = new FakeAudioData((T0 + 5 * 10) * 1000, [new Float32Array(CHUNK), new Float32Array(CHUNK)]);
    mic.controller.enqueue(late);
    const before = posted.length;
    deliver({ type: 'close' });
    await flush();
    expect(mic.cancels).toBe(1);
    expect(sink.closed).toBe(true);
    expect(scopeCloses).toBe(1);
    expect(late.closed).toBe(true);
    expect(sink.sent.length).toBe(sent);
    expect(posted.slice(before)).toEqual([]);
    expect(scope.onmessage).toBeNull();
    expect(mic.chunks.every((c) => c.closed)).toBe(true);
  });

  it('posts failed when the stream errors', async () => {
    const mic = new Mic();
    start(mic);
    await mic.send(3, constant);
    mic.controller.error(new Error('boom'));
    await flush();
    expect(typed('failed').map((p) => p.message)).toEqual([{ type: 'failed', message: 'boom' }]);
    expect(typed('ended')).toEqual([]);
  });

  it('closes a chunk it cannot frame, and posts failed', async () => {
    const mic = new Mic();
    start(mic);
    await mic.send(3, constant);
    const odd = new FakeAudioData(T0 * 1000 + 30_000, [new Float32Array(441)], 44_100.5);
    mic.controller.enqueue(odd);
    await flush();
    expect(odd.closed).toBe(true);
    expect(typed('failed')).toHaveLength(1);
    expect(typed('failed')[0]!.message.message).toMatch(/inRate/);
    expect(mic.chunks.every((c) => c.closed)).toBe(true);
  });

  it('ignores a second start while reading', async () => {
    const mic = new Mic();
    const other = new Mic();
    start(mic);
    start(other);
    expect(other.readable.locked).toBe(false);
    await other.send(10, () => 0.9);
    await mic.send(10, constant);
    expect(other.chunks.some((c) => c.closed)).toBe(false);
    const frames = typed('frame');
    expect(frames.length).toBeGreaterThanOrEqual(4);
    // Frames of the first stream only (its timeline and its 0.4), none of the other's 0.9.
    frames.forEach(({ message }, k) => expect(message.capturedAt - TIME_ORIGIN).toBeCloseTo(T0 + 20 * k, 3));
    expect(frames.slice(1).every(({ message }) => message.samples.every((v) => v === 13107))).toBe(true);
  });
});
