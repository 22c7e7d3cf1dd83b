/**
 * Symptoms → the options that fix them, after LiveKit's turn-taking troubleshooting table,
 * in Cue's option names. Every `path` is an option of the settings schema (tested).
 */

export interface Fix {
  path: string;
  /** What to do with it, in a few words. */
  advice: string;
}

export interface Symptom {
  id: string;
  /** As the user would say it. */
  title: string;
  /** Why it happens. */
  cause: string;
  fixes: readonly Fix[];
}

export const TROUBLESHOOTING: readonly Symptom[] = [
  {
    id: 'cuts-me-off',
    title: 'It cuts me off mid-sentence',
    cause: 'The turn closes during a pause you meant to continue after.',
    fixes: [
      {
        path: 'turn_handling.turn_detection',
        advice: 'Use "model": an unfinished sentence then waits the max delay instead of the min delay.',
      },
      { path: 'turn_handling.endpointing.min_delay', advice: 'Raise it (try 0.8 s).' },
      { path: 'turn_handling.endpointing.max_delay', advice: 'Raise it for long thinking pauses (try 4 s).' },
      {
        path: 'turn_handling.turn_detector.threshold',
        advice: 'Raise it, so fewer pauses count as a likely end of turn.',
      },
      { path: 'vad.min_silence_duration', advice: 'Raise it if short pauses end your speech (try 0.7 s).' },
      {
        path: 'stt.flux.eot_threshold',
        advice: 'With Deepgram Flux: raise it (try 0.8) so Flux ends turns only when surer.',
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
        advice: 'Keep it on: the reply starts while the turn is still being confirmed.',
      },
      {
        path: 'turn_handling.preemptive_generation.preemptive_tts',
        advice: 'Turn it on to synthesise speech early too (costs TTS characters on cancelled speculations).',
      },
      { path: 'turn_handling.endpointing.min_delay', advice: 'Lower it (try 0.3 s).' },
      {
        path: 'vad.min_silence_duration',
        advice: 'Lower it (try 0.35 s): the turn cannot close before the VAD hears silence.',
      },
      {
        path: 'turn_handling.endpointing.mode',
        advice: 'Try "dynamic": the wait adapts to your own pauses.',
      },
      {
        path: 'turn_handling.preemptive_generation.interim_stability',
        advice: 'Lower it (try 0.2 s) to speculate sooner on interim transcripts.',
      },
      { path: 'reply.chunking', advice: 'Use "clause" so speech starts at the first comma.' },
      { path: 'reply.min_chunk_chars', advice: 'Lower it so the first chunk reaches TTS sooner.' },
      { path: 'llm.model', advice: 'A smaller or local model answers faster.' },
    ],
  },
  {
    id: 'half-sentence',
    title: 'It replies to half my sentence',
    cause: 'The turn closed (or a speculative reply was kept) before your last words were transcribed.',
    fixes: [
      {
        path: 'turn_handling.preemptive_generation.strategy',
        advice: 'Use "exact" so a speculation is spoken only if its transcript equals the final one.',
      },
      {
        path: 'turn_handling.preemptive_generation.max_speech_duration',
        advice: 'Lower it so long utterances, the likeliest to change, are not speculated on.',
      },
      {
        path: 'turn_handling.preemptive_generation.max_retries',
        advice: 'Lower it to stop repeated speculation on jittery transcripts.',
      },
      {
        path: 'turn_handling.preemptive_generation.speculate_on_interim',
        advice: 'Turn it off to speculate on final transcripts only.',
      },
      {
        path: 'turn_handling.endpointing.min_delay',
        advice: 'Raise it so late words arrive before the turn closes.',
      },
      {
        path: 'stt.nova.endpointing_ms',
        advice: 'With Deepgram Nova: raise it so a segment is not finalised inside a phrase.',
      },
      {
        path: 'stt.flux.eager_eot_threshold',
        advice: 'With Deepgram Flux: raise it so eager end-of-turn drafts come later and change less.',
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
        advice: 'Raise it (try 0.8 s): a backchannel is short.',
      },
      {
        path: 'turn_handling.interruption.min_words',
        advice:
          'Raise it (1 ignores coughs and noise; 2 also ignores one-word "okay", but then "stop" alone does not interrupt).',
      },
      {
        path: 'turn_handling.interruption.mode',
        advice: '"adaptive" tells barge-ins from backchannels when a classifier is installed.',
      },
      {
        path: 'turn_handling.interruption.resume_false_interruption',
        advice: 'Keep it on so the agent resumes after a false alarm.',
      },
      {
        path: 'turn_handling.interruption.false_interruption_timeout',
        advice: 'Keep the default (2 s); lower it to resume sooner after a false alarm.',
      },
    ],
  },
  {
    id: 'cannot-interrupt',
    title: 'It keeps talking when I interrupt',
    cause: 'Interruptions are off, or their thresholds are too high for how you speak.',
    fixes: [
      { path: 'turn_handling.interruption.enabled', advice: 'Turn it on.' },
      { path: 'turn_handling.interruption.min_duration', advice: 'Lower it (try 0.3 s).' },
      { path: 'turn_handling.interruption.min_words', advice: 'Set it to 0 (no word check).' },
      { path: 'vad.activation_threshold', advice: 'Lower it if quiet speech is not detected.' },
    ],
  },
  {
    id: 'noise',
    title: 'Noise or other voices start turns',
    cause: 'The voice activity detector hears speech in background noise.',
    fixes: [
      { path: 'vad.activation_threshold', advice: 'Raise it (try 0.65).' },
      { path: 'vad.min_speech_duration', advice: 'Raise it (try 0.15 s) to ignore clicks and short noises.' },
      {
        path: 'turn_handling.interruption.min_words',
        advice: 'Raise it to 1 so noise without words does not interrupt.',
      },
    ],
  },
  {
    id: 'self-interrupt',
    title: 'It interrupts itself',
    cause: 'The microphone picks up the agent’s own voice from the speakers and takes it for yours.',
    fixes: [
      { path: 'audio.echo_cancellation', advice: 'Keep it on (or use headphones).' },
      {
        path: 'turn_handling.interruption.min_words',
        advice: 'Raise it to 1 so sound without words does not interrupt.',
      },
      { path: 'vad.activation_threshold', advice: 'Raise it so quieter echo is not taken for speech.' },
    ],
  },
  {
    id: 'clipped-start',
    title: 'My first word is lost',
    cause: 'Audio from before speech was detected is not kept.',
    fixes: [
      { path: 'vad.prefix_padding', advice: 'Raise it (try 0.7 s).' },
      { path: 'vad.activation_threshold', advice: 'Lower it so speech is detected sooner.' },
    ],
  },
  {
    id: 'no-breath',
    title: 'Its replies run together with no breath',
    cause: 'Back-to-back agent utterances (a greeting and a reply, say) follow each other at once.',
    fixes: [{ path: 'agent.min_consecutive_speech_delay', advice: 'Set a small gap (try 0.2–0.4 s).' }],
  },
];
