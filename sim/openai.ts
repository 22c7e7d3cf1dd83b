/**
 * OpenAI chat-completions simulator: `POST /v1/chat/completions` (and `/chat/completions`, for a
 * base URL without `/v1`) on 127.0.0.1, answering as the scripted LLM does (the case reply to the
 * right transcript, an off-script marker otherwise) with the wire format of the real API:
 *
 * - streamed (`stream: true`): `text/event-stream`, one `data: <chat.completion.chunk>\n\n` record
 *   for the role, one per token (one token ≈ one word), one with `finish_reason: "stop"`, a usage
 *   record with empty `choices` when `stream_options.include_usage` is set, then `data: [DONE]\n\n`;
 * - not streamed: one `chat.completion` JSON once the whole reply is generated;
 * - errors: non-2xx with OpenAI's `{"error":{"message","type","param","code"}}` bodies.
 *
 * Latencies run on the simulator's clock: headers and the role record at once, the first token
 * `llm_ttft_ms` after the response starts, then `llm_tokens_per_s`.
 *
 * Parameters refused as the real servers refuse them, with their 400 bodies: a `temperature`
 * other than 1 for OpenAI's reasoning models (o1, o3, o4-mini, GPT-5 but its chat variants:
 * "Unsupported value: 'temperature' does not support 0.7 with this model. Only the default (1)
 * value is supported."), and, with `refuseStreamOptions`, `stream_options` as an
 * OpenAI-compatible server that does not know it answers ("Unrecognized request argument
 * supplied: stream_options").
 *
 * Faults (FaultPlan, each taken by one request): `status` (answered after the key and body checks;
 * 429 carries `retry-after`), `delay` (before the headers), and for streamed requests `cut` (end
 * the response cleanly after N token records, without finish record or [DONE]), `drop` (destroy
 * the socket after N token records), `malformed` (one non-JSON data record after N token records).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { delay, type Clock } from '../src/main/engine/clock';
import type { CaseProfile } from '../src/main/engine/scripted/case';
import { expectedReplies } from '../src/main/engine/scripted/case-events';
import {
  userWordsSinceReply,
  promptTokenCount,
  scriptedAnswer,
  splitTokens,
  tokenDueMs,
} from '../src/main/engine/scripted/providers';
import {
  FaultPlan,
  readBody,
  sendJson,
  SIM_API_KEY,
  simClock,
  startHttpServer,
  type RunningSim,
  type SimOptions,
} from './common';

export interface OpenAiSimOptions extends SimOptions {
  /**
   * Send the usage record when a streamed request asks for it (`stream_options.include_usage`).
   * Default true; false imitates servers that ignore the option (older Ollama, llama.cpp).
   */
  usage?: boolean;
  /** Refuse `stream_options` with 400, as some OpenAI-compatible servers do. Default false. */
  refuseStreamOptions?: boolean;
  /** More models that take only the default temperature, besides OpenAI's reasoning models. */
  defaultTemperatureOnly?: readonly string[];
}

export type OpenAiSimOutcome = 'pending' | 'completed' | 'aborted' | 'failed';

/** One request to the chat-completions endpoint, as the simulator saw and answered it. */
export interface OpenAiSimRequest {
  index: number;
  /** Sim clock time the request (with its body) was received. */
  receivedAt: number;
  path: string;
  /** The `Authorization` header as sent (null when absent). */
  authorization: string | null;
  model: string | null;
  stream: boolean;
  includeUsage: boolean;
  /** The `temperature` sent (undefined when the request left it out). */
  temperature: number | undefined;
  /** Whether the request carried `stream_options`. */
  streamOptions: boolean;
  /** The user's words since the last assistant message with content (CORPUS.md's judging rule). */
  userWords: string;
  /** Whether the user words matched a turn of the case. */
  onScript: boolean;
  /** The full text it answers (the case reply or the off-script marker). */
  reply: string;
  /** HTTP status answered (null until the headers are sent). */
  status: number | null;
  /** Sim clock time the headers were sent (token times count from here). */
  respondedAt: number | null;
  /** The fault injected into this request, if any. */
  fault: 'status' | 'delay' | 'cut' | 'drop' | 'malformed' | null;
  tokensSent: number;
  firstTokenAt: number | null;
  endedAt: number | null;
  /** completed: whole reply sent ([DONE] for streams); aborted: the client closed the connection; failed: an error status or an injected cut/drop. */
  outcome: OpenAiSimOutcome;
}

