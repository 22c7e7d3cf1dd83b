/**
 * The simulated Deepgram reads speech as Deepgram documents it (DEEPGRAM_STT): interims at an
 * audio-driven cadence, words near the tip read wrong and put right later, finals written with
 * smart formatting, Flux Updates about every 250 ms and a turn index that advances after each
 * EndOfTurn. Every draw is seeded by the case, so every system and run sees the same results.
 */
import { describe, expect, it } from 'vitest';
import { defaultProfile, type CaseTurn } from '../../src/main/engine/scripted/case';
import {
  caseEvents,
  DEEPGRAM_STT,
  flattenWords,
  MID_TURN_EOT_CONFIDENCE,
  REVISION_WINDOW_S,
  type CaseScript,
  type FluxEvent,
  type FluxEventOptions,
  type NovaEvent,
  type NovaEventOptions,
} from '../../src/main/engine/scripted/case-events';
import { CaseEventScheduler, type ReleasedSttEvent } from '../../src/main/engine/scripted/event-scheduler';
import { VirtualClock } from '../../src/main/engine/clock';
import { SAMPLE_RATE } from '../../src/main/engine/ports';

/** A turn of evenly spoken words, from `start`, each `wordS` long with no gap (connected speech). */
function spoken(text: string, start: number, wordS = 0.3, extra: Partial<CaseTurn> = {}): CaseTurn {
  const words = text.split(' ').map((word, i) => ({
    text: word,
    start: Math.round((start + i * wordS) * 1000) / 1000,
    end: Math.round((start + (i + 1) * wordS) * 1000) / 1000,
  }));
  return { words, holds: [], interims: [], end_eot_confidence: 0.9, reply: 'OK.', ...extra };
}

const script = (...turns: CaseTurn[]): CaseScript => ({ turns, profile: defaultProfile() });
const nova = (endpointing_ms = 100): NovaEventOptions => ({
  mode: 'nova',
  endpointing_ms,
  utterance_end_ms: 1000,
});
const flux = (eager: number | null = 0.5): FluxEventOptions => ({
  mode: 'flux',
  eot_threshold: 0.7,
  eager_eot_threshold: eager,
  eot_timeout_ms: 5000,
});

const long = spoken(
  'could you tell me which restaurants near the office are open late on friday evenings and take bookings for six',
  0.5,
);
const interims = (events: NovaEvent[]) =>
  events.flatMap((e) => (e.payload.kind === 'interim' ? [{ ...e, payload: e.payload }] : []));

