/**
 * Turn-taking presets, each a settings:update patch over the same options, so switching from
 * one to another is deterministic. "balanced" is the schema's defaults for those options.
 * Derived from `npm run bench:curve` on bench/corpus/tune: "fast" is the front's quickest point,
 * "balanced" the quickest with no false cut-in, "patient" adds a margin for long pauses.
 *
 * | option                                                | fast  | balanced | patient |
 * |-------------------------------------------------------|-------|----------|---------|
 * | turn_handling.turn_detection                          | model | model    | model   |
 * | turn_handling.endpointing.min_delay (s)               | 0.3   | 0.9      | 1.2     |
 * | turn_handling.turn_detector.decision_silence (s)      | 0.15  | 0.2      | 0.55    |
 * | turn_handling.endpointing.max_delay (s)               | 2     | 3        | 4       |
 * | vad.min_silence_duration (s)                          | 0.35  | 0.55     | 0.55    |
 * | turn_handling.interruption.min_duration (s)           | 0.4   | 0.5      | 0.8     |
 * | turn_handling.interruption.min_words                  | 0     | 0        | 1       |
 * | turn_handling.preemptive_generation.enabled           | on    | on       | on      |
 * | turn_handling.preemptive_generation.preemptive_tts    | on    | on       | off     |
 * | turn_handling.preemptive_generation.speculate_on_interim | on | on       | off     |
 * | turn_handling.preemptive_generation.interim_stability (s) | 0 | 0.05     | 0.3     |
 */
import type { Settings } from '../../../shared/settings';
import { patchOf, valueAt } from './fields';

export type PresetId = 'fast' | 'balanced' | 'patient';

export interface Preset {
  id: PresetId;
  label: string;
  summary: string;
  /** Option path → value. */
  values: Readonly<Record<string, unknown>>;
}

export const PRESETS: readonly Preset[] = [
  {
    id: 'fast',
    label: 'Fast',
    summary:
      'Answers in a human gap: the turn is judged after 0.15 s of silence and a likely end is answered 0.3 s after you stop, with the reply prepared while you speak. It cuts in when you pause after something that already sounds complete ("play some jazz … from the fifties").',
    values: {
      'turn_handling.turn_detection': 'model',
      'turn_handling.endpointing.min_delay': 0.3,
      'turn_handling.endpointing.max_delay': 2,
      'turn_handling.turn_detector.decision_silence': 0.15,
      'vad.min_silence_duration': 0.35,
      'turn_handling.interruption.min_duration': 0.4,
      'turn_handling.interruption.min_words': 0,
      'turn_handling.preemptive_generation.enabled': true,
      'turn_handling.preemptive_generation.preemptive_tts': true,
      'turn_handling.preemptive_generation.speculate_on_interim': true,
      'turn_handling.preemptive_generation.interim_stability': 0,
    },
  },
  {
    id: 'balanced',
    label: 'Balanced',
    summary:
      "Cue's defaults: the reply is prepared (text and speech) while you finish; the turn is judged after a fifth of a second of silence, and the reply plays 0.9 s after a likely end (long enough not to cut in on a pause after a complete-sounding phrase), up to three when you seem mid-thought.",
    values: {
      'turn_handling.turn_detection': 'model',
      'turn_handling.endpointing.min_delay': 0.9,
      'turn_handling.endpointing.max_delay': 3,
      'turn_handling.turn_detector.decision_silence': 0.2,
      'vad.min_silence_duration': 0.55,
      'turn_handling.interruption.min_duration': 0.5,
      'turn_handling.interruption.min_words': 0,
      'turn_handling.preemptive_generation.enabled': true,
      'turn_handling.preemptive_generation.preemptive_tts': true,
      'turn_handling.preemptive_generation.speculate_on_interim': true,
      'turn_handling.preemptive_generation.interim_stability': 0.05,
    },
  },
  {
    id: 'patient',
    label: 'Patient',
    summary:
      'For thinking aloud and long pauses: waits 1.2 s after a likely end, needs a real word and 0.8 s of speech to be interrupted (an "uh-huh" or a cough does not stop it), and speculates on final transcripts only.',
    values: {
      'turn_handling.turn_detection': 'model',
      'turn_handling.endpointing.min_delay': 1.2,
      'turn_handling.endpointing.max_delay': 4,
      'turn_handling.turn_detector.decision_silence': 0.55,
      'vad.min_silence_duration': 0.55,
      'turn_handling.interruption.min_duration': 0.8,
      'turn_handling.interruption.min_words': 1,
      'turn_handling.preemptive_generation.enabled': true,
      'turn_handling.preemptive_generation.preemptive_tts': false,
      'turn_handling.preemptive_generation.speculate_on_interim': false,
      'turn_handling.preemptive_generation.interim_stability': 0.3,
    },
  },
];

/** The settings:update patch of a preset. */
export function presetPatch(preset: Preset): Record<string, unknown> {
  return patchOf(preset.values);
}

export interface PresetChange {
  path: string;
  from: unknown;
  to: unknown;
}

/** What applying the preset would change in `settings` (empty: it is what they already are). */
export function presetChanges(preset: Preset, settings: Settings): PresetChange[] {
  return Object.entries(preset.values)
    .map(([path, to]) => ({ path, from: valueAt(settings, path), to }))
    .filter((change) => !Object.is(change.from, change.to));
}

/** The preset the settings match exactly, if any. */
export function activePreset(settings: Settings): PresetId | null {
  return PRESETS.find((p) => presetChanges(p, settings).length === 0)?.id ?? null;
}
