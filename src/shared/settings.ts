import { z } from 'zod';
import { llmBaseUrlProblem } from './llm-endpoint';

/**
 * The one home of every Cue option: its default, unit, range and meaning.
 * Engine, settings panel, CLI and docs all read from here. Names follow the
 * vocabulary voice-agent users already know (LiveKit turn handling, Deepgram Flux).
 * Durations are in seconds unless the name ends in `_ms` (provider wire options).
 */

export interface OptionMeta {
  [key: string]: unknown;
  label: string;
  description: string;
  unit?: 's' | 'ms' | 'probability' | 'ratio' | 'count' | 'chars' | 'MB';
}

function bounded(unitWord: string, def: number, min: number, max: number, meta: OptionMeta, integer = false) {
  const range = `between ${min} and ${max}${unitWord ? ` ${unitWord}` : ''}`;
  let schema = z.number({ error: `must be a number ${range}` });
  if (integer) schema = schema.int({ error: `must be a whole number ${range}` });
  return schema
    .min(min, { error: `must be ${range}` })
    .max(max, { error: `must be ${range}` })
    .default(def)
    .meta(meta);
}

const seconds = (def: number, min: number, max: number, label: string, description: string) =>
  bounded('s', def, min, max, { label, description, unit: 's' });
const millis = (def: number, min: number, max: number, label: string, description: string) =>
  bounded('ms', def, min, max, { label, description, unit: 'ms' }, true);
const probability = (def: number, min: number, max: number, label: string, description: string) =>
  bounded('', def, min, max, { label, description, unit: 'probability' });
const count = (def: number, min: number, max: number, label: string, description: string) =>
  bounded('', def, min, max, { label, description, unit: 'count' }, true);
const flag = (def: boolean, label: string, description: string) =>
  z.boolean({ error: 'must be true or false' }).default(def).meta({ label, description });
function choice<const T extends readonly [string, ...string[]]>(
  values: T,
  def: T[number],
  label: string,
  description: string,
) {
  return z
    .enum(values, { error: `must be one of ${values.map((v) => `"${v}"`).join(', ')}` })
    .default(def as never)
    .meta({ label, description });
}
const text = (def: string, maxLength: number, label: string, description: string) =>
  z
    .string({ error: 'must be text' })
    .max(maxLength, { error: `must be at most ${maxLength} characters` })
    .default(def)
    .meta({ label, description });

export const vadSchema = z
  .object({
    model: choice(
      ['silero-v6', 'silero-v5', 'silero-v4'],
      'silero-v6',
      'VAD model',
      'Silero voice activity model. v6 is the default: on the fixture corpus it had the best F1 and onset accuracy at the lowest cost per frame (npm run bench:vad).',
    ),
    activation_threshold: probability(
      0.5,
      0.05,
      0.95,
      'Activation threshold',
      'Speech probability above which a frame counts as speech.',
    ),
    deactivation_threshold: probability(
      0.35,
      0.01,
      0.95,
      'Deactivation threshold',
      'Speech probability below which a frame counts as silence (hysteresis; at most the activation threshold).',
    ),
    min_speech_duration: seconds(
      0.05,
      0,
      2,
      'Min speech duration',
      'Speech must last this long before the user is considered speaking.',
    ),
    min_silence_duration: seconds(
      0.55,
      0.05,
      5,
      'Min silence duration',
      'Silence must last this long before the user is considered to have stopped speaking.',
    ),
    prefix_padding: seconds(
      0.5,
      0,
      2,
      'Prefix padding',
      'Audio kept from before the detected start of speech, so the first syllable is not clipped.',
    ),
  })
  .superRefine((v, ctx) => {
    if (v.deactivation_threshold > v.activation_threshold) {
      ctx.addIssue({
        code: 'custom',
        path: ['deactivation_threshold'],
        message: `must be at most activation_threshold (${v.activation_threshold})`,
      });
    }
  });