describe('Nova interims (DEEPGRAM_STT)', () => {
  it('come at an audio-driven cadence of 0.5 to 1.0 s, not one per word', () => {
    const events = interims(caseEvents(script(long), nova()));
    const words = long.words.length;
    expect(events.length).toBeGreaterThan(3);
    expect(events.length).toBeLessThan(words / 2);
    const gaps = events.slice(1).map((e, i) => e.audioAt - events[i]!.audioAt);
    // Ticks are 0.5–1.0 s apart; one with nothing new is skipped, so a gap may span two.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(0.5 - 1e-6);
    for (const gap of gaps) expect(gap).toBeLessThanOrEqual(2.0 + 1e-6);
    expect(Math.min(...gaps)).toBeLessThanOrEqual(1.0 + 1e-6);
    for (const e of events) expect(e.delayMs).toBe(defaultProfile().stt_interim_lag_ms);
  });

  it('are the same for the same case and differ for another', () => {
    const a = caseEvents(script(long), nova());
    expect(caseEvents(script(long), nova())).toEqual(a);
    const other = spoken(long.words.map((w) => w.text).join(' '), 0.6);
    expect(interims(caseEvents(script(other), nova())).map((e) => e.audioAt)).not.toEqual(
      interims(a).map((e) => e.audioAt),
    );
  });

  it('read words near the tip wrong and put them right in a later result', () => {
    // Over many cases, the seeded draws give revisions; each is a word near the tip that a later
    // interim or the final reads right.
    let revised = 0;
    let tipGuesses = 0;
    for (let k = 0; k < 20; k++) {
      const turn = spoken(long.words.map((w) => w.text).join(' '), 0.5 + k * 0.01);
      const events = caseEvents(script(turn), nova());
      const results = events.filter((e) => e.payload.kind === 'interim' || e.payload.kind === 'final');
      results.forEach((e, i) => {
        if (e.payload.kind !== 'interim') return;
        for (const h of e.payload.heard) {
          if (h.exact) continue;
          const word = turn.words[h.index]!;
          if (h.end < word.end) tipGuesses++;
          else {
            revised++;
            expect(e.audioAt - word.end).toBeLessThan(REVISION_WINDOW_S);
          }
          expect(h.text.toLowerCase()).not.toBe(word.text);
          // A later result reads it right.
          const later = results.slice(i + 1).find((r) => {
            const p = r.payload;
            if (p.kind === 'final') return p.words.some((w) => w.index === h.index);
            return p.kind === 'interim' && p.heard.some((x) => x.index === h.index && x.exact);
          });
          expect(later).toBeDefined();
        }
      });
      // The final carries the true words.
      const final = events.find((e) => e.payload.kind === 'final')!;
      expect(final.payload.kind === 'final' && final.payload.transcript).toBe(
        turn.words.map((w) => w.text).join(' '),
      );
    }
    expect(revised).toBeGreaterThan(0);
    expect(tipGuesses).toBeGreaterThan(0);
  });

  it("still shows a case's own mis-hearing once its words are heard", () => {
    const turn = spoken('set an alarm for seven tomorrow', 0.5, 0.3, {
      interims: [{ after: 4, text: 'set an alarm for heaven' }],
    });
    const events = interims(caseEvents(script(turn), nova()));
    const misheard = events.find((e) => e.payload.transcript === 'set an alarm for heaven');
    expect(misheard?.audioAt).toBe(turn.words[4]!.end);
  });
});

describe('finals as Deepgram writes them', () => {
  async function finals(turn: CaseTurn, format: 'smart' | 'punctuate' | 'none') {
    const clock = new VirtualClock();
    const released: ReleasedSttEvent[] = [];
    const words = flattenWords([turn]);
    const scheduler = new CaseEventScheduler({
      clock,
      events: caseEvents(script(turn), nova()),
      words,
      finalFormat: format,
      onRelease: (e) => released.push(e),
    });
    scheduler.receive(Math.ceil((turn.words.at(-1)!.end + 2) * SAMPLE_RATE));
    await clock.advanceBy(5000);
    return released;
  }

  it('smart_format writes numbers, times and percentages in finals, not in interims', async () => {
    const released = await finals(spoken("what's fifteen percent of eighty", 0.5), 'smart');
    const final = released.find((e) => e.kind === 'final')!;
    expect(final.kind === 'final' && final.transcript).toBe("What's 15% of 80?");
    if (final.kind === 'final') {
      expect(final.tokens.map((t) => [t.punctuated, t.from, t.to])).toEqual([
        ["What's", 0, 1],
        ['15%', 1, 3],
        ['of', 3, 4],
        ['80?', 4, 5],
      ]);
    }
    for (const e of released) if (e.kind === 'interim') expect(e.transcript).toBe(e.transcript.toLowerCase());

    const time = (await finals(spoken('call mom at six thirty p m', 0.5), 'smart')).find(
      (e) => e.kind === 'final',
    );
    expect(time?.kind === 'final' && time.transcript).toBe('Call mom at 6:30 PM.');
    const date = (await finals(spoken('book it for the twenty first of may', 0.5), 'smart')).find(
      (e) => e.kind === 'final',
    );
    expect(date?.kind === 'final' && date.transcript).toBe('Book it for the 21st of may.');
  });

  it('punctuate only capitalises and ends the sentence; neither leaves the bare words', async () => {
    const turn = spoken('set a timer for twenty minutes', 0.5);
    const punctuated = (await finals(turn, 'punctuate')).find((e) => e.kind === 'final');
    expect(punctuated?.kind === 'final' && punctuated.transcript).toBe('Set a timer for twenty minutes.');
    const bare = (await finals(turn, 'none')).find((e) => e.kind === 'final');
    expect(bare?.kind === 'final' && bare.transcript).toBe('set a timer for twenty minutes');
  });
});

