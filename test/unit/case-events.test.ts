import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/shared/settings';
import { defaultProfile, type CaseTurn } from '../../src/main/engine/scripted/case';
import {
  caseEventOptions,
  caseEvents,
  expectedReplies,
  flattenWords,
  IDEAL_STT,
  MID_TURN_EOT_CONFIDENCE,
  type CaseScript,
  type FluxEvent,
  type FluxEventOptions,
  type NovaEvent,
  type NovaEventOptions,
} from '../../src/main/engine/scripted/case-events';

/** A turn from "word@start-end" items. */
function turn(spec: string, extra: Partial<CaseTurn> = {}): CaseTurn {
  const words = spec.split(' ').map((item) => {
    const [text, times] = item.split('@') as [string, string];
    const [start, end] = times.split('-').map(Number) as [number, number];
    return { text, start, end };
  });
  return { words, holds: [], interims: [], end_eot_confidence: 0.9, reply: 'OK.', ...extra };
}

function script(...turns: CaseTurn[]): CaseScript {
  return { turns, profile: defaultProfile() };
}

// "book a flight to" then a 1.0 s pause, then "paris".
const flight = turn('book@0.5-0.8 a@0.86-0.95 flight@1.0-1.4 to@1.46-1.6 paris@2.6-3.0', {
  holds: [{ after: 3, eot_confidence: 0.3 }],
  end_eot_confidence: 0.92,
});

// The event rules, on an idealised STT (one interim or Update per word): the realistic
// readings (DEEPGRAM_STT) have their own tests below.
const nova = (endpointing_ms: number, utterance_end_ms = 1000, vad_events = true): NovaEventOptions => ({
  mode: 'nova',
  endpointing_ms,
  utterance_end_ms,
  vad_events,
  behaviour: IDEAL_STT,
});

const flux = (eager: number | null, eot = 0.7, timeout = 5000): FluxEventOptions => ({
  mode: 'flux',
  eot_threshold: eot,
  eager_eot_threshold: eager,
  eot_timeout_ms: timeout,
  behaviour: IDEAL_STT,
});

const kinds = (events: NovaEvent[]) => events.map((e) => e.payload.kind);
const only = <K extends NovaEvent['payload']['kind']>(events: NovaEvent[], kind: K) =>
  events.filter((e) => e.payload.kind === kind) as (NovaEvent & { payload: { kind: K } })[];
const turnInfo = (events: FluxEvent[]) =>
  events.map((e) => `${e.payload.event}@${e.audioAt}+${e.delayMs}:${e.payload.transcript}`);

