import { describe, expect, it } from 'vitest';
import { AgentSpeech, type SpokenReply } from '../../src/main/engine/agent-speech';
import { ClockedAudioOutput } from '../../src/main/engine/audio/clocked-output';
import { VirtualClock } from '../../src/main/engine/clock';
import type { TtsAudio, TtsProvider, TtsRequest } from '../../src/main/engine/ports';
import { Reply } from '../../src/main/engine/reply';
import { defaultProfile, type CaseProfile, type CaseTurn } from '../../src/main/engine/scripted/case';
import { ScriptedLlm, ScriptedTts } from '../../src/main/engine/scripted/providers';
import { TimelineBus } from '../../src/main/engine/timeline-bus';
import { defaultSettings } from '../../src/shared/settings';
import type { TimelineEvent } from '../../src/shared/timeline';

const Q_WEATHER = 'what is the weather tomorrow';
/** 80 characters → 4800 ms of scripted audio; clause chunks of 38, 22 and 20 characters. */
const A_WEATHER = 'Sure thing, I can check that for you. Tomorrow looks sunny, with a light breeze.';
const Q_SUNDAY = 'and on sunday';
/** 22 characters → 1320 ms of scripted audio. */
const A_SUNDAY = 'Rain on Sunday, sadly.';
const Q_TIME = 'what time is it';
const A_TIME = 'It is ten past nine.';

function turn(question: string, reply: string): CaseTurn {
  return {
    words: question.split(' ').map((text, i) => ({ text, start: i * 0.4, end: i * 0.4 + 0.3 })),
    holds: [],
    interims: [],
    end_eot_confidence: 0.9,
    reply,
  };
}

const turns = [turn(Q_WEATHER, A_WEATHER), turn(Q_SUNDAY, A_SUNDAY), turn(Q_TIME, A_TIME)];

interface SetupOptions {
  minGapMs?: number;
  profile?: Partial<CaseProfile>;
  tts?: (scripted: ScriptedTts) => TtsProvider;
}

function setup(options: SetupOptions = {}) {
  const clock = new VirtualClock();
  const bus = new TimelineBus(clock);
  const events: TimelineEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const profile = { ...defaultProfile(), ...options.profile };
  const llm = new ScriptedLlm({ turns, profile }, clock);
  const scriptedTts = new ScriptedTts(profile, clock);
  const tts = options.tts ? options.tts(scriptedTts) : scriptedTts;
  const output = new ClockedAudioOutput(clock);
  const started: string[] = [];
  const finished: SpokenReply[] = [];
  let minGapMs = options.minGapMs ?? 0;
  const speech = new AgentSpeech({
    clock,
    bus,
    output,
    minGapMs: () => minGapMs,
    onStarted: (reply, at) => started.push(`${reply.id} @${at}`),
    onFinished: (result) => finished.push(result),
  });
  let nextId = 1;
  const settings = defaultSettings();
  const makeReply = (question: string, synthesize = false) => {
    const reply = new Reply(
      { clock, bus, llm, tts, chunking: { ...settings.reply, first_chunk_words: 0 } },
      {
        id: nextId++,
        turn: 0,
        transcript: question,
        messages: [{ role: 'user', content: question }],
        preemptive: false,
        trigger: 'end_of_turn',
        synthesize,
      },
    );
    reply.start();
    return reply;
  };
  /** `type #request @t` of the agent speech events. */
  const speechEvents = () =>
    events
      .filter((e) => e.type.startsWith('agent_speech_'))
      .map((e) => `${e.type.replace('agent_speech_', '')} #${'request' in e ? e.request : '?'} @${e.t}`);
  const setGap = (ms: number) => {
    minGapMs = ms;
  };
  return {
    clock,
    bus,
    events,
    llm,
    scriptedTts,
    output,
    speech,
    started,
    finished,
    makeReply,
    speechEvents,
    setGap,
  };
}

function ended(events: TimelineEvent[]) {
  return events.filter((e) => e.type === 'agent_speech_ended');
}

