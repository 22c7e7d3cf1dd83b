/**
 * LLM provider for OpenAI and OpenAI-compatible servers (Ollama, LM Studio, llama.cpp's server)
 * through the official `openai` SDK: streamed chat completions with usage when the server sends it.
 *
 * The SDK's own retries are off (`maxRetries: 0`); this class retries on the injected Clock, so a
 * replay or a test sees every attempt and every backoff. Only what is safe is retried, and only
 * before the first token: 429, 5xx, a timeout (no token within `timeout` s), a connection error,
 * a stream that ended before any token. Never 400/401/403, a malformed stream, or anything once
 * tokens were given: a stream broken after tokens ends the reply with a ProviderError after them.
 *
 * Aborting the request's signal aborts the HTTP request (and closes the connection); the
 * iterable then ends quietly, whether it was waiting for headers, streaming or backing off.
 *
 * Parameters some servers refuse: OpenAI's reasoning models (o1, o3, o4-mini, GPT-5 but its chat
 * variants) accept only the default temperature and answer any other with 400, so `temperature`
 * is not sent to them; and some OpenAI-compatible servers refuse `stream_options`. A 400 that
 * names either parameter is answered by sending the request again at once without it (not
 * counted as a retry), and the provider leaves it out from then on.
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { delay, type Clock, type TimerHandle } from '../engine/clock';
import type { LlmChunk, LlmProvider, LlmRequest, LlmUsage } from '../engine/ports';
import { classifyLlmEndpoint, LLM_BASE_URL_RULE, OPENAI_DEFAULT_BASE_URL } from '../../shared/llm-endpoint';
import type { LlmSettings } from '../../shared/settings';
import { fromStatus, missingKey, ProviderError } from './errors';

export { OPENAI_DEFAULT_BASE_URL };
/** Sent to keyless local servers, which ignore it (the SDK insists on a key). */
export const PLACEHOLDER_API_KEY = 'sk-no-key-required';
/** First backoff; doubled on each retry up to RETRY_MAX_MS. */
export const RETRY_BASE_MS = 500;
export const RETRY_MAX_MS = 8000;
/** Longest `retry-after` honoured; a longer one is capped (a voice reply cannot wait longer anyway). */
export const RETRY_AFTER_MAX_MS = 10_000;

export interface OpenAiRetryEvent {
  /** The attempt that failed (1 = the first request). */
  attempt: number;
  /** Backoff before the next attempt, on the clock. */
  delayMs: number;
  error: ProviderError;
}

export interface OpenAiLlmOptions {
  settings: LlmSettings;
  /** The API key (from settings or OPENAI_API_KEY, resolved by the caller). */
  apiKey?: string;
  /** Overrides `settings.base_url` (the caller resolves OPENAI_BASE_URL). */
  baseUrl?: string;
  /** Timeouts and backoffs run on this clock. */
  clock: Clock;
  /** Told about each retry, just before its backoff starts. */
  onRetry?: (event: OpenAiRetryEvent) => void;
}

/** How one attempt ended when it did not end the stream. */
interface RetryableFailure {
  error: ProviderError;
  retryAfterMs?: number;
}

/** Request parameters a server may refuse; the request is then sent again without them. */
type OptionalParameter = 'temperature' | 'stream_options';

/** An attempt refused because of a parameter the server does not take. */
interface RefusedParameter {
  refused: OptionalParameter;
}

/**
 * OpenAI's reasoning models accept only the default temperature: o1, o3, o4-mini, GPT-5 and its
 * mini/nano/pro variants (not the chat ones), also behind a router prefix such as "openai/gpt-5".
 */
export function refusesCustomTemperature(model: string): boolean {
  const name = model.trim().toLowerCase().split('/').at(-1) ?? '';
  return /^(o\d|gpt-5)/.test(name) && !name.includes('chat');
}

export class OpenAiLlm implements LlmProvider {
  readonly baseUrl: string;
  private readonly client: OpenAI | null;
  private readonly configError: ProviderError | null;
  private readonly clock: Clock;
  private readonly settings: LlmSettings;
  private readonly onRetry: ((event: OpenAiRetryEvent) => void) | undefined;
  /** Parameters this provider no longer sends (the model or server refuses them). */
  private readonly leftOut = new Set<OptionalParameter>();