export const sttSchema = z.object({
  provider: choice(
    ['deepgram-nova', 'deepgram-flux'],
    'deepgram-nova',
    'Speech-to-text',
    'Deepgram Nova (interim and final results) or Deepgram Flux (model-based turn events).',
  ),
  nova: z
    .object({
      model: text('nova-3', 64, 'Nova model', 'Deepgram model name for the v1 listen API.'),
      endpointing_ms: millis(
        25,
        10,
        5000,
        'Endpointing',
        "Silence after which Deepgram finalises a segment (speech_final). Short values bring the final sooner after you stop (Deepgram's default is 10 ms, LiveKit's plugin asks for 25 ms); long ones (Deepgram suggests 300-500 ms for speakers who pause) give fewer finals mid-sentence.",
      ),
      utterance_end_ms: millis(
        1000,
        1000,
        5000,
        'Utterance end',
        'Gap between words after which Deepgram sends UtteranceEnd.',
      ),
      smart_format: flag(true, 'Smart format', 'Punctuation and formatting of transcripts.'),
    })
    .prefault({}),
  flux: z
    .object({
      model: text('flux-general-en', 64, 'Flux model', 'Deepgram model name for the v2 listen API.'),
      eot_threshold: probability(
        0.7,
        0.5,
        1,
        'End-of-turn threshold',
        'Confidence needed for Flux to send EndOfTurn. Higher is more reliable but slower.',
      ),
      eager_eot_threshold: probability(
        0.5,
        0.3,
        0.9,
        'Eager end-of-turn threshold',
        'Confidence at which Flux sends EagerEndOfTurn, used to start a speculative reply. Lower fires earlier with more false starts. At most the end-of-turn threshold (Deepgram refuses the connection otherwise). Sent only while preemptive generation is on.',
      ),
      eot_timeout_ms: millis(
        5000,
        500,
        10000,
        'End-of-turn timeout',
        'Silence after which Flux ends the turn whatever its confidence.',
      ),
    })
    .superRefine((v, ctx) => {
      if (v.eager_eot_threshold > v.eot_threshold) {
        ctx.addIssue({
          code: 'custom',
          path: ['eager_eot_threshold'],
          message: `must be at most eot_threshold (${v.eot_threshold}); Deepgram refuses a Flux connection otherwise`,
        });
      }
    })
    .prefault({}),
});

export const endpointingSchema = z
  .object({
    mode: choice(
      ['fixed', 'dynamic'],
      'fixed',
      'Endpointing mode',
      '"fixed" always uses the configured delays; "dynamic" learns the user\'s own pauses within [min_delay, max_delay].',
    ),
    min_delay: seconds(
      0.9,
      0,
      10,
      'Min delay',
      "Wait after the user stops speaking before the turn closes when the end looks likely. In stt mode it is added to the provider's end-of-turn signal.",
    ),
    max_delay: seconds(
      3,
      0.1,
      30,
      'Max delay',
      'Longest wait before the turn is closed anyway, used when the end looks unlikely.',
    ),
  })
  .superRefine((v, ctx) => {
    if (v.min_delay > v.max_delay) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_delay'],
        message: `must be at most max_delay (${v.max_delay} s)`,
      });
    }
  });

export const turnDetectorSchema = z.object({
  model: choice(
    ['smart-turn-v3', 'heuristic'],
    'smart-turn-v3',
    'End-of-turn model',
    '"smart-turn-v3": the Smart Turn v3 audio model (downloaded once, ~8.7 MB, checked by SHA-256) hears how you stop, and the transcript heuristic can veto an unfinished phrase such as "remind me to"; until the model is ready, or if it cannot be had (offline, corrupt file), the heuristic decides alone. "heuristic": the transcript heuristic alone, no download.',
  ),
  threshold: probability(
    0.5,
    0.01,
    0.99,
    'End-of-turn threshold',
    'An end-of-turn probability at or above this is a likely end (waits min_delay); below it waits max_delay.',
  ),
  decision_silence: seconds(
    0.2,
    0.05,
    3,
    'Decision silence',
    "Silence after which the turn detector judges whether the turn is over (model mode), without waiting for the VAD's min_silence_duration: a likely end then commits min_delay after the speech stopped. Speech that resumes before the commit keeps the turn open.",
  ),
});