describe('AgentSpeech', () => {
  it('plays replies one at a time, in order, even when the next one is ready first', async () => {
    const { clock, speech, started, finished, makeReply, speechEvents, events } = setup();
    const a = makeReply(Q_WEATHER);
    // B is synthesised from the start: its audio is ready at 610 ms, long before A ends.
    const b = makeReply(Q_SUNDAY, true);
    speech.enqueue(a);
    speech.enqueue(b);
    expect(speech.isActive).toBe(true);
    expect(speech.currentReply).toBe(a);
    expect(speech.isPlaying).toBe(false);
    await clock.advanceTo(1000);
    expect(b.hasAudio).toBe(true);
    expect(speech.isPlaying).toBe(true);
    expect(speech.currentReply).toBe(a);
    await clock.runAll();
    // A: first text to TTS at 510, audio 200 ms later, 4800 ms long. B: 1320 ms, right after A.
    expect(speechEvents()).toEqual([
      'started #1 @710',
      'ended #1 @5510',
      'started #2 @5510',
      'ended #2 @6830',
    ]);
    expect(started).toEqual(['1 @710', '2 @5510']);
    expect(
      finished.map((f) => [f.reply.id, f.spokenText, f.interrupted, f.firstAudioAt, f.playedMs]),
    ).toEqual([
      [1, A_WEATHER, false, 710, 4800],
      [2, A_SUNDAY, false, 5510, 1320],
    ]);
    expect(ended(events)).toEqual([
      expect.objectContaining({ request: 1, interrupted: false, played_ms: 4800, spoken_text: A_WEATHER }),
      expect.objectContaining({ request: 2, interrupted: false, played_ms: 1320, spoken_text: A_SUNDAY }),
    ]);
    expect(events.find((e) => e.type === 'agent_speech_started')).toMatchObject({
      request: 1,
      turn: 0,
      text_so_far: A_WEATHER,
    });
    expect(speech.isActive).toBe(false);
    expect(speech.currentReply).toBeNull();
  });

  it.each([
    [0, 5510],
    [300, 5810],
    [1000, 6510],
  ])('keeps min gap %i ms between utterances even when the next reply is ready', async (gap, secondStart) => {
    const { clock, speech, makeReply, speechEvents } = setup({ minGapMs: gap });
    // Both synthesised from the start: B's audio is buffered long before A ends.
    const a = makeReply(Q_WEATHER, true);
    const b = makeReply(Q_SUNDAY, true);
    speech.enqueue(a);
    speech.enqueue(b);
    await clock.runAll();
    expect(speechEvents()).toEqual([
      'started #1 @710',
      'ended #1 @5510',
      `started #2 @${secondStart}`,
      `ended #2 @${secondStart + 1320}`,
    ]);
  });

  it('a reply enqueued after the gap has passed starts at once', async () => {
    const { clock, speech, makeReply, speechEvents } = setup({ minGapMs: 300 });
    speech.enqueue(makeReply(Q_SUNDAY, true));
    await clock.runAll();
    expect(speechEvents()).toEqual(['started #1 @610', 'ended #1 @1930']);
    await clock.advanceTo(3000);
    const b = makeReply(Q_TIME, true);
    await clock.advanceTo(4000);
    speech.enqueue(b);
    expect(speechEvents()).toEqual(['started #1 @610', 'ended #1 @1930', 'started #2 @4000']);
  });

  it('interrupt stops the reply at once, cancels its LLM and TTS, keeps the words heard and drops queued replies', async () => {
    // A slow LLM (200 ms per token) so the reply is still being generated while it plays.
    const { clock, speech, llm, scriptedTts, output, finished, makeReply, speechEvents, events } = setup({
      profile: { llm_tokens_per_s: 5 },
    });
    const a = makeReply(Q_WEATHER);
    speech.enqueue(a);
    await clock.advanceTo(2900);
    const b = makeReply(Q_SUNDAY);
    speech.enqueue(b);
    // A's first audio at 1950 + 200 = 2150; 950 ms of it heard at 3100 ≈ 15 characters ("Sure thing, I c").
    await clock.advanceTo(3100);
    expect(speechEvents()).toEqual(['started #1 @2150']);
    speech.interrupt('barge-in');

    expect(speechEvents()).toEqual(['started #1 @2150', 'ended #1 @3100']);
    expect(ended(events)[0]).toMatchObject({
      request: 1,
      interrupted: true,
      played_ms: 950,
      spoken_text: 'Sure thing, I',
    });
    expect(finished).toHaveLength(2);
    const dropped = finished.find((f) => f.reply === b)!;
    expect(dropped).toMatchObject({ spokenText: '', interrupted: true, firstAudioAt: null, playedMs: 0 });
    const stopped = finished.find((f) => f.reply === a)!;
    expect(stopped).toMatchObject({
      spokenText: 'Sure thing, I',
      interrupted: true,
      firstAudioAt: 2150,
      playedMs: 950,
    });

    expect(a.cancelled).toBe(true);
    expect(b.cancelled).toBe(true);
    expect(llm.records.map((r) => [r.userWords, r.outcome, r.endedAt])).toEqual([
      [Q_WEATHER, 'aborted', 3100],
      [Q_SUNDAY, 'aborted', 3100],
    ]);
    // A's synthesis (and B's, if it had started) is aborted; B never produced audio.
    expect(scriptedTts.records.length).toBeGreaterThanOrEqual(1);
    expect(scriptedTts.records[0]!.text.startsWith('Sure thing')).toBe(true);
    for (const record of scriptedTts.records)
      expect([record.outcome, record.endedAt]).toEqual(['aborted', 3100]);
    expect(scriptedTts.records.slice(1).every((r) => r.samplesSent === 0)).toBe(true);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'llm_aborted', request: 1, reason: 'barge-in' }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'tts_aborted', request: 1, reason: 'barge-in' }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'llm_aborted', request: 2, reason: 'barge-in' }),
    );

    expect(speech.isActive).toBe(false);
    expect(output.bufferedMs).toBe(0);
    await clock.runAll();
    // Nothing plays afterwards.
    expect(speechEvents()).toEqual(['started #1 @2150', 'ended #1 @3100']);
    expect(scriptedTts.records.slice(1).every((r) => r.samplesSent === 0)).toBe(true);
    expect(finished).toHaveLength(2);
  });

  it('interrupting a reply that has not been heard yet reports nothing spoken', async () => {
    const { clock, speech, llm, finished, makeReply, events } = setup();
    const a = makeReply(Q_WEATHER);
    speech.enqueue(a);
    await clock.advanceTo(600);
    speech.interrupt('user spoke before the reply was heard');
    expect(finished).toEqual([
      { reply: a, spokenText: '', interrupted: true, firstAudioAt: null, playedMs: 0 },
    ]);
    expect(ended(events)).toEqual([
      expect.objectContaining({ request: 1, interrupted: true, played_ms: 0, spoken_text: '', t: 600 }),
    ]);
    expect(llm.records[0]!.outcome).toBe('aborted');
    await clock.runAll();
    expect(events.some((e) => e.type === 'agent_speech_started')).toBe(false);
  });

  it('interrupting while waiting out the min gap cancels the next reply before it plays', async () => {
    const { clock, speech, scriptedTts, finished, makeReply, speechEvents } = setup({ minGapMs: 500 });
    const b = makeReply(Q_TIME, true);
    speech.enqueue(makeReply(Q_SUNDAY, true));
    speech.enqueue(b);
    await clock.advanceTo(2000); // A ended at 1930; B must wait until 2430
    expect(speechEvents()).toEqual(['started #2 @610', 'ended #2 @1930']);
    expect(b.hasAudio).toBe(true);
    speech.interrupt('barge-in');
    await clock.runAll();
    expect(b.cancelled).toBe(true);
    expect(finished.at(-1)).toMatchObject({ reply: b, spokenText: '', interrupted: true, playedMs: 0 });
    expect(speechEvents()).toEqual(['started #2 @610', 'ended #2 @1930', 'ended #1 @2000']);
    const bTts = scriptedTts.records.find((r) => r.text === A_TIME)!;
    expect(bTts.outcome).toBe('completed');
    expect(speech.isActive).toBe(false);
  });

  it('the min gap also counts from an interruption', async () => {
    const { clock, speech, makeReply, speechEvents } = setup({ minGapMs: 300 });
    const b = makeReply(Q_SUNDAY, true);
    speech.enqueue(makeReply(Q_WEATHER, true));
    await clock.advanceTo(2000);
    speech.interrupt('barge-in');
    await clock.advanceTo(2100);
    speech.enqueue(b);
    await clock.runAll();
    expect(speechEvents()).toEqual([
      'started #2 @710',
      'ended #2 @2000',
      'started #1 @2300',
      'ended #1 @3620',
    ]);
  });

  it('interrupting a paused reply keeps what was heard before the pause and leaves the output unpaused', async () => {
    const { clock, speech, output, finished, makeReply, speechEvents } = setup();
    const next = makeReply(Q_TIME, true);
    speech.enqueue(makeReply(Q_WEATHER, true));
    await clock.advanceTo(1660); // 950 ms heard
    speech.pause();
    await clock.advanceTo(3000);
    speech.interrupt('barge-in');
    expect(output.isPaused).toBe(false);
    expect(finished[0]).toMatchObject({ spokenText: 'Sure thing, I', interrupted: true, playedMs: 950 });
    expect(speechEvents()).toEqual(['started #2 @710', 'paused #2 @1660', 'ended #2 @3000']);
    // The output is usable again: the next reply (ready since 630 ms) plays at once.
    speech.enqueue(next);
    expect(speechEvents().at(-1)).toBe('started #1 @3000');
    await clock.runAll();
    expect(speechEvents().at(-1)).toBe(`ended #1 @${3000 + A_TIME.length * 60}`);
  });

  it('a reply whose TTS fails still delivers its text, and the next reply plays', async () => {
    let calls = 0;
    const { clock, speech, finished, makeReply, speechEvents, events } = setup({
      tts: (scripted) => ({
        synthesize(request: TtsRequest): AsyncIterable<TtsAudio> {
          if (calls++ > 0) return scripted.synthesize(request);
          // eslint-disable-next-line require-yield
          return (async function* (): AsyncGenerator<TtsAudio> {
            for await (const _text of request.text) throw new Error('TTS 503: unavailable');
          })();
        },
      }),
    });
    const a = makeReply(Q_WEATHER);
    const b = makeReply(Q_SUNDAY);
    // Both LLM replies are complete (630 ms and 410 ms) before they are committed.
    await clock.advanceTo(1000);
    speech.enqueue(a);
    speech.enqueue(b);
    await clock.runAll();
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'error', source: 'tts', message: 'TTS 503: unavailable', t: 1000 }),
    );
    expect(finished[0]).toEqual({
      reply: a,
      spokenText: A_WEATHER,
      interrupted: false,
      firstAudioAt: null,
      playedMs: 0,
    });
    expect(ended(events)[0]).toMatchObject({
      request: 1,
      interrupted: false,
      played_ms: 0,
      spoken_text: A_WEATHER,
    });
    expect(speechEvents()).toEqual(['ended #1 @1000', 'started #2 @1200', 'ended #2 @2520']);
    expect(finished[1]).toMatchObject({ spokenText: A_SUNDAY, interrupted: false });
  });

  it('pause and resume emit events, hold the audio in place, and shift the end by the pause', async () => {
    const { clock, speech, output, finished, makeReply, speechEvents, events } = setup();
    speech.enqueue(makeReply(Q_WEATHER, true));
    await clock.advanceTo(2000);
    speech.pause();
    expect(output.isPaused).toBe(true);
    speech.pause(); // already paused: no second event
    await clock.advanceTo(3000);
    speech.resume();
    expect(output.isPaused).toBe(false);
    speech.resume(); // not paused: no event
    await clock.runAll();
    expect(speechEvents()).toEqual([
      'started #1 @710',
      'paused #1 @2000',
      'resumed #1 @3000',
      'ended #1 @6510',
    ]);
    expect(events.find((e) => e.type === 'agent_speech_paused')).toMatchObject({ request: 1, turn: 0 });
    expect(finished[0]).toMatchObject({ spokenText: A_WEATHER, interrupted: false, firstAudioAt: 710 });
  });

  it('played_ms counts only playing time, not the pause', async () => {
    const { clock, speech, finished, makeReply, events } = setup();
    const reply = makeReply(Q_WEATHER, true);
    speech.enqueue(reply);
    await clock.advanceTo(2000);
    speech.pause();
    await clock.advanceTo(3000);
    speech.resume();
    await clock.runAll();
    expect(finished[0]!.playedMs).toBe(reply.audioDurationMs);
    expect(ended(events)[0]).toMatchObject({ played_ms: Math.round(reply.audioDurationMs) });
  });

  it('a TTS failure while the LLM is still streaming delivers the whole text once the LLM finishes', async () => {
    const { clock, speech, finished, makeReply, events } = setup({
      tts: () => ({
        synthesize(request: TtsRequest): AsyncIterable<TtsAudio> {
          // eslint-disable-next-line require-yield
          return (async function* (): AsyncGenerator<TtsAudio> {
            for await (const _text of request.text) throw new Error('TTS 500: internal error');
          })();
        },
      }),
    });
    const reply = makeReply(Q_WEATHER);
    speech.enqueue(reply);
    await clock.runAll();
    const llmDone = events.find((e) => e.type === 'llm_done')!;
    const error = events.find((e) => e.type === 'error')!;
    expect(error.t).toBeLessThan(llmDone.t);
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ spokenText: A_WEATHER, interrupted: false });
    expect(ended(events)[0]!.t).toBe(llmDone.t);
    expect(reply.cancelled).toBe(false);
  });

  it('pause, resume and interrupt do nothing without a reply', async () => {
    const { clock, speech, output, finished, events } = setup();
    speech.pause();
    speech.resume();
    speech.interrupt('nothing to stop');
    await clock.runAll();
    expect(output.isPaused).toBe(false);
    expect(events).toEqual([]);
    expect(finished).toEqual([]);
  });
});
