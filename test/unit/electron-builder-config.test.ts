/**
 * electron-builder.yml as electron-builder itself reads it: loaded with its own config loader and
 * checked against its own schema (a misspelt or misplaced option fails here, as it would fail the
 * release workflow), then the security-relevant settings. The packaged layout itself, fuses
 * flipped in the binary included, is test/integration/packaged-app.test.ts.
 */
import { fileURLToPath } from 'node:url';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config';
import { DebugLogger } from 'builder-util';
import { beforeAll, describe, expect, it } from 'vitest';

type Configuration = Awaited<ReturnType<typeof getConfig>>;

const root = fileURLToPath(new URL('../..', import.meta.url));
let config: Configuration;

beforeAll(async () => {
  config = await getConfig(root, null, null);
});

describe('electron-builder.yml', () => {
  it("passes electron-builder's own schema", async () => {
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('a misspelt option fails that schema (so the check above can fail)', async () => {
    const broken = {
      ...config,
      electronFuses: { ...config.electronFuses, runAsNod: false },
    } as Configuration;
    await expect(validateConfiguration(broken, new DebugLogger(false))).rejects.toThrow(
      /configuration.electronFuses should be/,
    );
  });

  it('sets the fuses: no run-as-node, NODE_OPTIONS or --inspect; only app.asar, checked; cookies encrypted; no file:// privileges', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
      enableCookieEncryption: true,
      grantFileProtocolExtraPrivileges: false,
      loadBrowserProcessSpecificV8Snapshot: false,
    });
  });

  it('packs into app.asar and unpacks what must be real files, onnxruntime-common included', () => {
    expect(config.asar).not.toBe(false);
    expect(config.asarUnpack).toEqual(
      expect.arrayContaining([
        'node_modules/onnxruntime-node/**',
        'node_modules/onnxruntime-common/**',
        'out/main/smart-turn-worker.js',
        'out/main/chunks/smart-turn-*.js',
      ]),
    );
  });

  it('publishes to GitHub Releases as a draft, for electron-updater', () => {
    expect(config.publish).toEqual({ provider: 'github', releaseType: 'draft' });
  });
});
