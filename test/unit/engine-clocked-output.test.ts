import { describe, expect, it } from 'vitest';
import { ClockedAudioOutput } from '../../src/main/engine/audio/clocked-output';
import { VirtualClock } from '../../src/main/engine/clock';
import type { TtsAudio } from '../../src/main/engine/ports';

const RATE = 16_000;

/** `ms` of silence at 16 kHz. */
function audio(ms: number): TtsAudio {
  return { samples: new Int16Array((RATE * ms) / 1000), sampleRate: RATE };
}

function setup(options: { outputLatencyMs?: number } = {}) {
  const clock = new VirtualClock();
  const plays: { duration: number; at: number }[] = [];
  const output = new ClockedAudioOutput(clock, {
    ...options,
    onPlay: (a, at) => plays.push({ duration: (a.samples.length / a.sampleRate) * 1000, at }),
  });
  const log: string[] = [];
  output.setListener({
    onStarted: (id, at) => log.push(`started ${id} @${at}`),
    onFinished: (id, at) => log.push(`finished ${id} @${at}`),
  });
  return { clock, output, log, plays };
}

describe('ClockedAudioOutput', () => {
  it('reports started and finished at the exact clock times of the audio', async () => {
    const { clock, output, log } = setup();
    await clock.advanceTo(100);
    output.write(1, audio(300));
    expect(log).toEqual(['started 1 @100']);
    output.end(1);
    await clock.advanceTo(399);
    expect(log).toEqual(['started 1 @100']);
    await clock.advanceTo(400);
    expect(log).toEqual(['started 1 @100', 'finished 1 @400']);
    await clock.runAll();
    expect(clock.pendingTimers).toBe(0);
  });

  it('plays utterances back to back in write order', async () => {
    const { clock, output, log } = setup();
    output.write(1, audio(200));
    output.write(1, audio(100));
    output.end(1);
    output.write(2, audio(250));
    output.end(2);
    await clock.runAll();
    expect(log).toEqual(['started 1 @0', 'finished 1 @300', 'started 2 @300', 'finished 2 @550']);
    expect(clock.now()).toBe(550);
  });

  it('plays after a lead whose float sum leaves a crumb, instead of setting a timer for the crumb forever', async () => {
    // 1000 + 87.3 − 1000 is 87.29999999999995: the lead's last 4e-14 ms fall on the same clock time.
    const { clock, output, log } = setup({ outputLatencyMs: 87.3 });
    let timers = 0;
    const setTimeout = clock.setTimeout.bind(clock);
    clock.setTimeout = (callback, delayMs) => {
      if (++timers > 100) throw new Error('the output keeps setting timers without time moving');
      return setTimeout(callback, delayMs);
    };
    await clock.advanceTo(1000);
    output.write(1, audio(1000));
    output.end(1);
    await clock.advanceTo(3000);
    expect(log).toEqual(['started 1 @1087.3', 'finished 1 @2087.3']);
  });

  it('models the output latency as silence before the first sample, only when starting from idle', async () => {
    const { clock, output, log, plays } = setup({ outputLatencyMs: 80 });
    await clock.advanceTo(100);
    output.write(1, audio(300));
    output.write(1, audio(100));
    output.end(1);
    // Queued behind utterance 1: no second latency.
    output.write(2, audio(200));
    output.end(2);
    expect(log).toEqual([]);
    await clock.advanceTo(179);
    expect(log).toEqual([]);
    expect(output.playedMs(1)).toBe(0);
    await clock.advanceTo(180);
    expect(log).toEqual(['started 1 @180']);
    await clock.runAll();
    expect(log).toEqual(['started 1 @180', 'finished 1 @580', 'started 2 @580', 'finished 2 @780']);
    // onPlay gets each chunk with the time it becomes audible.
    expect(plays).toEqual([
      { duration: 300, at: 180 },
      { duration: 100, at: 480 },
      { duration: 200, at: 580 },
    ]);

    // Idle again: the next utterance pays the latency once more.
    await clock.advanceTo(1000);
    output.write(3, audio(100));
    output.end(3);
    await clock.runAll();
    expect(log.slice(4)).toEqual(['started 3 @1080', 'finished 3 @1180']);
  });

  it('pause holds the playhead in place and resume continues from there', async () => {
    const { clock, output, log } = setup();
    output.write(1, audio(1000));
    output.end(1);
    await clock.advanceTo(400);
    output.pause();
    expect(output.isPaused).toBe(true);
    expect(output.playedMs(1)).toBe(400);
    await clock.advanceTo(1400);
    expect(output.playedMs(1)).toBe(400);
    expect(log).toEqual(['started 1 @0']);
    output.resume();
    expect(output.isPaused).toBe(false);
    await clock.advanceTo(1700);
    expect(output.playedMs(1)).toBe(700);
    await clock.advanceTo(1999);
    expect(log).toEqual(['started 1 @0']);
    await clock.advanceTo(2000);
    expect(log).toEqual(['started 1 @0', 'finished 1 @2000']);
  });

  it('a pause during the output latency delays the first sample by the paused time', async () => {
    const { clock, output, log } = setup({ outputLatencyMs: 100 });
    output.write(1, audio(200));
    output.end(1);
    await clock.advanceTo(30);
    output.pause();
    await clock.advanceTo(500);
    expect(log).toEqual([]);
    output.resume();
    await clock.runAll();
    expect(log).toEqual(['started 1 @570', 'finished 1 @770']);
  });

  it('clear drops the utterance at once and returns the ms heard; the next one starts right away', async () => {
    const { clock, output, log } = setup();
    output.write(1, audio(1000));
    output.end(1);
    output.write(2, audio(300));
    output.end(2);
    await clock.advanceTo(250);
    expect(output.clear(1)).toBe(250);
    expect(output.playedMs(1)).toBe(0);
    expect(log).toEqual(['started 1 @0', 'started 2 @250']);
    await clock.runAll();
    expect(log).toEqual(['started 1 @0', 'started 2 @250', 'finished 2 @550']);
    expect(output.clear(1)).toBe(0);
    expect(output.clear(99)).toBe(0);
  });

  it('clear while paused returns the ms heard before the pause', async () => {
    const { clock, output, log } = setup();
    output.write(1, audio(1000));
    output.end(1);
    await clock.advanceTo(300);
    output.pause();
    await clock.advanceTo(900);
    expect(output.clear(1)).toBe(300);
    await clock.runAll();
    expect(log).toEqual(['started 1 @0']);
  });

  it('clear during the output latency returns 0 ms heard and never reports a start', async () => {
    const { clock, output, log } = setup({ outputLatencyMs: 100 });
    output.write(1, audio(500));
    await clock.advanceTo(60);
    expect(output.clear(1)).toBe(0);
    await clock.runAll();
    expect(log).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('after an underrun, audio written later plays as soon as it arrives', async () => {
    const { clock, output, log } = setup();
    output.write(1, audio(200));
    await clock.advanceTo(500);
    // Everything written has played, but the utterance has not ended: no finish.
    expect(log).toEqual(['started 1 @0']);
    expect(output.playedMs(1)).toBe(200);
    expect(output.bufferedMs).toBe(0);
    output.write(1, audio(100));
    expect(output.bufferedMs).toBe(100);
    await clock.advanceTo(550);
    expect(output.playedMs(1)).toBe(250);
    output.end(1);
    await clock.advanceTo(599);
    expect(log).toEqual(['started 1 @0']);
    await clock.advanceTo(600);
    expect(log).toEqual(['started 1 @0', 'finished 1 @600']);
  });

  it('end after an underrun finishes the utterance at once', async () => {
    const { clock, output, log } = setup();
    output.write(1, audio(200));
    await clock.advanceTo(350);
    output.end(1);
    expect(log).toEqual(['started 1 @0', 'finished 1 @350']);
  });

  it('playedMs counts audio heard in real time, and is 0 for unknown utterances', async () => {
    const { clock, output } = setup();
    expect(output.playedMs(1)).toBe(0);
    output.write(1, audio(500));
    expect(output.playedMs(1)).toBe(0);
    await clock.advanceTo(120);
    expect(output.playedMs(1)).toBe(120);
    await clock.advanceTo(700);
    expect(output.playedMs(1)).toBe(500);
    expect(output.playedMs(2)).toBe(0);
  });

  it('end of an utterance that never got audio reports it finished at once', async () => {
    const { clock, output, log } = setup();
    await clock.advanceTo(42);
    output.end(7);
    expect(log).toEqual(['finished 7 @42']);
  });

  it('finishes an utterance whose chunk times leave floating-point crumbs (no endless zero-delay timers)', async () => {
    // The write times and sizes of a reply in the hesitation-two-pauses-shopping replay, which
    // once left 1e-13 ms unplayed and rescheduled itself forever at the same instant.
    const { clock, output, log } = setup();
    const start = 7883.333333333333;
    await clock.advanceTo(start);
    for (let i = 0; i < 16; i++) {
      await clock.advanceTo(start + i * 25 - (i >= 13 ? 1e-12 : 0));
      output.write(3, audio(100));
    }
    await clock.advanceTo(8263.333333333332);
    output.write(3, audio(20));
    output.end(3);
    await clock.advanceTo(10_000);
    expect(log).toHaveLength(2);
    expect(log[1]).toMatch(/^finished 3 @9503\.33/);
    expect(clock.pendingTimers).toBe(0);
  });
});
