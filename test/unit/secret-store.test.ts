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
import type { ProviderId } from '../../src/shared/contract';

const MARKER = Buffer.from('FAKE1');

/** A reversible stand-in for Electron's safeStorage: marker + XOR with a per-"keyring" byte. */
class FakeSafeStorage implements SafeStorageLike {
  constructor(
    public available = true,
    public backend = 'gnome_libsecret',
    public secret = 0x5a,
  ) {}
  isEncryptionAvailable(): boolean {
    return this.available;
  }
  encryptString(plainText: string): Buffer {
    if (!this.available) throw new Error('Encryption is not available.');
    const bytes = Buffer.from(plainText, 'utf8').map((b) => b ^ this.secret);
    return Buffer.concat([MARKER, Buffer.from([this.secret]), bytes]);
  }
  decryptString(encrypted: Buffer): string {
    if (!this.available) throw new Error('Decryption is not available.');
    if (!encrypted.subarray(0, MARKER.length).equals(MARKER) || encrypted[MARKER.length] !== this.secret) {
      throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
    }
    return Buffer.from(encrypted.subarray(MARKER.length + 1).map((b) => b ^ this.secret)).toString('utf8');
  }
  getSelectedStorageBackend(): string {
    return this.backend;
  }
}

const DG = 'dg-secret-key-0123456789';
const OA = 'sk-openai-secret-abcdef';

let dir: string;
const secretsFile = () => join(dir, 'secrets.json');
const open = (safeStorage: SafeStorageLike = new FakeSafeStorage(), platform = 'linux') =>
  new EncryptedSecretStore({ safeStorage, dir, platform, now: () => new Date('2025-01-02T03:04:05.000Z') });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cue-secrets-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('EncryptedSecretStore', () => {
  it('stores keys encrypted: the file never holds a clear key, and they read back in a new run', () => {
    const store = open();
    expect(store.has('deepgram')).toBe(false);
    store.set('deepgram', DG);
    store.set('openai', `  ${OA}\n`);
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

    const again = open();
    expect(again.get('deepgram')).toBe(DG);
    expect(again.get('openai')).toBe(OA);
    expect(again.has('elevenlabs')).toBe(false);
    expect(again.problems()).toEqual([]);
    expect(again.info()).toEqual({ encrypted: true, backend: 'gnome_libsecret', warning: null });
  });

  it('writes atomically with owner-only permissions', () => {
    open().set('deepgram', DG);
    expect(readdirSync(dir)).toEqual(['secrets.json']);
    if (process.platform !== 'win32') expect(statSync(secretsFile()).mode & 0o777).toBe(0o600);
  });

  it('clears a key in memory and on disk', () => {
    const store = open();
    store.set('deepgram', DG);
    store.set('openai', OA);
    store.clear('deepgram');
    expect(store.has('deepgram')).toBe(false);
    expect(store.get('openai')).toBe(OA);
    expect(Object.keys((JSON.parse(readFileSync(secretsFile(), 'utf8')) as { keys: object }).keys)).toEqual([
      'openai',
    ]);
    expect(open().has('deepgram')).toBe(false);
  });

  it('reports the platform as the backend outside Linux', () => {
    expect(open(new FakeSafeStorage(true, 'ignored'), 'darwin').info()).toEqual({
      encrypted: true,
      backend: 'darwin',
      warning: null,
    });
    expect(open(new FakeSafeStorage(true, 'ignored'), 'win32').info().backend).toBe('win32');
  });

  it('warns on Linux basic_text that keys are only obfuscated, but still never writes them in clear', () => {
    const store = open(new FakeSafeStorage(true, 'basic_text'));
    const info = store.info();
    expect(info).toEqual({ encrypted: false, backend: 'basic_text', warning: BASIC_TEXT_WARNING });
    expect(info.warning).toContain('No secret store (e.g. GNOME Keyring or KWallet) was found');
    expect(info.warning).toContain('only obfuscated on disk');
    store.set('elevenlabs', DG);
    expect(readFileSync(secretsFile(), 'utf8')).not.toContain(DG);
    expect(open(new FakeSafeStorage(true, 'basic_text')).get('elevenlabs')).toBe(DG);
  });

  it('keeps keys in memory only when encryption is unavailable, says so, and writes nothing', () => {
    const safe = new FakeSafeStorage(false, 'unknown');
    const store = open(safe);
    expect(store.info()).toEqual({ encrypted: false, backend: 'unknown', warning: MEMORY_ONLY_WARNING });
    expect(store.info().warning).toContain('in memory for this run only');
    store.set('deepgram', DG);
    expect(store.get('deepgram')).toBe(DG);
    expect(store.has('deepgram')).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    store.clear('deepgram');
    expect(store.has('deepgram')).toBe(false);
    // the next run does not have it
    expect(open(safe).has('deepgram')).toBe(false);
    expect(open(safe, 'darwin').info()).toMatchObject({ encrypted: false, backend: 'darwin' });
  });

  it('reports a key that no longer decrypts and treats it as not set, without throwing', () => {
    open(new FakeSafeStorage(true, 'kwallet5', 0x11)).set('deepgram', DG);
    open(new FakeSafeStorage(true, 'kwallet5', 0x11)).set('openai', OA);

    // the keyring changed: a different secret
    const store = open(new FakeSafeStorage(true, 'kwallet5', 0x22));
    expect(store.has('deepgram')).toBe(false);
    expect(store.get('openai')).toBeUndefined();
    const problems = store.problems();
    expect(problems).toHaveLength(2);
    expect(problems[0]!.level).toBe('warning');
    expect(problems[0]!.message).toContain('Deepgram API key could not be decrypted');
    expect(problems[1]!.message).toContain('OpenAI API key could not be decrypted');

    // setting it again replaces the entry and the problem; the other entry is kept for a later run
    store.set('deepgram', DG);
    expect(store.problems().map((p) => p.message)).toEqual([expect.stringContaining('OpenAI')]);
    const json = JSON.parse(readFileSync(secretsFile(), 'utf8')) as { keys: Record<string, string> };
    expect(Object.keys(json.keys).sort()).toEqual(['deepgram', 'openai']);
    expect(open(new FakeSafeStorage(true, 'kwallet5', 0x11)).get('openai')).toBe(OA);
  });

  it('reports saved keys it cannot decrypt because encryption became unavailable', () => {
    open().set('deepgram', DG);
    const store = open(new FakeSafeStorage(false));
    expect(store.has('deepgram')).toBe(false);
    expect(store.problems()[0]!.message).toContain('Deepgram API key cannot be decrypted');
    expect(existsSync(secretsFile())).toBe(true);
  });

  it('survives a damaged file: reports it, keeps it aside, and works on', () => {
    writeFileSync(secretsFile(), '{"keys": {"deepgram": "AAAA');
    const store = open();
    expect(store.has('deepgram')).toBe(false);
    expect(store.problems()[0]!.message).toContain('is damaged');
    expect(readdirSync(dir)).toEqual(['secrets.corrupt-2025-01-02T03-04-05.000Z.json']);
    store.set('deepgram', DG);
    expect(open().get('deepgram')).toBe(DG);
  });

  it('reports a damaged entry and keeps the good ones', () => {
    const safe = new FakeSafeStorage();
    const good = safe.encryptString(OA).toString('base64');
    writeFileSync(
      secretsFile(),
      JSON.stringify({ version: 1, keys: { deepgram: 42, openai: good, other: 'x' } }),
    );
    const store = open(safe);
    expect(store.get('openai')).toBe(OA);
    expect(store.has('deepgram')).toBe(false);
    expect(store.problems().map((p) => p.message)).toEqual([expect.stringContaining('Deepgram API key')]);
  });

  it('never throws when safeStorage itself throws', () => {
    const broken: SafeStorageLike = {
      isEncryptionAvailable: () => {
        throw new Error('not ready');
      },
      encryptString: () => Buffer.alloc(0),
      decryptString: () => '',
      getSelectedStorageBackend: () => {
        throw new Error('not ready');
      },
    };
    const store = open(broken);
    expect(store.info()).toEqual({ encrypted: false, backend: 'unknown', warning: MEMORY_ONLY_WARNING });
  });

  it('rejects an empty key', () => {
    expect(() => open().set('openai', '   ')).toThrow(/empty/);
  });
});

