import { describe, expect, it } from 'vitest';
import { RemoteAudioOutput } from '../../src/main/app/remote-audio-output';
import { VirtualClock } from '../../src/main/engine/clock';
import type { AudioDown } from '../../src/shared/contract';

function setup() {
  const clock = new VirtualClock();
  const sent: AudioDown[] = [];
  const output = new RemoteAudioOutput(clock, (m) => sent.push(m));
  const log: string[] = [];
  output.setListener({
    onStarted: (id, at) => log.push(`started ${id} @${at}`),
    onFinished: (id, at) => log.push(`finished ${id} @${at}`),
  });
  const second = { samples: new Int16Array(16_000), sampleRate: 16_000 };
  return { clock, sent, output, log, second };
}

describe('RemoteAudioOutput', () => {
  it('sends audio down and takes start and finish times from the renderer reports', async () => {
    const { clock, sent, output, log, second } = setup();
    await clock.advanceTo(100);
    output.write(1, second);
    output.end(1);
    expect(sent.map((m) => m.type)).toEqual(['audio', 'end']);
    await clock.advanceTo(300);
    output.report({ type: 'played', utterance: 1, ageMs: 40 });
    await clock.advanceTo(1300);
    output.report({ type: 'finished', utterance: 1, ageMs: 0, playedMs: 1000 });
    expect(log).toEqual(['started 1 @260', 'finished 1 @1300']);
  });

  it('counts what was heard, without the pause, and clears at once', async () => {
    const { clock, sent, output, second } = setup();
    output.write(1, second);
    output.report({ type: 'played', utterance: 1, ageMs: 0 });
    await clock.advanceTo(300);
    output.pause();
    await clock.advanceTo(900);
    expect(output.playedMs(1)).toBe(300);
    output.resume();
    await clock.advanceTo(1000);
    expect(output.clear(1)).toBe(400);
    expect(sent.map((m) => m.type)).toEqual(['audio', 'pause', 'resume', 'clear']);
    expect(output.playedMs(1)).toBe(0);
  });

  it('finishes an utterance by itself when the renderer stops reporting (window closed)', async () => {
    const { clock, output, log, second } = setup();
    output.write(1, second);
    output.end(1);
    await clock.advanceTo(5999);
    expect(log).toEqual([]);
    await clock.advanceTo(6000);
    expect(log).toEqual(['started 1 @5000', 'finished 1 @6000']);
  });

  it('an utterance with no audio finishes when it ends', async () => {
    const { output, log } = setup();
    output.end(7);
    expect(log).toEqual(['finished 7 @0']);
  });
});
