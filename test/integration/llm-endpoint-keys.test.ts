/**
 * Which key goes to which LLM endpoint, end to end: the app core with the real OpenAI provider
 * (the openai SDK) sending chat requests to probe servers on 127.0.0.1 that record every header.
 * The stored OpenAI key never reaches an endpoint other than OpenAI's API, whatever settings:update
 * does to llm.base_url; a custom endpoint gets its own key, and only the endpoint it was saved for
 * does; plain http off this computer is refused with the setting's name and what is allowed.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AppCore } from '../../src/main/app/app-core';
import { decodeEndpointKey, resolveLlmCredentials } from '../../src/main/app/llm-credentials';
import type { SecretStore, SettingsStore } from '../../src/main/app/types';
import { RealClock } from '../../src/main/engine/clock';
import type { LlmProvider } from '../../src/main/engine/ports';
import { createScriptedProviders } from '../../src/main/engine/scripted/providers';
import { createProviders, type ProviderEndpoints, type ProviderKeys } from '../../src/main/providers';
import { OpenAiLlm } from '../../src/main/providers/openai';
import type { KeyId } from '../../src/shared/contract';
import { classifyLlmEndpoint, llmBaseUrlProblem, openAiKeyOptional } from '../../src/shared/llm-endpoint';
import { defaultSettings, parseSettings, SettingsError, type Settings } from '../../src/shared/settings';
import { buildCase, ScriptedVad, speechSegments } from '../helpers/session-harness';

const OPENAI_KEY = 'sk-stored-openai-key-0123456789';
const ENV_OPENAI_KEY = 'sk-env-openai-key-9876543210';
const ENDPOINT_KEY = 'endpoint-key-abcdefghij';

/** A chat-completions server that records the headers of every request and answers one token. */
async function startProbe(): Promise<{
  url: string;
  headers: IncomingHttpHeaders[];
  close(): Promise<void>;
}> {
  const headers: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    headers.push(req.headers);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta: object, finish: string | null) =>
        `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.end(`${chunk({ content: 'hi' }, null)}${chunk({}, 'stop')}data: [DONE]\n\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    headers,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

class MemorySettingsStore implements SettingsStore {
  constructor(private settings: Settings = defaultSettings()) {}
  load() {
    return { settings: this.settings, notices: [] };
  }
  save(settings: Settings) {
    this.settings = settings;
  }
}

class MemorySecrets implements SecretStore {
  readonly keys = new Map<KeyId, string>();
  get(id: KeyId) {
    return this.keys.get(id);
  }
  set(id: KeyId, key: string) {
    this.keys.set(id, key);
  }
  clear(id: KeyId) {
    this.keys.delete(id);
  }
  has(id: KeyId) {
    return this.keys.has(id);
  }
  info() {
    return { encrypted: true, backend: 'test', warning: null };
  }
}

const probes: { close(): Promise<void> }[] = [];
const cores: AppCore[] = [];
afterEach(async () => {
  for (const core of cores.splice(0)) await core.shutdown();
  for (const probe of probes.splice(0)) await probe.close();
});

/** An app core whose LLM is the real OpenAI provider; STT, TTS and VAD are scripted. */
function setup(env: Record<string, string> = {}) {
  const clock = new RealClock();
  const caseData = buildCase([{ at: 0.5, text: 'hello there', reply: 'Hi.' }]);
  const secrets = new MemorySecrets();
  // Speech keys are set: what varies in these tests is the LLM's endpoint and key.
  secrets.set('deepgram', 'dg-key-0123456789');
  secrets.set('elevenlabs', 'el-key-0123456789');
  const given: { keys: ProviderKeys; endpoints: ProviderEndpoints; llm: LlmProvider }[] = [];
  const core = new AppCore({
    settingsStore: new MemorySettingsStore(),
    secrets,
    env,
    clock,
    info: {
      version: 't',
      platform: 'test',
      shortcut: () => ({ accelerator: '', registered: false, hold: false }),
    },
    createVad: async () => new ScriptedVad(speechSegments(caseData)),
    createProviders: (settings, keys, endpoints) => {
      const real = createProviders({ settings, keys, endpoints, clock });
      given.push({ keys, endpoints, llm: real.llm });
      return {
        ...createScriptedProviders(caseData, clock, settings.stt),
        llm: real.llm,
        close: async () => undefined,
      };
    },
  });
  cores.push(core);

  /** Starts a session and sends one chat request through its LLM provider; stops the session. */
  async function requestThroughSession(): Promise<void> {
    const started = await core.request('session:start', {});
    expect(started).toEqual({ ok: true });
    const llm = given.at(-1)!.llm;
    for await (const chunk of llm.stream({
      messages: [{ role: 'user', content: 'hello' }],
      signal: new AbortController().signal,
    })) {
      void chunk;
    }
    await core.request('session:stop', {});
  }

  const setBaseUrl = (base_url: string) => core.request('settings:update', { patch: { llm: { base_url } } });
  return { core, secrets, given, requestThroughSession, setBaseUrl };
}

