import { describe, expect, it } from 'vitest';
import { PlaybackRing, RENDER_QUANTUM, type RingEvent } from '../../src/renderer/src/audio/ring-buffer';

const RATE = 48_000;

/** Distinct, recognisable samples: utterance u, sample i → u + i / 1e6. */
function samples(utterance: number, from: number, count: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => (utterance + (from + i) / 1e6) / 100);
}

function renderQuanta(ring: PlaybackRing, quanta: number, events: RingEvent[] = []) {
  const out = new Float32Array(quanta * RENDER_QUANTUM);
  for (let q = 0; q < quanta; q++) {
    const block = new Float32Array(RENDER_QUANTUM);
    ring.render(block, events);
    out.set(block, q * RENDER_QUANTUM);
  }
  return { out, events };
}

const nonZero = (x: Float32Array) => x.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);

describe('playback ring: prebuffer', () => {
  it('waits for the prebuffer (60 ms) before the first sample and reports where it plays', () => {
    const ring = new PlaybackRing({ sampleRate: RATE, prebufferMs: 60, fadeFrames: 0 });
    expect(ring.prebufferFrames).toBe(2880);
    ring.write(1, samples(1, 0, 2000));
    const before = renderQuanta(ring, 3);
    expect(nonZero(before.out)).toBe(0);
    expect(before.events).toEqual([]);
    expect(ring.isPlaying).toBe(false);
    ring.write(1, samples(1, 2000, 1000));
    const startFrame = ring.frame;
    const after = renderQuanta(ring, 2);
    expect(after.events).toEqual([{ type: 'played', utterance: 1, frame: startFrame }]);
    expect(after.out).toEqual(samples(1, 0, 256));
    expect(ring.isPlaying).toBe(true);
    expect(ring.playedMs(1)).toBeCloseTo((256 / RATE) * 1000, 9);
  });

  it('never prebuffers more than 100 ms', () => {
    expect(new PlaybackRing({ sampleRate: RATE, prebufferMs: 500 }).prebufferFrames).toBe(4800);
    expect(new PlaybackRing({ sampleRate: 44_100, prebufferMs: 100 }).prebufferFrames).toBe(4410);
    expect(new PlaybackRing({ sampleRate: RATE }).prebufferFrames).toBeLessThanOrEqual(4800);
  });

  it('starts an ended utterance shorter than the prebuffer at once', () => {
    const ring = new PlaybackRing({ sampleRate: RATE, prebufferMs: 100, fadeFrames: 0 });
    ring.write(7, samples(7, 0, 300));
    renderQuanta(ring, 1);
    expect(ring.isPlaying).toBe(false);
    ring.end(7);
    const { out, events } = renderQuanta(ring, 3);
    expect(out.subarray(0, 300)).toEqual(samples(7, 0, 300));
    expect(nonZero(out.subarray(300))).toBe(0);
    expect(events).toEqual([
      { type: 'played', utterance: 7, frame: 128 },
      { type: 'finished', utterance: 7, frame: 128 + 300, playedMs: (300 / RATE) * 1000 },
    ]);
  });

  it('reports the first sample of the next utterance at its exact frame inside a quantum', () => {
    const ring = new PlaybackRing({ sampleRate: RATE, prebufferMs: 10, fadeFrames: 0 });
    ring.write(1, samples(1, 0, 200));
    ring.end(1);
    ring.write(2, samples(2, 0, 1000));
    const { out, events } = renderQuanta(ring, 2);
    expect(events).toEqual([
      { type: 'played', utterance: 1, frame: 0 },
      { type: 'finished', utterance: 1, frame: 200, playedMs: (200 / RATE) * 1000 },
      { type: 'played', utterance: 2, frame: 200 },
    ]);
    expect(out.subarray(0, 200)).toEqual(samples(1, 0, 200));
    expect(out.subarray(200, 256)).toEqual(samples(2, 0, 56));
  });

  it('gives each new utterance its own prebuffer, and rebuffers after an underrun', () => {
    const ring = new PlaybackRing({ sampleRate: RATE, prebufferMs: 10, fadeFrames: 0 }); // 480 frames
    ring.write(1, samples(1, 0, 128));
    ring.end(1);
    ring.write(2, samples(2, 0, 100));
    const first = renderQuanta(ring, 2);
    expect(first.events.map((e) => e.type)).toEqual(['played', 'finished']);
    expect(nonZero(first.out.subarray(128))).toBe(0);
    ring.write(2, samples(2, 100, 400));
    const second = renderQuanta(ring, 5);
    expect(second.events).toEqual([{ type: 'played', utterance: 2, frame: 256 }]);
    expect(second.out.subarray(0, 500)).toEqual(samples(2, 0, 500));
    // Ran dry before its end: silence until the prebuffer is there again.
    expect(ring.underruns).toBe(1);
    ring.write(2, samples(2, 500, 300));
    expect(nonZero(renderQuanta(ring, 2).out)).toBe(0);
    ring.write(2, samples(2, 800, 300));
    const third = renderQuanta(ring, 1);
    expect(third.out).toEqual(samples(2, 500, 128));
    expect(third.events).toEqual([]);
  });
});