  constructor(options: OpenAiLlmOptions) {
    this.settings = options.settings;
    if (refusesCustomTemperature(options.settings.model)) this.leftOut.add('temperature');
    this.clock = options.clock;
    this.onRetry = options.onRetry;
    const configured = (options.baseUrl ?? options.settings.base_url).trim();
    this.baseUrl = configured || OPENAI_DEFAULT_BASE_URL;
    const key = options.apiKey?.trim() ?? '';

    // The same rule as the settings (src/shared/llm-endpoint.ts), for every caller: no plain http
    // off this computer, and OpenAI's own API needs a key.
    const endpoint = classifyLlmEndpoint(this.baseUrl);
    let problem: ProviderError | null = null;
    if (endpoint.kind === 'invalid') {
      problem = new ProviderError(
        'OpenAI',
        'bad_request',
        `the base URL "${this.baseUrl}" is not allowed: it ${LLM_BASE_URL_RULE} (this one ${endpoint.problem}); check llm.base_url in settings or OPENAI_BASE_URL`,
        false,
      );
    } else if (!key && endpoint.kind === 'openai') problem = missingKey('OpenAI');
    this.configError = problem;
    this.client = problem
      ? null
      : new OpenAI({
          apiKey: key || PLACEHOLDER_API_KEY,
          baseURL: this.baseUrl,
          maxRetries: 0,
          timeout: this.settings.timeout * 1000,
          // Errors reach the caller as ProviderErrors; OPENAI_LOG still turns the SDK's logging on.
          ...(process.env.OPENAI_LOG ? {} : { logLevel: 'off' as const }),
        });
  }

  stream(request: LlmRequest): AsyncIterable<LlmChunk> {
    return this.run(request);
  }

  private async *run(request: LlmRequest): AsyncGenerator<LlmChunk> {
    const { signal } = request;
    if (signal.aborted) return;
    if (!this.client) throw this.configError ?? missingKey('OpenAI');
    const client = this.client;
    for (let attempt = 1; ; attempt++) {
      const failure = yield* this.attempt(client, request);
      if (!failure) return;
      if ('refused' in failure) {
        // Sent again at once without it; the same attempt number (the parameter is never sent again).
        this.leftOut.add(failure.refused);
        attempt--;
        continue;
      }
      if (attempt > this.settings.max_retries) throw afterAttempts(failure.error, attempt);
      const delayMs = backoff(attempt, failure.retryAfterMs);
      this.onRetry?.({ attempt, delayMs, error: failure.error });
      try {
        await delay(this.clock, delayMs, signal);
      } catch {
        return; // aborted while backing off
      }
      if (signal.aborted) return;
    }
  }

  /**
   * One HTTP request. Yields its tokens (and usage once complete); returns a failure to retry,
   * or undefined when the stream is over (complete or aborted). Throws what must not be retried.
   */
  private async *attempt(
    client: OpenAI,
    request: LlmRequest,
  ): AsyncGenerator<LlmChunk, RetryableFailure | RefusedParameter | undefined> {
    const { signal } = request;
    const controller = new AbortController();
    const forwardAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', forwardAbort, { once: true });
    let timedOut = false;
    let timer: TimerHandle | undefined = this.clock.setTimeout(() => {
      timer = undefined;
      timedOut = true;
      controller.abort(new Error('timeout'));
    }, this.settings.timeout * 1000);
    const stopTimer = () => {
      this.clock.clearTimeout(timer);
      timer = undefined;
    };

    let tokens = 0;
    let finished = false;
    let usage: LlmUsage | undefined;
    let complete = false;
    try {
      try {
        const stream = await client.chat.completions.create(
          {
            model: this.settings.model,
            messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
            ...(this.leftOut.has('temperature') ? {} : { temperature: this.settings.temperature }),
            stream: true,
            ...(this.leftOut.has('stream_options') ? {} : { stream_options: { include_usage: true } }),
          },
          { signal: controller.signal },
        );
        for await (const chunk of stream) {
          if (signal.aborted) return undefined;
          const choice = chunk.choices[0];
          if (choice?.finish_reason) finished = true;
          if (chunk.usage) {
            usage = {
              promptTokens: chunk.usage.prompt_tokens,
              completionTokens: chunk.usage.completion_tokens,
            };
          }
          const text = choice?.delta?.content;
          if (text) {
            stopTimer();
            tokens++;
            yield { type: 'token', text };
            if (signal.aborted) return undefined;
          }
        }
      } catch (error) {
        if (signal.aborted) return undefined;
        const refused = tokens === 0 ? this.refusedParameter(error) : null;
        if (refused) return { refused };
        const failure = timedOut ? { error: this.timeoutError() } : classify(error, tokens);
        if (tokens > 0 || !failure.error.retryable) throw failure.error;
        return failure;
      }
      // The SDK ends the loop quietly on an abort and on a stream that ends without [DONE].
      if (signal.aborted) return undefined;
      if (timedOut) return { error: this.timeoutError() };
      if (!finished) {
        const error = new ProviderError(
          'OpenAI',
          'connection',
          tokens === 0
            ? 'the reply stream ended before the first token'
            : `the reply stream was cut after ${tokens} token${tokens === 1 ? '' : 's'} (no finish_reason)`,
          true,
        );
        if (tokens > 0) throw error;
        return { error };
      }
      complete = true;
    } finally {
      stopTimer();
      signal.removeEventListener('abort', forwardAbort);
      // Closes the connection when the stream did not complete (consumer left, error, abort).
      if (!complete) controller.abort();
    }
    // Servers that ignore stream_options (Ollama, llama.cpp) send no usage: then none is emitted.
    if (usage) yield { type: 'usage', usage };
    return undefined;
  }

