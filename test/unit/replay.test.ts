import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayCase } from '../../src/main/engine/replay';
import { loadCase } from '../../src/main/engine/scripted/case';
import { normalizeTranscript } from '../../src/main/engine/text/normalize';
import { loadSileroModel, type SileroModel } from '../../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../../src/main/engine/vad/voice-activity-detector';
import { defaultSettings, type SettingsInput } from '../../src/shared/settings';

// Natural speech (each phrase spoken whole), replayed with the defaults and the realistic STT.
const cases = join(__dirname, '..', '..', 'bench', 'corpus', 'tune');
const run = promisify(execFile);

describe('replay with real Silero VAD on espeak-ng speech', () => {
  let model: SileroModel;
  beforeAll(async () => {
    model = await loadSileroModel(defaultSettings().vad.model);
  });
  afterAll(async () => {
    await model.dispose();
  });

  async function replay(id: string, settings: SettingsInput = {}) {
    const caseData = await loadCase(join(cases, id));
    model.reset();
    const vad = new VoiceActivityDetector(model, defaultSettings().vad);
    return replayCase(caseData, { vad, settings });
  }

  it('waits through a 1 s pause mid-sentence and answers only after the user finishes', async () => {
    const result = await replay('hesitation-unfinished-flight');
    const tEnd = result.outcomes[0]!.t_end_ms;
    const audible = result.events.filter((e) => e.type === 'agent_speech_started');
    expect(audible).toHaveLength(1);
    expect(audible[0]!.t).toBeGreaterThan(tEnd);
    expect(result.outcomes[0]).toMatchObject({ false_cutin: false, wrong_reply: false, missed: false });
    // The simulated Deepgram formats its finals (smart_format): one per phrase around the pause.
    expect(result.report.turns.map((t) => normalizeTranscript(t.transcript))).toEqual([
      normalizeTranscript('book a flight to denver on the twenty first of may'),
    ]);
    expect(result.report.turns[0]!.e2e_latency_ms).toBeGreaterThan(0);
  });

  it('answers every turn of a multi-turn case correctly, and preemption lowers its p50 e2e latency', async () => {
    const on = await replay('multi-turn-calendar-four-turns');
    const off = await replay('multi-turn-calendar-four-turns', {
      turn_handling: { preemptive_generation: { enabled: false } },
    });
    for (const result of [on, off]) {
      expect(result.outcomes.map((o) => [o.false_cutin, o.wrong_reply, o.missed])).toEqual([
        [false, false, false],
        [false, false, false],
        [false, false, false],
        [false, false, false],
      ]);
    }
    expect(on.report.turns.some((t) => t.speculation_reused)).toBe(true);
    expect(off.report.turns.some((t) => t.speculation_reused)).toBe(false);
    expect(on.report.totals.e2e_p50_ms!).toBeLessThan(off.report.totals.e2e_p50_ms!);
  });
});

describe('npm run replay', () => {
  const cli = ['tsx', join(__dirname, '..', '..', 'bench', 'replay.ts')];

  it('prints the session report as JSON with e2e latency per turn', async () => {
    const { stdout } = await run('npx', [...cli, '--case', join(cases, 'question-weather-lisbon'), '--json']);
    const report = JSON.parse(stdout) as { turns: { e2e_latency_ms: number | null; transcript: string }[] };
    expect(report.turns).toHaveLength(1);
    expect(report.turns[0]!.transcript).toBe("What's the weather going to be like in lisbon this weekend?");
    expect(report.turns[0]!.e2e_latency_ms).toBeGreaterThan(0);
  });

  it('prints a readable timeline, and applies --set overrides', async () => {
    const { stdout } = await run('npx', [
      ...cli,
      '--case',
      join(cases, 'question-weather-lisbon'),
      '--set',
      'turn_handling.preemptive_generation.enabled=false',
    ]);
    expect(stdout).toContain('StartOfTurn');
    expect(stdout).toContain('EndOfTurn "What\'s the weather going to be like in lisbon this weekend?"');
    expect(stdout).not.toContain('speculation');
    expect(stdout).toMatch(/e2e \d+ ms/);
  });

  it('refuses an invalid option, naming the field and what is allowed', async () => {
    const error = await run('npx', [
      ...cli,
      '--case',
      join(cases, 'question-weather-lisbon'),
      '--set',
      'turn_handling.endpointing.min_delay=99',
    ]).catch((e: { code: number; stderr: string }) => e);
    expect(error).toMatchObject({ code: 2 });
    expect((error as { stderr: string }).stderr).toContain(
      'turn_handling.endpointing.min_delay: must be between 0 and 10 s (got 99)',
    );
  });

  it('names the case when its folder does not exist', async () => {
    const error = await run('npx', [...cli, '--case', join(cases, 'no-such-case')]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(error).toMatchObject({ code: 1 });
    expect((error as { stderr: string }).stderr).toContain('no-such-case');
  });
});
