/**
 * OpenAiLlm through the real `openai` SDK against the OpenAI simulator on 127.0.0.1, both on one
 * VirtualClock. Time only moves when a test advances the clock; between steps a test awaits the
 * event it expects (the simulator received a request, the consumer got a token, a retry was
 * scheduled), so network I/O settles without any fixed sleep.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/main/engine/clock';
import type { LlmChunk, LlmUsage } from '../../src/main/engine/ports';
import { defaultProfile, type CaseProfile, type CaseTurn } from '../../src/main/engine/scripted/case';
import {
  offScriptReply,
  promptTokenCount,
  splitTokens,
  tokenDueMs,
} from '../../src/main/engine/scripted/providers';
import { ProviderError } from '../../src/main/providers/errors';
import {
  OpenAiLlm,
  PLACEHOLDER_API_KEY,
  type OpenAiLlmOptions,
  type OpenAiRetryEvent,
} from '../../src/main/providers/openai';
import type { ChatMessage } from '../../src/shared/report';
import { defaultSettings, type LlmSettings } from '../../src/shared/settings';
import { SIM_API_KEY, type Fault } from '../../sim/common';
import { startOpenAiSim, type OpenAiSimOptions, type RunningOpenAiSim } from '../../sim/openai';

const weather: CaseTurn = {
  words: [
    { text: "what's", start: 0.5, end: 0.8 },
    { text: 'the', start: 0.82, end: 0.9 },
    { text: 'weather', start: 0.92, end: 1.3 },
    { text: 'in', start: 1.32, end: 1.4 },
    { text: 'paris', start: 1.42, end: 1.9 },
  ],
  holds: [],
  interims: [],
  end_eot_confidence: 0.9,
  reply: 'It is sunny in Paris, about twenty degrees.',
};
const REPLY_TOKENS = splitTokens(weather.reply);
const SYSTEM: ChatMessage = { role: 'system', content: 'You are a helpful voice assistant.' };
/** What the STT would hand over: formatted, so the simulator must normalise. */
const ON_SCRIPT: ChatMessage[] = [SYSTEM, { role: 'user', content: "What's the weather in Paris?" }];

function caseData(profile: Partial<CaseProfile> = {}) {
  return { turns: [weather], profile: { ...defaultProfile(), ...profile } };
}

function llmSettings(overrides: Partial<LlmSettings> = {}): LlmSettings {
  return { ...defaultSettings().llm, ...overrides };
}

/** Consumes a stream, recording each chunk with the clock time it arrived. */
class Consumer {
  readonly chunks: { at: number; chunk: LlmChunk }[] = [];
  error: unknown = undefined;
  done = false;
  readonly finished: Promise<void>;
  private waiters: (() => void)[] = [];

  constructor(stream: AsyncIterable<LlmChunk>, clock: VirtualClock) {
    this.finished = (async () => {
      try {
        for await (const chunk of stream) {
          this.chunks.push({ at: clock.now(), chunk });
          this.notify();
        }
      } catch (error) {
        this.error = error;
      } finally {
        this.done = true;
        this.notify();
      }
    })();
  }

  get tokens(): { at: number; text: string }[] {
    return this.chunks.flatMap(({ at, chunk }) => (chunk.type === 'token' ? [{ at, text: chunk.text }] : []));
  }

  get text(): string {
    return this.tokens.map((t) => t.text).join('');
  }

  get usage(): LlmUsage[] {
    return this.chunks.flatMap(({ chunk }) => (chunk.type === 'usage' ? [chunk.usage] : []));
  }

  /** Resolves once `n` tokens have arrived, or the stream has ended. */
  untilTokens(n: number): Promise<void> {
    return this.waitFor(() => this.tokens.length >= n || this.done);
  }