export const interruptionSchema = z.object({
  enabled: flag(
    true,
    'Interruptions',
    'Let the user cut the agent off. Off makes the agent uninterruptible.',
  ),
  mode: choice(
    ['vad', 'adaptive'],
    'vad',
    'Interruption mode',
    '"vad" treats any detected speech as a possible interruption; "adaptive" asks a classifier to tell barge-ins from backchannels (falls back to vad when none is installed).',
  ),
  min_duration: seconds(
    0.5,
    0,
    5,
    'Min duration',
    'The user must speak this long over the agent before it counts as an interruption.',
  ),
  min_words: count(
    0,
    0,
    20,
    'Min words',
    'The user must say at least this many transcribed words before it counts as an interruption (0: no word check).',
  ),
  false_interruption_timeout: seconds(
    2,
    0.1,
    10,
    'False interruption timeout',
    'Silence after an interruption with no transcript, after which it is judged false.',
  ),
  resume_false_interruption: flag(
    true,
    'Resume after false interruption',
    'Pause the agent on an interruption and resume where it stopped if it proves false.',
  ),
});

export const preemptiveSchema = z.object({
  enabled: flag(
    true,
    'Preemptive generation',
    'Start the LLM reply while the user may still be speaking, and reuse it if the turn ends as expected.',
  ),
  preemptive_tts: flag(
    true,
    'Preemptive TTS',
    'Also synthesise speech for the speculative reply (it plays only once the turn is committed). Cuts the time to first audio by the TTS latency; wastes TTS characters when a speculation is thrown away.',
  ),
  max_speech_duration: seconds(
    30,
    0,
    120,
    'Max speech duration',
    'Do not speculate once the user has spoken longer than this in the turn. Cue speculates only once the user falls silent, so a long turn costs at most max_retries requests; lower it to save requests on long monologues.',
  ),
  max_retries: count(
    3,
    0,
    20,
    'Max retries',
    'Most speculative requests per user turn; the count resets when the turn completes.',
  ),
  strategy: choice(
    ['exact', 'similar', 'always', 'off'],
    'exact',
    'Reuse strategy',
    '"exact" reuses a speculation only if its transcript equals the final one (ignoring case, punctuation and spaces); "similar" if word overlap reaches the similarity threshold; "always" reuses any; "off" always regenerates.',
  ),
  similarity_threshold: probability(
    0.8,
    0.1,
    1,
    'Similarity threshold',
    'Word overlap needed by the "similar" strategy.',
  ),
  speculate_on_interim: flag(
    true,
    'Speculate on interim',
    'Speculate on an interim transcript heard while the user is silent, once the silence has lasted the interim stability time (Nova; with Flux, EagerEndOfTurn starts speculations).',
  ),
  interim_stability: seconds(
    0.05,
    0,
    5,
    'Interim stability',
    'How long the user must have been silent, with the interim transcript heard during that silence, before a speculation starts on it. An interim heard while the user was still speaking is never used.',
  ),
});

export const turnHandlingSchema = z.object({
  turn_detection: choice(
    ['vad', 'stt', 'manual', 'model'],
    'model',
    'Turn detection',
    '"vad": silence ends the turn; "stt": the provider\'s end of turn (Nova speech_final / UtteranceEnd, Flux EndOfTurn); "manual": push-to-talk, the turn ends on release; "model": an end-of-turn model weighs the endpointing delay.',
  ),
  endpointing: endpointingSchema.prefault({}),
  turn_detector: turnDetectorSchema.prefault({}),
  interruption: interruptionSchema.prefault({}),
  preemptive_generation: preemptiveSchema.prefault({}),
});

