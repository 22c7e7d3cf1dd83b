/**
 * Records a corpus case replayed on the virtual clock with the scripted providers, exactly as the
 * app records a live session (the RecordingTap on the engine's audio path, its providers and its
 * timeline): for tests and benchmarks that need a recording without a microphone.
 */
import type { SettingsInput } from '../../../shared/settings';
import { replayCase, type ReplayResult } from '../replay';
import type { ScriptCase } from '../scripted/case';
import { createScriptedProviders } from '../scripted/providers';
import type { VadStage } from '../session';
import { RecordingTap, type RecordSink } from './tap';

export async function recordScriptedCase(
  caseData: ScriptCase,
  options: {
    vad: VadStage;
    sink: RecordSink;
    settings?: SettingsInput;
    createdAt?: string;
    keepEvents?: boolean;
  },
): Promise<ReplayResult> {
  let tap: RecordingTap | undefined;
  const result = await replayCase(caseData, {
    settings: options.settings ?? {},
    vad: options.vad,
    ...(options.keepEvents === undefined ? {} : { keepEvents: options.keepEvents }),
    providers: (clock, s) => {
      tap = new RecordingTap({
        clock,
        sink: options.sink,
        settings: s,
        appVersion: 'scripted',
        ...(options.createdAt ? { createdAt: options.createdAt } : {}),
      });
      const p = createScriptedProviders(caseData, clock, s.stt, {
        eager: s.turn_handling.preemptive_generation.enabled,
      });
      return {
        stt: tap.wrapStt(p.stt),
        llm: tap.wrapLlm(p.llm),
        tts: tap.wrapTts(p.tts),
        records: () => ({ llm: p.llm.records, tts: p.tts.records }),
      };
    },
    onAudio: (frame) => tap!.audio(frame),
    onEvent: (event) => tap!.onTimeline(event),
  });
  tap!.finish(result.report);
  return result;
}
