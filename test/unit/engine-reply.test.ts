import { describe, expect, it } from 'vitest';
import { delay, VirtualClock, type Clock } from '../../src/main/engine/clock';
import type { LlmChunk, LlmProvider, TtsAudio, TtsProvider, TtsRequest } from '../../src/main/engine/ports';
import { Reply, type ReplyOptions } from '../../src/main/engine/reply';
import { defaultProfile, type CaseTurn } from '../../src/main/engine/scripted/case';
import { offScriptReply, ScriptedLlm, ScriptedTts } from '../../src/main/engine/scripted/providers';
import { TimelineBus } from '../../src/main/engine/timeline-bus';
import type { ChatMessage } from '../../src/shared/report';
import { defaultSettings, type ReplySettings } from '../../src/shared/settings';
import type { TimelineEvent } from '../../src/shared/timeline';

const QUESTION = 'what is the weather tomorrow';
/** 80 characters, 15 tokens; clause chunks (min 12 chars): 38 + 22 + 20 characters. */
const ANSWER = 'Sure thing, I can check that for you. Tomorrow looks sunny, with a light breeze.';
const CHUNK_1 = 'Sure thing, I can check that for you. ';
const CHUNK_2 = 'Tomorrow looks sunny, ';
const CHUNK_3 = 'with a light breeze.';

const turn: CaseTurn = {
  words: QUESTION.split(' ').map((text, i) => ({ text, start: i * 0.4, end: i * 0.4 + 0.3 })),
  holds: [],
  interims: [],
  end_eot_confidence: 0.9,
  reply: ANSWER,
};
/** Default profile: LLM first token at 350 ms then 20 ms per token; TTS first audio 200 ms after its first text, 60 ms of audio per character. */
const scriptCase = { turns: [turn], profile: defaultProfile() };

function messages(user: string): ChatMessage[] {
  return [
    { role: 'system', content: 'You are Cue.' },
    { role: 'user', content: user },
  ];
}

/** Wraps a TTS provider and records the text chunks it receives (with clock time) and the audio it yields. */
class TapTts implements TtsProvider {
  readonly texts: { at: number; text: string }[] = [];
  readonly audio: TtsAudio[] = [];

  constructor(
    private readonly inner: TtsProvider,
    private readonly clock: Clock,
  ) {}

  synthesize(request: TtsRequest): AsyncIterable<TtsAudio> {
    const texts = this.texts;
    const audio = this.audio;
    const clock = this.clock;
    async function* text() {
      for await (const chunk of request.text) {
        texts.push({ at: clock.now(), text: chunk });
        yield chunk;
      }
    }
    const inner = this.inner.synthesize({ text: text(), signal: request.signal });
    return (async function* () {
      for await (const chunk of inner) {
        audio.push(chunk);
        yield chunk;
      }
    })();
  }
}

interface Options {
  /** Replaces the scripted LLM. */
  llm?: (clock: VirtualClock) => LlmProvider;
  tts?: TtsProvider;
  chunking?: Partial<ReplySettings>;
  reply?: Partial<ReplyOptions>;
}

function setup(options: Options = {}) {
  const clock = new VirtualClock();
  const bus = new TimelineBus(clock);
  const events: TimelineEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const llm = new ScriptedLlm(scriptCase, clock);
  const tts = new ScriptedTts(scriptCase.profile, clock);
  const tap = new TapTts(options.tts ?? tts, clock);
  const reply = new Reply(
    {
      clock,
      bus,
      llm: options.llm ? options.llm(clock) : llm,
      tts: tap,
      chunking: { ...defaultSettings().reply, first_chunk_words: 0, ...options.chunking },
    },
    {
      id: 7,
      turn: 3,
      transcript: QUESTION,
      messages: messages(QUESTION),
      preemptive: false,
      trigger: 'end_of_turn',
      synthesize: true,
      ...options.reply,
    },
  );
  const sink = {
    audio: [] as TtsAudio[],
    ends: [] as number[],
  };
  const attach = () =>
    reply.attach({
      audio: (a) => sink.audio.push(a),
      end: () => sink.ends.push(clock.now()),
    });
  /** `type @t` of every event. */
  const timeline = () => events.map((e) => `${e.type} @${e.t}`);
  return { clock, bus, events, llm, tts, tap, reply, sink, attach, timeline };
}

