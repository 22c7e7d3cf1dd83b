/**
 * Cue's transcript heuristic as LiveKit's text turn detector (bench/systems/livekit-turn-detector.ts):
 * what it scores from LiveKit's chat context and how LiveKit reads its answer.
 */
import { llm, type LanguageCode } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { LiveKitCueTurnDetector } from '../../bench/systems/livekit-turn-detector';
import type { TurnDetector, TurnDetectorInput } from '../../src/main/engine/ports';
import { TURN_ENDING_PROBABILITY } from '../../src/main/engine/text/heuristic-turn-detector';

type Message = Parameters<llm.ChatContext['addMessage']>[0];

function chat(...messages: Message[]): llm.ChatContext {
  const ctx = llm.ChatContext.empty();
  for (const message of messages) ctx.addMessage(message);
  return ctx;
}

/** A detector that records what it was asked and answers 0.42. */
function recordingDetector() {
  const inputs: TurnDetectorInput[] = [];
  const detector: TurnDetector = {
    name: 'recording',
    predictEndOfTurn: (input) => {
      inputs.push(input);
      return Promise.resolve(0.42);
    },
  };
  return { detector, inputs };
}

describe("Cue's heuristic as LiveKit's turn detector", () => {
  it('scores the last user message with the heuristic', async () => {
    const detector = new LiveKitCueTurnDetector(0.5);
    const unfinished = chat(
      { role: 'system', content: 'You are a helpful voice assistant.' },
      { role: 'user', content: 'Remind me to' },
    );
    const complete = chat({ role: 'user', content: 'What time is it?' });
    expect(await detector.predictEndOfTurn(unfinished)).toBe(TURN_ENDING_PROBABILITY.preposition);
    expect(await detector.predictEndOfTurn(complete)).toBe(TURN_ENDING_PROBABILITY.complete_question);
  });

  it("joins the user's messages since the last answer: a turn LiveKit committed early is finished by the next one", async () => {
    const { detector, inputs } = recordingDetector();
    const ctx = chat(
      { role: 'system', content: 'You are a helpful voice assistant.' },
      { role: 'user', content: 'What is the weather?' },
      { role: 'assistant', content: 'Sunny all day.' },
      { role: 'user', content: 'Book a flight to' },
      // A reply cut off before anything of it was said leaves an empty assistant message.
      { role: 'assistant', content: '' },
      { role: 'user', content: 'Paris.' },
    );
    expect(await new LiveKitCueTurnDetector(0.5, detector).predictEndOfTurn(ctx)).toBe(0.42);
    expect(inputs).toEqual([
      {
        transcript: 'Book a flight to Paris.',
        history: [
          { role: 'system', content: 'You are a helpful voice assistant.' },
          { role: 'user', content: 'What is the weather?' },
          { role: 'assistant', content: 'Sunny all day.' },
        ],
      },
    ]);
    const finished = new LiveKitCueTurnDetector(0.5);
    expect(await finished.predictEndOfTurn(ctx)).toBe(TURN_ENDING_PROBABILITY.complete_sentence);
  });

  it("gives LiveKit Cue's threshold as the unlikely threshold, whatever the language", async () => {
    const detector = new LiveKitCueTurnDetector(0.35);
    expect(await detector.unlikelyThreshold()).toBe(0.35);
    expect(await detector.unlikelyThreshold('en-US' as LanguageCode)).toBe(0.35);
  });

  it('supports English only (and an unknown language, which LiveKit passes before any transcript)', async () => {
    const detector = new LiveKitCueTurnDetector(0.5);
    expect(await detector.supportsLanguage('en' as LanguageCode)).toBe(true);
    expect(await detector.supportsLanguage('en-GB' as LanguageCode)).toBe(true);
    expect(await detector.supportsLanguage(undefined)).toBe(true);
    expect(await detector.supportsLanguage('fr-FR' as LanguageCode)).toBe(false);
  });
});
