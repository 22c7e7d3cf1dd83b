/**
 * A whole session over the wire: the real engine and the real provider SDKs talking to the
 * three protocol simulators on 127.0.0.1, everything on one virtual clock. Between two 20 ms
 * steps of the clock the harness lets pending socket I/O through (a couple of event-loop
 * turns), so simulated latencies hold to within a step; tests assert outcomes, not exact times.
 */
import { ClockedAudioOutput } from '../../src/main/engine/audio/clocked-output';
import { VirtualClock } from '../../src/main/engine/clock';
import { SAMPLE_RATE } from '../../src/main/engine/ports';
import { judgeOutcomes, type CaseTurnOutcome } from '../../src/main/engine/replay';
import type { ScriptCase } from '../../src/main/engine/scripted/case';
import { VoiceSession, type VadStage } from '../../src/main/engine/session';
import { createProviders, type ProviderKeys } from '../../src/main/providers';
import type { SessionReport } from '../../src/shared/report';
import { parseSettings, type SettingsInput } from '../../src/shared/settings';
import { engineTestSettings } from './session-harness';
import type { TimelineEvent } from '../../src/shared/timeline';
import { SIM_API_KEY, type Fault } from '../../sim/common';
import { startSimulators, type SimulatorSet } from '../../sim/index';

export interface LiveRun {
  events: TimelineEvent[];
  report: SessionReport;
  outcomes: CaseTurnOutcome[];
  sims: SimulatorSet;
}

const STEP_MS = 20;

/** Lets sockets deliver what is already on its way: a few turns of the event loop, no waiting on time. */
async function letIoThrough(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

export async function runLive(
  caseData: ScriptCase,
  options: {
    vad: VadStage;
    settings?: SettingsInput;
    faults?: { deepgram?: Fault[]; openai?: Fault[]; elevenlabs?: Fault[] };
    keys?: ProviderKeys;
    /** Replaces simulator endpoints (e.g. the real OpenAI URL, to check a key problem before any request). */
    endpoints?: Partial<SimulatorSet['endpoints']>;
    tailMs?: number;
    /** Things done to the session at given audio times (ms). */
    actions?: { atMs: number; run: (session: VoiceSession) => void }[];
  },
): Promise<LiveRun> {
  // The fixtures leave 40–80 ms between words: these tests run with the timings they were written for.
  const settings = parseSettings(engineTestSettings(options.settings));
  const clock = new VirtualClock();
  const sims = await startSimulators({ caseData, clock, apiKey: SIM_API_KEY, faults: options.faults ?? {} });
  const providers = createProviders({
    settings,
    keys: options.keys ?? { deepgram: SIM_API_KEY, openai: SIM_API_KEY, elevenlabs: SIM_API_KEY },
    endpoints: { ...sims.endpoints, ...options.endpoints },
    clock,
  });
  const output = new ClockedAudioOutput(clock);
  const session = new VoiceSession(
    { clock, vad: options.vad, stt: providers.stt, llm: providers.llm, tts: providers.tts, output },
    settings,
  );
  const events: TimelineEvent[] = [];
  session.subscribe((e) => {
    if (e.type !== 'vad_probability') events.push(e);
  });
  try {
    await session.start();
    const step = (STEP_MS * SAMPLE_RATE) / 1000;
    const total = caseData.audio.length + ((options.tailMs ?? 8000) * SAMPLE_RATE) / 1000;
    const silence = new Int16Array(step);
    const actions = [...(options.actions ?? [])].sort((a, b) => a.atMs - b.atMs);
    for (let offset = 0; offset < total; offset += step) {
      while (actions.length && actions[0]!.atMs <= (offset * 1000) / SAMPLE_RATE)
        actions.shift()!.run(session);
      const samples =
        offset < caseData.audio.length ? caseData.audio.subarray(offset, offset + step) : silence;
      await clock.advanceTo(((offset + step) * 1000) / SAMPLE_RATE);
      await session.pushAudio({ samples, capturedAt: (offset * 1000) / SAMPLE_RATE });
      await letIoThrough();
    }
    const report = session.report();
    return { events, report, outcomes: judgeOutcomes(caseData, events), sims };
  } finally {
    await session.stop();
    await providers.close();
    await sims.close();
  }
}
