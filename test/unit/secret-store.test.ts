import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BASIC_TEXT_WARNING,
  EncryptedSecretStore,
  EnvironmentKeys,
  keyStatus,
  MEMORY_ONLY_WARNING,
  resolveKey,
} from '../../src/main/app/secret-store';
import type { SafeStorageLike } from '../../src/main/app/secret-store';
import type { SecretStore } from '../../src/main/app/types';
import type { KeyId } from '../../src/shared/contract';

const MARKER = Buffer.from('FAKE1');

/**
 * A reversible stand-in for Electron's asynchronous safeStorage: marker + key byte + XOR with it.
 * `secret` is the OS key now; `accepts` are older keys it can still decrypt, answering
 * shouldReEncrypt for them, as Electron does after a key rotation.
 */
class FakeSafeStorage implements SafeStorageLike {
  encryptCalls = 0;
  constructor(
    public available = true,
    public backend = 'gnome_libsecret',
    public secret = 0x5a,
    public accepts: number[] = [],
  ) {}
  isAsyncEncryptionAvailable(): Promise<boolean> {
    return Promise.resolve(this.available);
  }
  encryptStringAsync(plainText: string): Promise<Buffer> {
    this.encryptCalls++;
    if (!this.available) return Promise.reject(new Error('Encryption is not available.'));
    return Promise.resolve(encryptWith(this.secret, plainText));
  }
  decryptStringAsync(encrypted: Buffer): Promise<{ shouldReEncrypt: boolean; result: string }> {
    if (!this.available) return Promise.reject(new Error('Decryption is not available.'));
    const key = encrypted[MARKER.length]!;
    if (
      !encrypted.subarray(0, MARKER.length).equals(MARKER) ||
      (key !== this.secret && !this.accepts.includes(key))
    ) {
      return Promise.reject(
        new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.'),
      );
    }
    const result = Buffer.from(encrypted.subarray(MARKER.length + 1).map((b) => b ^ key)).toString('utf8');
    return Promise.resolve({ result, shouldReEncrypt: key !== this.secret });
  }
  getSelectedStorageBackend(): string {
    return this.backend;
  }
}

function encryptWith(secret: number, plainText: string): Buffer {
  const bytes = Buffer.from(plainText, 'utf8').map((b) => b ^ secret);
  return Buffer.concat([MARKER, Buffer.from([secret]), bytes]);
}

/** Only Electron's deprecated synchronous API, as the web mode's and the benchmark's stand-ins have. */
class SyncOnlySafeStorage implements SafeStorageLike {
  isEncryptionAvailable = () => true;
  encryptString = (plainText: string) => encryptWith(0x33, plainText);
  decryptString = (encrypted: Buffer) =>
    Buffer.from(encrypted.subarray(MARKER.length + 1).map((b) => b ^ 0x33)).toString('utf8');
  getSelectedStorageBackend = () => 'kwallet6';
}

const DG = 'dg-secret-key-0123456789';
const OA = 'sk-openai-secret-abcdef';

