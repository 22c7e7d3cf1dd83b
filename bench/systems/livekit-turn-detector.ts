/**
 * Cue's transcript heuristic (src/main/engine/text/heuristic-turn-detector.ts) as a LiveKit Agents
 * 1.9 text turn detector, so that LiveKit's pipeline can be run with the same end-of-turn detector
 * as Cue ("livekit-text").
 *
 * LiveKit accepts any object with the `_TurnDetector` shape (voice/audio_recognition.ts) in
 * `turnHandling.turnDetection`. On each end of user speech, `AudioRecognition.runEOUDetection` adds
 * the turn's transcript so far to a copy of the chat context as a user message and calls
 * `predictEndOfTurn(chatCtx)`, then `unlikelyThreshold(language)`: a probability below the
 * threshold makes LiveKit wait `endpointing.maxDelay` instead of `minDelay`. Cue's rule is the
 * same (at or above `turn_detector.threshold`: a likely end, `min_delay`), so Cue's threshold is
 * passed through unchanged.
 *
 * The transcript scored is every user message after the last assistant message with content,
 * joined: LiveKit keeps a turn it committed too early as its own user message, and the user's
 * next words finish that sentence (LiveKit's own text turn-detector plugin likewise merges
 * consecutive messages of one role).
 */
import { getBaseLanguage, type llm, type LanguageCode } from '@livekit/agents';
import type { TurnDetector } from '../../src/main/engine/ports';
import { HeuristicTurnDetector } from '../../src/main/engine/text/heuristic-turn-detector';
import type { ChatMessage } from '../../src/shared/report';

export class LiveKitCueTurnDetector {
  readonly model = 'cue-heuristic';
  readonly provider = 'cue';

  constructor(
    /** Cue's `turn_handling.turn_detector.threshold`. */
    private readonly threshold: number,
    private readonly detector: TurnDetector = new HeuristicTurnDetector(),
  ) {}

  unlikelyThreshold(_language?: LanguageCode): Promise<number> {
    return Promise.resolve(this.threshold);
  }

  /** The heuristic reads English word endings only. */
  supportsLanguage(language?: LanguageCode): Promise<boolean> {
    return Promise.resolve(language === undefined || getBaseLanguage(language) === 'en');
  }

  predictEndOfTurn(chatCtx: llm.ChatContext, _timeoutMs?: number): Promise<number> {
    const messages = chatMessages(chatCtx);
    const lastAnswer = messages.findLastIndex((m) => m.role === 'assistant' && m.content.trim() !== '');
    const userWords = messages
      .slice(lastAnswer + 1)
      .filter((m) => m.role === 'user')
      .map((m) => m.content.trim())
      .filter(Boolean);
    return this.detector.predictEndOfTurn({
      transcript: userWords.join(' '),
      history: messages.slice(0, lastAnswer + 1),
    });
  }
}

/** The chat context's text messages in Cue's shape (LiveKit's "developer" role counts as system). */
export function chatMessages(chatCtx: llm.ChatContext): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const item of chatCtx.items) {
    if (item.type !== 'message') continue;
    const role = item.role === 'developer' ? 'system' : item.role;
    messages.push({
      role,
      content: item.textContent ?? '',
      ...(item.interrupted ? { interrupted: true } : {}),
    });
  }
  return messages;
}