/** What the simulator has seen, with a way to await a condition on it. */
export class OpenAiSimStats {
  readonly requests: OpenAiSimRequest[] = [];
  private waiters: { test: () => boolean; resolve: () => void }[] = [];

  get count(): number {
    return this.requests.length;
  }

  withOutcome(outcome: OpenAiSimOutcome): OpenAiSimRequest[] {
    return this.requests.filter((r) => r.outcome === outcome);
  }

  /** Resolves once `test` holds (checked now and after every change the simulator records). */
  waitFor(test: (stats: OpenAiSimStats) => boolean): Promise<void> {
    if (test(this)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test: () => test(this), resolve }));
  }

  /** Resolves with request `index` (0-based) once it has been received. */
  async request(index: number): Promise<OpenAiSimRequest> {
    await this.waitFor((s) => s.count > index);
    return this.requests[index]!;
  }

  /** Resolves with request `index` once it has ended (any outcome but pending). */
  async ended(index: number): Promise<OpenAiSimRequest> {
    await this.waitFor((s) => (s.requests[index]?.outcome ?? 'pending') !== 'pending');
    return this.requests[index]!;
  }

  /** @internal Called by the simulator after each change. */
  changed(): void {
    const ready = this.waiters.filter((w) => w.test());
    if (!ready.length) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}

export type RunningOpenAiSim = RunningSim & { stats: OpenAiSimStats };

const CHAT_PATHS = new Set(['/v1/chat/completions', '/chat/completions']);
const SYSTEM_FINGERPRINT = 'fp_sim0000001';
/** Seconds a 429 asks the client to wait. */
export const RATE_LIMIT_RETRY_AFTER_S = 1;

export async function startOpenAiSim(options: OpenAiSimOptions): Promise<RunningOpenAiSim> {
  const clock = simClock(options);
  const apiKey = options.apiKey ?? SIM_API_KEY;
  const faults = new FaultPlan(options.faults);
  const replies = expectedReplies(options.caseData);
  const profile = options.caseData.profile;
  const stats = new OpenAiSimStats();
  const live = new Set<AbortController>();
  const context: Context = {
    clock,
    apiKey,
    faults,
    replies,
    profile,
    stats,
    live,
    usage: options.usage ?? true,
    refuseStreamOptions: options.refuseStreamOptions ?? false,
    defaultTemperatureOnly: new Set(options.defaultTemperatureOnly ?? []),
  };

  const http = await startHttpServer(options.port ?? 0, (req, res) => {
    handle(context, req, res).catch((error: unknown) => {
      // A bug in the simulator: answer 500 if still possible rather than hang the client.
      if (!res.headersSent) sendJson(res, 500, errorBody(String(error), 'server_error'));
      else res.destroy();
    });
  });

  return {
    url: http.url,
    port: http.port,
    stats,
    close: async () => {
      for (const controller of live) controller.abort();
      await http.close();
    },
  };
}

interface Context {
  clock: Clock;
  apiKey: string;
  faults: FaultPlan;
  replies: ReadonlyMap<string, string>;
  profile: CaseProfile;
  stats: OpenAiSimStats;
  live: Set<AbortController>;
  usage: boolean;
  refuseStreamOptions: boolean;
  defaultTemperatureOnly: ReadonlySet<string>;
}

interface WireMessage {
  role: string;
  content: string;
}

