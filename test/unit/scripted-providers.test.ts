import { describe, expect, it } from 'vitest';
import { delay, VirtualClock, type Clock } from '../../src/main/engine/clock';
import type { LlmChunk, SttEvent, TtsAudio } from '../../src/main/engine/ports';
import { defaultProfile, type CaseProfile, type CaseTurn } from '../../src/main/engine/scripted/case';
import type { CaseScript } from '../../src/main/engine/scripted/case-events';
import { IDEAL_STT } from '../../src/main/engine/scripted/case-events';
import {
  createScriptedProviders,
  offScriptReply,
  ScriptedLlm,
  ScriptedStt,
  ScriptedTts,
  splitTokens,
  TTS_CHUNK_SAMPLES,
} from '../../src/main/engine/scripted/providers';
import type { ChatMessage } from '../../src/shared/report';
import { defaultSettings } from '../../src/shared/settings';
import { flight, FRAME, FRAME_MS, RATE } from '../helpers/flight-turn';

function script(profile: Partial<CaseProfile> = {}, turns: CaseTurn[] = [flight]): CaseScript {
  return { turns, profile: { ...defaultProfile(), ...profile } };
}

/** Streams `seconds` of (silent) audio in real time on the virtual clock, from its current time. */
async function streamAudio(clock: VirtualClock, send: (s: Int16Array) => void, seconds: number) {
  const frames = Math.round((seconds * 1000) / FRAME_MS);
  for (let i = 0; i < frames; i++) {
    await clock.advanceBy(FRAME_MS);
    send(new Int16Array(FRAME));
  }
}

function describeEvent(e: SttEvent): string {
  switch (e.type) {
    case 'interim':
    case 'final':
      return `${e.type}${e.type === 'final' && e.speechFinal ? '!' : ''}:${e.transcript}`;
    case 'turn':
      return `${e.event}:${e.transcript}`;
    default:
      return e.type;
  }
}

describe('ScriptedStt (nova)', () => {
  // The replay rules, on an idealised STT (one interim per word); case-events.test.ts covers the realistic readings.
  const novaOptions = {
    mode: 'nova',
    endpointing_ms: 300,
    utterance_end_ms: 1000,
    behaviour: IDEAL_STT,
  } as const;

  it('delivers interims lag ms after the audio up to the word end was received, and finals after endpointing', async () => {
    const clock = new VirtualClock();
    const stt = new ScriptedStt(script(), clock, novaOptions);
    expect(stt.turnEvents).toBe(false);
    const got: { at: number; what: string }[] = [];
    const stream = await stt.connect((e) => got.push({ at: clock.now(), what: describeEvent(e) }));
    await streamAudio(clock, (s) => stream.sendAudio(s), 5);
    await clock.runAll();
    expect(got).toEqual([
      { at: 650, what: 'speech_started' },
      { at: 950, what: 'interim:book' },
      { at: 1110, what: 'interim:book a' },
      { at: 1550, what: 'interim:book a flight' },
      { at: 1750, what: 'interim:book a flight to' },
      { at: 2150, what: 'final!:book a flight to' },
      // Both known at 2.6 s of audio; events leave in order, so SpeechStarted (lag 150) waits for
      // UtteranceEnd (lag 250) before it.
      { at: 2850, what: 'utterance_end' },
      { at: 2850, what: 'speech_started' },
      { at: 3150, what: 'interim:paris' },
      { at: 3550, what: 'final!:paris' },
      { at: 4250, what: 'utterance_end' },
    ]);
    expect(stream).toBe(stt.streams[0]);
    expect(stt.streams[0]!.receivedSamples).toBe(5 * RATE);
  });

  it('measures time on the audio received: late audio gives late transcripts, still in order', async () => {
    const clock = new VirtualClock();
    const stt = new ScriptedStt(script(), clock, novaOptions);
    const got: { at: number; what: string }[] = [];
    const stream = await stt.connect((e) => got.push({ at: clock.now(), what: describeEvent(e) }));
    await clock.advanceTo(10_000);
    stream.sendAudio(new Int16Array(2 * RATE)); // 2 s of audio at once, at t = 10 s
    await clock.runAll();
    expect(got.map((g) => g.what)).toEqual([
      'speech_started',
      'interim:book',
      'interim:book a',
      'interim:book a flight',
      'interim:book a flight to',
      'final!:book a flight to',
    ]);
    expect(got.map((g) => g.at)).toEqual([10_150, 10_150, 10_150, 10_150, 10_150, 10_250]);
    // Nothing for "paris" until its audio arrives.
    stream.sendAudio(new Int16Array(RATE));
    await clock.runAll();
    expect(got.slice(6).map((g) => g.what)).toEqual(['utterance_end', 'speech_started', 'interim:paris']);
  });

  it('finalize() finalises the words heard so far, and the later final does not repeat them', async () => {
    const clock = new VirtualClock();
    const stt = new ScriptedStt(script(), clock, novaOptions);
    const got: SttEvent[] = [];
    const stream = await stt.connect((e) => got.push(e));
    await streamAudio(clock, (s) => stream.sendAudio(s), 1.2); // "book a" heard, "flight" not finished
    stream.finalize();
    await clock.advanceBy(250);
    const finals = () => got.filter((e) => e.type === 'final');
    expect(finals()).toEqual([
      {
        type: 'final',
        transcript: 'book a',
        speechFinal: false,
        words: [
          { word: 'book', start: 0.5, end: 0.8 },
          { word: 'a', start: 0.86, end: 0.96 },
        ],
        fromFinalize: true,
      },
    ]);
    await streamAudio(clock, (s) => stream.sendAudio(s), 1);
    await clock.runAll();
    expect(finals().map(describeEvent)).toEqual(['final:book a', 'final!:flight to']);
    const interims = got.filter((e) => e.type === 'interim').map(describeEvent);
    expect(interims.slice(-2)).toEqual(['interim:flight', 'interim:flight to']);
  });

  it('close() stops everything', async () => {
    const clock = new VirtualClock();
    const stt = new ScriptedStt(script(), clock, novaOptions);
    const got: SttEvent[] = [];
    const stream = await stt.connect((e) => got.push(e));
    await streamAudio(clock, (s) => stream.sendAudio(s), 0.8); // "book" just heard, its interim pending
    expect(clock.pendingTimers).toBe(1);
    await stream.close();
    expect(clock.pendingTimers).toBe(0);
    stream.sendAudio(new Int16Array(3 * RATE));
    await clock.runAll();
    expect(got.map(describeEvent)).toEqual(['speech_started']);
    expect(stt.streams[0]!.receivedSamples).toBe(0.8 * RATE);
  });
});

