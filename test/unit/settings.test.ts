import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyOverrides,
  defaultSettings,
  describeOptions,
  parseSettings,
  SettingsError,
} from '../../src/shared/settings';
import { settingsTable, SETTINGS_BEGIN, SETTINGS_END } from '../../src/shared/settings-doc';

describe('settings schema', () => {
  it('has the documented defaults', () => {
    const s = defaultSettings();
    expect(s.turn_handling.endpointing).toEqual({ mode: 'fixed', min_delay: 0.9, max_delay: 3 });
    expect(s.turn_handling.turn_detector).toEqual({
      model: 'smart-turn-v3',
      threshold: 0.5,
      decision_silence: 0.2,
    });
    expect(s.stt.nova.endpointing_ms).toBe(25);
    expect(s.turn_handling.preemptive_generation).toMatchObject({
      enabled: true,
      preemptive_tts: true,
      max_speech_duration: 30,
      max_retries: 3,
      strategy: 'exact',
      similarity_threshold: 0.8,
    });
    expect(s.turn_handling.interruption).toMatchObject({ enabled: true, mode: 'vad', min_duration: 0.5 });
    expect(s.agent.min_consecutive_speech_delay).toBe(0);
  });

  it('rejects bad values with the field and what is allowed', () => {
    const problems = (input: unknown) => {
      try {
        parseSettings(input);
      } catch (error) {
        expect(error).toBeInstanceOf(SettingsError);
        return (error as SettingsError).problems;
      }
      throw new Error('accepted');
    };
    expect(problems({ turn_handling: { endpointing: { max_delay: 'soon' } } })).toEqual([
      'turn_handling.endpointing.max_delay: must be a number between 0.1 and 30 s (got "soon")',
    ]);
    expect(problems({ turn_handling: { preemptive_generation: { max_retries: 1.5 } } })).toEqual([
      'turn_handling.preemptive_generation.max_retries: must be a whole number between 0 and 20 (got 1.5)',
    ]);
    expect(problems({ turn_handling: { turn_detection: 'magic' } })).toEqual([
      'turn_handling.turn_detection: must be one of "vad", "stt", "manual", "model" (got "magic")',
    ]);
    expect(problems({ turn_handling: { endpointing: { min_delay: 2, max_delay: 1 } } })).toEqual([
      'turn_handling.endpointing.min_delay: must be at most max_delay (1 s) (got 2)',
    ]);
    expect(problems({ vad: { activation_threshold: 0.3 } })).toEqual([
      'vad.deactivation_threshold: must be at most activation_threshold (0.3)',
    ]);
    expect(problems({ stt: { flux: { eot_threshold: 0.6, eager_eot_threshold: 0.8 } } })).toEqual([
      'stt.flux.eager_eot_threshold: must be at most eot_threshold (0.6); Deepgram refuses a Flux connection otherwise (got 0.8)',
    ]);
    expect(problems({ tts: { model_id: 'eleven_v3' } })).toEqual([
      'tts.model_id: "eleven_v3" has no multi-context WebSocket at ElevenLabs: set tts.transport to "http" to use it, or choose another model (got "eleven_v3")',
    ]);
    expect(parseSettings({ tts: { model_id: 'eleven_v3', transport: 'http' } }).tts.model_id).toBe(
      'eleven_v3',
    );
    expect(problems({ agent: { voice: 'x' } })).toEqual(['agent.voice: unknown option']);
  });

  it('applies command-line overrides and refuses unknown paths', () => {
    const s = applyOverrides({}, [
      'turn_handling.preemptive_generation.enabled=false',
      'turn_handling.endpointing.min_delay=0.8',
      'agent.greeting=Hello there',
      'stt.provider="deepgram-flux"',
    ]);
    expect(s.turn_handling.preemptive_generation.enabled).toBe(false);
    expect(s.turn_handling.endpointing.min_delay).toBe(0.8);
    expect(s.agent.greeting).toBe('Hello there');
    expect(s.stt.provider).toBe('deepgram-flux');
    expect(() => applyOverrides({}, ['turn_handling.endpointing=1'])).toThrow(/unknown option/);
    expect(() => applyOverrides({}, ['nonsense'])).toThrow(/expected path\.to\.option=value/);
  });

  it('describes every option with a meaning, and the README table is up to date', () => {
    const options = describeOptions();
    expect(options.length).toBeGreaterThan(30);
    for (const option of options) {
      expect(option.description.length, option.path).toBeGreaterThan(10);
      expect(option.default, option.path).not.toBeUndefined();
    }
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const block = readme.slice(
      readme.indexOf(SETTINGS_BEGIN) + SETTINGS_BEGIN.length,
      readme.indexOf(SETTINGS_END),
    );
    expect(block.trim(), 'run npm run docs:settings').toBe(settingsTable());
  });
});