async function handle(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  const text = await readBody(req);
  if (req.method !== 'POST' || !CHAT_PATHS.has(path)) {
    sendError(res, 404, errorBody(`Invalid URL (${req.method ?? 'GET'} ${path})`, 'invalid_request_error'));
    return;
  }

  const parsed = parseBody(text);
  const messages = parsed.ok ? parsed.messages : [];
  const userWords = userWordsSinceReply(messages);
  const answer = scriptedAnswer(ctx.replies, userWords);
  const record: OpenAiSimRequest = {
    index: ctx.stats.requests.length,
    receivedAt: ctx.clock.now(),
    path,
    authorization: req.headers.authorization ?? null,
    model: parsed.ok ? parsed.model : null,
    stream: parsed.ok && parsed.stream,
    includeUsage: parsed.ok && parsed.includeUsage,
    temperature: parsed.ok ? parsed.temperature : undefined,
    streamOptions: parsed.ok && parsed.streamOptions,
    userWords,
    onScript: answer.onScript,
    reply: answer.reply,
    status: null,
    respondedAt: null,
    fault: null,
    tokensSent: 0,
    firstTokenAt: null,
    endedAt: null,
    outcome: 'pending',
  };
  ctx.stats.requests.push(record);

  const controller = new AbortController();
  ctx.live.add(controller);
  const finish = (outcome: OpenAiSimOutcome) => {
    if (record.outcome !== 'pending') return;
    record.outcome = outcome;
    record.endedAt = ctx.clock.now();
    ctx.live.delete(controller);
    ctx.stats.changed();
  };
  // The client went away (abort, timeout) before the response was complete.
  res.on('close', () => {
    if (!res.writableFinished) finish('aborted');
    controller.abort();
    ctx.live.delete(controller);
  });
  const fail = (status: number, body: OpenAiErrorBody, headers: Record<string, string> = {}) => {
    record.status = status;
    record.respondedAt = ctx.clock.now();
    sendError(res, status, body, headers);
    finish('failed');
  };

  // Authentication comes first, as on the real API.
  const auth = checkAuth(req.headers.authorization, ctx.apiKey);
  if (auth) {
    fail(401, auth);
    return;
  }
  if (!parsed.ok) {
    fail(400, parsed.error);
    return;
  }
  const refused = refusedParameter(ctx, parsed);
  if (refused) {
    fail(400, refused);
    return;
  }

  const statusFault = ctx.faults.take('status');
  if (statusFault) {
    record.fault = 'status';
    const { status } = statusFault;
    fail(status, statusErrorBody(status, parsed.model, ctx.apiKey), status === 429 ? rateLimitHeaders() : {});
    return;
  }

  const delayFault = ctx.faults.take('delay');
  if (delayFault) {
    record.fault = 'delay';
    ctx.stats.changed();
    if (!(await sleep(ctx.clock, delayFault.ms, controller.signal))) return;
  }
  ctx.stats.changed();

  if (parsed.stream) await streamReply(ctx, res, record, parsed, messages, controller.signal, finish);
  else await jsonReply(ctx, res, record, parsed, messages, controller.signal, finish);
}

// ---------- replies ----------

type Finish = (outcome: OpenAiSimOutcome) => void;

async function streamReply(
  ctx: Context,
  res: ServerResponse,
  record: OpenAiSimRequest,
  body: ParsedRequest,
  messages: readonly WireMessage[],
  signal: AbortSignal,
  finish: Finish,
): Promise<void> {
  const tokens = splitTokens(record.reply);
  const cut = ctx.faults.take('cut');
  const drop = cut ? undefined : ctx.faults.take('drop');
  const malformed = ctx.faults.take('malformed');
  if (cut) record.fault = 'cut';
  else if (drop) record.fault = 'drop';
  else if (malformed) record.fault = 'malformed';
  const cutAt = cut ? Math.min(cut.afterChunks, tokens.length) : -1;
  const dropAt = drop ? Math.min(drop.afterChunks ?? 0, tokens.length) : -1;
  const malformedAt = malformed ? Math.min(malformed.afterChunks ?? 0, tokens.length) : -1;

  const id = completionId();
  const created = Math.floor(Date.now() / 1000);
  const usageField = body.includeUsage ? { usage: null } : {};
  const chunk = (choices: unknown[], extra: Record<string, unknown> = usageField) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: body.model,
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices,
    ...extra,
  });
  const delta = (d: Record<string, unknown>, finishReason: string | null = null) =>
    chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finishReason }]);
  /** Settles once everything written so far has been handed to the socket (writes are corked until the next tick). */
  let flushed = Promise.resolve();
  const write = (text: string) => {
    flushed = new Promise((resolve) => res.write(text, () => resolve()));
  };
  const send = (data: unknown) => write(`data: ${JSON.stringify(data)}\n\n`);

  record.status = 200;
  record.respondedAt = ctx.clock.now();
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-request-id': requestId(),
    'openai-processing-ms': '1',
    'openai-version': '2020-10-01',
  });
  send(delta({ role: 'assistant', content: '', refusal: null }));
  const start = record.respondedAt;

  /** Applies the faults due after `sent` token records; false when the response is over. */
  const faultsAfter = (sent: number): boolean => {
    if (sent === malformedAt) write(`data: {"id":"${id}","object":"chat.completion.chunk","choices":[{\n\n`);
    if (sent === cutAt) {
      finish('failed');
      res.end();
      return false;
    }
    if (sent === dropAt) {
      finish('failed');
      const socket = res.socket;
      void flushed.then(() => socket?.destroy());
      return false;
    }
    return true;
  };

  if (!faultsAfter(0)) return;
  for (let i = 0; i < tokens.length; i++) {
    if (!(await sleepUntil(ctx.clock, start + tokenDueMs(ctx.profile, i), signal))) return;
    record.firstTokenAt ??= ctx.clock.now();
    send(delta({ content: tokens[i]! }));
    record.tokensSent++;
    ctx.stats.changed();
    if (!faultsAfter(i + 1)) return;
  }
  send(delta({}, 'stop'));
  if (body.includeUsage && ctx.usage) send(chunk([], { usage: usage(messages, record.tokensSent) }));
  res.end('data: [DONE]\n\n');
  finish('completed');
}

