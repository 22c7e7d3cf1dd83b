/**
 * The capture and playback processors, run in a minimal fake AudioWorkletGlobalScope
 * (AudioWorkletProcessor with a port, registerProcessor, sampleRate, currentTime) and driven
 * quantum by quantum as the audio thread would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  CaptureOut,
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
      const sent = p.port.sent.splice(0);
      expect(sent.length).toBeGreaterThanOrEqual(24);
      sent.forEach(({ message, transfer }, k) => {
        const frame = message as CaptureOut;
        expect(frame.type).toBe('frame');
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
    expect(p.port.sent.length).toBe(1);
    p.port.deliver({ type: 'close' });
    expect(quantum(p, [[new Float32Array(128)]], [[new Float32Array(128)]])).toBe(false);
  });

  it('starts a fresh frame after reset', () => {
    const p = create(CAPTURE_PROCESSOR, 48_000, {});
    for (let q = 0; q < 5; q++) quantum(p, [[new Float32Array(128).fill(0.5)]], [[new Float32Array(128)]]);
    p.port.deliver({ type: 'reset' });
    for (let q = 0; q < 9; q++) quantum(p, [[new Float32Array(128).fill(0.5)]], [[new Float32Array(128)]]);
    const frames = p.port.take<CaptureOut>();
    expect(frames.length).toBe(1);
    // The first sample of that frame entered the graph at the quantum after the reset.
    expect(frames[0]!.time).toBeCloseTo((5 * 128) / 48_000, 6);
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