const allHeaderText = (headers: IncomingHttpHeaders[]) => JSON.stringify(headers);

describe('the OpenAI key goes only to OpenAI', () => {
  it('a probe named as llm.base_url after the key was stored never receives it', async () => {
    const probe = await startProbe();
    probes.push(probe);
    const { core, given, requestThroughSession, setBaseUrl } = setup();
    await core.request('keys:set', { provider: 'openai', key: OPENAI_KEY });
    // Without a base URL the key is for OpenAI's API (no request is made there in this test).
    const status = await core.request('keys:status', {});
    expect(status.openai).toEqual({ set: true, source: 'store' });

    expect(await setBaseUrl(probe.url)).toMatchObject({ ok: true });
    await requestThroughSession();
    expect(probe.headers).toHaveLength(1);
    expect(probe.headers[0]!.authorization).not.toContain(OPENAI_KEY);
    expect(allHeaderText(probe.headers)).not.toContain(OPENAI_KEY);
    expect(given.at(-1)!.keys.openai).toBeUndefined();
    expect(given.at(-1)!.endpoints.openai).toBe(probe.url);
  });

  it('nor OPENAI_API_KEY from the environment', async () => {
    const probe = await startProbe();
    probes.push(probe);
    const { requestThroughSession, setBaseUrl } = setup({ OPENAI_API_KEY: ENV_OPENAI_KEY });
    await setBaseUrl(probe.url);
    await requestThroughSession();
    expect(probe.headers).toHaveLength(1);
    expect(allHeaderText(probe.headers)).not.toContain(ENV_OPENAI_KEY);
  });

  it('with OpenAI as the endpoint, the stored key is what the provider gets', async () => {
    const { core, given } = setup();
    await core.request('keys:set', { provider: 'openai', key: OPENAI_KEY });
    expect(await core.request('session:start', {})).toEqual({ ok: true });
    expect(given.at(-1)!.keys.openai).toBe(OPENAI_KEY);
    expect(given.at(-1)!.endpoints.openai).toBe('https://api.openai.com/v1');
    await core.request('session:stop', {});
  });
});

describe('a custom endpoint has its own key, for that endpoint only', () => {
  it('is sent to the endpoint it was saved for, and to no other after the base URL changes', async () => {
    const first = await startProbe();
    const second = await startProbe();
    probes.push(first, second);
    const { core, secrets, requestThroughSession, setBaseUrl } = setup();
    await core.request('keys:set', { provider: 'openai', key: OPENAI_KEY });
    await setBaseUrl(first.url);
    const status = await core.request('keys:set', { provider: 'llm_endpoint', key: ENDPOINT_KEY });
    expect(status.llm_endpoint).toEqual({ set: true, source: 'store' });
    expect(decodeEndpointKey(secrets.get('llm_endpoint'))).toEqual({
      origin: new URL(first.url).origin,
      key: ENDPOINT_KEY,
    });

    await requestThroughSession();
    expect(first.headers[0]!.authorization).toBe(`Bearer ${ENDPOINT_KEY}`);

    // Another endpoint (a settings:update, from a compromised page or not): no key goes there.
    await setBaseUrl(second.url);
    expect((await core.request('keys:status', {})).llm_endpoint).toEqual({ set: false, source: null });
    await requestThroughSession();
    expect(second.headers).toHaveLength(1);
    expect(allHeaderText(second.headers)).not.toContain(ENDPOINT_KEY);
    expect(allHeaderText(second.headers)).not.toContain(OPENAI_KEY);

    // Back to the first: its key is used again.
    await setBaseUrl(first.url);
    await requestThroughSession();
    expect(first.headers[1]!.authorization).toBe(`Bearer ${ENDPOINT_KEY}`);
  });

  it('cannot be saved while the endpoint is OpenAI, and says why', async () => {
    const { core } = setup();
    await expect(core.request('keys:set', { provider: 'llm_endpoint', key: ENDPOINT_KEY })).rejects.toThrow(
      /custom endpoint key is for an LLM endpoint other than OpenAI's: set llm.base_url/,
    );
  });

  it('CUE_LLM_ENDPOINT_KEY goes only to the origin of OPENAI_BASE_URL', async () => {
    const probe = await startProbe();
    const other = await startProbe();
    probes.push(probe, other);
    const { requestThroughSession, setBaseUrl } = setup({
      OPENAI_BASE_URL: probe.url,
      CUE_LLM_ENDPOINT_KEY: ENDPOINT_KEY,
    });
    await requestThroughSession();
    expect(probe.headers[0]!.authorization).toBe(`Bearer ${ENDPOINT_KEY}`);
    await setBaseUrl(other.url);
    await requestThroughSession();
    expect(allHeaderText(other.headers)).not.toContain(ENDPOINT_KEY);
  });
});