describe('ScriptedStt (flux)', () => {
  it('reports turn events with their confidence: eager at the hold, resumed, then end of turn', async () => {
    const clock = new VirtualClock();
    const stt = new ScriptedStt(script(), clock, {
      mode: 'flux',
      eot_threshold: 0.7,
      eager_eot_threshold: 0.5,
      eot_timeout_ms: 5000,
      behaviour: IDEAL_STT,
    });
    expect(stt.turnEvents).toBe(true);
    const got: { at: number; event: SttEvent }[] = [];
    const stream = await stt.connect((event) => got.push({ at: clock.now(), event }));
    await streamAudio(clock, (s) => stream.sendAudio(s), 4);
    await clock.runAll();
    const marks = got.filter((g) => g.event.type === 'turn' && g.event.event !== 'Update');
    expect(marks.map((g) => [g.at, describeEvent(g.event)])).toEqual([
      [650, 'StartOfTurn:'],
      [1760, 'EagerEndOfTurn:book a flight to'],
      [2750, 'TurnResumed:book a flight to'],
      [3160, 'EagerEndOfTurn:book a flight to paris'],
      [3300, 'EndOfTurn:book a flight to paris'],
    ]);
    expect(marks[1]!.event).toMatchObject({ confidence: 0.6 });
    expect(marks[4]!.event).toMatchObject({ confidence: 0.92 });
    // Flux has no Finalize.
    stream.finalize();
    await clock.runAll();
    expect(got.filter((g) => g.event.type === 'final')).toEqual([]);
  });
});

// ---------- LLM ----------

async function collect<T>(clock: VirtualClock, iterable: AsyncIterable<T>, onChunk?: (chunk: T) => void) {
  const got: { at: number; chunk: T }[] = [];
  const done = (async () => {
    for await (const chunk of iterable) {
      got.push({ at: clock.now(), chunk });
      onChunk?.(chunk);
    }
  })();
  await clock.runAll();
  await done;
  return got;
}

const user = (content: string): ChatMessage => ({ role: 'user', content });
const system: ChatMessage = { role: 'system', content: 'You are Cue, be brief.' };