let dir: string;
const secretsFile = () => join(dir, 'secrets.json');
const open = (safeStorage: SafeStorageLike = new FakeSafeStorage(), platform = 'linux') =>
  new EncryptedSecretStore({
    safeStorage,
    dir,
    platform,
    now: () => new Date('2025-01-02T03:04:05.000Z'),
  }).open();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cue-secrets-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('EncryptedSecretStore', () => {
  it('stores keys encrypted: the file never holds a clear key, and they read back in a new run', async () => {
    const store = await open();
    expect(store.has('deepgram')).toBe(false);
    await store.set('deepgram', DG);
    await store.set('openai', `  ${OA}\n`);
    expect(store.get('deepgram')).toBe(DG);
    expect(store.get('openai')).toBe(OA);

    const text = readFileSync(secretsFile(), 'utf8');
    expect(text).not.toContain(DG);
    expect(text).not.toContain(OA);
    expect(text).not.toContain(Buffer.from(DG).toString('base64'));
    const json = JSON.parse(text) as { version: number; keys: Record<string, string> };
    expect(json.version).toBe(1);
    expect(Object.keys(json.keys).sort()).toEqual(['deepgram', 'openai']);
    expect(Buffer.from(json.keys.deepgram!, 'base64').subarray(0, MARKER.length)).toEqual(MARKER);

    const again = await open();
    expect(again.get('deepgram')).toBe(DG);
    expect(again.get('openai')).toBe(OA);
    expect(again.has('elevenlabs')).toBe(false);
    expect(again.problems()).toEqual([]);
    expect(again.info()).toEqual({ encrypted: true, backend: 'gnome_libsecret', warning: null });
  });

  it('writes atomically with owner-only permissions', async () => {
    await (await open()).set('deepgram', DG);
    expect(readdirSync(dir)).toEqual(['secrets.json']);
    if (process.platform !== 'win32') expect(statSync(secretsFile()).mode & 0o777).toBe(0o600);
  });

  it('clears a key in memory and on disk', async () => {
    const store = await open();
    await store.set('deepgram', DG);
    await store.set('openai', OA);
    await store.clear('deepgram');
    expect(store.has('deepgram')).toBe(false);
    expect(store.get('openai')).toBe(OA);
    expect(Object.keys((JSON.parse(readFileSync(secretsFile(), 'utf8')) as { keys: object }).keys)).toEqual([
      'openai',
    ]);
    expect((await open()).has('deepgram')).toBe(false);
  });

  it('reports the platform as the backend outside Linux', async () => {
    expect((await open(new FakeSafeStorage(true, 'ignored'), 'darwin')).info()).toEqual({
      encrypted: true,
      backend: 'darwin',
      warning: null,
    });
    expect((await open(new FakeSafeStorage(true, 'ignored'), 'win32')).info().backend).toBe('win32');
  });

  it('warns on Linux basic_text that keys are only obfuscated, but still never writes them in clear', async () => {
    const store = await open(new FakeSafeStorage(true, 'basic_text'));
    const info = store.info();
    expect(info).toEqual({ encrypted: false, backend: 'basic_text', warning: BASIC_TEXT_WARNING });
    expect(info.warning).toContain('No secret store (e.g. GNOME Keyring or KWallet) was found');
    expect(info.warning).toContain('only obfuscated on disk');
    await store.set('elevenlabs', DG);
    expect(readFileSync(secretsFile(), 'utf8')).not.toContain(DG);
    expect((await open(new FakeSafeStorage(true, 'basic_text'))).get('elevenlabs')).toBe(DG);
  });

  it('keeps keys in memory only when encryption is unavailable, says so, and writes nothing', async () => {
    const safe = new FakeSafeStorage(false, 'unknown');
    const store = await open(safe);
    expect(store.info()).toEqual({ encrypted: false, backend: 'unknown', warning: MEMORY_ONLY_WARNING });
    expect(store.info().warning).toContain('in memory for this run only');
    await store.set('deepgram', DG);
    expect(store.get('deepgram')).toBe(DG);
    expect(store.has('deepgram')).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    await store.clear('deepgram');
    expect(store.has('deepgram')).toBe(false);
    // the next run does not have it
    expect((await open(safe)).has('deepgram')).toBe(false);
    expect((await open(safe, 'darwin')).info()).toMatchObject({ encrypted: false, backend: 'darwin' });
  });

  it('reports a key that no longer decrypts and treats it as not set, without throwing', async () => {
    await (await open(new FakeSafeStorage(true, 'kwallet5', 0x11))).set('deepgram', DG);
    await (await open(new FakeSafeStorage(true, 'kwallet5', 0x11))).set('openai', OA);

    // the keyring changed: a different secret
    const store = await open(new FakeSafeStorage(true, 'kwallet5', 0x22));
    expect(store.has('deepgram')).toBe(false);
    expect(store.get('openai')).toBeUndefined();
    const problems = store.problems();
    expect(problems).toHaveLength(2);
    expect(problems[0]!.level).toBe('warning');
    expect(problems[0]!.message).toContain('Deepgram API key could not be decrypted');
    expect(problems[1]!.message).toContain('OpenAI API key could not be decrypted');

    // setting it again replaces the entry and the problem; the other entry is kept for a later run
    await store.set('deepgram', DG);
    expect(store.problems().map((p) => p.message)).toEqual([expect.stringContaining('OpenAI')]);
    const json = JSON.parse(readFileSync(secretsFile(), 'utf8')) as { keys: Record<string, string> };
    expect(Object.keys(json.keys).sort()).toEqual(['deepgram', 'openai']);
    expect((await open(new FakeSafeStorage(true, 'kwallet5', 0x11))).get('openai')).toBe(OA);
  });

  it('reports saved keys it cannot decrypt because encryption became unavailable', async () => {
    await (await open()).set('deepgram', DG);
    const store = await open(new FakeSafeStorage(false));
    expect(store.has('deepgram')).toBe(false);
    expect(store.problems()[0]!.message).toContain('Deepgram API key cannot be decrypted');
    expect(existsSync(secretsFile())).toBe(true);
  });

  it('survives a damaged file: reports it, keeps it aside, and works on', async () => {
    writeFileSync(secretsFile(), '{"keys": {"deepgram": "AAAA');
    const store = await open();
    expect(store.has('deepgram')).toBe(false);
    expect(store.problems()[0]!.message).toContain('is damaged');
    expect(readdirSync(dir)).toEqual(['secrets.corrupt-2025-01-02T03-04-05.000Z.json']);
    await store.set('deepgram', DG);
    expect((await open()).get('deepgram')).toBe(DG);
  });

  it('reports a damaged entry and keeps the good ones', async () => {
    const safe = new FakeSafeStorage();
    const good = (await safe.encryptStringAsync(OA)).toString('base64');
    writeFileSync(
      secretsFile(),
      JSON.stringify({ version: 1, keys: { deepgram: 42, openai: good, other: 'x' } }),
    );
    const store = await open(safe);
    expect(store.get('openai')).toBe(OA);
    expect(store.has('deepgram')).toBe(false);
    expect(store.problems().map((p) => p.message)).toEqual([expect.stringContaining('Deepgram API key')]);
  });

  it('never throws when safeStorage itself throws', async () => {
    const broken: SafeStorageLike = {
      isAsyncEncryptionAvailable: () => Promise.reject(new Error('not ready')),
      encryptStringAsync: () => Promise.resolve(Buffer.alloc(0)),
      decryptStringAsync: () => Promise.resolve({ result: '', shouldReEncrypt: false }),
      getSelectedStorageBackend: () => {
        throw new Error('not ready');
      },
    };
    const store = await open(broken);
    expect(store.info()).toEqual({ encrypted: false, backend: 'unknown', warning: MEMORY_ONLY_WARNING });
  });

  it('re-encrypts keys that decryption says to (a rotated OS key) and rewrites the file at once', async () => {
    await (await open(new FakeSafeStorage(true, 'gnome_libsecret', 0x11))).set('openai', OA);
    await (await open(new FakeSafeStorage(true, 'gnome_libsecret', 0x11))).set('deepgram', DG);
    const before = readFileSync(secretsFile(), 'utf8');

    // The OS rotated its key: the old one still decrypts, with shouldReEncrypt.
    const rotated = new FakeSafeStorage(true, 'gnome_libsecret', 0x22, [0x11]);
    const store = await open(rotated);
    expect(store.get('openai')).toBe(OA);
    expect(store.get('deepgram')).toBe(DG);
    expect(store.reEncrypted).toBe(2);
    expect(store.problems()).toEqual([]);
    const after = readFileSync(secretsFile(), 'utf8');
    expect(after).not.toBe(before);
    expect(after).not.toContain(OA);

    // Rewritten on the new key: a keyring that no longer knows the old one still reads them.
    const newOnly = await open(new FakeSafeStorage(true, 'gnome_libsecret', 0x22));
    expect(newOnly.get('openai')).toBe(OA);
    expect(newOnly.reEncrypted).toBe(0);
  });

  it('leaves keys that need no re-encryption alone', async () => {
    await (await open()).set('openai', OA);
    const before = readFileSync(secretsFile(), 'utf8');
    const safe = new FakeSafeStorage();
    const store = await open(safe);
    expect(store.get('openai')).toBe(OA);
    expect(store.reEncrypted).toBe(0);
    expect(safe.encryptCalls).toBe(0);
    expect(readFileSync(secretsFile(), 'utf8')).toBe(before);
  });

  it('uses the synchronous API only where the asynchronous one is missing', async () => {
    const store = await open(new SyncOnlySafeStorage());
    expect(store.info()).toEqual({ encrypted: true, backend: 'kwallet6', warning: null });
    await store.set('elevenlabs', DG);
    expect(readFileSync(secretsFile(), 'utf8')).not.toContain(DG);
    expect((await open(new SyncOnlySafeStorage())).get('elevenlabs')).toBe(DG);
  });

  it('refuses use before open()', () => {
    const store = new EncryptedSecretStore({ safeStorage: new FakeSafeStorage(), dir, platform: 'linux' });
    expect(() => store.has('openai')).toThrow(/await open\(\) before using the store/);
  });

  it('rejects an empty key', async () => {
    await expect((await open()).set('openai', '   ')).rejects.toThrow(/empty/);
  });
});