  private waitFor(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!test()) return;
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

interface Harness {
  clock: VirtualClock;
  sim: RunningOpenAiSim;
  llm: OpenAiLlm;
  retries: OpenAiRetryEvent[];
  /** Resolves with retry number `n` (1-based) once it has been scheduled. */
  retry(n: number): Promise<OpenAiRetryEvent>;
  stream(messages?: ChatMessage[], signal?: AbortSignal): Consumer;
  /**
   * Moves the clock through the token times of simulator request `index` (0-based), awaiting
   * each token at the consumer, for at most `count` tokens.
   */
  deliver(consumer: Consumer, index: number, count?: number): Promise<void>;
}

const sims: RunningOpenAiSim[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function setup(
  options: {
    faults?: Fault[];
    profile?: Partial<CaseProfile>;
    sim?: Partial<OpenAiSimOptions>;
    settings?: Partial<LlmSettings>;
    llm?: Partial<OpenAiLlmOptions>;
  } = {},
): Promise<Harness> {
  const clock = new VirtualClock();
  const data = caseData(options.profile);
  const sim = await startOpenAiSim({ caseData: data, clock, faults: options.faults, ...options.sim });
  sims.push(sim);
  const retries: OpenAiRetryEvent[] = [];
  const retryWaiters: (() => void)[] = [];
  const llm = new OpenAiLlm({
    settings: llmSettings(options.settings),
    apiKey: SIM_API_KEY,
    baseUrl: `${sim.url}/v1`,
    clock,
    onRetry: (event) => {
      retries.push(event);
      for (const waiter of retryWaiters.splice(0)) waiter();
    },
    ...options.llm,
  });
  const retry = async (n: number) => {
    while (retries.length < n) await new Promise<void>((resolve) => retryWaiters.push(resolve));
    return retries[n - 1]!;
  };
  const stream = (messages = ON_SCRIPT, signal = new AbortController().signal) =>
    new Consumer(llm.stream({ messages, signal }), clock);
  const deliver = async (consumer: Consumer, index: number, count = Number.POSITIVE_INFINITY) => {
    const record = await sim.stats.request(index);
    await sim.stats.waitFor(() => record.respondedAt !== null || record.outcome !== 'pending');
    const n = Math.min(count, splitTokens(record.reply).length);
    const before = consumer.tokens.length;
    for (let i = 0; i < n && !consumer.done; i++) {
      await clock.advanceTo(record.respondedAt! + tokenDueMs(data.profile, i));
      await consumer.untilTokens(before + i + 1);
    }
  };
  return { clock, sim, llm, retries, retry, stream, deliver };
}

function expectProviderError(error: unknown): ProviderError {
  expect(error).toBeInstanceOf(ProviderError);
  const e = error as ProviderError;
  expect(e.provider).toBe('OpenAI');
  expect(e.message).toMatch(/^OpenAI: /);
  return e;
}

describe('OpenAiLlm against the OpenAI simulator (real SDK, virtual clock)', () => {
  it('streams the on-script reply token by token, then usage', async () => {
    const h = await setup();
    const c = h.stream();
    await h.deliver(c, 0);
    await c.finished;

    expect(c.error).toBeUndefined();
    expect(c.tokens.map((t) => t.text)).toEqual(REPLY_TOKENS);
    expect(c.text).toBe(weather.reply);
    expect(c.chunks.at(-1)?.chunk.type).toBe('usage');
    expect(c.usage).toEqual([
      { promptTokens: promptTokenCount(ON_SCRIPT), completionTokens: REPLY_TOKENS.length },
    ]);

    const [record] = h.sim.stats.requests;
    expect(h.sim.stats.count).toBe(1);
    expect(record).toMatchObject({
      path: '/v1/chat/completions',
      authorization: `Bearer ${SIM_API_KEY}`,
      model: 'gpt-4o-mini',
      stream: true,
      includeUsage: true,
      userWords: "What's the weather in Paris?",
      onScript: true,
      tokensSent: REPLY_TOKENS.length,
      outcome: 'completed',
    });
    expect(h.clock.pendingTimers).toBe(0); // the client's timeout timer was cleared
  });

  it('answers a wrong transcript with the off-script marker', async () => {
    const h = await setup();
    const wrong = 'what is the weather in berlin';
    const c = h.stream([SYSTEM, { role: 'user', content: wrong }]);
    await h.deliver(c, 0);
    await c.finished;

    expect(c.error).toBeUndefined();
    expect(c.text).toBe(offScriptReply(wrong));
    expect(h.sim.stats.requests[0]).toMatchObject({
      onScript: false,
      userWords: wrong,
      outcome: 'completed',
    });
  });

  it('answers a turn sent as several user messages, as a real LLM reading the whole context would', async () => {
    // LiveKit sends a turn its STT finalised in pieces as one user message per piece.
    const h = await setup();
    const pieces = [
      SYSTEM,
      { role: 'user' as const, content: "What's the weather" },
      { role: 'user' as const, content: 'in Paris?' },
    ];
    const c = h.stream(pieces);
    await h.deliver(c, 0);
    await c.finished;
    expect(c.text).toBe(weather.reply);
    expect(h.sim.stats.requests[0]).toMatchObject({
      onScript: true,
      userWords: "What's the weather in Paris?",
    });

    // The words since the agent last said something count, and an empty assistant message is not a reply.
    const after = h.stream([
      SYSTEM,
      { role: 'user' as const, content: 'hello' },
      { role: 'assistant' as const, content: 'Hi there.' },
      { role: 'user' as const, content: "What's the weather" },
      { role: 'assistant' as const, content: '' },
      { role: 'user' as const, content: 'in Paris?' },
    ]);
    await h.deliver(after, 1);
    await after.finished;
    expect(after.text).toBe(weather.reply);

    // Only part of the turn is still a wrong reply.
    const partial = h.stream([SYSTEM, { role: 'user' as const, content: 'in Paris?' }]);
    await h.deliver(partial, 2);
    await partial.finished;
    expect(partial.text).toBe(offScriptReply('in Paris?'));
  });

  it('times the first token and the rest on the virtual clock (llm_ttft_ms, llm_tokens_per_s)', async () => {
    const profile = { llm_ttft_ms: 800, llm_tokens_per_s: 10 };
    const h = await setup({ profile });
    await h.clock.advanceTo(1000); // the request starts at t = 1000
    const c = h.stream();
    const record = await h.sim.stats.request(0);
    expect(record.receivedAt).toBe(1000);

    await h.clock.advanceTo(1799);
    expect(record.tokensSent).toBe(0);
    expect(c.tokens).toEqual([]);

    for (let i = 0; i < REPLY_TOKENS.length; i++) {
      await h.clock.advanceTo(1000 + 800 + i * 100);
      await c.untilTokens(i + 1);
    }
    await c.finished;
    expect(c.tokens.map((t) => t.at)).toEqual(REPLY_TOKENS.map((_, i) => 1800 + i * 100));
    expect(record.firstTokenAt).toBe(1800);
    expect(record.endedAt).toBe(1800 + (REPLY_TOKENS.length - 1) * 100);
  });

  it('aborting mid-stream ends the stream quietly and closes the connection', async () => {
    const h = await setup();
    const controller = new AbortController();
    const c = h.stream(ON_SCRIPT, controller.signal);
    await h.deliver(c, 0, 2);
    controller.abort();
    await c.finished;

    expect(c.error).toBeUndefined();
    expect(c.tokens.map((t) => t.text)).toEqual(REPLY_TOKENS.slice(0, 2));
    expect(c.usage).toEqual([]);
    const record = await h.sim.stats.ended(0);
    expect(record.outcome).toBe('aborted');
    expect(record.tokensSent).toBe(2);
    expect(h.clock.pendingTimers).toBe(0); // the simulator stopped its token timer
    expect(h.retries).toEqual([]);
  });

  it('aborting before the headers ends the stream quietly', async () => {
    const h = await setup({ faults: [{ kind: 'delay', ms: 5000 }] });
    const controller = new AbortController();
    const c = h.stream(ON_SCRIPT, controller.signal);
    await h.sim.stats.request(0);
    await h.clock.advanceBy(100);
    controller.abort();
    await c.finished;

    expect(c.error).toBeUndefined();
    expect(c.chunks).toEqual([]);
    const record = await h.sim.stats.ended(0);
    expect(record).toMatchObject({ outcome: 'aborted', status: null, fault: 'delay' });
    expect(h.clock.pendingTimers).toBe(0);
    expect(h.sim.stats.count).toBe(1);
  });

  it('a rejected key is a ProviderError naming OpenAI and the setting, not retried', async () => {
    const h = await setup({ llm: { apiKey: 'sk-proj-wrongkey12345678' } });
    const c = h.stream();
    await c.finished;

    const e = expectProviderError(c.error);
    expect(e.kind).toBe('invalid_key');
    expect(e.status).toBe(401);
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('OPENAI_API_KEY');
    expect(e.message).toContain('OpenAI API key in settings');
    expect(e.message).toContain('Incorrect API key provided: sk-*****************5678');
    expect(h.sim.stats.count).toBe(1);
    expect(h.sim.stats.requests[0]).toMatchObject({ status: 401, outcome: 'failed' });
    expect(h.retries).toEqual([]);
    expect(h.clock.pendingTimers).toBe(0);
  });

  it('a 429 is retried after retry-after on the clock, then succeeds', async () => {
    const h = await setup({ faults: [{ kind: 'status', status: 429 }] });
    const c = h.stream();
    const retry = await h.retry(1);
    expect(retry.attempt).toBe(1);
    expect(retry.error.kind).toBe('rate_limited');
    expect(retry.delayMs).toBe(1000); // the simulator's retry-after: 1
    expect(h.sim.stats.requests[0]).toMatchObject({ status: 429, outcome: 'failed', fault: 'status' });

    await h.clock.advanceBy(999);
    expect(h.sim.stats.count).toBe(1);
    await h.clock.advanceBy(1);
    await h.deliver(c, 1);
    await c.finished;

    expect(c.error).toBeUndefined();
    expect(c.text).toBe(weather.reply);
    expect(h.sim.stats.count).toBe(2);
    expect(h.sim.stats.requests[1]!.receivedAt).toBe(1000);
    expect(h.retries).toHaveLength(1);
  });

  it('three 500s with max_retries 2 fail after 3 attempts with exponential backoff', async () => {
    const h = await setup({
      faults: [{ kind: 'status', status: 500, times: 3 }],
      settings: { max_retries: 2 },
    });
    const c = h.stream();
    for (const n of [1, 2]) {
      const retry = await h.retry(n);
      expect(retry.error.kind).toBe('server_error');
      await h.clock.advanceBy(retry.delayMs);
    }
    await c.finished;

    const e = expectProviderError(c.error);
    expect(e.kind).toBe('server_error');
    expect(e.status).toBe(500);
    expect(e.message).toContain('The server had an error while processing your request');
    expect(e.message).toContain('after 3 attempts');
    expect(h.retries.map((r) => r.delayMs)).toEqual([500, 1000]);
    expect(h.sim.stats.count).toBe(3);
    expect(h.sim.stats.requests.map((r) => r.receivedAt)).toEqual([0, 500, 1500]);
    expect(h.clock.pendingTimers).toBe(0);
  });

  it('a response that does not start within the timeout is abandoned and retried', async () => {
    const h = await setup({ faults: [{ kind: 'delay', ms: 60_000 }], settings: { timeout: 5 } });
    const c = h.stream();
    await h.sim.stats.request(0);
    await h.clock.advanceTo(4999);
    expect(h.retries).toEqual([]);
    await h.clock.advanceTo(5000);
    const retry = await h.retry(1);
    expect(retry.error.kind).toBe('timeout');
    expect(retry.error.message).toContain('5 s');
    const first = await h.sim.stats.ended(0);
    expect(first.outcome).toBe('aborted'); // the client closed the connection

    await h.clock.advanceBy(retry.delayMs);
    await h.deliver(c, 1);
    await c.finished;
    expect(c.error).toBeUndefined();
    expect(c.text).toBe(weather.reply);
    expect(h.sim.stats.count).toBe(2);
    expect(h.clock.pendingTimers).toBe(0); // the simulator's 60 s delay was cancelled too
  });

  it('a stream cut before any token is retried', async () => {
    const h = await setup({ faults: [{ kind: 'cut', afterChunks: 0 }] });
    const c = h.stream();
    const retry = await h.retry(1);
    expect(retry.error.kind).toBe('connection');
    expect(retry.error.message).toContain('before the first token');
    expect(h.sim.stats.requests[0]).toMatchObject({ fault: 'cut', outcome: 'failed', tokensSent: 0 });

    await h.clock.advanceBy(retry.delayMs);
    await h.deliver(c, 1);
    await c.finished;
    expect(c.error).toBeUndefined();
    expect(c.text).toBe(weather.reply);
    expect(h.sim.stats.count).toBe(2);
  });

  it('a dropped connection before any token is retried', async () => {
    const h = await setup({ faults: [{ kind: 'drop', afterChunks: 0 }] });
    const c = h.stream();
    const retry = await h.retry(1);
    expect(retry.error.kind).toBe('connection');
    await h.clock.advanceBy(retry.delayMs);
    await h.deliver(c, 1);
    await c.finished;
    expect(c.error).toBeUndefined();
    expect(c.text).toBe(weather.reply);
    expect(h.sim.stats.count).toBe(2);
  });

  it('a stream cut after tokens ends with an error after those tokens, without retry', async () => {
    const h = await setup({ faults: [{ kind: 'cut', afterChunks: 3 }] });
    const c = h.stream();
    await h.deliver(c, 0, 3);
    await c.finished;

    expect(c.tokens.map((t) => t.text)).toEqual(REPLY_TOKENS.slice(0, 3));
    const e = expectProviderError(c.error);
    expect(e.kind).toBe('connection');
    expect(e.message).toContain('cut after 3 tokens');
    expect(h.retries).toEqual([]);
    expect(h.sim.stats.count).toBe(1);
    expect(h.clock.pendingTimers).toBe(0);
  });

  it('a connection dropped after tokens ends with an error after those tokens, without retry', async () => {
    const h = await setup({ faults: [{ kind: 'drop', afterChunks: 2 }] });
    const c = h.stream();
    await h.deliver(c, 0, 2);
    await c.finished;

    expect(c.tokens.map((t) => t.text)).toEqual(REPLY_TOKENS.slice(0, 2));
    const e = expectProviderError(c.error);
    expect(e.kind).toBe('connection');
    expect(e.message).toContain('after 2 tokens');
    expect(h.retries).toEqual([]);
    expect(h.sim.stats.count).toBe(1);
  });

  it('a malformed record is a protocol error after the tokens before it; the simulator carries on', async () => {
    const h = await setup({ faults: [{ kind: 'malformed', afterChunks: 2 }] });
    const c = h.stream();
    await h.deliver(c, 0, 2);
    await c.finished;

    expect(c.tokens.map((t) => t.text)).toEqual(REPLY_TOKENS.slice(0, 2));
    const e = expectProviderError(c.error);
    expect(e.kind).toBe('protocol');
    expect(h.retries).toEqual([]);
    expect((await h.sim.stats.ended(0)).outcome).toBe('aborted'); // the client hung up on it

    // The next request is served normally.
    const next = h.stream();
    await h.deliver(next, 1);
    await next.finished;
    expect(next.error).toBeUndefined();
    expect(next.text).toBe(weather.reply);
  });

  it('a server that sends no usage record is tolerated: no usage chunk', async () => {
    const h = await setup({ sim: { usage: false } });
    const c = h.stream();
    await h.deliver(c, 0);
    await c.finished;

    expect(c.error).toBeUndefined();
    expect(c.text).toBe(weather.reply);
    expect(c.usage).toEqual([]);
    expect(h.sim.stats.requests[0]).toMatchObject({ includeUsage: true, outcome: 'completed' });
  });

  it('sends no temperature to a reasoning model (GPT-5, o-series), which refuses any but the default', async () => {
    for (const model of ['gpt-5-mini', 'o4-mini', 'openai/gpt-5']) {
      const h = await setup({ settings: { model, temperature: 0.7 } });
      const c = h.stream();
      await h.deliver(c, 0);
      await c.finished;
      expect(c.error).toBeUndefined();
      expect(c.text).toBe(weather.reply);
      expect(h.sim.stats.requests).toHaveLength(1);
      expect(h.sim.stats.requests[0]).toMatchObject({ model, temperature: undefined, outcome: 'completed' });
    }
    // A chat model still gets the temperature asked for.
    const chat = await setup({ settings: { model: 'gpt-5-chat-latest', temperature: 0.4 } });
    const c = chat.stream();
    await chat.deliver(c, 0);
    await c.finished;
    expect(chat.sim.stats.requests[0]).toMatchObject({ temperature: 0.4, outcome: 'completed' });
  });

  it('a model that refuses the temperature (400 naming it) gets the request again without it, and never again', async () => {
    const h = await setup({
      settings: { model: 'house-reasoner-2', temperature: 0.7 },
      sim: { defaultTemperatureOnly: ['house-reasoner-2'] },
    });
    const first = h.stream();
    await h.deliver(first, 1);
    await first.finished;
    expect(first.error).toBeUndefined();
    expect(first.text).toBe(weather.reply);
    expect(h.sim.stats.requests.map((r) => [r.temperature, r.status])).toEqual([
      [0.7, 400],
      [undefined, 200],
    ]);
    expect(h.retries).toEqual([]);
    const second = h.stream();
    await h.deliver(second, 2);
    await second.finished;
    expect(h.sim.stats.requests).toHaveLength(3);
    expect(h.sim.stats.requests[2]).toMatchObject({ temperature: undefined, outcome: 'completed' });
  });

  it('a server that refuses stream_options gets the request again without it, and never again', async () => {
    const h = await setup({ sim: { refuseStreamOptions: true } });
    const first = h.stream();
    await h.deliver(first, 1);
    await first.finished;
    expect(first.error).toBeUndefined();
    expect(first.text).toBe(weather.reply);
    expect(first.usage).toEqual([]);
    expect(h.sim.stats.requests.map((r) => [r.streamOptions, r.status])).toEqual([
      [true, 400],
      [false, 200],
    ]);
    expect(h.retries).toEqual([]);
    const second = h.stream();
    await h.deliver(second, 2);
    await second.finished;
    expect(h.sim.stats.requests.map((r) => r.streamOptions)).toEqual([true, false, false]);
  });

  it('a 400 about something else is not retried', async () => {
    const h = await setup({ settings: { model: 'gpt-4o-mini' }, sim: { refuseStreamOptions: false } });
    const c = h.stream([]);
    await c.finished;
    expect(expectProviderError(c.error).kind).toBe('bad_request');
    expect(h.sim.stats.requests).toHaveLength(1);
  });

  it('without a key: missing_key for OpenAI itself, a placeholder key for a local server', async () => {
    const clock = new VirtualClock();
    const missing = new Consumer(
      new OpenAiLlm({ settings: llmSettings(), clock }).stream({
        messages: ON_SCRIPT,
        signal: new AbortController().signal,
      }),
      clock,
    );
    await missing.finished;
    const e = expectProviderError(missing.error);
    expect(e.kind).toBe('missing_key');
    expect(e.message).toContain('OPENAI_API_KEY');

    const h = await setup({ sim: { apiKey: PLACEHOLDER_API_KEY }, llm: { apiKey: undefined } });
    const c = h.stream();
    await h.deliver(c, 0);
    await c.finished;
    expect(c.error).toBeUndefined();
    expect(c.text).toBe(weather.reply);
    expect(h.sim.stats.requests[0]!.authorization).toBe(`Bearer ${PLACEHOLDER_API_KEY}`);
  });
});

describe('OpenAI simulator wire format (plain fetch)', () => {
  async function startSim(faults: Fault[] = []) {
    const clock = new VirtualClock();
    const sim = await startOpenAiSim({ caseData: caseData(), clock, faults });
    sims.push(sim);
    return { clock, sim };
  }

  const headers = { authorization: `Bearer ${SIM_API_KEY}`, 'content-type': 'application/json' };
  const body = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({ model: 'gpt-4o-mini', messages: ON_SCRIPT, ...extra });

  it('streams SSE records exactly as OpenAI does', async () => {
    const { clock, sim } = await startSim();
    const response = fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: body({ stream: true, stream_options: { include_usage: true } }),
    });
    await sim.stats.request(0);
    const res = await response;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    const text = res.text();
    await clock.runAll();
    const raw = await text;

    expect(raw.endsWith('\n\ndata: [DONE]\n\n')).toBe(true);
    const records = raw.split('\n\n').filter(Boolean);
    for (const record of records) expect(record).toMatch(/^data: /);
    expect(records.at(-1)).toBe('data: [DONE]');
    const chunks = records.slice(0, -1).map((r) => JSON.parse(r.slice('data: '.length)));

    const id = chunks[0].id;
    expect(id).toMatch(/^chatcmpl-[A-Za-z0-9]{29}$/);
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ id, object: 'chat.completion.chunk', model: 'gpt-4o-mini' });
      expect(Number.isInteger(chunk.created)).toBe(true);
    }
    // Role first, one record per token, the finish record, then usage with empty choices.
    expect(chunks[0].choices).toEqual([
      {
        index: 0,
        delta: { role: 'assistant', content: '', refusal: null },
        logprobs: null,
        finish_reason: null,
      },
    ]);
    const contentChunks = chunks.slice(1, 1 + REPLY_TOKENS.length);
    expect(contentChunks.map((c) => c.choices[0].delta.content)).toEqual(REPLY_TOKENS);
    for (const c of contentChunks) expect(c.choices[0].finish_reason).toBeNull();
    expect(chunks.at(-2).choices).toEqual([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
    expect(chunks.at(-2).usage).toBeNull();
    const usage = chunks.at(-1);
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({
      prompt_tokens: promptTokenCount(ON_SCRIPT),
      completion_tokens: REPLY_TOKENS.length,
      total_tokens: promptTokenCount(ON_SCRIPT) + REPLY_TOKENS.length,
    });
    expect(chunks).toHaveLength(REPLY_TOKENS.length + 3);
    expect(sim.stats.requests[0]).toMatchObject({ outcome: 'completed', onScript: true });
  });

