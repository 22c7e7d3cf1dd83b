/**
 * Symptoms → the options that fix them, after LiveKit's turn-taking troubleshooting table, in
 * Cue's option names. Each fix says which way the option must move to help; adviseSymptom() turns
 * that into advice from the current value: a value to try on the right side of it, or "already
 * there" with the next lever. Every `path` is an option of the settings schema (tested).
 */
import { parseSettings, SettingsError, type OptionInfo, type Settings } from '../../../shared/settings';
import { formatValue, mergePatch, patchOf, stepOf, valueAt } from './fields';

export type Move =
  /** A number up; `toward` is the value to suggest when it is above the current one. */
  | { kind: 'raise'; toward?: number }
  | { kind: 'lower'; toward?: number }
  /** A choice, a switch or an exact number. */
  | { kind: 'set'; value: string | number | boolean }
  /** No value to suggest (e.g. which LLM to use): the advice is the text. */
  | { kind: 'consider' };

export interface Fix {
  path: string;
  move: Move;
  /** Why this helps, in a few words. */
  why: string;
  /** Only with this setting (e.g. a Deepgram Flux option while Flux is the STT). */
  when?: { path: string; value: string; label: string };
}

export interface Symptom {
  id: string;
  /** As the user would say it. */
  title: string;
  /** Why it happens. */
  cause: string;
  fixes: readonly Fix[];
}

const raise = (toward?: number): Move =>
  toward === undefined ? { kind: 'raise' } : { kind: 'raise', toward };
const lower = (toward?: number): Move =>
  toward === undefined ? { kind: 'lower' } : { kind: 'lower', toward };
const set = (value: string | number | boolean): Move => ({ kind: 'set', value });
const WITH_FLUX = { path: 'stt.provider', value: 'deepgram-flux', label: 'Deepgram Flux' };
const WITH_NOVA = { path: 'stt.provider', value: 'deepgram-nova', label: 'Deepgram Nova' };