describe('keyStatus and resolveKey', () => {
  const memory = (keys: Partial<Record<KeyId, string>>): Pick<SecretStore, 'get' | 'has'> => ({
    get: (p) => keys[p],
    has: (p) => keys[p] !== undefined,
  });

  it('reports the store first, then the environment, else null', async () => {
    const env = { DEEPGRAM_API_KEY: 'env-dg', OPENAI_API_KEY: 'env-oa', ELEVENLABS_API_KEY: '  ' };
    expect(keyStatus(memory({ deepgram: 'store-dg' }), env)).toEqual({
      deepgram: { set: true, source: 'store' },
      openai: { set: true, source: 'environment' },
      elevenlabs: { set: false, source: null },
      llm_endpoint: { set: false, source: null },
    });
    expect(keyStatus(memory({}), {})).toEqual({
      deepgram: { set: false, source: null },
      openai: { set: false, source: null },
      elevenlabs: { set: false, source: null },
      llm_endpoint: { set: false, source: null },
    });
  });

  it('resolves the store key over the environment', async () => {
    const env = { DEEPGRAM_API_KEY: 'env-dg', OPENAI_API_KEY: ' env-oa ' };
    const store = memory({ deepgram: 'store-dg' });
    expect(resolveKey('deepgram', store, env)).toBe('store-dg');
    expect(resolveKey('openai', store, env)).toBe('env-oa');
    expect(resolveKey('elevenlabs', store, env)).toBeUndefined();
    expect(EnvironmentKeys.variables.elevenlabs).toBe('ELEVENLABS_API_KEY');
  });

  it('works with the real store', async () => {
    const store = await open();
    await store.set('openai', OA);
    const env = { OPENAI_API_KEY: 'env-oa', DEEPGRAM_API_KEY: 'env-dg' };
    expect(keyStatus(store, env).openai).toEqual({ set: true, source: 'store' });
    expect(resolveKey('openai', store, env)).toBe(OA);
    expect(resolveKey('deepgram', store, env)).toBe('env-dg');
  });
});
