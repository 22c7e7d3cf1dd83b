/**
 * The page's openMicPort in Electron (src/renderer/src/platform/electron-mic-port.ts): the
 * preload posts the port to the window tagged with the id requestMicPort returned; only that
 * message, from the window itself, counts. A fake window and fake timers, no Electron.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MIC_PORT_TIMEOUT_MS, withElectronMicPort } from '../../src/renderer/src/platform/electron-mic-port';
import { MIC_PORT_MESSAGE } from '../../src/shared/contract-names';
import type { CueApi } from '../../src/shared/contract';

type Listener = (event: MessageEvent) => void;

class FakeWindow {
  readonly listeners = new Set<Listener>();
  addEventListener(type: string, listener: Listener): void {
    expect(type).toBe('message');
    this.listeners.add(listener);
  }
  removeEventListener(type: string, listener: Listener): void {
    expect(type).toBe('message');
    this.listeners.delete(listener);
  }
  /** A window message event, as the browser dispatches it. */
  message(data: unknown, source: unknown, ports: unknown[] = []): void {
    const event = { data, source, ports } as unknown as MessageEvent;
    for (const listener of [...this.listeners]) listener(event);
  }
}

const fakePort = (name: string) => ({ name }) as unknown as MessagePort;

function preloadApi(requestMicPort?: () => number) {
  const api = {
    request: vi.fn(async () => 'answer'),
    on: vi.fn(() => () => undefined),
    sendAudio: vi.fn(),
    onAudio: vi.fn(() => () => undefined),
    ...(requestMicPort && { requestMicPort: vi.fn(requestMicPort) }),
  };
  return api as unknown as CueApi & { requestMicPort?: ReturnType<typeof vi.fn> } & typeof api;
}

/** Follows a promise without awaiting it. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('withElectronMicPort', () => {
  it('returns the API unchanged when the preload has no requestMicPort', () => {
    const api = preloadApi();
    const win = new FakeWindow();
    const wrapped = withElectronMicPort(api, win);
    expect(wrapped).toBe(api);
    expect(wrapped.openMicPort).toBeUndefined();
  });

  it('passes the rest of the API through', async () => {
    const api = preloadApi(() => 1);
    const wrapped = withElectronMicPort(api, new FakeWindow());
    expect(wrapped).not.toBe(api);
    expect(await wrapped.request('app:state', {})).toBe('answer');
    expect(api.request).toHaveBeenCalledWith('app:state', {});
    const listener = () => undefined;
    wrapped.on('notice', listener);
    expect(api.on).toHaveBeenCalledWith('notice', listener);
    const message = { type: 'played' as const, utterance: 1, ageMs: 2 };
    wrapped.sendAudio(message);
    expect(api.sendAudio).toHaveBeenCalledWith(message);
    wrapped.onAudio(listener);
    expect(api.onAudio).toHaveBeenCalledWith(listener);
  });

  it('resolves with the port of the message from the window itself carrying its id', async () => {
    const win = new FakeWindow();
    const api = preloadApi(() => 7);
    const opening = track(withElectronMicPort(api, win).openMicPort!());
    expect(api.requestMicPort).toHaveBeenCalledTimes(1);
    expect(win.listeners.size).toBe(1);
    const right = fakePort('right');
    // Another window (an iframe, an opener) with the right id, our window with another id or
    // no port, other data: all ignored.
    win.message({ [MIC_PORT_MESSAGE]: 7 }, { other: 'window' }, [fakePort('from elsewhere')]);
    win.message({ [MIC_PORT_MESSAGE]: 6 }, win, [fakePort('other id')]);
    win.message({ [MIC_PORT_MESSAGE]: '7' }, win, [fakePort('id as a string')]);
    win.message({ [MIC_PORT_MESSAGE]: 7 }, win, []);
    win.message(null, win, [fakePort('null data')]);
    win.message('cueMicPort', win, [fakePort('a string')]);
    win.message({ somethingElse: 7 }, win, [fakePort('no key')]);
    await flush();
    expect(opening.settled).toBe(false);
    win.message({ [MIC_PORT_MESSAGE]: 7 }, win, [right]);
    await flush();
    expect(opening).toEqual({ settled: true, value: right });
    // Done: no listener, no timer left behind.
    expect(win.listeners.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps concurrent requests apart by their ids', async () => {
    const win = new FakeWindow();
    let next = 1;
    const wrapped = withElectronMicPort(
      preloadApi(() => next++),
      win,
    );
    const first = track(wrapped.openMicPort!());
    const second = track(wrapped.openMicPort!());
    const one = fakePort('one');
    const two = fakePort('two');
    win.message({ [MIC_PORT_MESSAGE]: 2 }, win, [two]);
    await flush();
    expect(first.settled).toBe(false);
    expect(second).toEqual({ settled: true, value: two });
    win.message({ [MIC_PORT_MESSAGE]: 1 }, win, [one]);
    await flush();
    expect(first).toEqual({ settled: true, value: one });
    expect(win.listeners.size).toBe(0);
  });

  it('rejects when no port comes in time, and ignores one that comes later', async () => {
    const win = new FakeWindow();
    const opening = track(
      withElectronMicPort(
        preloadApi(() => 3),
        win,
      ).openMicPort!(),
    );
    expect(MIC_PORT_TIMEOUT_MS).toBe(5_000);
    await vi.advanceTimersByTimeAsync(MIC_PORT_TIMEOUT_MS - 1);
    expect(opening.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(opening.settled).toBe(true);
    expect(opening.error).toBeInstanceOf(Error);
    expect((opening.error as Error).message).toBe('no microphone port from the preload within 5 s');
    expect(win.listeners.size).toBe(0);
    win.message({ [MIC_PORT_MESSAGE]: 3 }, win, [fakePort('late')]);
    await flush();
    expect(opening.value).toBeUndefined();
  });

  it('rejects at once when requestMicPort throws', async () => {
    const win = new FakeWindow();
    const opening = track(
      withElectronMicPort(
        preloadApi(() => {
          throw new Error('ipc closed');
        }),
        win,
      ).openMicPort!(),
    );
    await flush();
    expect(opening.settled).toBe(true);
    expect((opening.error as Error).message).toBe('ipc closed');
    expect(win.listeners.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
