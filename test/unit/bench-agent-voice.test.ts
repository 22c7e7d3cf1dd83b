/**
 * The timeline benchmark's agent voice (bench/agent-voice.ts): every reply in the events becomes
 * one utterance sent ahead of the speaker in chunks, ended when played out, cleared at a barge-in
 * with nothing sent after it.
 */
import { describe, expect, it } from 'vitest';
import { agentVoice, voiceChunk } from '../../bench/agent-voice';
import type { TimelineEvent } from '../../src/shared/timeline';

const started = (t: number, request: number): TimelineEvent => ({
  type: 'agent_speech_started',
  t,
  turn: 0,
  request,
  text_so_far: '',
});
const ended = (t: number, request: number, played_ms: number, interrupted = false): TimelineEvent => ({
  type: 'agent_speech_ended',
  t,
  turn: 0,
  request,
  interrupted,
  played_ms,
  spoken_text: '',
});

describe('agentVoice', () => {
  it('sends a reply played to its end as chunks ahead of the speaker, then end after the last', () => {
    const actions = agentVoice([started(1_000, 7), ended(2_050, 7, 1_050)], {
      sampleRate: 24_000,
      chunkMs: 100,
      aheadMs: 300,
    });
    const audio = actions.filter((a) => a.message.type === 'audio');
    expect(audio).toHaveLength(11);
    // The first 300 ms at once, then one chunk every 100 ms, 300 ms before it is due.
    expect(audio.map((a) => a.t)).toEqual([1000, 1000, 1000, 1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700]);
    for (const { message } of audio)
      expect(message).toMatchObject({ type: 'audio', utterance: 7, sampleRate: 24_000 });
    expect(actions.at(-1)).toEqual({ t: 1700, message: { type: 'end', utterance: 7 } });
  });

  it('stops sending an interrupted reply at the barge-in and clears it there', () => {
    const actions = agentVoice([started(0, 3), ended(1_000, 3, 1_000, true)], {
      sampleRate: 16_000,
      chunkMs: 100,
      aheadMs: 300,
      overrunMs: 2_000,
    });
    const audio = actions.filter((a) => a.message.type === 'audio');
    expect(Math.max(...audio.map((a) => a.t))).toBeLessThanOrEqual(1_000);
    // Up to 1.3 s of audio had been sent by then (300 ms ahead of the 1 s heard).
    expect(audio).toHaveLength(14);
    expect(actions.at(-1)).toEqual({ t: 1_000, message: { type: 'clear', utterance: 3 } });
    expect(actions.some((a) => a.message.type === 'end')).toBe(false);
  });

  it('keeps replies apart and in time order, and skips one that never ends in the events', () => {
    const actions = agentVoice(
      [started(0, 1), started(500, 2), ended(600, 1, 600), ended(900, 2, 400), started(1_000, 3)],
      { sampleRate: 24_000 },
    );
    expect(new Set(actions.map((a) => (a.message as { utterance: number }).utterance))).toEqual(
      new Set([1, 2]),
    );
    const times = actions.map((a) => a.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});

describe('voiceChunk', () => {
  it('is one continuous signal across chunks, loud enough to hear and far from clipping', () => {
    const rate = 24_000;
    const whole = voiceChunk(rate, 200, 0);
    const halves = [...voiceChunk(rate, 100, 0), ...voiceChunk(rate, 100, 1)];
    expect(halves).toEqual([...whole]);
    const peak = Math.max(...whole.map(Math.abs));
    expect(peak).toBeGreaterThan(32767 * 0.1);
    expect(peak).toBeLessThan(32767 * 0.3);
  });
});