function ms(audio: readonly TtsAudio[]): number {
  return audio.reduce((sum, a) => sum + (a.samples.length / a.sampleRate) * 1000, 0);
}

describe('Reply', () => {
  it('sends clause chunks to TTS as the tokens arrive, the first long before the LLM has finished', async () => {
    const { clock, llm, tts, tap, reply } = setup();
    reply.start();
    await clock.advanceTo(509);
    expect(tap.texts).toEqual([]);
    // Token 8 ("Tomorrow", at 350 + 8 × 20 ms) confirms the first boundary.
    await clock.advanceTo(510);
    expect(tap.texts).toEqual([{ at: 510, text: CHUNK_1 }]);
    expect(reply.llmDone).toBe(false);
    expect(llm.records[0]!.outcome).toBe('pending');
    await clock.runAll();
    expect(tap.texts).toEqual([
      { at: 510, text: CHUNK_1 },
      { at: 570, text: CHUNK_2 },
      { at: 630, text: CHUNK_3 },
    ]);
    expect(llm.records[0]!.endedAt).toBe(630);
    expect(tts.records[0]!.firstTextAt).toBe(510);
    expect(tts.records[0]!.text).toBe(ANSWER);
    expect(reply.text).toBe(ANSWER);
    expect(reply.llmDone).toBe(true);
    expect(reply.ttsDone).toBe(true);
  });

  it('with first_chunk_words the first words go to TTS before the first clause is complete', async () => {
    const { clock, tap, tts, reply } = setup({ chunking: { first_chunk_words: 3 } });
    reply.start();
    await clock.runAll();
    // " can" (token 4, at 350 + 3 × 20 ms) shows that "I" is a whole word.
    expect(tap.texts[0]).toEqual({ at: 410, text: 'Sure thing, I ' });
    expect(tap.texts.map((t) => t.text).join('')).toBe(ANSWER);
    expect(tts.records[0]!.firstTextAt).toBe(410);
  });

  it('sentence chunking sends whole sentences only', async () => {
    const { clock, tap, reply } = setup({ chunking: { chunking: 'sentence' } });
    reply.start();
    await clock.runAll();
    expect(tap.texts).toEqual([
      { at: 510, text: CHUNK_1 },
      { at: 630, text: CHUNK_2 + CHUNK_3 },
    ]);
  });

  it('buffers audio until attach(), then delivers it all in order, then the rest, then end', async () => {
    const { clock, tap, reply, sink, attach } = setup();
    reply.start();
    await clock.advanceTo(1000);
    // First audio at 710, then a 100 ms chunk every 25 ms (realtime factor 0.25).
    expect(tap.audio).toHaveLength(12);
    expect(reply.hasAudio).toBe(true);
    expect(sink.audio).toHaveLength(0);
    attach();
    expect(sink.audio).toHaveLength(12);
    sink.audio.forEach((a, i) => expect(a).toBe(tap.audio[i]));
    expect(sink.ends).toEqual([]);
    await clock.runAll();
    expect(tap.audio).toHaveLength(48);
    expect(sink.audio).toHaveLength(48);
    sink.audio.forEach((a, i) => expect(a).toBe(tap.audio[i]));
    expect(ms(sink.audio)).toBe(ANSWER.length * 60);
    expect(sink.ends).toEqual([1885]);
  });

  it('attached after synthesis finished: gets every chunk and end at once', async () => {
    const { clock, tap, reply, sink, attach } = setup();
    reply.start();
    await clock.runAll();
    expect(reply.ttsDone).toBe(true);
    attach();
    expect(sink.audio).toHaveLength(48);
    sink.audio.forEach((a, i) => expect(a).toBe(tap.audio[i]));
    expect(sink.ends).toEqual([clock.now()]);
  });

  it('without synthesize, TTS starts only at attach() and gets the text produced so far', async () => {
    const { clock, tap, tts, reply, attach, events } = setup({ reply: { synthesize: false } });
    reply.start();
    await clock.advanceTo(1000);
    expect(tts.requests).toBe(0);
    expect(reply.synthesizing).toBe(false);
    expect(events.some((e) => e.type === 'tts_request')).toBe(false);
    attach();
    expect(reply.synthesizing).toBe(true);
    await clock.runAll();
    expect(tap.texts).toEqual([
      { at: 1000, text: CHUNK_1 },
      { at: 1000, text: CHUNK_2 },
      { at: 1000, text: CHUNK_3 },
    ]);
    expect(tts.records[0]!.firstAudioAt).toBe(1200);
    expect(reply.ttsTtfb).toBe(200);
  });

  it('records ttft, TTS ttfb, TTS characters and usage, with matching timeline events', async () => {
    const { clock, reply, timeline, events } = setup();
    reply.start();
    await clock.runAll();
    expect(reply.ttft).toBe(350);
    expect(reply.ttsTtfb).toBe(200);
    expect(reply.ttsCharacters).toBe(ANSWER.length);
    // ScriptedLlm's usage: words of all messages, tokens sent.
    expect(reply.promptTokens).toBe(8);
    expect(reply.completionTokens).toBe(15);
    expect(timeline()).toEqual([
      'llm_request @0',
      'tts_request @0',
      'llm_first_token @350',
      'llm_done @630',
      'tts_first_audio @710',
      'tts_done @1885',
    ]);
    expect(events.every((e) => e.turn === 3)).toBe(true);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'llm_request', request: 7, transcript: QUESTION, preemptive: false }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'llm_first_token', request: 7, ttft: 350 }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'llm_done',
        request: 7,
        prompt_tokens: 8,
        completion_tokens: 15,
        text: ANSWER,
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'tts_first_audio', request: 7, ttfb: 200 }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'tts_done', request: 7, characters: 80, audio_ms: 4800 }),
    );
    expect(reply.record('spoken', 'Sure thing')).toEqual({
      id: 7,
      preemptive: false,
      trigger: 'end_of_turn',
      transcript: QUESTION,
      started_ms: 0,
      outcome: 'spoken',
      ttft_ms: 350,
      prompt_tokens: 8,
      completion_tokens: 15,
      tts_characters: 80,
      tts_characters_played: 10,
    });
  });

  it('cancel() mid-stream aborts the LLM and TTS requests and ends the sink', async () => {
    const { clock, llm, tts, reply, sink, attach, timeline, events } = setup();
    reply.start();
    attach();
    await clock.advanceTo(600);
    reply.cancel('user barged in');
    expect(reply.cancelled).toBe(true);
    expect(reply.signal.aborted).toBe(true);
    expect(llm.records[0]!.outcome).toBe('aborted');
    expect(llm.records[0]!.endedAt).toBe(600);
    expect(tts.records[0]!.outcome).toBe('aborted');
    expect(tts.records[0]!.endedAt).toBe(600);
    expect(sink.ends).toEqual([600]);
    await clock.runAll();
    expect(sink.audio).toHaveLength(0);
    expect(sink.ends).toEqual([600]);
    expect(llm.records[0]!.tokensSent).toBe(13);
    expect(tts.records[0]!.samplesSent).toBe(0);
    expect(timeline()).toEqual([
      'llm_request @0',
      'tts_request @0',
      'llm_first_token @350',
      'llm_aborted @600',
      'tts_aborted @600',
    ]);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'llm_aborted', request: 7, reason: 'user barged in' }),
    );
    expect(reply.record('wasted', '')).toMatchObject({ outcome: 'wasted', reason: 'user barged in' });
    // A second cancel changes nothing.
    reply.cancel('again');
    expect(timeline()).toHaveLength(5);
    expect(reply.cancelReason).toBe('user barged in');
  });

  it('cancel() after the LLM finished aborts only the TTS', async () => {
    const { clock, llm, tts, reply, tap, timeline } = setup();
    reply.start();
    await clock.advanceTo(800);
    const chunksBefore = tap.audio.length;
    expect(chunksBefore).toBeGreaterThan(0);
    reply.cancel('replaced');
    await clock.runAll();
    expect(llm.records[0]!.outcome).toBe('completed');
    expect(tts.records[0]!.outcome).toBe('aborted');
    expect(tap.audio).toHaveLength(chunksBefore);
    expect(timeline().filter((t) => /aborted|done/.test(t))).toEqual(['llm_done @630', 'tts_aborted @800']);
  });

  it('cancel() before start() never sends a request', async () => {
    const { clock, llm, tts, reply, timeline } = setup();
    reply.cancel('discarded');
    reply.start();
    await clock.runAll();
    expect(tts.requests).toBe(0);
    expect(reply.text).toBe('');
    expect(reply.llmDone).toBe(false);
    // The LLM request may be created, but it must end aborted without tokens.
    expect(llm.records.length).toBeLessThanOrEqual(1);
    for (const record of llm.records) {
      expect(record.outcome).toBe('aborted');
      expect(record.tokensSent).toBe(0);
    }
    expect(timeline().filter((t) => t.startsWith('llm_done') || t.startsWith('tts_'))).toEqual([]);
  });

  it('an off-script transcript gets the marked off-script reply', async () => {
    const { clock, llm, reply, tap } = setup({
      reply: { transcript: 'tell me a joke', messages: messages('tell me a joke') },
    });
    reply.start();
    await clock.runAll();
    expect(llm.records[0]!.onScript).toBe(false);
    expect(reply.text).toBe(offScriptReply('tell me a joke'));
    expect(tap.texts.map((t) => t.text).join('')).toBe(offScriptReply('tell me a joke'));
  });

  it('spokenText maps played audio to whole words through the TTS alignment', async () => {
    // One audio chunk per text chunk, with uneven speaking rates: 38 chars → 1000 ms, 22 → 2000 ms, 20 → 500 ms.
    const durations = new Map([
      [CHUNK_1, 1000],
      [CHUNK_2, 2000],
      [CHUNK_3, 500],
    ]);
    const aligned: TtsProvider = {
      async *synthesize(request) {
        for await (const text of request.text) {
          const duration = durations.get(text) ?? 0;
          yield { samples: new Int16Array(16 * duration), sampleRate: 16_000, characters: text.length };
        }
      },
    };
    const { clock, reply } = setup({ tts: aligned });
    reply.start();
    await clock.advanceTo(600);
    // Synthesis not finished yet: the alignment so far still maps.
    expect(reply.ttsDone).toBe(false);
    expect(reply.spokenText(500)).toBe('Sure thing, I can');
    await clock.runAll();
    expect(reply.ttsDone).toBe(true);
    expect(reply.spokenText(0)).toBe('');
    // 19 characters heard: "check" was cut off, so it is left out.
    expect(reply.spokenText(500)).toBe('Sure thing, I can');
    expect(reply.spokenText(1000)).toBe('Sure thing, I can check that for you.');
    // Halfway through the slow second chunk: 38 + 11 characters.
    expect(reply.spokenText(2000)).toBe('Sure thing, I can check that for you. Tomorrow');
    expect(reply.spokenText(3250)).toBe('Sure thing, I can check that for you. Tomorrow looks sunny, with a');
    expect(reply.spokenText(3500)).toBe(ANSWER);
    expect(reply.spokenText(Number.POSITIVE_INFINITY)).toBe(ANSWER);
  });

  it('spokenText with the scripted TTS follows its per-chunk alignment', async () => {
    const { clock, reply } = setup();
    reply.start();
    await clock.runAll();
    // 60 ms per character: 750 ms ≈ 12 characters, "Sure thing, " → whole words only.
    expect(reply.spokenText(750)).toBe('Sure thing,');
    // 1450 ms ≈ 24 characters: "Sure thing, I can check " plus nothing of "that".
    expect(reply.spokenText(1450)).toBe('Sure thing, I can check');
    expect(reply.spokenText(4800)).toBe(ANSWER);
  });

  it('spokenText keeps a word heard to its very last character', async () => {
    // Exact alignment: 60 ms of audio per character, one chunk per character.
    const perCharacter: TtsProvider = {
      async *synthesize(request) {
        for await (const text of request.text) {
          for (const _char of text)
            yield { samples: new Int16Array(16 * 60), sampleRate: 16_000, characters: 1 };
        }
      },
    };
    const { clock, reply } = setup({ tts: perCharacter });
    reply.start();
    await clock.runAll();
    // 60 ms per character: 780 ms is exactly "Sure thing, I" (13 characters), 1020 ms "Sure thing, I can".
    expect(reply.spokenText(780)).toBe('Sure thing, I');
    expect(reply.spokenText(1020)).toBe('Sure thing, I can');
  });

  it('after a TTS failure mid-reply no more text is sent to TTS or counted as synthesised', async () => {
    const failing: TtsProvider = {
      async *synthesize(request) {
        let first = true;
        for await (const text of request.text) {
          if (!first) throw new Error('TTS socket closed');
          first = false;
          yield {
            samples: new Int16Array(16 * 60 * text.length),
            sampleRate: 16_000,
            characters: text.length,
          };
        }
      },
    };
    const { clock, reply, sink, attach, events } = setup({ tts: failing });
    reply.start();
    attach();
    await clock.runAll();
    expect(reply.ttsFailed).toBe(true);
    expect(reply.ttsCharacters).toBe(CHUNK_1.length + CHUNK_2.length);
    expect(events.filter((e) => e.type === 'error').map((e) => (e as { message: string }).message)).toEqual([
      'TTS socket closed',
    ]);
    // The sink ends once the LLM is done, so the whole text can reach the conversation.
    const llmDone = events.find((e) => e.type === 'llm_done')!;
    expect(sink.ends).toEqual([llmDone.t]);
    expect(reply.text).toBe(ANSWER);
  });

  it('start() after cancel() sends nothing, and ttft counts from start()', async () => {
    const cancelled = setup();
    cancelled.reply.cancel('gone');
    cancelled.reply.start();
    await cancelled.clock.runAll();
    expect(cancelled.llm.requests).toBe(0);
    expect(cancelled.events.some((e) => e.type === 'llm_request')).toBe(false);

    const late = setup();
    await late.clock.advanceTo(1000);
    late.reply.start();
    await late.clock.runAll();
    expect(late.reply.startedAt).toBe(1000);
    expect(late.reply.ttft).toBe(350);
  });

  it('an LLM that throws mid-stream gives an llm error event, and the text so far is still spoken', async () => {
    const failing = (clock: VirtualClock): LlmProvider => ({
      async *stream(): AsyncGenerator<LlmChunk> {
        await delay(clock, 100);
        yield { type: 'token', text: 'Well, let me see what I can find. ' };
        await delay(clock, 100);
        yield { type: 'token', text: 'Hmm' };
        throw new Error('LLM 500: overloaded');
      },
    });
    const { clock, reply, tap, sink, attach, events, timeline } = setup({ llm: failing });
    reply.start();
    attach();
    await clock.runAll();
    expect(reply.llmFailed).toBe(true);
    expect(reply.llmDone).toBe(false);
    expect(reply.text).toBe('Well, let me see what I can find. Hmm');
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'error',
        source: 'llm',
        message: 'LLM 500: overloaded',
        recoverable: true,
        turn: 3,
        t: 200,
      }),
    );
    expect(timeline()).not.toContain('llm_done @200');
    // The partial text still reaches TTS, and the sink is ended once.
    expect(tap.texts.map((t) => t.text).join('')).toBe('Well, let me see what I can find. Hmm');
    expect(sink.audio.length).toBeGreaterThan(0);
    expect(sink.ends).toHaveLength(1);
    expect(reply.ttsDone).toBe(true);
  });

  it('an LLM that throws before any text ends the sink without audio', async () => {
    const failing = (): LlmProvider => ({
      // eslint-disable-next-line require-yield
      async *stream(): AsyncGenerator<LlmChunk> {
        throw new Error('connection refused');
      },
    });
    const { clock, reply, tap, sink, attach, events } = setup({ llm: failing, reply: { synthesize: false } });
    reply.start();
    await clock.advanceTo(50);
    expect(reply.llmFailed).toBe(true);
    expect(events.filter((e) => e.type === 'error')).toEqual([
      expect.objectContaining({ source: 'llm', message: 'connection refused', t: 0 }),
    ]);
    attach();
    await clock.runAll();
    expect(sink.audio).toHaveLength(0);
    expect(sink.ends).toHaveLength(1);
    expect(tap.texts).toEqual([]);
    expect(reply.text).toBe('');
    expect(reply.spokenText(Number.POSITIVE_INFINITY)).toBe('');
  });

  it('a fixed text (greeting) is spoken without an LLM request', async () => {
    const { clock, llm, reply, tap, sink, attach } = setup({
      reply: {
        fixedText: 'Hi, I am Cue. How can I help?',
        trigger: 'greeting',
        transcript: '',
        messages: [],
      },
    });
    reply.start();
    attach();
    await clock.runAll();
    expect(llm.requests).toBe(0);
    expect(reply.text).toBe('Hi, I am Cue. How can I help?');
    expect(tap.texts.map((t) => t.text).join('')).toBe('Hi, I am Cue. How can I help?');
    expect(ms(sink.audio)).toBe('Hi, I am Cue. How can I help?'.length * 60);
    expect(sink.ends).toHaveLength(1);
  });
});