describe('keyStatus and resolveKey', () => {
  const memory = (keys: Partial<Record<ProviderId, string>>): Pick<SecretStore, 'get' | 'has'> => ({
    get: (p) => keys[p],
    has: (p) => keys[p] !== undefined,
  });

  it('reports the store first, then the environment, else null', () => {
    const env = { DEEPGRAM_API_KEY: 'env-dg', OPENAI_API_KEY: 'env-oa', ELEVENLABS_API_KEY: '  ' };
    expect(keyStatus(memory({ deepgram: 'store-dg' }), env)).toEqual({
      deepgram: { set: true, source: 'store' },
      openai: { set: true, source: 'environment' },
      elevenlabs: { set: false, source: null },
    });
    expect(keyStatus(memory({}), {})).toEqual({
      deepgram: { set: false, source: null },
      openai: { set: false, source: null },
      elevenlabs: { set: false, source: null },
    });
  });

  it('resolves the store key over the environment', () => {
    const env = { DEEPGRAM_API_KEY: 'env-dg', OPENAI_API_KEY: ' env-oa ' };
    const store = memory({ deepgram: 'store-dg' });
    expect(resolveKey('deepgram', store, env)).toBe('store-dg');
    expect(resolveKey('openai', store, env)).toBe('env-oa');
    expect(resolveKey('elevenlabs', store, env)).toBeUndefined();
    expect(EnvironmentKeys.variables.elevenlabs).toBe('ELEVENLABS_API_KEY');
  });

  it('works with the real store', () => {
    const store = open();
    store.set('openai', OA);
    const env = { OPENAI_API_KEY: 'env-oa', DEEPGRAM_API_KEY: 'env-dg' };
    expect(keyStatus(store, env).openai).toEqual({ set: true, source: 'store' });
    expect(resolveKey('openai', store, env)).toBe(OA);
    expect(resolveKey('deepgram', store, env)).toBe('env-dg');
  });
});