export const agentSchema = z.object({
  instructions: text(
    "You are Cue, a helpful voice assistant on the user's desktop. Answer briefly and conversationally.",
    20000,
    'Instructions',
    'System prompt sent with every LLM request.',
  ),
  greeting: text('', 2000, 'Greeting', 'Spoken when the session starts (empty: no greeting).'),
  min_consecutive_speech_delay: seconds(
    0,
    0,
    5,
    'Min consecutive speech delay',
    'Smallest gap between two agent utterances, so back-to-back replies get a breath.',
  ),
});

export const replySchema = z.object({
  chunking: choice(
    ['clause', 'sentence'],
    'clause',
    'TTS chunking',
    'Send LLM text to TTS at each clause (comma, semicolon, colon) or only at sentence ends.',
  ),
  min_chunk_chars: count(
    12,
    1,
    400,
    'Min chunk length',
    'A chunk is sent to TTS only once it holds at least this many characters (the first chunk included, unless first_chunk_words cuts it sooner).',
  ),
  first_chunk_words: count(
    3,
    0,
    20,
    'First chunk words',
    'The first chunk of a reply goes to TTS after this many words, without waiting for the end of the first clause, so speech starts sooner (0: wait for the clause).',
  ),
});

export const llmSchema = z.object({
  base_url: z
    .string({ error: 'must be text' })
    .max(500, { error: 'must be at most 500 characters' })
    .superRefine((value, ctx) => {
      const problem = llmBaseUrlProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default('')
    .meta({
      label: 'Base URL',
      description:
        "OpenAI-compatible endpoint (empty: OpenAI, or OPENAI_BASE_URL). Ollama, LM Studio and llama.cpp's server work, e.g. http://127.0.0.1:11434/v1. Must be https unless it is on this computer. The OpenAI key is sent only to OpenAI's API (api.openai.com); another endpoint gets its own key (Custom endpoint key), kept for that endpoint only.",
    }),
  model: text('gpt-4o-mini', 200, 'Model', 'Chat model name at that endpoint.'),
  temperature: bounded('', 0.7, 0, 2, {
    label: 'Temperature',
    description: 'Sampling temperature of the replies.',
    unit: 'ratio',
  }),
  timeout: seconds(
    10,
    1,
    120,
    'Timeout',
    'Give up on a request that has not started streaming within this time (then retried if safe).',
  ),
  max_retries: count(
    2,
    0,
    5,
    'Max retries',
    'Retries of a request that failed before its first token (rate limit, server error, timeout, dropped connection).',
  ),
});

export const ttsSchema = z
  .object({
    transport: choice(
      ['websocket', 'http'],
      'websocket',
      'ElevenLabs transport',
      '"websocket": the multi-context stream-input socket, kept warm, text streamed as tokens arrive; "http": one streaming request per text chunk.',
    ),
    voice_id: text('21m00Tcm4TlvDq8ikWAM', 100, 'Voice', 'ElevenLabs voice id.'),
    model_id: text('eleven_flash_v2_5', 100, 'TTS model', 'ElevenLabs model id.'),
    sample_rate: choice(
      ['16000', '22050', '24000'],
      '24000',
      'Sample rate',
      'PCM sample rate requested from ElevenLabs (pcm_<rate>).',
    ),
  })
  .superRefine((v, ctx) => {
    // ElevenLabs documents that eleven_v3 has no multi-context WebSocket.
    if (v.transport === 'websocket' && v.model_id.trim().toLowerCase().startsWith('eleven_v3')) {
      ctx.addIssue({
        code: 'custom',
        path: ['model_id'],
        message: `"${v.model_id}" has no multi-context WebSocket at ElevenLabs: set tts.transport to "http" to use it, or choose another model`,
      });
    }
  });

export const audioSchema = z.object({
  input_device: text(
    '',
    300,
    'Microphone',
    'Input device id (empty: the system default; when the chosen device is missing the default is used until it returns).',
  ),
  echo_cancellation: flag(
    true,
    'Echo cancellation',
    "Removes the agent's own voice from the microphone, so it does not interrupt itself.",
  ),
  noise_suppression: flag(true, 'Noise suppression', 'Reduces steady background noise in the microphone.'),
  auto_gain_control: flag(
    true,
    'Auto gain',
    'Keeps your voice at an even level however far you are from the microphone.',
  ),
});

export const DEFAULT_PUSH_TO_TALK_SHORTCUT = 'CommandOrControl+Shift+Space';

export const appSchema = z.object({
  push_to_talk_shortcut: text(
    DEFAULT_PUSH_TO_TALK_SHORTCUT,
    100,
    'Push-to-talk shortcut',
    'Global shortcut (Electron accelerator syntax) that starts and ends a push-to-talk turn: press once to talk, again to finish (the OS reports no key release, so it cannot be held).',
  ),
});

export const recordingSchema = z.object({
  enabled: flag(
    false,
    'Record sessions',
    'Keep each session on this computer (the microphone as the engine heard it, every speech-to-text, LLM and TTS event with its timing, the settings and the report; never the API keys) to replay it later under other settings. Off by default; a red dot in the window shows while it is on.',
  ),
  max_total_mb: bounded(
    'MB',
    500,
    10,
    100_000,
    {
      label: 'Size cap',
      description:
        'Most disk space all recordings may take together; the oldest are deleted to make room, and a session that reaches the cap stops recording (about 2.7 MB per minute of conversation).',
      unit: 'MB',
    },
    true,
  ),
  keep_sessions: count(
    20,
    1,
    1000,
    'Sessions kept',
    'Most recordings kept; the oldest is deleted when a new session starts.',
  ),
});

export const settingsSchema = z.object({
  vad: vadSchema.prefault({}),
  stt: sttSchema.prefault({}),
  turn_handling: turnHandlingSchema.prefault({}),
  agent: agentSchema.prefault({}),
  reply: replySchema.prefault({}),
  llm: llmSchema.prefault({}),
  tts: ttsSchema.prefault({}),
  audio: audioSchema.prefault({}),
  app: appSchema.prefault({}),
  recording: recordingSchema.prefault({}),
});

export type Settings = z.output<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;
export type VadSettings = Settings['vad'];
export type SttSettings = Settings['stt'];
export type TurnHandlingSettings = Settings['turn_handling'];
export type EndpointingSettings = TurnHandlingSettings['endpointing'];
export type InterruptionSettings = TurnHandlingSettings['interruption'];
export type PreemptiveSettings = TurnHandlingSettings['preemptive_generation'];
export type AgentSettings = Settings['agent'];
export type ReplySettings = Settings['reply'];
export type LlmSettings = Settings['llm'];
export type TtsSettings = Settings['tts'];
export type AudioSettings = Settings['audio'];
export type RecordingSettings = Settings['recording'];
export type TurnDetectionMode = TurnHandlingSettings['turn_detection'];
export type ReuseStrategy = PreemptiveSettings['strategy'];

export class SettingsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid settings:\n  ${problems.join('\n  ')}`);
    this.name = 'SettingsError';
  }
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const field = issue.path.map(String).join('.') || '(settings)';
  const given = valueAt(input, issue.path);
  const got = given === undefined ? '' : ` (got ${JSON.stringify(given)})`;
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length ? issue.path.map(String).join('.') : 'settings';
    return `${issue.keys.map((k) => (where === 'settings' ? k : `${where}.${k}`)).join(', ')}: unknown option (not one of the settings of ${where})`;
  }
  return `${field}: ${issue.message}${got}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node = input;
  for (const key of path) {
    if (!isPlainObject(node)) return undefined;
    node = node[String(key)];
  }
  return node;
}

/** Validates (partial) settings, fills defaults, and throws a SettingsError naming each bad field. */
export function parseSettings(input: unknown): Settings {
  const result = settingsSchema.safeParse(input ?? {});
  const problems = unknownKeys(input ?? {}, defaultSettings()).map((path) => `${path}: unknown option`);
  if (!result.success) problems.push(...result.error.issues.map((issue) => describeIssue(issue, input)));
  if (problems.length || !result.success) throw new SettingsError(problems);
  return result.data;
}

/** Paths in `input` that have no counterpart in the settings tree. */
function unknownKeys(input: unknown, reference: unknown, prefix = ''): string[] {
  if (!isPlainObject(input) || !isPlainObject(reference)) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(input)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (!(key in reference)) out.push(path);
    else out.push(...unknownKeys(value, reference[key], path));
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

let defaults: Settings | undefined;
export function defaultSettings(): Settings {
  defaults ??= settingsSchema.parse({});
  return structuredClone(defaults);
}

/**
 * Applies `path.to.option=value` overrides (as typed on a command line) to settings.
 * Values are read as JSON when they parse (numbers, booleans, null, quoted strings), else as plain text.
 */
export function applyOverrides(base: SettingsInput, assignments: readonly string[]): Settings {
  const draft: Record<string, unknown> = structuredClone((base ?? {}) as Record<string, unknown>);
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) {
      throw new SettingsError([`"${assignment}": expected path.to.option=value`]);
    }
    const path = assignment.slice(0, eq).trim();
    const raw = assignment.slice(eq + 1).trim();
    if (!optionExists(path)) {
      throw new SettingsError([`${path}: unknown option (see the settings reference in the README)`]);
    }
    setPath(draft, path.split('.'), parseValue(raw));
  }
  return parseSettings(draft);
}

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function optionExists(path: string): boolean {
  let node: unknown = defaultSettings();
  for (const key of path.split('.')) {
    if (!isPlainObject(node) || !(key in node)) return false;
    node = node[key];
  }
  return !isPlainObject(node);
}

