/**
 * Records a session on a corpus case as the app records one (the RecordingTap on the engine's
 * audio path, providers and timeline), with the scripted providers on the virtual clock.
 */
import { replayCase } from '../../src/main/engine/replay';
import type { BodyRecord, HeaderRecord } from '../../src/main/engine/recording/format';
import { parseRecording, type Recording } from '../../src/main/engine/recording/reader';
import { RecordingTap } from '../../src/main/engine/recording/tap';
import type { ScriptCase } from '../../src/main/engine/scripted/case';
import { createScriptedProviders } from '../../src/main/engine/scripted/providers';
import type { VadStage } from '../../src/main/engine/session';
import type { SettingsInput } from '../../src/shared/settings';

export interface RecordedCase {
  recording: Recording;
  /** The session.jsonl text. */
  text: string;
}

export async function recordCase(
  caseData: ScriptCase,
  vad: VadStage,
  settings: SettingsInput = {},
): Promise<RecordedCase> {
  const lines: string[] = [];
  const sink = { write: (r: HeaderRecord | BodyRecord) => lines.push(JSON.stringify(r)) };
  let tap: RecordingTap | undefined;
  const result = await replayCase(caseData, {
    settings,
    vad,
    providers: (clock, s) => {
      tap = new RecordingTap({
        clock,
        sink,
        settings: s,
        appVersion: 'test',
        createdAt: '2025-01-02T03:04:05.000Z',
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
  const text = `${lines.join('\n')}\n`;
  return { recording: parseRecording(text, caseData.id), text };
}
