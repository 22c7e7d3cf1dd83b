/**
 * The settings panel's sections, generated from describeOptions(): each option lands in exactly
 * one group of one section by its path; an option no rule claims goes to "Other", so a new
 * option always shows up somewhere.
 */
import type { OptionInfo } from '../../../shared/settings';

export type SectionId =
  | 'providers'
  | 'agent'
  | 'turn'
  | 'interruptions'
  | 'preemptive'
  | 'audio'
  | 'reply'
  | 'app'
  | 'recording'
  | 'other';

export interface SettingsGroup {
  id: string;
  title: string;
  description?: string;
  options: OptionInfo[];
}

export interface SettingsSection {
  id: SectionId;
  title: string;
  summary: string;
  groups: SettingsGroup[];
}

interface GroupRule {
  id: string;
  title: string;
  description?: string;
  /** Path prefixes (a whole path, or a prefix ending in "."). */
  prefixes: readonly string[];
}

interface SectionRule {
  id: SectionId;
  title: string;
  summary: string;
  groups: readonly GroupRule[];
}

export const SECTION_RULES: readonly SectionRule[] = [
  {
    id: 'providers',
    title: 'Providers',
    summary: 'API keys, and the speech-to-text, language model and voice services Cue talks to.',
    groups: [
      {
        id: 'stt',
        title: 'Speech-to-text · Deepgram',
        description: 'Changes here take effect at the next session start (Flux thresholds apply at once).',
        prefixes: ['stt.provider'],
      },
      { id: 'stt-nova', title: 'Deepgram Nova', prefixes: ['stt.nova.'] },
      { id: 'stt-flux', title: 'Deepgram Flux', prefixes: ['stt.flux.'] },
      {
        id: 'llm',
        title: 'Language model · OpenAI-compatible',
        description:
          'Any OpenAI-compatible server: OpenAI, Ollama, LM Studio, llama.cpp. Applies at the next start.',
        prefixes: ['llm.'],
      },
      {
        id: 'tts',
        title: 'Voice · ElevenLabs',
        description: 'Applies at the next session start.',
        prefixes: ['tts.'],
      },
    ],
  },
  {
    id: 'agent',
    title: 'Agent',
    summary: 'What the agent is told, what it says first, and the pause between its utterances.',
    groups: [{ id: 'agent', title: 'Agent', prefixes: ['agent.'] }],
  },
  {
    id: 'turn',
    title: 'Turn detection & endpointing',
    summary: 'How Cue decides you have finished speaking, and how long it waits before replying.',
    groups: [
      { id: 'turn-mode', title: 'Turn detection', prefixes: ['turn_handling.turn_detection'] },
      { id: 'endpointing', title: 'Endpointing', prefixes: ['turn_handling.endpointing.'] },
      {
        id: 'turn-detector',
        title: 'End-of-turn model',
        description: 'Used when turn detection is "model".',
        prefixes: ['turn_handling.turn_detector.'],
      },
    ],
  },
  {
    id: 'interruptions',
    title: 'Interruptions',
    summary: 'When your speech stops the agent, and how it recovers from false alarms.',
    groups: [{ id: 'interruption', title: 'Interruptions', prefixes: ['turn_handling.interruption.'] }],
  },
  {
    id: 'preemptive',
    title: 'Preemptive generation',
    summary: 'Start the reply before your turn is confirmed, to answer sooner.',
    groups: [
      {
        id: 'preemptive',
        title: 'Preemptive generation',
        prefixes: ['turn_handling.preemptive_generation.'],
      },
    ],
  },
  {
    id: 'audio',
    title: 'Audio & voice activity',
    summary: 'The microphone, and voice activity detection on it: what counts as speech and as silence.',
    groups: [
      { id: 'microphone', title: 'Microphone', prefixes: ['audio.'] },
      { id: 'vad', title: 'Voice activity detection (VAD)', prefixes: ['vad.'] },
    ],
  },
  {
    id: 'reply',
    title: 'Reply',
    summary: 'How the reply text is cut into pieces for speech synthesis.',
    groups: [{ id: 'reply', title: 'Reply streaming', prefixes: ['reply.'] }],
  },
  {
    id: 'app',
    title: 'Shortcuts',
    summary: 'The global push-to-talk shortcut, which works while Cue is in the background.',
    groups: [{ id: 'app', title: 'Global shortcut', prefixes: ['app.'] }],
  },
  {
    id: 'recording',
    title: 'Recording',
    summary: 'Keep your sessions on this computer to replay them under other settings (Sessions).',
    groups: [{ id: 'recording', title: 'Session recording', prefixes: ['recording.'] }],
  },
];

const OTHER: SectionRule = {
  id: 'other',
  title: 'Other',
  summary: 'Options without a section of their own.',
  groups: [{ id: 'other', title: 'Other', prefixes: [] }],
};

function matches(path: string, prefix: string): boolean {
  return prefix.endsWith('.') ? path.startsWith(prefix) : path === prefix;
}

/** Sections in panel order, each with its groups' options in schema order; empty groups and sections left out. */
export function groupOptions(options: readonly OptionInfo[]): SettingsSection[] {
  const buckets = new Map<string, OptionInfo[]>();
  for (const option of options) {
    const rule = SECTION_RULES.flatMap((s) => s.groups).find((g) =>
      g.prefixes.some((p) => matches(option.path, p)),
    );
    const id = rule?.id ?? 'other';
    const list = buckets.get(id) ?? [];
    list.push(option);
    buckets.set(id, list);
  }
  const out: SettingsSection[] = [];
  for (const rule of [...SECTION_RULES, OTHER]) {
    const groups = rule.groups
      .map((g) => ({
        id: g.id,
        title: g.title,
        ...(g.description ? { description: g.description } : {}),
        options: buckets.get(g.id) ?? [],
      }))
      .filter((g) => g.options.length > 0);
    // Providers always shows (the API keys live there even if no option matched).
    if (groups.length || rule.id === 'providers')
      out.push({ id: rule.id, title: rule.title, summary: rule.summary, groups });
  }
  return out;
}

/** The section an option path belongs to. */
export function sectionOf(path: string): SectionId {
  for (const section of SECTION_RULES) {
    if (section.groups.some((g) => g.prefixes.some((p) => matches(path, p)))) return section.id;
  }
  return 'other';
}