describe('playback ring: clear (barge-in)', () => {
  it('flushes within one render quantum and says how much was played', () => {
    const ring = new PlaybackRing({ sampleRate: RATE, prebufferMs: 0, fadeFrames: 0 });
    ring.write(3, samples(3, 0, 48_000));
    renderQuanta(ring, 10);
    const cleared = ring.clear(3);
    expect(cleared).toEqual([{ utterance: 3, playedMs: ((10 * 128) / RATE) * 1000 }]);
    const { out, events } = renderQuanta(ring, 1);
    expect(nonZero(out)).toBe(0);
    expect(events).toEqual([]);
    expect(ring.bufferedFrames).toBe(0);
    // Late audio of the cleared utterance is dropped; the next one plays.
    expect(ring.write(3, samples(3, 0, 1000))).toBe(false);
    ring.write(4, samples(4, 0, 1000));
    const next = renderQuanta(ring, 1);
    expect(next.events).toEqual([{ type: 'played', utterance: 4, frame: 11 * 128 }]);
  });

  it('fades out within the next quantum instead of clicking', () => {
    const ring = new PlaybackRing({ sampleRate: RATE, prebufferMs: 0, fadeFrames: 64 });
    ring.write(1, new Float32Array(48_000).fill(0.5));
    renderQuanta(ring, 4);
    ring.clear(1);
    const { out } = renderQuanta(ring, 1);
    expect(nonZero(out.subarray(0, 64))).toBe(64);
    expect(nonZero(out.subarray(64))).toBe(0);
    for (let i = 1; i < 64; i++) expect(out[i]!).toBeLessThan(out[i - 1]!);
    expect(out[0]!).toBeLessThanOrEqual(0.5);
    expect(nonZero(renderQuanta(ring, 1).out)).toBe(0);
  });

  it('clears everything queued, and an unknown utterance reports 0 ms', () => {
    const ring = new PlaybackRing({ sampleRate: RATE, prebufferMs: 0, fadeFrames: 0 });
    ring.write(1, samples(1, 0, 256));
    ring.write(2, samples(2, 0, 256));
    renderQuanta(ring, 1);
    expect(ring.clear(1)).toEqual([
      { utterance: 1, playedMs: (128 / RATE) * 1000 },
      { utterance: 2, playedMs: 0 },
    ]);
    expect(ring.clear(9)).toEqual([{ utterance: 9, playedMs: 0 }]);
    expect(ring.utterances).toEqual([]);
  });
});

describe('playback ring: pause and resume', () => {
  it('stops in place and continues with the next sample (hard cuts)', () => {
    const ring = new PlaybackRing({ sampleRate: RATE, prebufferMs: 0, fadeFrames: 0 });
    ring.write(1, samples(1, 0, 2000));
    ring.end(1);
    renderQuanta(ring, 2);
    ring.pause();
    const paused = renderQuanta(ring, 5);
    expect(nonZero(paused.out)).toBe(0);
    expect(ring.playedMs(1)).toBeCloseTo((256 / RATE) * 1000, 9);
    expect(ring.isPaused).toBe(true);
    ring.resume();
    const resumed = renderQuanta(ring, 20);
    expect(resumed.out.subarray(0, 2000 - 256)).toEqual(samples(1, 256, 2000 - 256));
    // Finished after all 2000 samples: 256 before the pause, 1744 after 5 silent quanta.
    expect(resumed.events).toEqual([
      { type: 'finished', utterance: 1, frame: 7 * 128 + 1744, playedMs: (2000 / RATE) * 1000 },
    ]);
  });

  it('does not start a new utterance while paused', () => {
    const ring = new PlaybackRing({ sampleRate: RATE, prebufferMs: 0, fadeFrames: 0 });
    ring.pause();
    ring.write(1, samples(1, 0, 1000));
    expect(renderQuanta(ring, 2).events).toEqual([]);
    ring.resume();
    expect(renderQuanta(ring, 1).events).toEqual([{ type: 'played', utterance: 1, frame: 256 }]);
  });

  it('fades out on pause and in on resume, losing no sample', () => {
    const ring = new PlaybackRing({ sampleRate: RATE, prebufferMs: 0, fadeFrames: 32 });
    ring.write(1, new Float32Array(4000).fill(1));
    ring.end(1);
    renderQuanta(ring, 1);
    ring.pause();
    const fading = renderQuanta(ring, 1).out;
    expect(nonZero(fading)).toBe(31);
    expect(fading[0]).toBeCloseTo(31 / 32, 6);
    expect(ring.playedMs(1)).toBeCloseTo((160 / RATE) * 1000, 9);
    ring.resume();
    const back = renderQuanta(ring, 1).out;
    expect(back[0]).toBeCloseTo(1 / 32, 6);
    expect(back[40]).toBe(1);
    const { events } = renderQuanta(ring, 40);
    expect(events).toEqual([
      expect.objectContaining({ type: 'finished', utterance: 1, playedMs: (4000 / RATE) * 1000 }),
    ]);
  });
});