function setPath(target: Record<string, unknown>, keys: string[], value: unknown): void {
  let node = target;
  keys.slice(0, -1).forEach((key) => {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  });
  node[keys[keys.length - 1]!] = value;
}

export interface OptionInfo extends OptionMeta {
  path: string;
  default: unknown;
  minimum?: number;
  maximum?: number;
  choices?: readonly string[];
}

/** Every option as a flat list (path, default, unit, range, meaning) for the settings panel and the docs. */
export function describeOptions(): OptionInfo[] {
  const json = z.toJSONSchema(settingsSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  const out: OptionInfo[] = [];
  const walk = (node: JsonSchemaNode, path: string[]) => {
    if (node.type === 'object' && node.properties) {
      for (const [key, child] of Object.entries(node.properties)) walk(child, [...path, key]);
      return;
    }
    const info: OptionInfo = {
      path: path.join('.'),
      label: node.label ?? path[path.length - 1] ?? '',
      description: node.description ?? '',
      default: node.default,
    };
    if (node.unit) info.unit = node.unit;
    if (node.minimum !== undefined) info.minimum = node.minimum;
    if (node.maximum !== undefined) info.maximum = node.maximum;
    if (node.enum) info.choices = node.enum;
    out.push(info);
  };
  walk(json, []);
  return out;
}

interface JsonSchemaNode {
  type?: string;
  properties?: Record<string, JsonSchemaNode>;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  enum?: string[];
  label?: string;
  description?: string;
  unit?: OptionMeta['unit'];
}

/** Every leaf option of a settings tree (or patch) by its dotted path. */
export function settingLeaves(
  node: unknown,
  prefix = '',
  out = new Map<string, string | number | boolean>(),
): Map<string, string | number | boolean> {
  if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
    for (const [key, value] of Object.entries(node))
      settingLeaves(value, prefix ? `${prefix}.${key}` : key, out);
  } else if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') {
    out.set(prefix, node);
  }
  return out;
}