export const TROUBLESHOOTING: readonly Symptom[] = [
  {
    id: 'cuts-me-off',
    title: 'It cuts me off mid-sentence',
    cause: 'The turn closes during a pause you meant to continue after.',
    fixes: [
      {
        path: 'turn_handling.turn_detection',
        move: set('model'),
        why: 'an unfinished sentence then waits the max delay instead of the min delay',
      },
      { path: 'turn_handling.endpointing.min_delay', move: raise(0.8), why: 'a likely end waits longer' },
      {
        path: 'turn_handling.turn_detector.decision_silence',
        move: raise(0.4),
        why: 'the turn is judged only after a longer pause',
      },
      {
        path: 'turn_handling.turn_detector.threshold',
        move: raise(0.7),
        why: 'fewer pauses count as a likely end of turn',
      },
      { path: 'turn_handling.endpointing.max_delay', move: raise(4), why: 'for long thinking pauses' },
      { path: 'vad.min_silence_duration', move: raise(0.7), why: 'short pauses do not end your speech' },
      {
        path: 'stt.flux.eot_threshold',
        move: raise(0.8),
        why: 'Flux ends turns only when surer',
        when: WITH_FLUX,
      },
    ],
  },
  {
    id: 'too-slow',
    title: 'It is too slow to answer',
    cause: 'Waits after you stop, or a reply that starts from scratch only once the turn is confirmed.',
    fixes: [
      {
        path: 'turn_handling.preemptive_generation.enabled',
        move: set(true),
        why: 'the reply starts while the turn is still being confirmed',
      },
      {
        path: 'turn_handling.preemptive_generation.preemptive_tts',
        move: set(true),
        why: 'speech is synthesised early too (costs TTS characters on cancelled speculations)',
      },
      { path: 'turn_handling.endpointing.min_delay', move: lower(0.3), why: 'a likely end commits sooner' },
      {
        path: 'turn_handling.turn_detector.decision_silence',
        move: lower(0.15),
        why: 'the turn is judged at a shorter pause',
      },
      {
        path: 'turn_handling.preemptive_generation.interim_stability',
        move: lower(0),
        why: 'speculation starts sooner on interim transcripts',
      },
      {
        path: 'vad.min_silence_duration',
        move: lower(0.35),
        why: 'in vad and stt turn detection the turn cannot close before the VAD hears silence',
      },
      {
        path: 'turn_handling.endpointing.mode',
        move: set('dynamic'),
        why: 'the wait adapts to your own pauses',
      },
      { path: 'reply.chunking', move: set('clause'), why: 'speech starts at the first comma' },
      { path: 'reply.min_chunk_chars', move: lower(8), why: 'the first chunk reaches TTS sooner' },
      { path: 'llm.model', move: { kind: 'consider' }, why: 'a smaller or local model answers faster' },
    ],
  },
  {
    id: 'half-sentence',
    title: 'It replies to half my sentence',
    cause: 'The turn closed (or a speculative reply was kept) before your last words were transcribed.',
    fixes: [
      {
        path: 'turn_handling.preemptive_generation.strategy',
        move: set('exact'),
        why: 'a speculation is spoken only if its transcript equals the final one',
      },
      {
        path: 'turn_handling.endpointing.min_delay',
        move: raise(0.6),
        why: 'late words arrive before the turn closes',
      },
      {
        path: 'turn_handling.preemptive_generation.speculate_on_interim',
        move: set(false),
        why: 'speculation waits for final transcripts',
      },
      {
        path: 'turn_handling.preemptive_generation.max_speech_duration',
        move: lower(10),
        why: 'long utterances, the likeliest to change, are not speculated on',
      },
      {
        path: 'turn_handling.preemptive_generation.max_retries',
        move: lower(1),
        why: 'jittery transcripts are not speculated on again and again',
      },
      {
        path: 'stt.nova.endpointing_ms',
        move: raise(100),
        why: 'a segment is not finalised inside a phrase',
        when: WITH_NOVA,
      },
      {
        path: 'stt.flux.eager_eot_threshold',
        move: raise(0.6),
        why: 'eager end-of-turn drafts come later and change less',
        when: WITH_FLUX,
      },
    ],
  },
  {
    id: 'backchannel',
    title: 'It stops when I say "uh-huh" or "okay"',
    cause: 'Short acknowledgements are taken as interruptions.',
    fixes: [
      {
        path: 'turn_handling.interruption.min_duration',
        move: raise(0.8),
        why: 'a backchannel is short',
      },
      {
        path: 'turn_handling.interruption.min_words',
        move: raise(1),
        why: '1 ignores coughs and noise; 2 also ignores a one-word "okay", but then "stop" alone does not interrupt',
      },
      {
        path: 'turn_handling.interruption.mode',
        move: set('adaptive'),
        why: 'tells barge-ins from backchannels when a classifier is installed',
      },
      {
        path: 'turn_handling.interruption.resume_false_interruption',
        move: set(true),
        why: 'the agent resumes after a false alarm',
      },
      {
        path: 'turn_handling.interruption.false_interruption_timeout',
        move: lower(1),
        why: 'the agent resumes sooner after a false alarm',
      },
    ],
  },
  {
    id: 'cannot-interrupt',
    title: 'It keeps talking when I interrupt',
    cause: 'Interruptions are off, or their thresholds are too high for how you speak.',
    fixes: [
      { path: 'turn_handling.interruption.enabled', move: set(true), why: 'the agent can be cut off' },
      {
        path: 'turn_handling.interruption.min_duration',
        move: lower(0.3),
        why: 'a shorter phrase interrupts',
      },
      { path: 'turn_handling.interruption.min_words', move: lower(0), why: '0: no word check' },
      { path: 'vad.activation_threshold', move: lower(0.4), why: 'quiet speech is detected' },
    ],
  },
  {
    id: 'noise',
    title: 'Noise or other voices start turns',
    cause: 'The voice activity detector hears speech in background noise.',
    fixes: [
      { path: 'vad.activation_threshold', move: raise(0.65), why: 'fainter sounds are not taken for speech' },
      { path: 'vad.min_speech_duration', move: raise(0.15), why: 'clicks and short noises are ignored' },
      {
        path: 'turn_handling.interruption.min_words',
        move: raise(1),
        why: 'noise without words does not interrupt',
      },
    ],
  },
  {
    id: 'self-interrupt',
    title: 'It interrupts itself',
    cause: 'The microphone picks up the agent’s own voice from the speakers and takes it for yours.',
    fixes: [
      { path: 'audio.echo_cancellation', move: set(true), why: 'or use headphones' },
      {
        path: 'turn_handling.interruption.min_words',
        move: raise(1),
        why: 'sound without words does not interrupt',
      },
      { path: 'vad.activation_threshold', move: raise(0.65), why: 'quieter echo is not taken for speech' },
    ],
  },
  {
    id: 'clipped-start',
    title: 'My first word is lost',
    cause: 'Audio from before speech was detected is not kept.',
    fixes: [
      { path: 'vad.prefix_padding', move: raise(0.7), why: 'more audio from before speech is kept' },
      { path: 'vad.activation_threshold', move: lower(0.4), why: 'speech is detected sooner' },
    ],
  },
  {
    id: 'no-breath',
    title: 'Its replies run together with no breath',
    cause: 'Back-to-back agent utterances (a greeting and a reply, say) follow each other at once.',
    fixes: [
      {
        path: 'agent.min_consecutive_speech_delay',
        move: raise(0.3),
        why: 'a small gap between utterances',
      },
    ],
  },
];