describe('playback ring: drain and finished', () => {
  it('reports finished at the frame after the last sample, with the ms played', () => {
    const ring = new PlaybackRing({ sampleRate: RATE, prebufferMs: 20, fadeFrames: 0 });
    ring.write(5, samples(5, 0, 4800));
    ring.end(5);
    const { events } = renderQuanta(ring, 40);
    expect(events).toEqual([
      { type: 'played', utterance: 5, frame: 0 },
      { type: 'finished', utterance: 5, frame: 4800, playedMs: 100 },
    ]);
    expect(ring.utterances).toEqual([]);
  });

  it('an end after the audio ran out finishes at once, dated at its last sample', () => {
    const ring = new PlaybackRing({ sampleRate: RATE, prebufferMs: 0, fadeFrames: 0 });
    ring.write(5, samples(5, 0, 300));
    renderQuanta(ring, 10);
    expect(ring.underruns).toBe(1);
    ring.end(5);
    expect(renderQuanta(ring, 1).events).toEqual([
      { type: 'finished', utterance: 5, frame: 300, playedMs: (300 / RATE) * 1000 },
    ]);
  });

  it('ignores audio after the end and an end for an unknown utterance', () => {
    const ring = new PlaybackRing({ sampleRate: RATE, prebufferMs: 0, fadeFrames: 0 });
    ring.end(9);
    ring.write(5, samples(5, 0, 100));
    ring.end(5);
    expect(ring.write(5, samples(5, 100, 100))).toBe(false);
    const { events } = renderQuanta(ring, 2);
    expect(events.map((e) => [e.type, e.utterance])).toEqual([
      ['played', 5],
      ['finished', 5],
    ]);
  });
});

describe('playback ring: storage', () => {
  it('grows past its initial size and keeps every sample in order', () => {
    const ring = new PlaybackRing({ sampleRate: RATE, prebufferMs: 0, fadeFrames: 0, initialSeconds: 0.05 });
    const all = samples(1, 0, 20_000);
    for (let at = 0; at < all.length; at += 1000) ring.write(1, all.subarray(at, at + 1000));
    ring.end(1);
    const { out, events } = renderQuanta(ring, Math.ceil(20_000 / 128));
    expect(out.subarray(0, 20_000)).toEqual(all);
    expect(events.at(-1)).toEqual({
      type: 'finished',
      utterance: 1,
      frame: 20_000,
      playedMs: (20_000 / RATE) * 1000,
    });
  });

  it('wraps around while reading and writing a steady stream', () => {
    const ring = new PlaybackRing({ sampleRate: RATE, prebufferMs: 0, fadeFrames: 0, initialSeconds: 0.01 });
    const all = samples(2, 0, 30_000);
    const heard: number[] = [];
    let at = 0;
    while (heard.length < all.length) {
      if (at < all.length) {
        ring.write(2, all.subarray(at, at + 200));
        at += 200;
      } else ring.end(2);
      const block = new Float32Array(128);
      ring.render(block, []);
      if (ring.playedMs(2) > 0 || heard.length > 0) heard.push(...block);
      if (heard.length > all.length + 1000) break;
    }
    expect(Float32Array.from(heard.slice(0, all.length))).toEqual(all);
  });

  it('plays interleaved writes of two utterances one after the other', () => {
    const ring = new PlaybackRing({ sampleRate: RATE, prebufferMs: 0, fadeFrames: 0 });
    ring.write(1, samples(1, 0, 100));
    ring.write(2, samples(2, 0, 100));
    ring.write(1, samples(1, 100, 100));
    ring.end(1);
    ring.end(2);
    const { out, events } = renderQuanta(ring, 3);
    expect(out.subarray(0, 200)).toEqual(samples(1, 0, 200));
    expect(out.subarray(200, 300)).toEqual(samples(2, 0, 100));
    expect(events.map((e) => `${e.type} ${e.utterance}@${e.frame}`)).toEqual([
      'played 1@0',
      'finished 1@200',
      'played 2@200',
      'finished 2@300',
    ]);
  });
});
