/**
 * The public benchmark corpus (bench/corpus, generated from bench/corpus-gen/spec.json by
 * bench/corpus-gen/generate-corpus.sh): every case loads, and the corpus covers what the
 * latency benchmark needs (long turns, hesitations, interim mis-hearings, multi-turn cases,
 * several provider profiles).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { finalTranscript, loadCorpus, type ScriptCase } from '../../src/main/engine/scripted/case';

const normalise = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s']/gu, '')
    .replace(/\s+/g, ' ')
    .trim();

/** Holds of 300 to 1200 ms: the silence between the held word and the next. */
function holdsInRange(cases: ScriptCase[]) {
  return cases.flatMap((c) =>
    c.turns.flatMap((turn) =>
      turn.holds
        .map((hold) => ({
          ms: (turn.words[hold.after + 1]!.start - turn.words[hold.after]!.end) * 1000,
          confidence: hold.eot_confidence,
        }))
        .filter((hold) => hold.ms >= 300 - 1 && hold.ms <= 1200 + 1),
    ),
  );
}

describe('bench/corpus', () => {
  let cases: ScriptCase[];
  beforeAll(async () => {
    cases = await loadCorpus('bench/corpus');
  });

  it('holds at least 24 cases, each with a reply per turn', () => {
    expect(cases.length).toBeGreaterThanOrEqual(24);
    for (const c of cases) for (const turn of c.turns) expect(turn.reply.trim()).not.toBe('');
  });

  it('has at least 2 turns of more than 10 s of speech', () => {
    const long = cases.flatMap((c) =>
      c.turns.filter((turn) => turn.words[turn.words.length - 1]!.end - turn.words[0]!.start > 10),
    );
    expect(long.length).toBeGreaterThanOrEqual(2);
  });

  it('has at least 4 low-confidence and 4 high-confidence holds of 300 to 1200 ms', () => {
    const holds = holdsInRange(cases);
    expect(holds.filter((h) => h.confidence <= 0.4).length).toBeGreaterThanOrEqual(4);
    expect(holds.filter((h) => h.confidence >= 0.6).length).toBeGreaterThanOrEqual(4);
  });

  it('has at least 3 interim mis-hearings', () => {
    const misheard = cases.flatMap((c) =>
      c.turns.flatMap((turn) =>
        turn.interims.filter(
          (interim) =>
            normalise(interim.text) !==
            normalise(finalTranscript({ words: turn.words.slice(0, interim.after + 1) })),
        ),
      ),
    );
    expect(misheard.length).toBeGreaterThanOrEqual(3);
  });

  it('has at least 3 multi-turn cases', () => {
    expect(cases.filter((c) => c.turns.length >= 2).length).toBeGreaterThanOrEqual(3);
  });

  it('uses at least 3 distinct provider profiles', () => {
    const profiles = new Set(cases.map((c) => JSON.stringify(c.profile)));
    expect(profiles.size).toBeGreaterThanOrEqual(3);
  });
});
