/**
 * What the window says about the end-of-turn model: the settings panel's status line, the
 * download progress beside the agent status, and the turn detector decisions on the timeline.
 */
import { describe, expect, it } from 'vitest';
import type { AppState, TurnModelView } from '../../src/shared/contract';
import { describeStatus, describeTurnModel } from '../../src/renderer/src/app/format';
import {
  describeDecision,
  describeItem,
  detectorLabel,
} from '../../src/renderer/src/timeline/timeline-format';
import { TimelineModel, type DetectorMark } from '../../src/renderer/src/timeline/timeline-model';
import type { TurnReport } from '../../src/shared/report';
import type { TimelineEvent } from '../../src/shared/timeline';
import { listeningState } from '../helpers/app-state';

const NAME = 'Smart Turn v3.2';
const state = (turnModel?: TurnModelView): AppState => listeningState(turnModel ? { turnModel } : {});

describe('the turn model status line', () => {
  it('says nothing before a session asked for the model', () => {
    expect(describeTurnModel(undefined)).toBeNull();
  });

  it('shows the download progress in percent, or in MB when the size is unknown', () => {
    expect(
      describeTurnModel({
        state: 'downloading',
        name: NAME,
        receivedBytes: 3_732_100,
        totalBytes: 8_679_182,
      }),
    ).toEqual({
      tone: 'info',
      text: 'Turn model downloading 43%… (Smart Turn v3.2 of 8.7 MB)',
      detail: null,
    });
    expect(
      describeTurnModel({ state: 'downloading', name: NAME, receivedBytes: 0, totalBytes: 8_679_182 })!.text,
    ).toBe('Turn model downloading 0%… (Smart Turn v3.2 of 8.7 MB)');
    expect(
      describeTurnModel({ state: 'downloading', name: NAME, receivedBytes: 2_500_000, totalBytes: null })!
        .text,
    ).toBe('Turn model downloading 2.5 MB… (Smart Turn v3.2)');
  });

  it('says where a ready model came from', () => {
    expect(describeTurnModel({ state: 'ready', name: NAME, source: 'download' })).toEqual({
      tone: 'ok',
      text: 'Turn model ready: Smart Turn v3.2, just downloaded.',
      detail: null,
    });
    expect(describeTurnModel({ state: 'ready', name: NAME, source: 'resources' })!.text).toBe(
      'Turn model ready: Smart Turn v3.2, bundled with the app.',
    );
    expect(describeTurnModel({ state: 'ready', name: NAME, source: 'cache' })!.text).toBe(
      'Turn model ready: Smart Turn v3.2, from the model cache.',
    );
  });

  it('says why the model is unavailable and what decides instead, with the full explanation', () => {
    const message =
      'Could not download Smart Turn v3.2 from https://huggingface.co/…: fetch failed (ENOTFOUND).';
    expect(describeTurnModel({ state: 'unavailable', name: NAME, reason: 'offline', message })).toEqual({
      tone: 'warning',
      text: 'Turn model unavailable (offline): using the transcript heuristic and silence instead.',
      detail: message,
    });
  });

  it('says when the model is being prepared or turned off', () => {
    expect(describeTurnModel({ state: 'checking', name: NAME })).toEqual({
      tone: 'info',
      text: 'Turn model: getting Smart Turn v3.2 ready…',
      detail: null,
    });
    expect(describeTurnModel({ state: 'off', name: NAME })!.text).toBe(
      'Turn model off: the transcript heuristic decides alone.',
    );
  });

  it('adds the download progress beside the agent status, and nothing otherwise', () => {
    const connected = { status: 'connected' } as const;
    expect(
      describeStatus(
        connected,
        state({ state: 'downloading', name: NAME, receivedBytes: 4_339_591, totalBytes: 8_679_182 }),
      ),
    ).toEqual({ tone: 'listening', label: 'Listening', detail: 'turn model downloading 50%…' });
    expect(
      describeStatus(connected, state({ state: 'ready', name: NAME, source: 'cache' })).detail,
    ).toBeNull();
    expect(describeStatus(connected, state()).detail).toBeNull();
  });
});

describe('turn detector decisions on the timeline', () => {
  const mark: DetectorMark = {
    id: 1,
    turn: 0,
    row: 0,
    kind: 'detector',
    lane: 'endpointing',
    start: 3920,
    end: 3920,
    probability: 0.15,
    threshold: 0.5,
    likelyEnd: false,
    source: 'smart-turn-v3 0.99 + heuristic 0.15 (preposition): veto',
    silenceStart: null,
    early: false,
    wait: null,
  };

  it('labels each decision with its probability', () => {
    expect(detectorLabel(mark)).toBe('p 0.15');
    expect(detectorLabel({ probability: 0.98999 })).toBe('p 0.99');
  });

  it('shows the probability against the threshold and who judged in the tooltip', () => {
    expect(describeItem(mark)).toEqual({
      title: 'Turn detector',
      rows: [
        ['judged at', '3.920 s'],
        ['end of turn', 'p 0.15 < 0.50: not done'],
        ['judged by', 'smart-turn-v3 0.99 + heuristic 0.15 (preposition): veto'],
      ],
    });
  });
});

