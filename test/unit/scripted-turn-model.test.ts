/** The bench's scripted audio model answers with the case's confidence for the pause it is in. */
import { describe, expect, it } from 'vitest';
import { ScriptedTurnModel } from '../../bench/scripted-turn-model';
import { buildCase } from '../helpers/session-harness';

describe('ScriptedTurnModel', () => {
  const caseData = buildCase([
    {
      at: 0.5,
      text: 'play some jazz [pause 1.0 conf 0.75] from the fifties',
      reply: 'Jazz.',
      endConfidence: 0.95,
    },
  ]);
  const words = caseData.turns[0]!.words;
  const inPauseAfter = (i: number) => words[i]!.end * 1000 + 200;

  it('answers the hold, the end and a mid-phrase gap with what the script says', async () => {
    let now = 0;
    const model = new ScriptedTurnModel(caseData, () => now);
    now = inPauseAfter(2);
    expect(await model.predictEndOfTurn({ transcript: 'play some jazz', history: [] })).toBe(0.75);
    now = inPauseAfter(5);
    expect(await model.predictEndOfTurn({ transcript: 'play some jazz from the fifties', history: [] })).toBe(
      0.95,
    );
    expect(model.confidenceAt(words[0]!.end * 1000 + 30)).toBe(0.1);
  });

  it('caps its answer in pauses after which the speaker goes on, not at the end', () => {
    const model = new ScriptedTurnModel(caseData, () => 0, { holdCap: 0.3 });
    expect(model.confidenceAt(inPauseAfter(2))).toBe(0.3);
    expect(model.confidenceAt(inPauseAfter(5))).toBe(0.95);
  });
});