  it('without include_usage there is no usage record and no usage field', async () => {
    const { clock, sim } = await startSim();
    const response = fetch(`${sim.url}/chat/completions`, {
      method: 'POST',
      headers,
      body: body({ stream: true }),
    });
    await sim.stats.request(0);
    const text = (await response).text();
    await clock.runAll();
    const chunks = (await text)
      .split('\n\n')
      .filter((r) => r.startsWith('data: {'))
      .map((r) => JSON.parse(r.slice(6)));
    expect(chunks).toHaveLength(REPLY_TOKENS.length + 2);
    for (const chunk of chunks) expect(chunk).not.toHaveProperty('usage');
    expect(sim.stats.requests[0]!.path).toBe('/chat/completions');
  });

  it('answers a request without stream as one chat.completion', async () => {
    const { clock, sim } = await startSim();
    const response = fetch(`${sim.url}/v1/chat/completions`, { method: 'POST', headers, body: body() });
    await sim.stats.request(0);
    await clock.runAll();
    const res = await response;
    expect(res.status).toBe(200);
    const json = await res.json();
    expect(json).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: weather.reply }, finish_reason: 'stop' }],
      usage: { completion_tokens: REPLY_TOKENS.length },
    });
    expect(clock.now()).toBe(tokenDueMs(defaultProfile(), REPLY_TOKENS.length - 1));
  });

  it('answers errors with OpenAI bodies', async () => {
    const { sim } = await startSim([{ kind: 'status', status: 429 }]);
    const post = (init: RequestInit, path = '/v1/chat/completions') =>
      fetch(`${sim.url}${path}`, { method: 'POST', ...init });
    const shape = (message: string | RegExp, code: string | null, param: string | null = null) => ({
      error: {
        message: typeof message === 'string' ? message : expect.stringMatching(message),
        type: expect.any(String),
        param,
        code,
      },
    });

    let res = await post({ headers: { 'content-type': 'application/json' }, body: body() });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(shape(/^You didn't provide an API key/, null));

    res = await post({ headers: { ...headers, authorization: 'Bearer sk-wrong' }, body: body() });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: {
        message:
          'Incorrect API key provided: sk-wrong. You can find your API key at https://platform.openai.com/account/api-keys.',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    });

    res = await post({ headers, body: '{"model": ' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(shape(/^We could not parse the JSON body of your request/, null));

    res = await post({ headers, body: JSON.stringify({ messages: ON_SCRIPT }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(shape('you must provide a model parameter', null));

    res = await post({ headers, body: JSON.stringify({ model: 'gpt-4o-mini' }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(
      shape("Missing required parameter: 'messages'.", 'missing_required_parameter', 'messages'),
    );

    res = await post({ headers, body: body() });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({
      error: {
        message: expect.stringMatching(/^Rate limit reached for gpt-4o-mini/),
        type: 'requests',
        param: 'requests',
        code: 'rate_limit_exceeded',
      },
    });

    res = await post({ headers, body: body() }, '/v1/completions');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual(shape('Invalid URL (POST /v1/completions)', null));

    expect(sim.stats.withOutcome('failed')).toHaveLength(6);
  });
});
