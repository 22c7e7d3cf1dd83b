/**
 * What the window says about the end-of-turn model: the settings panel's status line, the
 * download progress beside the agent status, and the turn detector decisions on the timeline.
 */
import { describe, expect, it } from 'vitest';
import type { AppState, TurnModelView } from '../../src/shared/contract';
import { describeStatus, describeTurnModel } from '../../src/renderer/src/app/format';
import { describeItem, detectorLabel } from '../../src/renderer/src/timeline/timeline-format';
import type { DetectorMark } from '../../src/renderer/src/timeline/timeline-model';
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
  };

  it('labels each decision with its probability', () => {
    expect(detectorLabel(mark)).toBe('p 0.15');
    expect(detectorLabel({ probability: 0.98999 })).toBe('p 0.99');
  });

  it('shows the probability against the threshold and who judged in the tooltip', () => {
    expect(describeItem(mark)).toEqual({
      title: 'Turn detector',
      rows: [
        ['at', '3.920 s'],
        ['end of turn', 'p 0.15 < 0.50: not done'],
        ['judged by', 'smart-turn-v3 0.99 + heuristic 0.15 (preposition): veto'],
      ],
    });
  });
});
