import { describe, expect, it } from 'vitest';
import { MicFrameQueue } from '../../src/main/app/mic-frame-queue';
import { SAMPLE_RATE, type AudioFrame } from '../../src/main/engine/ports';

const FRAME_MS = 20;
const frame = (index: number): AudioFrame => ({
  samples: new Int16Array((FRAME_MS * SAMPLE_RATE) / 1000).fill(index),
  capturedAt: index * FRAME_MS,
});

describe('MicFrameQueue', () => {
  it('processes frames in order, one at a time, and goes on after a frame that fails', async () => {
    const processed: number[] = [];
    const errors: string[] = [];
    let running = 0;
    const queue = new MicFrameQueue({
      process: async (f) => {
        expect(running++).toBe(0);
        await Promise.resolve();
        running--;
        if (f.capturedAt === 2 * FRAME_MS) throw new Error('bad frame');
        if (f.capturedAt === 3 * FRAME_MS) return Promise.reject(new Error('also bad'));
        processed.push(f.samples[0]!);
      },
      onError: (error) => errors.push((error as Error).message),
      onDropped: () => {
        throw new Error('nothing should be dropped');
      },
    });
    for (let i = 0; i < 6; i++) queue.push(frame(i));
    await queue.idle();
    expect(processed).toEqual([0, 1, 4, 5]);
    expect(errors).toEqual(['bad frame', 'also bad']);
  });

  it('holds at most maxPendingMs of audio while processing is behind, dropping the oldest', async () => {
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const processed: number[] = [];
    const dropped: number[] = [];
    const queue = new MicFrameQueue({
      maxPendingMs: 100,
      process: async (f) => {
        if (f.capturedAt === 0) await blocked;
        processed.push(f.samples[0]!);
      },
      onError: () => {},
      onDropped: (ms) => dropped.push(ms),
    });
    // Frame 0 is being processed (stuck); 20 more arrive meanwhile: 5 of them (100 ms) may wait.
    for (let i = 0; i <= 20; i++) queue.push(frame(i));
    expect(queue.pendingMs).toBe(100);
    expect(dropped.reduce((a, b) => a + b, 0)).toBe(15 * FRAME_MS);
    release();
    await queue.idle();
    expect(processed).toEqual([0, 16, 17, 18, 19, 20]);
  });
});
