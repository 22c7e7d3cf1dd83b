/**
 * Records a session on a corpus case as the app records one (the RecordingTap on the engine's
 * audio path, providers and timeline), with the scripted providers on the virtual clock.
 */
import type { BodyRecord, HeaderRecord } from '../../src/main/engine/recording/format';
import { parseRecording, type Recording } from '../../src/main/engine/recording/reader';
import { recordScriptedCase } from '../../src/main/engine/recording/record-scripted';
import type { ScriptCase } from '../../src/main/engine/scripted/case';
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
  await recordScriptedCase(caseData, { vad, sink, settings, createdAt: '2025-01-02T03:04:05.000Z' });
  const text = `${lines.join('\n')}\n`;
  return { recording: parseRecording(text, caseData.id), text };
}
