import { startDeepgramSim } from './deepgram';
import { startElevenLabsSim } from './elevenlabs';
import { startOpenAiSim } from './openai';
import type { Fault, SimOptions } from './common';

export interface SimulatorSet {
  deepgram: Awaited<ReturnType<typeof startDeepgramSim>>;
  openai: Awaited<ReturnType<typeof startOpenAiSim>>;
  elevenlabs: Awaited<ReturnType<typeof startElevenLabsSim>>;
  /** Base URLs to give the providers. */
  endpoints: { deepgram: string; openai: string; elevenlabs: string };
  close(): Promise<void>;
}

/** Starts the three provider simulators for one case, each on a free port of 127.0.0.1. */
export async function startSimulators(
  options: Omit<SimOptions, 'faults' | 'port'> & {
    faults?: { deepgram?: Fault[]; openai?: Fault[]; elevenlabs?: Fault[] };
  },
): Promise<SimulatorSet> {
  const { faults = {}, ...common } = options;
  const deepgram = await startDeepgramSim({ ...common, faults: faults.deepgram ?? [] });
  const openai = await startOpenAiSim({ ...common, faults: faults.openai ?? [] });
  const elevenlabs = await startElevenLabsSim({ ...common, faults: faults.elevenlabs ?? [] });
  return {
    deepgram,
    openai,
    elevenlabs,
    endpoints: { deepgram: deepgram.url, openai: `${openai.url}/v1`, elevenlabs: elevenlabs.url },
    close: async () => {
      await Promise.all([deepgram.close(), openai.close(), elevenlabs.close()]);
    },
  };
}