describe('Flux (DEEPGRAM_STT)', () => {
  const twoTurns = script(
    spoken('play some jazz', 0.5, 0.3, { end_eot_confidence: 0.75 }),
    spoken('thank you', 4),
  );
  const turnInfo = (events: FluxEvent[]) => events.map((e) => e.payload);

  it('sends an Update about every 250 ms while a turn is open, none between turns', () => {
    const events = caseEvents(twoTurns, flux(null));
    const updates = events.filter((e) => e.payload.event === 'Update');
    const ends = events.filter((e) => e.payload.event === 'EndOfTurn');
    expect(ends).toHaveLength(2);
    for (const turnIndex of [0, 1]) {
      const own = updates.filter((e) => e.payload.turnIndex === turnIndex);
      expect(own.length).toBeGreaterThan(2);
      own.slice(1).forEach((e, i) => expect(e.audioAt - own[i]!.audioAt).toBeCloseTo(0.25, 6));
      const start = events.find(
        (e) => e.payload.event === 'StartOfTurn' && e.payload.turnIndex === turnIndex,
      )!;
      for (const e of own) {
        expect(e.audioAt).toBeGreaterThan(start.audioAt);
        expect(e.audioAt).toBeLessThan(ends[turnIndex]!.audioAt);
      }
    }
  });

  it('advances turn_index after each EndOfTurn; EagerEndOfTurn and EndOfTurn carry the true words', () => {
    const payloads = turnInfo(caseEvents(twoTurns, flux(0.5)));
    const marks = payloads
      .filter((p) => p.event !== 'Update')
      .map((p) => `${p.event}#${p.turnIndex}:${p.transcript}`);
    expect(marks).toEqual([
      'StartOfTurn#0:',
      'EagerEndOfTurn#0:play some jazz',
      'EndOfTurn#0:play some jazz',
      'StartOfTurn#1:',
      'EagerEndOfTurn#1:thank you',
      'EndOfTurn#1:thank you',
    ]);
  });

  it("gives Updates in a pause the pause's confidence, and mid-speech the mid-turn one", () => {
    const payloads = caseEvents(twoTurns, flux(null)).filter((e) => e.payload.event === 'Update');
    const jazzEnd = twoTurns.turns[0]!.words.at(-1)!.end;
    for (const e of payloads.filter((u) => u.payload.turnIndex === 0)) {
      expect(e.payload.confidence).toBe(e.audioAt >= jazzEnd ? 0.75 : MID_TURN_EOT_CONFIDENCE);
    }
    expect(payloads.some((e) => e.payload.confidence === 0.75)).toBe(true);
  });

  it('keeps the EagerEndOfTurn transcript in the Updates after it, until the user goes on', () => {
    // Over many cases a revision near the tip would otherwise fall after the eager event.
    let checked = 0;
    for (let k = 0; k < 30; k++) {
      const events = caseEvents(
        script(spoken('play some jazz', 0.5 + k * 0.013, 0.3, { end_eot_confidence: 0.9 })),
        flux(0.5),
      );
      const eager = events.find((e) => e.payload.event === 'EagerEndOfTurn')!;
      for (const e of events.filter((u) => u.payload.event === 'Update' && u.audioAt >= eager.audioAt)) {
        expect(e.payload.transcript).toBe(eager.payload.transcript);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('uses the documented cadence by default', () => {
    expect(DEEPGRAM_STT.fluxUpdatePeriod).toBe(0.25);
    expect(DEEPGRAM_STT.novaInterimPeriod).toEqual([0.5, 1.0]);
  });
});
