import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finalTranscript, loadCase, type ScriptCase } from '../../src/main/engine/scripted/case';
import { loadSileroModel, type SileroModel } from '../../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../../src/main/engine/vad/voice-activity-detector';
import { defaultSettings } from '../../src/shared/settings';
import type { TimelineEvent } from '../../src/shared/timeline';
import { normalizeTranscript } from '../../src/main/engine/text/normalize';
import { runLive } from '../helpers/live-harness';
import { engineTestSettings } from '../helpers/session-harness';

const cases = join(__dirname, '..', 'fixtures', 'cases');

describe('a whole session over the wire: engine + real SDKs + the three simulators', () => {
  let model: SileroModel;
  let threeTurns: ScriptCase;
  beforeAll(async () => {
    model = await loadSileroModel(defaultSettings().vad.model);
    threeTurns = await loadCase(join(cases, 'three-turns'));
  });
  afterAll(async () => {
    await model.dispose();
  });
  const vad = () => {
    model.reset();
    return new VoiceActivityDetector(model, defaultSettings().vad);
  };
  const errors = (events: TimelineEvent[]) =>
    events.filter((e): e is Extract<TimelineEvent, { type: 'error' }> => e.type === 'error');
  const spoken = (events: TimelineEvent[]) =>
    events.flatMap((e) => (e.type === 'agent_speech_ended' ? [e.spoken_text] : []));

  it('speaks the scripted replies and reports every per-turn metric', async () => {
    const run = await runLive(threeTurns, { vad: vad() });
    expect(errors(run.events)).toEqual([]);
    expect(spoken(run.events)).toEqual(threeTurns.turns.map((t) => t.reply));
    expect(run.outcomes.map((o) => [o.false_cutin, o.wrong_reply, o.missed])).toEqual(
      threeTurns.turns.map(() => [false, false, false]),
    );
    expect(run.report.turns).toHaveLength(3);
    for (const turn of run.report.turns) {
      expect(turn.e2e_latency_ms).toBeGreaterThan(0);
      expect(turn.llm_ttft_ms).toBeGreaterThanOrEqual(threeTurns.profile.llm_ttft_ms);
      expect(turn.tts_ttfb_ms).toBeGreaterThanOrEqual(threeTurns.profile.tts_ttfb_ms);
      expect(turn.transcript_lag_ms).toBeGreaterThan(0);
      expect(turn.end_of_turn_delay_ms).toBeGreaterThan(0);
      expect(turn.requests.some((r) => r.outcome === 'spoken' && r.completion_tokens > 0)).toBe(true);
    }
    // The LLM simulator saw only on-script requests, and the spoken ones completed.
    expect(run.sims.openai.stats.requests.every((r) => r.onScript || r.outcome === 'aborted')).toBe(true);
  });

  it('an LLM that keeps failing gives an error naming OpenAI and the cause, and the next turns are answered', async () => {
    const run = await runLive(threeTurns, {
      vad: vad(),
      settings: { turn_handling: { preemptive_generation: { enabled: false } } },
      faults: { openai: [{ kind: 'status', status: 500, times: 3 }] },
    });
    const llmErrors = errors(run.events).filter((e) => e.source === 'llm');
    expect(llmErrors).toHaveLength(1);
    expect(llmErrors[0]!.message).toMatch(/^OpenAI: server error \(500\)/);
    expect(run.outcomes.map((o) => o.missed)).toEqual([true, false, false]);
    // The unanswered question stays in the conversation: the next request carries both questions
    // as the user's words since the agent last spoke, which the scripted LLM (as CORPUS.md
    // judges) answers off-script; the turn after is answered as scripted.
    const second = run.sims.openai.stats.requests.find((r) => r.outcome !== 'pending' && r.status === 200);
    expect(normalizeTranscript(second!.userWords)).toBe(
      normalizeTranscript(
        `${finalTranscript(threeTurns.turns[0]!)} ${finalTranscript(threeTurns.turns[1]!)}`,
      ),
    );
    expect(run.outcomes[2]!.wrong_reply).toBe(false);
    expect(spoken(run.events).at(-1)).toBe(threeTurns.turns[2]!.reply);
  });

  it('a TTS failure still puts the reply text in the conversation, reports the error, and the session goes on', async () => {
    const run = await runLive(threeTurns, {
      vad: vad(),
      // The first reply's audio stream stops halfway.
      faults: { elevenlabs: [{ kind: 'cut', afterChunks: 2 }] },
    });
    const ttsErrors = errors(run.events).filter((e) => e.source === 'tts');
    expect(ttsErrors.length).toBeGreaterThan(0);
    expect(ttsErrors[0]!.message).toMatch(/^ElevenLabs:/);
    const assistant = run.report.history.filter((m) => m.role === 'assistant').map((m) => m.content);
    expect(assistant).toEqual(threeTurns.turns.map((t) => t.reply));
    expect(run.outcomes.slice(1).map((o) => o.missed)).toEqual([false, false]);
  });

  it('a Deepgram socket dropped mid-utterance reconnects and the turn transcript is still complete', async () => {
    const dropAt = threeTurns.turns[1]!.words[2]!.start; // in the middle of the second turn
    const run = await runLive(threeTurns, {
      vad: vad(),
      faults: { deepgram: [{ kind: 'drop', afterAudioSeconds: dropAt }] },
    });
    expect(run.sims.deepgram.stats.connections.length).toBeGreaterThanOrEqual(2);
    const commits = run.events.flatMap((e) => (e.type === 'turn_committed' ? [e.transcript] : []));
    expect(commits.map(normalizeTranscript)).toEqual(
      threeTurns.turns.map((t) => normalizeTranscript(finalTranscript(t))),
    );
    expect(spoken(run.events)).toEqual(threeTurns.turns.map((t) => t.reply));
  });

  it('a malformed Deepgram message is reported and nothing is lost', async () => {
    const run = await runLive(threeTurns, {
      vad: vad(),
      faults: { deepgram: [{ kind: 'malformed' }] },
    });
    expect(errors(run.events).filter((e) => e.source === 'stt')).toHaveLength(1);
    expect(spoken(run.events)).toEqual(threeTurns.turns.map((t) => t.reply));
  });

  it('a missing or rejected key is an explicit error naming the provider and the setting; nothing crashes', async () => {
    // Against OpenAI itself a key is required: the error comes before any request is sent.
    const missing = await runLive(threeTurns, {
      vad: vad(),
      keys: { deepgram: 'sim-key', openai: undefined, elevenlabs: 'sim-key' },
      endpoints: { openai: 'https://api.openai.com/v1' },
    });
    const llm = errors(missing.events).filter((e) => e.source === 'llm');
    expect(llm.length).toBeGreaterThan(0);
    expect(llm[0]!.message).toContain(
      'OpenAI: no API key; set the OpenAI API key in settings, or OPENAI_API_KEY',
    );

    const rejected = await runLive(threeTurns, {
      vad: vad(),
      keys: { deepgram: 'wrong-key', openai: 'sim-key', elevenlabs: 'sim-key' },
    });
    const stt = errors(rejected.events).filter((e) => e.source === 'stt');
    expect(stt).toHaveLength(1);
    expect(stt[0]!.message).toContain('Deepgram: the API key was rejected');
    expect(stt[0]!.message).toContain('DEEPGRAM_API_KEY');
  });

  it('retunes Flux end-of-turn thresholds mid-stream with Configure, without reconnecting', async () => {
    const flux = {
      stt: { provider: 'deepgram-flux' as const },
      turn_handling: { turn_detection: 'stt' as const },
    };
    const changes: string[][] = [];
    const run = await runLive(threeTurns, {
      vad: vad(),
      settings: flux,
      actions: [
        {
          atMs: 6000,
          run: (session) => {
            const { needsRestart } = session.updateSettings(
              engineTestSettings({ ...flux, stt: { ...flux.stt, flux: { eot_threshold: 0.8 } } }),
            );
            changes.push(needsRestart);
          },
        },
      ],
    });
    expect(changes).toEqual([[]]);
    const connections = run.sims.deepgram.stats.connections;
    expect(connections).toHaveLength(1);
    expect(connections[0]!.configures).toBe(1);
    expect(errors(run.events)).toEqual([]);
    expect(spoken(run.events)).toEqual(threeTurns.turns.map((t) => t.reply));
  });
});