/**
 * What to do with one option now:
 * - `change`: move it to `target` (on the side of the current value that fixes the symptom);
 * - `consider`: no value to suggest, read the text;
 * - `already`: it is where the fix wants it (or at the end of its range): try the next lever;
 * - `blocked`: another option holds it (e.g. the VAD thresholds' order), named in the text;
 * - `inactive`: the fix is for another provider than the one in use.
 */
export interface Advice {
  path: string;
  action: 'change' | 'consider' | 'already' | 'blocked' | 'inactive';
  /** The value to set (action `change`). */
  target?: unknown;
  text: string;
}

/** The advice for every fix of a symptom whose option exists, from the current settings. */
export function adviseSymptom(
  symptom: Symptom,
  settings: Settings,
  options: readonly OptionInfo[],
): Advice[] {
  const byPath = new Map(options.map((o) => [o.path, o]));
  const fixes = symptom.fixes.filter((fix) => byPath.has(fix.path));
  const first = fixes.map((fix) => judge(fix, byPath.get(fix.path)!, settings));
  return first.map((advice, i) => {
    if (advice.action !== 'already') return advice;
    // Point to the next lever that can still move (after this one, then from the top).
    const order = [...first.slice(i + 1), ...first.slice(0, i)];
    const next = order.find((a) => a.action === 'change' || a.action === 'consider');
    const label = next ? byPath.get(next.path)!.label : null;
    return {
      ...advice,
      text: `${advice.text} ${label ? `Next lever: ${label}.` : 'Nothing else here to change.'}`,
    };
  });
}

function judge(fix: Fix, option: OptionInfo, settings: Settings): Advice {
  const { path, move, why } = fix;
  const current = valueAt(settings, path);
  const now = formatValue(option, current);
  if (fix.when && valueAt(settings, fix.when.path) !== fix.when.value) {
    return { path, action: 'inactive', text: `Only with ${fix.when.label}: ${why}.` };
  }
  switch (move.kind) {
    case 'consider':
      return { path, action: 'consider', text: `${capitalise(why)}.` };
    case 'set': {
      if (Object.is(current, move.value)) {
        return { path, action: 'already', text: `Already ${formatValue(option, move.value)}.` };
      }
      return checked(settings, path, move.value, `${setWords(option, move.value)}: ${why}.`);
    }
    case 'raise':
    case 'lower': {
      if (typeof current !== 'number') return { path, action: 'consider', text: `${capitalise(why)}.` };
      const up = move.kind === 'raise';
      const target = nextValue(option, current, up, move.toward);
      if (target === null) {
        const end = up ? 'highest' : 'lowest';
        return { path, action: 'already', text: `Already at its ${end} (${now}).` };
      }
      const verb = up ? 'Raise' : 'Lower';
      return checked(
        settings,
        path,
        target,
        `${verb} it from ${now} to ${formatValue(option, target)}: ${why}.`,
      );
    }
  }
}

/** A `change`, unless the schema refuses the value beside the other settings (then `blocked`). */
function checked(settings: Settings, path: string, target: unknown, text: string): Advice {
  try {
    parseSettings(mergePatch(settings as unknown as Record<string, unknown>, patchOf({ [path]: target })));
    return { path, action: 'change', target, text };
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    return { path, action: 'blocked', text: `Cannot move it further now: ${error.problems.join('; ')}.` };
  }
}

/**
 * The value to try on the helpful side of `current`: `toward` when it lies there, else a step
 * of about half the current value (at least one arrow-key step), within the option's range.
 * Null when the range ends there.
 */
export function nextValue(option: OptionInfo, current: number, up: boolean, toward?: number): number | null {
  const step = stepOf(option);
  const lo = option.minimum ?? Number.NEGATIVE_INFINITY;
  const hi = option.maximum ?? Number.POSITIVE_INFINITY;
  let target: number;
  if (toward !== undefined && (up ? toward > current : toward < current)) target = toward;
  else {
    const delta = Math.max(step, Math.round((Math.abs(current) * 0.5) / step) * step);
    target = current + (up ? delta : -delta);
  }
  target = Math.min(hi, Math.max(lo, Number(target.toFixed(6))));
  return up ? (target > current ? target : null) : target < current ? target : null;
}

function setWords(option: OptionInfo, value: string | number | boolean): string {
  if (value === true) return 'Turn it on';
  if (value === false) return 'Turn it off';
  if (typeof value === 'number') return `Set it to ${formatValue(option, value)}`;
  return `Use "${value}"`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
