import { describe, expect, it } from 'vitest';
import {
  applyPatch,
  deltaTone,
  formatDelta,
  parseOptionValue,
  replayableOptions,
  replayRequest,
  turnRows,
} from '../../src/renderer/src/sessions/sessions';
import { approximateOptions, type ReplayComparison, type TurnSide } from '../../src/shared/recording';
import { applyOverrides, defaultSettings, describeOptions } from '../../src/shared/settings';

const side = (over: Partial<TurnSide> = {}): TurnSide => ({
  transcript: 'what time is it',
  started_ms: 500,
  committed_ms: 2000,
  first_audio_ms: 2400,
  e2e_ms: 450,
  end_of_turn_delay_ms: 400,
  cut_in: false,
  llm_requests: 1,
  llm_requests_wasted: 0,
  ...over,
});

describe('the Sessions dialog’s helpers', () => {
  it('asks main for a replay with the current settings, a preset over them, or one option over the recording’s', () => {
    expect(replayRequest({ kind: 'current' })).toEqual({ base: 'current', patch: {} });
    expect(replayRequest({ kind: 'preset', preset: 'patient' }).patch).toMatchObject({
      turn_handling: { endpointing: { min_delay: 1.2 } },
    });
    expect(
      replayRequest({ kind: 'option', path: 'turn_handling.endpointing.min_delay', value: 1.4 }),
    ).toEqual({
      base: 'recorded',
      patch: { turn_handling: { endpointing: { min_delay: 1.4 } } },
    });
    expect(() => replayRequest({ kind: 'preset', preset: 'nope' })).toThrow(/unknown preset "nope"/);
  });

  it('reads a typed value as the option wants it', () => {
    const options = describeOptions();
    const find = (path: string) => options.find((o) => o.path === path)!;
    expect(parseOptionValue(find('turn_handling.endpointing.min_delay'), ' 1.4 ')).toBe(1.4);
    expect(parseOptionValue(find('turn_handling.preemptive_generation.enabled'), 'false')).toBe(false);
    expect(parseOptionValue(find('turn_handling.turn_detection'), 'vad')).toBe('vad');
    expect(replayableOptions(options).some((o) => o.path.startsWith('recording.'))).toBe(false);
    expect(replayableOptions(options).some((o) => o.path.startsWith('llm.'))).toBe(false);
  });

  it('applies only what differs from the current settings', () => {
    const current = defaultSettings();
    const tried = applyOverrides({}, [
      'turn_handling.endpointing.min_delay=1.4',
      'vad.min_silence_duration=0.4',
    ]);
    expect(applyPatch(current, tried)).toEqual({
      turn_handling: { endpointing: { min_delay: 1.4 } },
      vad: { min_silence_duration: 0.4 },
    });
    expect(applyPatch(current, current)).toEqual({});
  });

  it('shows what moved per turn, with signed deltas', () => {
    const comparison = {
      turns: [
        { index: 0, recorded: side(), replayed: side({ e2e_ms: 950, end_of_turn_delay_ms: 900 }) },
        { index: 1, recorded: side({ transcript: 'yes' }), replayed: null },
      ],
    } as unknown as ReplayComparison;
    const rows = turnRows(comparison);
    expect(rows[0]).toMatchObject({ e2e: [450, 950], endOfTurn: [400, 900], cutIn: [false, false] });
    expect(rows[1]).toMatchObject({ transcript: 'yes', e2e: [450, null], cutIn: [false, null] });
    expect(formatDelta(450, 950)).toBe('+500 ms');
    expect(formatDelta(950, 450)).toBe('−500 ms');
    expect(formatDelta(450, null)).toBe('');
    expect(deltaTone(450, 950)).toBe('worse');
    expect(deltaTone(950, 450)).toBe('better');
  });

  it('marks the options that change what a provider would have sent as approximate, with why', () => {
    const marked = approximateOptions([
      'stt.provider',
      'stt.nova.endpointing_ms',
      'stt.flux.eot_threshold',
      'turn_handling.endpointing.min_delay',
    ]);
    expect(marked.map((m) => m.path)).toEqual([
      'stt.provider',
      'stt.nova.endpointing_ms',
      'stt.flux.eot_threshold',
    ]);
    expect(marked.every((m) => m.reason.length > 20)).toBe(true);
    expect(approximateOptions([], true).map((m) => m.path)).toEqual([
      'turn_handling.preemptive_generation.enabled',
    ]);
  });
});