describe('ScriptedLlm', () => {
  it('streams the case reply: first token after llm_ttft_ms, then llm_tokens_per_s, then usage', async () => {
    const clock = new VirtualClock();
    const llm = new ScriptedLlm(script(), clock);
    await clock.advanceTo(1000);
    const messages = [system, user('Book a flight to Paris.')];
    const got = await collect(clock, llm.stream({ messages, signal: new AbortController().signal }));
    const tokens = got.filter((g) => g.chunk.type === 'token');
    expect(tokens.map((g) => (g.chunk as { text: string }).text)).toEqual([
      'Sure.',
      ' Where',
      ' are',
      ' you',
      ' flying',
      ' from?',
    ]);
    expect(tokens.map((g) => g.at)).toEqual([1350, 1370, 1390, 1410, 1430, 1450]);
    expect(got.at(-1)).toEqual({
      at: 1450,
      chunk: { type: 'usage', usage: { promptTokens: 5 + 5, completionTokens: 6 } },
    });
    expect(llm.records[0]).toMatchObject({
      onScript: true,
      outcome: 'completed',
      firstTokenAt: 1350,
      tokensSent: 6,
      userWords: 'Book a flight to Paris.',
    });
    expect(llm.requests).toBe(1);
    expect(llm.completed).toBe(1);
    expect(llm.aborted).toBe(0);
  });

  it('follows the profile rate and TTFT', async () => {
    const clock = new VirtualClock();
    const llm = new ScriptedLlm(script({ llm_ttft_ms: 420, llm_tokens_per_s: 10 }), clock);
    const got = await collect(
      clock,
      llm.stream({ messages: [user('book a flight to paris')], signal: new AbortController().signal }),
    );
    expect(got.filter((g) => g.chunk.type === 'token').map((g) => g.at)).toEqual([
      420, 520, 620, 720, 820, 920,
    ]);
  });

  it('answers any other request with a marked off-script text', async () => {
    const clock = new VirtualClock();
    const llm = new ScriptedLlm(script(), clock);
    const messages = [
      user('book a flight to paris'),
      { role: 'assistant', content: 'Sure.' } as const,
      user('book a fly'),
    ];
    const got = await collect(clock, llm.stream({ messages, signal: new AbortController().signal }));
    const text = got.map((g) => (g.chunk.type === 'token' ? g.chunk.text : '')).join('');
    expect(text).toBe('[off-script reply to "book a fly"]');
    expect(text).toBe(offScriptReply('book a fly'));
    expect(llm.records[0]!.onScript).toBe(false);
  });

  it('stops at once when aborted mid-stream and records the abort', async () => {
    const clock = new VirtualClock();
    const llm = new ScriptedLlm(script(), clock);
    const controller = new AbortController();
    const stream = llm.stream({ messages: [user('book a flight to paris')], signal: controller.signal });
    const got: { at: number; chunk: LlmChunk }[] = [];
    const done = (async () => {
      for await (const chunk of stream) got.push({ at: clock.now(), chunk });
    })();
    await clock.advanceTo(375); // tokens at 350 and 370
    controller.abort();
    expect(llm.records[0]).toMatchObject({ outcome: 'aborted', endedAt: 375, tokensSent: 2 });
    await clock.runAll();
    await done;
    expect(got.map((g) => g.chunk)).toEqual([
      { type: 'token', text: 'Sure.' },
      { type: 'token', text: ' Where' },
    ]);
    expect(llm.aborted).toBe(1);
    expect(llm.completed).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('sends nothing for a request aborted before its first token', async () => {
    const clock = new VirtualClock();
    const llm = new ScriptedLlm(script(), clock);
    const controller = new AbortController();
    controller.abort();
    const got = await collect(
      clock,
      llm.stream({ messages: [user('book a flight to paris')], signal: controller.signal }),
    );
    expect(got).toEqual([]);
    expect(llm.records[0]!.outcome).toBe('aborted');
  });

  it('splits text into word tokens that concatenate back to it', () => {
    expect(splitTokens('Sure.  Where are you?')).toEqual(['Sure.', '  Where', ' are', ' you?']);
  });
});

// ---------- TTS ----------

/** Text chunks arriving at the given clock times. */
function textAt(clock: Clock, chunks: [number, string][]): AsyncIterable<string> {
  return (async function* () {
    for (const [at, text] of chunks) {
      const wait = at - clock.now();
      if (wait > 0) await delay(clock, wait);
      yield text;
    }
  })();
}

const samplesOf = (got: { chunk: TtsAudio }[]) => got.reduce((n, g) => n + g.chunk.samples.length, 0);

describe('ScriptedTts', () => {
  it('starts tts_ttfb_ms after the first text and makes tts_ms_per_char of audio per character', async () => {
    const clock = new VirtualClock();
    const tts = new ScriptedTts(defaultProfile(), clock);
    const text = 'Hello there.'; // 12 chars → 720 ms → 11 520 samples
    const got = await collect(
      clock,
      tts.synthesize({ text: textAt(clock, [[100, text]]), signal: new AbortController().signal }),
    );
    expect(got[0]!.at).toBe(300);
    expect(samplesOf(got)).toBe(11_520);
    expect(got.map((g) => g.chunk.samples.length)).toEqual([1600, 1600, 1600, 1600, 1600, 1600, 1600, 320]);
    // 100 ms chunks produced 4× faster than real time: 25 ms each (the last, 20 ms of audio, in 5 ms).
    expect(got.map((g) => g.at)).toEqual([300, 325, 350, 375, 400, 425, 450, 455]);
    expect(got.every((g) => g.chunk.sampleRate === RATE)).toBe(true);
    // 960 samples per character: 1600-sample chunks complete 1 or 2 characters each.
    expect(got.map((g) => g.chunk.characters)).toEqual([1, 2, 2, 1, 2, 2, 1, 1]);
    const all = got.flatMap((g) => [...g.chunk.samples]);
    const peak = Math.max(...all.map(Math.abs));
    expect(peak).toBeGreaterThan(100);
    expect(peak).toBeLessThan(3000);
    expect(tts.records[0]).toMatchObject({ outcome: 'completed', firstTextAt: 100, firstAudioAt: 300, text });
  });

  it('consumes the text as it arrives and waits for more', async () => {
    const clock = new VirtualClock();
    const tts = new ScriptedTts(
      { ...defaultProfile(), tts_ms_per_char: 50, tts_realtime_factor: 0.5 },
      clock,
    );
    const chunks: [number, string][] = [
      [0, 'Hi. '], // 4 chars → 200 ms of audio
      [1000, 'Bye.'], // 4 more
    ];
    const got = await collect(
      clock,
      tts.synthesize({ text: textAt(clock, chunks), signal: new AbortController().signal }),
    );
    expect(got.map((g) => [g.at, g.chunk.samples.length])).toEqual([
      [200, 1600],
      [250, 1600],
      [1050, 1600],
      [1100, 1600],
    ]);
    expect(tts.samplesFor(8)).toBe(6400);
  });

  it('stops at once when aborted', async () => {
    const clock = new VirtualClock();
    const tts = new ScriptedTts(defaultProfile(), clock);
    const controller = new AbortController();
    const got: { at: number; chunk: TtsAudio }[] = [];
    const done = (async () => {
      for await (const chunk of tts.synthesize({
        text: textAt(clock, [[0, 'x'.repeat(100)]]),
        signal: controller.signal,
      })) {
        got.push({ at: clock.now(), chunk });
      }
    })();
    await clock.advanceTo(260); // chunks at 200, 225 and 250; the next is due at 275
    controller.abort();
    await clock.runAll();
    await done;
    expect(got.map((g) => g.at)).toEqual([200, 225, 250]);
    expect(samplesOf(got)).toBe(3 * TTS_CHUNK_SAMPLES);
    expect(tts.records[0]).toMatchObject({ outcome: 'aborted', endedAt: 260 });
    expect(tts.aborted).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('makes no audio for empty text', async () => {
    const clock = new VirtualClock();
    const tts = new ScriptedTts(defaultProfile(), clock);
    const got = await collect(
      clock,
      tts.synthesize({ text: textAt(clock, []), signal: new AbortController().signal }),
    );
    expect(got).toEqual([]);
    expect(tts.records[0]!.outcome).toBe('completed');
  });
});

describe('createScriptedProviders', () => {
  it('picks the STT mode from the settings and shares the case', async () => {
    const clock = new VirtualClock();
    const settings = defaultSettings();
    const nova = createScriptedProviders(script(), clock, settings.stt);
    expect(nova.stt.turnEvents).toBe(false);
    expect(nova.stt.options).toMatchObject({ endpointing_ms: settings.stt.nova.endpointing_ms });
    settings.stt.provider = 'deepgram-flux';
    const flux = createScriptedProviders(script(), clock, settings.stt);
    expect(flux.stt.turnEvents).toBe(true);
    expect(
      flux.stt.events.some((e) => e.payload.kind === 'turn_info' && e.payload.event === 'EagerEndOfTurn'),
    ).toBe(true);
    const noEager = createScriptedProviders(script(), clock, settings.stt, { eager: false });
    expect(
      noEager.stt.events.some((e) => e.payload.kind === 'turn_info' && e.payload.event === 'EagerEndOfTurn'),
    ).toBe(false);
    const got = await collect(
      clock,
      flux.llm.stream({ messages: [user('Book a flight to Paris')], signal: new AbortController().signal }),
    );
    expect(got.map((g) => (g.chunk.type === 'token' ? g.chunk.text : '')).join('')).toBe(flight.reply);
    expect(flux.tts).toBeInstanceOf(ScriptedTts);
  });
});