async function jsonReply(
  ctx: Context,
  res: ServerResponse,
  record: OpenAiSimRequest,
  body: ParsedRequest,
  messages: readonly WireMessage[],
  signal: AbortSignal,
  finish: Finish,
): Promise<void> {
  const tokens = splitTokens(record.reply);
  const start = ctx.clock.now();
  // The whole reply is generated before anything is sent.
  if (!(await sleepUntil(ctx.clock, start + tokenDueMs(ctx.profile, Math.max(0, tokens.length - 1)), signal)))
    return;
  record.firstTokenAt = ctx.clock.now();
  record.tokensSent = tokens.length;
  record.status = 200;
  record.respondedAt = ctx.clock.now();
  sendJson(
    res,
    200,
    {
      id: completionId(),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: record.reply, refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: usage(messages, tokens.length),
      service_tier: 'default',
      system_fingerprint: SYSTEM_FINGERPRINT,
    },
    { 'x-request-id': requestId() },
  );
  finish('completed');
}

function usage(messages: readonly WireMessage[], completionTokens: number) {
  const promptTokens = promptTokenCount(messages);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

// ---------- request parsing ----------

interface ParsedRequest {
  ok: true;
  model: string;
  messages: WireMessage[];
  stream: boolean;
  includeUsage: boolean;
  temperature: number | undefined;
  streamOptions: boolean;
}

/** OpenAI's reasoning models take only the default temperature (the chat variants take any). */
function takesOnlyDefaultTemperature(model: string): boolean {
  const name = model.toLowerCase().split('/').at(-1) ?? '';
  return /^(o\d|gpt-5)/.test(name) && !name.includes('chat');
}

/** A parameter the server refuses, with its 400 body; null when the request is acceptable. */
function refusedParameter(ctx: Context, body: ParsedRequest): OpenAiErrorBody | null {
  if (ctx.refuseStreamOptions && body.streamOptions) {
    return errorBody('Unrecognized request argument supplied: stream_options', 'invalid_request_error');
  }
  const onlyDefault = takesOnlyDefaultTemperature(body.model) || ctx.defaultTemperatureOnly.has(body.model);
  if (body.temperature !== undefined && body.temperature !== 1 && onlyDefault) {
    return errorBody(
      `Unsupported value: 'temperature' does not support ${body.temperature} with this model. Only the default (1) value is supported.`,
      'invalid_request_error',
      'temperature',
      'unsupported_value',
    );
  }
  return null;
}

function parseBody(text: string): ParsedRequest | { ok: false; error: OpenAiErrorBody } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {
      ok: false,
      error: errorBody(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
        'invalid_request_error',
      ),
    };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return {
      ok: false,
      error: errorBody(
        `Invalid type for request body: expected an object, but got ${jsonType(json)} instead.`,
        'invalid_request_error',
        null,
        'invalid_type',
      ),
    };
  }
  const body = json as Record<string, unknown>;
  if (typeof body.model !== 'string' || !body.model) {
    return { ok: false, error: errorBody('you must provide a model parameter', 'invalid_request_error') };
  }
  if (body.messages === undefined) {
    return {
      ok: false,
      error: errorBody(
        "Missing required parameter: 'messages'.",
        'invalid_request_error',
        'messages',
        'missing_required_parameter',
      ),
    };
  }
  if (!Array.isArray(body.messages) || !body.messages.every(isMessageObject)) {
    return {
      ok: false,
      error: errorBody(
        `Invalid type for 'messages': expected an array of objects, but got ${jsonType(body.messages)} instead.`,
        'invalid_request_error',
        'messages',
        'invalid_type',
      ),
    };
  }
  if (body.messages.length === 0) {
    return {
      ok: false,
      error: errorBody(
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        'invalid_request_error',
        'messages',
        'empty_array',
      ),
    };
  }
  const streamOptions = body.stream_options as { include_usage?: unknown } | undefined;
  return {
    ok: true,
    model: body.model,
    messages: body.messages.map((m) => ({ role: String(m.role), content: contentText(m.content) })),
    stream: body.stream === true,
    includeUsage: body.stream === true && streamOptions?.include_usage === true,
    temperature: typeof body.temperature === 'number' ? body.temperature : undefined,
    streamOptions: body.stream_options !== undefined,
  };
}

function isMessageObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Message content as text: a string, or the text parts of a content array. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (isMessageObject(part) && typeof part.text === 'string' ? part.text : ''))
      .join('');
  }
  return '';
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

// ---------- errors ----------

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

function errorBody(
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
): OpenAiErrorBody {
  return { error: { message, type, param, code } };
}

function sendError(
  res: ServerResponse,
  status: number,
  body: OpenAiErrorBody,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, body, { 'x-request-id': requestId(), ...headers });
}

/** The 401 body for a missing or wrong key, or null when the key is right. */
function checkAuth(header: string | undefined, apiKey: string): OpenAiErrorBody | null {
  const match = /^Bearer\s+(.*)$/i.exec(header ?? '');
  const key = match?.[1]?.trim() ?? '';
  if (!key) {
    return errorBody(
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
      'invalid_request_error',
    );
  }
  if (key === apiKey) return null;
  return invalidKeyBody(key);
}

function invalidKeyBody(key: string): OpenAiErrorBody {
  return errorBody(
    `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
    'invalid_request_error',
    null,
    'invalid_api_key',
  );
}

/** OpenAI shows the start and the last four characters of a rejected key. */
function maskKey(key: string): string {
  if (key.length <= 8) return key;
  return `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}`;
}

function statusErrorBody(
  status: 401 | 403 | 429 | 500 | 503,
  model: string,
  apiKey: string,
): OpenAiErrorBody {
  switch (status) {
    case 401:
      return invalidKeyBody(apiKey);
    case 403:
      return errorBody(
        'Country, region, or territory not supported',
        'request_forbidden',
        null,
        'unsupported_country_region_territory',
      );
    case 429:
      return errorBody(
        `Rate limit reached for ${model} in organization org-sim on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in ${RATE_LIMIT_RETRY_AFTER_S}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        'requests',
        'requests',
        'rate_limit_exceeded',
      );
    case 500:
      return errorBody(
        'The server had an error while processing your request. Sorry about that!',
        'server_error',
      );
    case 503:
      return errorBody('The engine is currently overloaded, please try again later.', 'server_error');
  }
}

function rateLimitHeaders(): Record<string, string> {
  return {
    'retry-after': String(RATE_LIMIT_RETRY_AFTER_S),
    'x-ratelimit-limit-requests': '3',
    'x-ratelimit-remaining-requests': '0',
    'x-ratelimit-reset-requests': `${RATE_LIMIT_RETRY_AFTER_S}s`,
  };
}

// ---------- helpers ----------

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function completionId(): string {
  return `chatcmpl-${[...randomBytes(29)].map((b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('')}`;
}

function requestId(): string {
  return `req_${randomBytes(16).toString('hex')}`;
}

/** Waits `ms` on the clock; false when the request was aborted meanwhile. */
async function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  try {
    if (ms > 0) await delay(clock, ms, signal);
  } catch {
    return false;
  }
  return !signal.aborted;
}

function sleepUntil(clock: Clock, due: number, signal: AbortSignal): Promise<boolean> {
  return sleep(clock, due - clock.now(), signal);
}