describe('plain http off this computer is refused', () => {
  it('settings:update names llm.base_url and what is allowed', async () => {
    const { setBaseUrl } = setup();
    const result = await setBaseUrl('http://10.1.2.3:11434/v1');
    expect(result).toEqual({
      ok: false,
      problems: [
        'llm.base_url: must be an https:// URL, or http:// only on this computer (localhost, 127.0.0.1, [::1]); empty means OpenAI (this one is plain http to another computer, which would send prompts and keys in clear) (got "http://10.1.2.3:11434/v1")',
      ],
    });
  });

  it('OPENAI_BASE_URL over plain http to another computer stops the session start with the variable named', async () => {
    const { core } = setup({ OPENAI_BASE_URL: 'http://llm.example.com/v1' });
    const started = await core.request('session:start', {});
    expect(started).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^OPENAI_BASE_URL: must be an https:\/\/ URL/),
    });
  });

  it('the provider refuses it too, before any request', async () => {
    const llm = new OpenAiLlm({
      settings: defaultSettings().llm,
      baseUrl: 'http://10.0.0.9/v1',
      apiKey: OPENAI_KEY,
      clock: new RealClock(),
    });
    const stream = llm.stream({ messages: [], signal: new AbortController().signal });
    await expect(stream[Symbol.asyncIterator]().next()).rejects.toThrow(
      /is not allowed: it must be an https:\/\/ URL/,
    );
  });
});

describe('the endpoint rule (src/shared/llm-endpoint.ts)', () => {
  it('classifies base URLs', () => {
    expect(classifyLlmEndpoint('')).toMatchObject({ kind: 'openai', baseUrl: 'https://api.openai.com/v1' });
    expect(classifyLlmEndpoint('https://api.openai.com/v1')).toMatchObject({ kind: 'openai' });
    expect(classifyLlmEndpoint('https://api.openai.com:443/v1')).toMatchObject({ kind: 'openai' });
    expect(classifyLlmEndpoint('https://evil.openai.com.example/v1')).toMatchObject({ kind: 'custom' });
    expect(classifyLlmEndpoint('https://eu.api.openai.com/v1')).toMatchObject({ kind: 'custom' });
    expect(classifyLlmEndpoint('http://api.openai.com/v1')).toMatchObject({ kind: 'invalid' });
    for (const local of [
      'http://localhost:11434/v1',
      'http://127.0.0.1:1234/v1',
      'http://127.8.9.10/v1',
      'http://[::1]:8080/v1',
    ]) {
      expect(classifyLlmEndpoint(local), local).toMatchObject({ kind: 'custom', loopback: true });
    }
    for (const bad of [
      'http://192.168.1.5:11434/v1',
      'http://localhost.example.com/v1',
      'ftp://x/v1',
      'not a url',
      'https://user:pw@host/v1',
    ]) {
      expect(classifyLlmEndpoint(bad), bad).toMatchObject({ kind: 'invalid' });
    }
  });

  it('is the settings schema rule, and the OpenAI key is optional only with a custom endpoint', () => {
    expect(llmBaseUrlProblem('https://llm.example.com/v1')).toBeNull();
    expect(llmBaseUrlProblem('http://192.168.1.5/v1')).toMatch(/only on this computer/);
    expect(() => parseSettings({ llm: { base_url: 'http://192.168.1.5/v1' } })).toThrow(SettingsError);
    expect(openAiKeyOptional('')).toBe(false);
    expect(openAiKeyOptional('https://api.openai.com/v1')).toBe(false);
    expect(openAiKeyOptional('http://127.0.0.1:11434/v1')).toBe(true);
    expect(openAiKeyOptional('http://192.168.1.5/v1')).toBe(false);
  });

  it('resolveLlmCredentials: a stored custom key bound to another origin is not used', () => {
    const stored = JSON.stringify({ origin: 'https://a.example', key: ENDPOINT_KEY });
    const at = (baseUrlSetting: string) =>
      resolveLlmCredentials({
        baseUrlSetting,
        env: {},
        storedOpenAiKey: OPENAI_KEY,
        storedEndpointKey: stored,
      });
    expect(at('https://a.example/v1')).toMatchObject({ ok: true, apiKey: ENDPOINT_KEY, keySource: 'store' });
    expect(at('https://b.example/v1')).toMatchObject({ ok: true, apiKey: undefined, keySource: null });
    expect(at('https://a.example:8443/v1')).toMatchObject({ ok: true, apiKey: undefined });
    expect(at('')).toMatchObject({ ok: true, apiKey: OPENAI_KEY, keySource: 'store' });
  });
});