describe('nova events', () => {
  it('sends an interim per word, stt_interim_lag_ms after the word end, with the true prefix', () => {
    const interims = only(caseEvents(script(flight), nova(300)), 'interim');
    expect(interims.map((e) => [e.audioAt, e.delayMs, e.payload.transcript])).toEqual([
      [0.8, 150, 'book'],
      [0.95, 150, 'book a'],
      [1.4, 150, 'book a flight'],
      [1.6, 150, 'book a flight to'],
      // The hold's pause (1.0 s ≥ 300 ms) ended the segment: the next interim starts afresh.
      [3.0, 150, 'paris'],
    ]);
    expect(interims[4]!.payload.turnTranscript).toBe('book a flight to paris');
    expect(interims.every((e) => !e.payload.misheard)).toBe(true);
  });

  it('finalises with speech_final when the gap reaches endpointing_ms, covering the words since the last final', () => {
    const finals = only(caseEvents(script(flight), nova(300)), 'final');
    expect(finals.map((e) => [e.audioAt, e.delayMs, e.payload.transcript, e.payload.speechFinal])).toEqual([
      [1.9, 250, 'book a flight to', true],
      [3.3, 250, 'paris', true],
    ]);
    expect(finals[1]!.payload.words.map((w) => w.index)).toEqual([4]);
  });

  it('does not finalise a gap shorter than endpointing_ms, and does at exactly endpointing_ms', () => {
    const gapOf = (ms: number) => turn(`one@0-0.5 two@${0.5 + ms / 1000}-1.0`);
    expect(only(caseEvents(script(gapOf(99)), nova(100)), 'final').map((e) => e.payload.transcript)).toEqual([
      'one two',
    ]);
    expect(only(caseEvents(script(gapOf(100)), nova(100)), 'final').map((e) => e.payload.transcript)).toEqual(
      ['one', 'two'],
    );
  });

  it('finalises every word when the word gaps exceed a short endpointing (25 ms)', () => {
    const events = caseEvents(script(flight), nova(25));
    expect(only(events, 'final').map((e) => e.payload.transcript)).toEqual([
      'book',
      'a',
      'flight',
      'to',
      'paris',
    ]);
    expect(only(events, 'final')[0]!.audioAt).toBe(0.825);
  });

  it('sends UtteranceEnd after utterance_end_ms of silence only', () => {
    const ends = only(caseEvents(script(flight), nova(300, 1000)), 'utterance_end');
    // The hold is exactly 1.0 s: UtteranceEnd fires at its end, and after the last word.
    expect(ends.map((e) => [e.audioAt, e.delayMs, e.payload.lastWordEnd])).toEqual([
      [2.6, 250, 1.6],
      [4.0, 250, 3.0],
    ]);
    const longer = only(caseEvents(script(flight), nova(300, 1100)), 'utterance_end');
    expect(longer.map((e) => e.audioAt)).toEqual([4.1]);
  });

  it('sends SpeechStarted at the start of each speech segment, unless vad events are off', () => {
    const started = only(caseEvents(script(flight), nova(300)), 'speech_started');
    expect(started.map((e) => [e.audioAt, e.delayMs])).toEqual([
      [0.5, 150],
      [2.6, 150],
    ]);
    expect(only(caseEvents(script(flight), nova(300, 1000, false)), 'speech_started')).toEqual([]);
  });

  it('applies an interim mis-hearing once its words are heard, until the next word', () => {
    const misheard = { ...flight, interims: [{ after: 2, text: 'book a fly' }] };
    const interims = only(caseEvents(script(misheard), nova(300)), 'interim');
    expect(interims.map((e) => e.payload.transcript)).toEqual([
      'book',
      'book a',
      'book a fly',
      'book a flight to',
      'paris',
    ]);
    expect(interims.map((e) => e.payload.misheard)).toEqual([false, false, true, false, false]);
    expect(only(caseEvents(script(misheard), nova(300)), 'final')[0]!.payload.transcript).toBe(
      'book a flight to',
    );
  });

  it('drops the already finalised words from a mis-hearing that covers the turn from its start', () => {
    const misheard = { ...flight, interims: [{ after: 4, text: 'book a flight to parents' }] };
    const last = only(caseEvents(script(misheard), nova(300)), 'interim').at(-1)!;
    expect(last.payload.transcript).toBe('parents');
    expect(last.payload.turnTranscript).toBe('book a flight to parents');
    expect(last.payload.misheard).toBe(true);
  });

  it('lists the events by audioAt, tagged with their case turn', () => {
    const two = script(turn('hello@0.2-0.6'), turn('bye@4.0-4.3'));
    const events = caseEvents(two, nova(300));
    const times = events.map((e) => e.audioAt);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(kinds(events)).toEqual([
      'speech_started',
      'interim',
      'final',
      'utterance_end',
      'speech_started',
      'interim',
      'final',
      'utterance_end',
    ]);
    expect(events.map((e) => e.caseTurn)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
  });
});

describe('flux events', () => {
  it('keeps a low-confidence hold inside the turn and ends it at the real end', () => {
    const events = caseEvents(script(flight), flux(0.5));
    expect(turnInfo(events)).toEqual([
      'StartOfTurn@0.5+150:',
      'Update@0.8+150:book',
      'Update@0.95+150:book a',
      'Update@1.4+150:book a flight',
      'Update@1.6+150:book a flight to',
      'Update@3+150:book a flight to paris',
      'EagerEndOfTurn@3.15+0:book a flight to paris',
      'EndOfTurn@3.3+0:book a flight to paris',
    ]);
    const end = events.at(-1)!.payload;
    expect(end.confidence).toBe(0.92);
    expect(end.trigger).toBe('model');
    expect(end.turnIndex).toBe(0);
    expect(events[1]!.payload.confidence).toBe(MID_TURN_EOT_CONFIDENCE);
  });

  it('sends EagerEndOfTurn at a hold above the eager threshold, then TurnResumed when the user goes on', () => {
    const unsure = { ...flight, holds: [{ after: 3, eot_confidence: 0.6 }] };
    const events = caseEvents(script(unsure), flux(0.5));
    expect(turnInfo(events).slice(4, 8)).toEqual([
      'Update@1.6+150:book a flight to',
      'EagerEndOfTurn@1.75+0:book a flight to',
      'TurnResumed@2.6+150:book a flight to',
      'Update@3+150:book a flight to paris',
    ]);
    expect(new Set(events.map((e) => e.payload.turnIndex))).toEqual(new Set([0]));
    expect(events.filter((e) => e.payload.event === 'EndOfTurn').map((e) => e.payload.transcript)).toEqual([
      'book a flight to paris',
    ]);
  });

  it('sends no eager events without an eager threshold', () => {
    const unsure = { ...flight, holds: [{ after: 3, eot_confidence: 0.6 }] };
    const names = caseEvents(script(unsure), flux(null)).map((e) => e.payload.event);
    expect(names).not.toContain('EagerEndOfTurn');
    expect(names).not.toContain('TurnResumed');
    expect(names.at(-1)).toBe('EndOfTurn');
  });

  it('ends the Flux turn at a confident hold: the rest of the case turn becomes a new Flux turn', () => {
    const confident = { ...flight, holds: [{ after: 3, eot_confidence: 0.8 }] };
    const events = caseEvents(script(confident), flux(0.5));
    const ends = events.filter((e) => e.payload.event === 'EndOfTurn');
    expect(ends.map((e) => [e.audioAt, e.payload.turnIndex, e.payload.transcript])).toEqual([
      [1.9, 0, 'book a flight to'],
      [3.3, 1, 'paris'],
    ]);
    const starts = events.filter((e) => e.payload.event === 'StartOfTurn');
    expect(starts.map((e) => [e.audioAt, e.payload.turnIndex])).toEqual([
      [0.5, 0],
      [2.6, 1],
    ]);
    expect(events.every((e) => e.caseTurn === 0)).toBe(true);
  });

  it('ends an unsure turn at eot_timeout_ms of silence, with the timeout trigger', () => {
    const unsureEnd = turn('maybe@0.5-0.9 later@0.95-1.4', { end_eot_confidence: 0.4 });
    const ends = caseEvents(script(unsureEnd), flux(null, 0.7, 2000)).filter(
      (e) => e.payload.event === 'EndOfTurn',
    );
    expect(ends.map((e) => [e.audioAt, e.payload.trigger, e.payload.confidence])).toEqual([
      [3.4, 'timeout', 0.4],
    ]);
  });

  it('does not time out when the user speaks again before eot_timeout_ms: the next case turn joins the Flux turn', () => {
    const unsureEnd = turn('maybe@0.5-0.9 later@0.95-1.4', { end_eot_confidence: 0.4 });
    const events = caseEvents(script(unsureEnd, turn('yes@3.0-3.3')), flux(null, 0.7, 2000));
    const ends = events.filter((e) => e.payload.event === 'EndOfTurn');
    expect(ends.map((e) => [e.payload.turnIndex, e.payload.transcript, e.caseTurn])).toEqual([
      [0, 'maybe later yes', 1],
    ]);
  });

  it('carries interim mis-hearings in Update only', () => {
    const misheard = { ...flight, interims: [{ after: 2, text: 'book a fly' }] };
    const events = caseEvents(script(misheard), flux(0.5));
    const updates = events.filter((e) => e.payload.event === 'Update');
    expect(updates.map((e) => e.payload.transcript)).toContain('book a fly');
    expect(updates.find((e) => e.payload.transcript === 'book a fly')!.payload.misheard).toBe(true);
    expect(events.at(-1)!.payload.transcript).toBe('book a flight to paris');
  });

  it('skips eager when it would not come before EndOfTurn', () => {
    const profile = { ...defaultProfile(), flux_eager_lag_ms: 300 };
    const events = caseEvents({ turns: [flight], profile }, flux(0.5));
    expect(events.map((e) => e.payload.event)).not.toContain('EagerEndOfTurn');
  });
});

describe('helpers', () => {
  it('numbers words across turns', () => {
    const words = flattenWords([turn('a@0-0.1 b@0.2-0.3'), turn('c@5-5.2')]);
    expect(words.map((w) => [w.index, w.turn, w.wordInTurn, w.text])).toEqual([
      [0, 0, 0, 'a'],
      [1, 0, 1, 'b'],
      [2, 1, 0, 'c'],
    ]);
  });

  it('maps normalised final transcripts to replies', () => {
    const replies = expectedReplies(script(turn("what's@0-0.4 up@0.5-0.7", { reply: 'Not much.' })));
    expect([...replies]).toEqual([["what's up", 'Not much.']]);
  });

  it('reads event options from the STT settings', () => {
    const settings = defaultSettings();
    expect(caseEventOptions(settings.stt)).toEqual({
      mode: 'nova',
      endpointing_ms: settings.stt.nova.endpointing_ms,
      utterance_end_ms: 1000,
      vad_events: true,
    });
    settings.stt.provider = 'deepgram-flux';
    expect(caseEventOptions(settings.stt)).toEqual({
      mode: 'flux',
      eot_threshold: 0.7,
      eager_eot_threshold: 0.5,
      eot_timeout_ms: 5000,
    });
    expect(caseEventOptions(settings.stt, { eager: false })).toMatchObject({ eager_eot_threshold: null });
  });
});