  /** The parameter a 400 (or 422) refuses, when it is one this provider sent and can do without. */
  private refusedParameter(error: unknown): OptionalParameter | null {
    if (!(error instanceof APIError) || (error.status !== 400 && error.status !== 422)) return null;
    const param = (error.error as { param?: unknown } | undefined)?.param;
    const text = `${typeof param === 'string' ? param : ''} ${apiMessage(error)}`;
    for (const name of ['temperature', 'stream_options'] as const) {
      if (!this.leftOut.has(name) && text.includes(name)) return name;
    }
    return null;
  }

  private timeoutError(): ProviderError {
    return new ProviderError(
      'OpenAI',
      'timeout',
      `no reply within ${this.settings.timeout} s (llm.timeout)`,
      true,
    );
  }
}

/** Maps what the SDK threw to a ProviderError, with the server's retry-after when it gave one. */
function classify(error: unknown, tokens: number): RetryableFailure {
  if (error instanceof ProviderError) return { error };
  if (error instanceof APIConnectionTimeoutError) {
    return { error: new ProviderError('OpenAI', 'timeout', `no response (${error.message})`, true) };
  }
  if (error instanceof APIUserAbortError) {
    return { error: new ProviderError('OpenAI', 'connection', 'the request was aborted', true) };
  }
  if (error instanceof APIConnectionError) {
    return {
      error: new ProviderError('OpenAI', 'connection', `connection failed: ${describeCause(error)}`, true),
    };
  }
  if (error instanceof APIError) {
    const message = apiMessage(error);
    if (typeof error.status === 'number') {
      return {
        error: fromStatus('OpenAI', error.status, message),
        retryAfterMs: retryAfterMs(error.headers),
      };
    }
    // An error record inside the stream.
    return {
      error: new ProviderError('OpenAI', 'server_error', `error in the reply stream: ${message}`, true),
    };
  }
  if (error instanceof SyntaxError) {
    return {
      error: new ProviderError('OpenAI', 'protocol', `unreadable reply stream: ${error.message}`, false),
    };
  }
  const detail = describeCause(error);
  return {
    error: new ProviderError(
      'OpenAI',
      'connection',
      tokens > 0
        ? `the connection broke after ${tokens} token${tokens === 1 ? '' : 's'} (${detail})`
        : `the connection broke (${detail})`,
      true,
    ),
  };
}

/** The server's own message (`error.message` of the body), without the SDK's status prefix. */
function apiMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  if (body && typeof body.message === 'string') return body.message;
  return error.message.replace(/^\d{3}\s+/, '');
}

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const causeText = cause instanceof Error ? cause.message : cause === undefined ? '' : String(cause);
  return causeText && causeText !== error.message ? `${error.message}: ${causeText}` : error.message;
}

function retryAfterMs(headers: Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number.parseFloat(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Backoff before retry `attempt` (1-based): the server's retry-after (capped), else exponential. */
function backoff(attempt: number, retryAfter: number | undefined): number {
  if (retryAfter !== undefined) return Math.min(retryAfter, RETRY_AFTER_MAX_MS);
  return Math.min(RETRY_BASE_MS * 2 ** (attempt - 1), RETRY_MAX_MS);
}

/** The last attempt's error, saying how many attempts were made. */
function afterAttempts(error: ProviderError, attempts: number): ProviderError {
  if (attempts === 1) return error;
  const detail = error.message.replace(/^OpenAI: /, '');
  return new ProviderError(
    'OpenAI',
    error.kind,
    `${detail} (after ${attempts} attempts)`,
    error.retryable,
    error.status,
  );
}
