import type * as fs from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

// No file exists anywhere: neither in resources/models nor in the package.
vi.mock('node:fs', async (importOriginal) => ({
  ...(await importOriginal<typeof fs>()),
  existsSync: () => false,
}));

const { resolveSileroModelPath, loadSileroModel, SileroModelNotFoundError } =
  await import('../../src/main/engine/vad/silero');

describe('resolveSileroModelPath without weights', () => {
  it('names both places it looked in', () => {
    let error: unknown;
    try {
      resolveSileroModelPath('silero-v5', '/opt/cue/resources');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SileroModelNotFoundError);
    const message = (error as Error).message;
    expect(message).toContain('silero-v5');
    expect(message).toContain('/opt/cue/resources/models/silero_vad_v5.onnx');
    expect(message).toMatch(/@ricky0123\/vad-web package \(.*silero_vad_v5\.onnx\)/);
  });

  it('makes loadSileroModel reject', async () => {
    await expect(loadSileroModel('silero-v4')).rejects.toThrow(
      /silero_vad_v4\.onnx.*silero_vad_legacy\.onnx/,
    );
  });
});
