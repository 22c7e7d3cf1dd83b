/**
 * Deepgram Flux turns in every turn-detection mode: Flux's transcript is the turn's transcript,
 * its EagerEndOfTurn settles a turn as a final would, and events Flux sends about a turn the
 * engine has already committed (an EndOfTurn that comes after the commit, Updates of the same
 * Flux turn) neither open a phantom turn nor reach the user's next utterance.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCase, type ScriptCase } from '../../src/main/engine/scripted/case';
import type { ReplayAction, ReplayResult } from '../../src/main/engine/replay';
import type { SettingsInput, TurnDetectionMode } from '../../src/shared/settings';
import { buildCase, eventsOf, runCase, spoken } from '../helpers/session-harness';

const FIXTURES = join(__dirname, '../fixtures/cases');

/** The three-turns fixture with the first turn ending on a confidence Flux finds too low for EndOfTurn. */
async function lowConfidenceEnd(): Promise<ScriptCase> {
  const caseData = await loadCase(join(FIXTURES, 'three-turns'));
  caseData.turns[0]!.end_eot_confidence = 0.6;
  return caseData;
}

const endOf = (c: ScriptCase, turn: number) => c.turns[turn]!.words.at(-1)!.end * 1000;
const startOf = (c: ScriptCase, turn: number) => c.turns[turn]!.words[0]!.start * 1000;

function fluxSettings(mode: TurnDetectionMode, extra: SettingsInput = {}): SettingsInput {
  return {
    ...extra,
    stt: { provider: 'deepgram-flux', ...extra.stt },
    turn_handling: { ...extra.turn_handling, turn_detection: mode },
  };
}

/** Push-to-talk around each turn of the case: pressed 300 ms before it, released 200 ms after it. */
function pushToTalkEachTurn(c: ScriptCase): ReplayAction[] {
  return c.turns.flatMap((_, i) => [
    { atMs: startOf(c, i) - 300, run: (s) => s.pushToTalk(true) },
    { atMs: endOf(c, i) + 200, run: (s) => s.pushToTalk(false) },
  ]);
}

function committed(result: ReplayResult): string[] {
  return eventsOf(result.events, 'turn_committed').map((e) => e.transcript.toLowerCase());
}

const MODES: TurnDetectionMode[] = ['model', 'vad', 'stt', 'manual'];

describe('Flux: a turn whose end has a confidence below eot_threshold', () => {
  for (const mode of MODES) {
    it(`${mode}: the turn commits on what Flux heard, and Flux's late EndOfTurn does not reach the next turn`, async () => {
      const caseData = await lowConfidenceEnd();
      // In stt mode Flux's own timeout ends the turn: 3 s here, so that it comes before the next turn.
      const settings = fluxSettings(mode, mode === 'stt' ? { stt: { flux: { eot_timeout_ms: 3000 } } } : {});
      const result = await runCase(caseData, {
        settings,
        ...(mode === 'manual' ? { actions: pushToTalkEachTurn(caseData) } : {}),
      });
      expect(committed(result)).toEqual([
        "what's on my calendar tomorrow",
        'move the meeting to eleven',
        "thanks that's all",
      ]);
      expect(result.outcomes.map((o) => o.wrong_reply)).toEqual([false, false, false]);
      // Not max_delay + 1 s: the engine decides as soon as its mode allows (stt: Flux's timeout).
      const limit = mode === 'stt' ? 3000 + 500 + 300 : 1000;
      expect(result.outcomes[0]!.e2e_from_t_end_ms).toBeLessThan(limit);
      // Flux's EndOfTurn for the first turn came after the commit and was set aside.
      const firstCommit = eventsOf(result.events, 'turn_committed')[0]!.t;
      if (mode !== 'stt') {
        const finals = eventsOf(result.events, 'transcript_final');
        expect(finals.filter((f) => f.t > firstCommit && f.t < startOf(caseData, 1))).toEqual([]);
      }
      expect(result.report.turns).toHaveLength(3);
    });
  }
});

describe('Flux: TurnResumed after EagerEndOfTurn', () => {
  // Flux is eager at the pause (0.6 ≥ eager_eot_threshold 0.5) but does not end the turn (< 0.7).
  const hesitation = buildCase([
    { at: 0.5, text: 'book a flight to [pause 1.2 conf 0.6] paris', reply: 'Where are you flying from?' },
  ]);

  for (const mode of MODES) {
    it(`${mode}: the resumed turn is answered whole, once, and the eager speculation is dropped`, async () => {
      const result = await runCase(hesitation, {
        settings: fluxSettings(mode, {
          turn_handling: { endpointing: { min_delay: mode === 'vad' ? 1.5 : 0.5 } },
        }),
        ...(mode === 'manual' ? { actions: pushToTalkEachTurn(hesitation) } : {}),
      });
      const turnEvents = eventsOf(result.events, 'turn_event').map((e) => e.event);
      expect(turnEvents).toContain('EagerEndOfTurn');
      expect(turnEvents).toContain('TurnResumed');
      expect(committed(result)).toEqual(['book a flight to paris']);
      expect(spoken(result)).toEqual(['Where are you flying from?']);
      expect(result.outcomes[0]).toMatchObject({ false_cutin: false, wrong_reply: false, missed: false });
    });
  }
});

describe('Flux: the engine commits at a pause, then the user goes on in the same Flux turn', () => {
  // A complete-sounding phrase and a pause longer than min_delay: the engine commits it before
  // Flux ends its turn; Flux's later events carry the whole Flux turn, words already committed
  // included.
  const continued = buildCase([
    {
      at: 0.5,
      text: "what's the weather [pause 1.0 conf 0.6] in tokyo tomorrow",
      reply: 'Rain in Tokyo tomorrow.',
    },
  ]);

  for (const mode of ['model', 'vad'] as const) {
    it(`${mode}: the continued turn carries each word once and is answered whole`, async () => {
      const result = await runCase(continued, {
        settings: fluxSettings(mode, { turn_handling: { endpointing: { min_delay: 0.3 } } }),
      });
      const commits = committed(result);
      expect(commits[0]).toBe("what's the weather");
      expect(commits.at(-1)).toBe("what's the weather in tokyo tomorrow");
      expect(spoken(result).at(-1)).toBe('Rain in Tokyo tomorrow.');
      expect(result.report.history.map((m) => `${m.role}: ${m.content.toLowerCase()}`)).toEqual([
        "user: what's the weather in tokyo tomorrow",
        'assistant: rain in tokyo tomorrow.',
      ]);
    });
  }
});
