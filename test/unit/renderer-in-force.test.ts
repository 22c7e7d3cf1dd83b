import { describe, expect, it } from 'vitest';
import { judge } from '../../src/renderer/src/app/InForce';
import { TUNING_PATHS } from '../../src/renderer/src/settings/TuningPanel';
import { defaultSettings, describeOptions, parseSettings } from '../../src/shared/settings';

const NAME = 'Smart Turn v3.2';

describe('what is in force, on the main screen', () => {
  const defaults = defaultSettings();

  it('says whether the turn model or the heuristic alone judges the end of a turn', () => {
    expect(judge(defaults, { state: 'ready', name: NAME, source: 'cache' })).toBe(
      'Smart Turn v3.2 + transcript heuristic',
    );
    expect(judge(defaults, { state: 'downloading', name: NAME, receivedBytes: 1, totalBytes: 10 })).toBe(
      'transcript heuristic alone (Smart Turn v3.2 not ready yet)',
    );
    expect(
      judge(defaults, { state: 'unavailable', name: NAME, reason: 'offline', message: 'No network.' }),
    ).toBe('transcript heuristic alone (Smart Turn v3.2 unavailable: offline)');
    expect(judge(defaults, undefined)).toBe(
      'transcript heuristic alone (the model loads when a session starts)',
    );
    const heuristic = parseSettings({ turn_handling: { turn_detector: { model: 'heuristic' } } });
    expect(judge(heuristic, { state: 'off', name: NAME })).toBe('transcript heuristic');
  });

  it('names who decides in the other turn detection modes', () => {
    const mode = (turn_detection: string, provider = 'deepgram-nova') =>
      judge(parseSettings({ turn_handling: { turn_detection }, stt: { provider } }), undefined);
    expect(mode('vad')).toBe('silence (VAD)');
    expect(mode('stt')).toBe('Deepgram (speech_final)');
    expect(mode('stt', 'deepgram-flux')).toBe('Deepgram Flux');
    expect(mode('manual')).toBe('you (push-to-talk)');
  });

  it('the tuning panel offers only options of the schema', () => {
    const paths = new Set(describeOptions().map((o) => o.path));
    for (const path of TUNING_PATHS) expect(paths.has(path), path).toBe(true);
  });
});