describe('the turn decision and settings changes on the timeline model', () => {
  const events: TimelineEvent[] = [
    { type: 'session_started', t: 0, turn: -1 },
    { type: 'user_speech_started', t: 1100, turn: 0, at: 1000 },
    { type: 'transcript_final', t: 2050, turn: 0, text: 'what time is it', speech_final: true },
    // Silent since 2000 for decision_silence (0.2 s): judged before the VAD's end of speech.
    { type: 'user_paused', t: 2200, turn: 0, at: 2000 },
    {
      type: 'turn_detector_decision',
      t: 2200,
      turn: 0,
      probability: 0.9,
      threshold: 0.5,
      likely_end: true,
      source: 'heuristic 0.90 (complete)',
    },
    { type: 'endpointing_wait_started', t: 2200, turn: 0, delay: 200, until: 2400, reason: 'likely end' },
    { type: 'user_speech_ended', t: 2550, turn: 0, at: 2000, duration: 1000 },
    { type: 'turn_committed', t: 2400, turn: 0, transcript: 'what time is it', speculation_reused: true },
    {
      type: 'settings_changed',
      t: 4000,
      turn: 0,
      changes: [{ path: 'turn_handling.endpointing.min_delay', from: 0.4, to: 0.8, live: true }],
    },
    { type: 'user_speech_started', t: 5100, turn: 1, at: 5000 },
    { type: 'user_speech_ended', t: 6550, turn: 1, at: 6000, duration: 1000 },
    {
      type: 'turn_detector_decision',
      t: 6550,
      turn: 1,
      probability: 0.2,
      threshold: 0.5,
      likely_end: false,
      source: 'heuristic 0.20 (preposition)',
    },
  ];

  it('keeps when each turn was judged, after how much silence, by what, how sure, and the wait it set', () => {
    const model = new TimelineModel({ now: () => 0 });
    for (const event of events) model.ingest(event, 0);
    const [first, second] = model.turns;
    expect(first!.decision).toMatchObject({ silenceStart: 2000, early: true, wait: 200, likelyEnd: true });
    expect(describeDecision(first!.decision!)).toBe(
      'judged after 200 ms pause: p 0.90 ≥ 0.50 (heuristic 0.90 (complete)), wait 200 ms',
    );
    expect(detectorLabel(first!.decision!)).toBe('p 0.90 @ 200 ms');
    expect(describeItem(first!.decision!).title).toBe('Turn judged at a short pause');
    expect(describeItem(first!.decision!).rows).toContainEqual([
      'after silence',
      "200 ms (a short pause, before the VAD's end of speech)",
    ]);
    // Turn 1 was judged after the VAD's own end of speech, 550 ms into the silence.
    expect(second!.decision).toMatchObject({ silenceStart: 6000, early: false, wait: null });
    expect(describeDecision(second!.decision!)).toBe(
      'judged after 550 ms silence: p 0.20 < 0.50 (heuristic 0.20 (preposition))',
    );
  });

  it('marks a settings change, and the turns after it run under it', () => {
    const model = new TimelineModel({ now: () => 0 });
    for (const event of events) model.ingest(event, 0);
    const mark = model.turns[0]!.items.find((item) => item.kind === 'settings');
    expect(mark).toMatchObject({ kind: 'settings', lane: 'turn', start: 4000, number: 1 });
    expect(describeItem(mark!)).toEqual({
      title: 'Settings change 1',
      rows: [
        ['at', '4.000 s'],
        ['turn_handling.endpointing.min_delay', '0.4 → 0.8'],
      ],
      text: 'The turns after this mark run under these settings.',
    });
    expect(model.turns.map((turn) => turn.settingsNumber)).toEqual([0, 1]);
  });
});

describe('a timeline that joins a running session', () => {
  it('shows the turns it knows only from their reports, with their latency', () => {
    const model = new TimelineModel({ now: () => 0 });
    const report = {
      index: 0,
      transcript: 'what time is it',
      started_ms: 1000,
      committed_ms: 3000,
      first_audio_ms: 3600,
      e2e_latency_ms: 900,
      end_of_turn_delay_ms: 400,
      vad_end_of_speech_ms: 2600,
      transcript_lag_ms: 100,
      preemptive_lead_ms: null,
      llm_ttft_ms: 300,
      tts_ttfb_ms: 200,
      llm_requests: 1,
      llm_requests_wasted: 0,
      tts_characters: 11,
      tts_characters_wasted: 0,
      speculation_reused: false,
      interrupted: false,
      reply: 'It is noon.',
      spoken_reply: 'It is noon.',
      requests: [],
    } as unknown as TurnReport;
    model.ingestReport(report);
    expect(model.turns).toHaveLength(1);
    expect(model.turns[0]).toMatchObject({ index: 0, start: 1000, end: 3600, transcript: 'what time is it' });
    expect(model.latency(model.turns[0]!)).toMatchObject({ source: 'report', e2e: 900, endOfTurnDelay: 400 });
    // Later events of the same turn land on it.
    model.ingest({
      type: 'agent_speech_ended',
      t: 4800,
      turn: 0,
      request: 1,
      interrupted: false,
      played_ms: 1200,
      spoken_text: 'It is noon.',
    });
    expect(model.turns).toHaveLength(1);
  });
});
