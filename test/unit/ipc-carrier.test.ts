/**
 * The Electron IPC carrier (src/main/ipc-carrier.ts) against fakes of ipcMain, the window, its
 * web contents and frames, and MessageChannelMain: no Electron needed.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  MAX_MIC_SAMPLES,
  parseAudioUp,
  registerIpcCarrier,
  type IpcInvokeEventLike,
  type IpcPortEventLike,
  type NavigationDetailsLike,
  type MessagePortLike,
} from '../../src/main/ipc-carrier';
import { TIMELINE_BATCH_MAX_DELAY_MS } from '../../src/main/app/timeline-batcher';
import type { ContractHandler } from '../../src/main/app/types';
import { VirtualClock } from '../../src/main/engine/clock';
import { BUNDLED_PAGE, isTrustedFrame, type FrameLike } from '../../src/main/shell/app-origin';
import { APP_ENTRY_URL } from '../../src/main/shell/app-protocol';
import {
  EVENT_NAMES,
  REQUEST_NAMES,
  ipcChannel,
  requestSchemas,
  type AudioDown,
  type AudioUp,
  type EventName,
  type Events,
} from '../../src/shared/contract';
import type { TimelineEvent } from '../../src/shared/timeline';
import { listeningState } from '../helpers/app-state';

const APP_URL = APP_ENTRY_URL;

class FakeFrame implements FrameLike {
  constructor(
    public url: string,
    public parent: FakeFrame | null = null,
    public processId = 7,
    public routingId = 1,
  ) {}
  isDestroyed(): boolean {
    return false;
  }
}

class FakePort implements MessagePortLike {
  listeners: ((event: { data: unknown }) => void)[] = [];
  closeListeners: (() => void)[] = [];
  posted: unknown[] = [];
  started = false;
  closed = false;
  on(event: 'message', listener: (event: { data: unknown }) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'message' | 'close', listener: ((event: { data: unknown }) => void) | (() => void)): this {
    if (event === 'close') this.closeListeners.push(listener as () => void);
    else this.listeners.push(listener);
    return this;
  }
  /** The other end closed (the page's worklet let go of it). */
  closedByPeer(): void {
    for (const listener of this.closeListeners) listener();
  }
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  start(): void {
    this.started = true;
  }
  close(): void {
    this.closed = true;
  }
  /** A message arriving from the renderer. */
  receive(data: unknown): void {
    for (const listener of this.listeners) listener({ data });
  }
}

class FakeContents {
  mainFrame: FakeFrame;
  sent: unknown[][] = [];
  postedPorts: { channel: string; message: unknown; transfer: MessagePortLike[] }[] = [];
  loadListeners: (() => void)[] = [];
  navigationListeners: ((details: NavigationDetailsLike) => void)[] = [];
  destroyed = false;
  /** A fresh window's contents show nothing yet (empty URL) until load(). */
  constructor(url = '') {
    this.mainFrame = new FakeFrame(url);
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push([channel, ...args]);
  }
  postMessage(channel: string, message: unknown, transfer: MessagePortLike[] = []): void {
    this.postedPorts.push({ channel, message, transfer });
  }
  on(event: 'did-finish-load', listener: () => void): this;
  on(event: 'did-start-navigation', listener: (details: NavigationDetailsLike) => void): this;
  on(
    event: 'did-finish-load' | 'did-start-navigation',
    listener: (() => void) | ((details: NavigationDetailsLike) => void),
  ): this {
    if (event === 'did-finish-load') this.loadListeners.push(listener as () => void);
    else this.navigationListeners.push(listener);
    return this;
  }
  removeListener(event: 'did-finish-load', listener: () => void): this;
  removeListener(event: 'did-start-navigation', listener: (details: NavigationDetailsLike) => void): this;
  removeListener(
    event: 'did-finish-load' | 'did-start-navigation',
    listener: (() => void) | ((details: NavigationDetailsLike) => void),
  ): this {
    if (event === 'did-finish-load') this.loadListeners = this.loadListeners.filter((l) => l !== listener);
    else this.navigationListeners = this.navigationListeners.filter((l) => l !== listener);
    return this;
  }
  /** The window starts navigating (a reload: the main frame, another document). */
  navigate(details: NavigationDetailsLike = { isMainFrame: true, isSameDocument: false }): void {
    for (const listener of [...this.navigationListeners]) listener(details);
  }
  /** The page (re)loaded: the navigation starts, then the load finishes. */
  load(url = APP_URL): void {
    this.navigate();
    this.finishLoad(url);
  }
  /** Only the end of a load (the navigation started earlier). */
  finishLoad(url = APP_URL): void {
    this.mainFrame = new FakeFrame(url, null, this.mainFrame.processId, this.mainFrame.routingId + 1);
    for (const listener of [...this.loadListeners]) listener();
  }
}

class FakeWindow {
  webContents: FakeContents;
  destroyed = false;
  constructor(url?: string) {
    this.webContents = new FakeContents(url);
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

type Invoke = (event: IpcInvokeEventLike, ...args: unknown[]) => unknown;
type OnMessage = (event: IpcPortEventLike, ...args: unknown[]) => void;

class FakeIpcMain {
  handlers = new Map<string, Invoke>();
  listeners = new Map<string, OnMessage[]>();
  on(channel: string, listener: OnMessage): this {
    this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), listener]);
    return this;
  }
  removeListener(channel: string, listener: OnMessage): this {
    const left = (this.listeners.get(channel) ?? []).filter((l) => l !== listener);
    if (left.length > 0) this.listeners.set(channel, left);
    else this.listeners.delete(channel);
    return this;
  }
  /** What ipcRenderer.postMessage(channel, message, ports) from `frame` of `sender` does. */
  post(
    channel: string,
    sender: unknown,
    frame: FrameLike | null,
    ports: MessagePortLike[],
    message?: unknown,
  ) {
    for (const listener of [...(this.listeners.get(channel) ?? [])])
      listener({ sender, senderFrame: frame, ports }, message);
  }
  handle(channel: string, listener: Invoke): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** What ipcRenderer.invoke(channel, payload) from `frame` of `sender` does. */
  async invoke(
    channel: string,
    sender: unknown,
    frame: FrameLike | null,
    ...args: unknown[]
  ): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return handler({ sender, senderFrame: frame }, ...args);
  }
}

function fakeHandler() {
  type Listener = Parameters<ContractHandler['subscribe']>[0];
  const listeners = new Set<Listener>();
  const audioListeners = new Set<(message: AudioDown) => void>();
  const handler = {
    request: vi.fn(async (name: string, payload: unknown) => ({ answered: name, payload })),
    subscribe: vi.fn((listener: Listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    }),
    audioUp: vi.fn((_message: AudioUp) => {}),
    onAudioDown: vi.fn((listener: (message: AudioDown) => void) => {
      audioListeners.add(listener);
      return () => audioListeners.delete(listener);
    }),
  };
  return {
    handler: handler as unknown as ContractHandler & typeof handler,
    emit<E extends EventName>(name: E, payload: Events[E]) {
      for (const listener of listeners) listener(name, payload);
    },
    audioDown(message: AudioDown) {
      for (const listener of audioListeners) listener(message);
    },
    listenerCount: () => listeners.size + audioListeners.size,
  };
}

/**
 * Registers the carrier on a fresh window, then loads `url` (the app page by default) unless
 * `load` is false; `alreadyLoaded` registers on a window that already shows the app page.
 */
function setup(options: { url?: string; load?: boolean; alreadyLoaded?: boolean } = {}) {
  const clock = new VirtualClock();
  const ipcMain = new FakeIpcMain();
  const win = new FakeWindow(options.alreadyLoaded ? APP_URL : '');
  const core = fakeHandler();
  const ports: { port1: FakePort; port2: FakePort }[] = [];
  const warnings: string[] = [];
  const unregister = registerIpcCarrier({
    ipcMain,
    handler: core.handler,
    isTrustedSender: (frame) => isTrustedFrame(frame, win.webContents, BUNDLED_PAGE),
    getWindow: () => win,
    createMessageChannel: () => {
      const channel = { port1: new FakePort(), port2: new FakePort() };
      ports.push(channel);
      return channel;
    },
    warn: (message) => warnings.push(message),
    timelineBatch: { clock },
  });
  if (options.load !== false && !options.alreadyLoaded) win.webContents.load(options.url);
  return { ipcMain, win, core, ports, warnings, unregister, clock };
}

const stateEvent: Events['state'] = listeningState();

describe('contract names', () => {
  it('the zod-free name lists match the contract', () => {
    expect([...REQUEST_NAMES].sort()).toEqual(Object.keys(requestSchemas).sort());
    expect(new Set(EVENT_NAMES).size).toBe(EVENT_NAMES.length);
  });
});

describe('IPC carrier: requests', () => {
  it('registers exactly one handler per contract request, on the contract channel', () => {
    const { ipcMain } = setup();
    expect([...ipcMain.handlers.keys()].sort()).toEqual(
      REQUEST_NAMES.map((name) => ipcChannel.request(name)).sort(),
    );
    expect(ipcMain.handlers.size).toBe(Object.keys(requestSchemas).length);
  });

  it('passes a request from the app page to the handler with the raw payload', async () => {
    const { ipcMain, win, core } = setup();
    const payload = { muted: 'not even a boolean', extra: [1, 2] };
    const answer = await ipcMain.invoke(
      ipcChannel.request('session:mute'),
      win.webContents,
      win.webContents.mainFrame,
      payload,
      'ignored extra argument',
    );
    expect(core.handler.request).toHaveBeenCalledTimes(1);
    expect(core.handler.request).toHaveBeenCalledWith('session:mute', payload);
    expect(core.handler.request.mock.calls[0]![1]).toBe(payload);
    expect(answer).toEqual({ answered: 'session:mute', payload });
  });

  it('passes a missing payload through as undefined (the handler validates)', async () => {
    const { ipcMain, win, core } = setup();
    await ipcMain.invoke(ipcChannel.request('app:state'), win.webContents, win.webContents.mainFrame);
    expect(core.handler.request).toHaveBeenCalledWith('app:state', undefined);
  });

  it('propagates the handler errors', async () => {
    const { ipcMain, win, core } = setup();
    core.handler.request.mockRejectedValueOnce(new Error('keys:set: key: must be at least 8 characters'));
    await expect(
      ipcMain.invoke(ipcChannel.request('keys:set'), win.webContents, win.webContents.mainFrame, {}),
    ).rejects.toThrow(/at least 8/);
  });

  const foreign: [string, (win: FakeWindow) => { sender: unknown; frame: FrameLike | null }][] = [
    [
      'a frame showing another URL',
      (win) => ({ sender: win.webContents, frame: new FakeFrame('https://evil.example/') }),
    ],
    [
      'a subframe of our page (same URL)',
      (win) => ({ sender: win.webContents, frame: new FakeFrame(APP_URL, win.webContents.mainFrame, 7, 9) }),
    ],
    [
      'another file of the app',
      (win) => ({
        sender: win.webContents,
        frame: new FakeFrame('cue://app/other.html'),
      }),
    ],
    [
      'a frame with the app URL in another process',
      (win) => ({ sender: win.webContents, frame: new FakeFrame(APP_URL, null, 99, 1) }),
    ],
    ['no frame (navigated away or destroyed)', (win) => ({ sender: win.webContents, frame: null })],
    [
      'another web contents, even showing the app page',
      (win) => {
        const other = new FakeContents();
        other.mainFrame = win.webContents.mainFrame;
        return { sender: other, frame: win.webContents.mainFrame };
      },
    ],
  ];

  for (const [label, make] of foreign) {
    it(`refuses a request from ${label} and never calls the handler`, async () => {
      const { ipcMain, win, core, warnings } = setup();
      const { sender, frame } = make(win);
      for (const name of REQUEST_NAMES) {
        await expect(ipcMain.invoke(ipcChannel.request(name), sender, frame, {})).rejects.toThrow(/refused/);
      }
      expect(core.handler.request).not.toHaveBeenCalled();
      expect(warnings.length).toBe(REQUEST_NAMES.length);
    });
  }

  it('refuses requests when our page shows another URL', async () => {
    const { ipcMain, win, core } = setup({ url: 'https://evil.example/' });
    await expect(
      ipcMain.invoke(ipcChannel.request('app:info'), win.webContents, win.webContents.mainFrame, {}),
    ).rejects.toThrow(/refused/);
    expect(core.handler.request).not.toHaveBeenCalled();
  });

  it('refuses requests once the window is destroyed', async () => {
    const { ipcMain, win, core } = setup();
    win.destroyed = true;
    await expect(
      ipcMain.invoke(ipcChannel.request('app:info'), win.webContents, win.webContents.mainFrame, {}),
    ).rejects.toThrow(/refused/);
    expect(core.handler.request).not.toHaveBeenCalled();
  });

  it('unregisters every handler, subscription and port', () => {
    const { ipcMain, win, core, ports, unregister } = setup();
    expect(core.listenerCount()).toBe(2);
    unregister();
    unregister();
    expect(ipcMain.handlers.size).toBe(0);
    expect(ipcMain.listeners.size).toBe(0);
    expect(core.listenerCount()).toBe(0);
    expect(win.webContents.loadListeners).toHaveLength(0);
    expect(ports[0]!.port1.closed).toBe(true);
  });
});

describe('IPC carrier: events', () => {
  it('sends contract events to our window only, without the Electron event object', () => {
    const { win, core } = setup();
    core.emit('state', stateEvent);
    core.emit('notice', { level: 'info', message: 'hello' });
    expect(win.webContents.sent).toEqual([
      [ipcChannel.event, 'state', stateEvent],
      [ipcChannel.event, 'notice', { level: 'info', message: 'hello' }],
    ]);
  });

  it('drops names outside the contract, and sends nothing to a page that is not ours', () => {
    const { win, core } = setup();
    (core.emit as (name: string, payload: unknown) => void)('secret', { key: 'sk-123' });
    win.webContents.mainFrame = new FakeFrame('https://evil.example/');
    core.emit('state', stateEvent);
    win.destroyed = true;
    core.emit('state', stateEvent);
    expect(win.webContents.sent).toEqual([]);
  });

  const vad = (t: number): TimelineEvent => ({
    type: 'vad_probability',
    t,
    turn: 0,
    probability: 0.5,
    speaking: true,
  });
  const interim: TimelineEvent = { type: 'transcript_interim', t: 70, turn: 0, text: 'hello' };

  it('sends the VAD trace in batches, each before the event that followed it', () => {
    const { win, core } = setup();
    core.emit('timeline', vad(0));
    core.emit('timeline', vad(32));
    expect(win.webContents.sent).toEqual([]);
    core.emit('timeline', interim);
    core.emit('timeline', vad(64));
    core.emit('state', stateEvent);
    expect(win.webContents.sent).toEqual([
      [ipcChannel.event, 'timeline:batch', [vad(0), vad(32)]],
      [ipcChannel.event, 'timeline', interim],
      [ipcChannel.event, 'timeline:batch', [vad(64)]],
      [ipcChannel.event, 'state', stateEvent],
    ]);
  });

  it('sends a held batch at the time limit, and what is held when unregistered', async () => {
    const { win, core, clock, unregister } = setup();
    core.emit('timeline', vad(0));
    await clock.advanceBy(TIMELINE_BATCH_MAX_DELAY_MS - 1);
    expect(win.webContents.sent).toEqual([]);
    await clock.advanceBy(1);
    expect(win.webContents.sent).toEqual([[ipcChannel.event, 'timeline:batch', [vad(0)]]]);
    core.emit('timeline', vad(32));
    unregister();
    expect(win.webContents.sent.at(-1)).toEqual([ipcChannel.event, 'timeline:batch', [vad(32)]]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('IPC carrier: audio', () => {
  it('sends one port to the renderer after each load of the app page', () => {
    const { win, ports } = setup({ load: false });
    expect(ports).toHaveLength(0); // not loaded yet
    win.webContents.load();
    expect(ports).toHaveLength(1);
    expect(win.webContents.postedPorts).toEqual([
      { channel: ipcChannel.audioPort, message: null, transfer: [ports[0]!.port2] },
    ]);
    expect(ports[0]!.port1.started).toBe(true);
    // A reload gets a fresh channel; the old port is closed.
    win.webContents.load();
    expect(ports).toHaveLength(2);
    expect(ports[0]!.port1.closed).toBe(true);
    expect(win.webContents.postedPorts[1]!.transfer).toEqual([ports[1]!.port2]);
  });

  it('gives no port to a page that is not ours', () => {
    const { win, ports } = setup({ url: 'https://evil.example/' });
    expect(ports).toHaveLength(0);
    expect(win.webContents.postedPorts).toEqual([]);
  });

  it('passes well-formed AudioUp messages on and posts AudioDown to the port', () => {
    const { core, ports } = setup();
    const port = ports[0]!.port1;
    const samples = new Int16Array([1, -2, 3]);
    port.receive({ type: 'mic', samples, ageMs: 12.5 });
    port.receive({ type: 'played', utterance: 3, ageMs: 4 });
    port.receive({ type: 'finished', utterance: 3, ageMs: 1, playedMs: 812 });
    expect(core.handler.audioUp.mock.calls.map(([message]) => message)).toEqual([
      { type: 'mic', samples, ageMs: 12.5 },
      { type: 'played', utterance: 3, ageMs: 4 },
      { type: 'finished', utterance: 3, ageMs: 1, playedMs: 812 },
    ]);
    const down: AudioDown = {
      type: 'audio',
      utterance: 3,
      samples: new Int16Array([5, 6]),
      sampleRate: 24000,
    };
    core.audioDown(down);
    core.audioDown({ type: 'clear', utterance: 3 });
    expect(port.posted).toEqual([down, { type: 'clear', utterance: 3 }]);
  });

  it('drops malformed audio messages with a counted warning', () => {
    const { core, ports, warnings } = setup();
    const port = ports[0]!.port1;
    const malformed: unknown[] = [
      null,
      'mic',
      42,
      {},
      { type: 'shout' },
      { type: 'mic', samples: [1, 2, 3], ageMs: 0 },
      { type: 'mic', samples: new Float32Array(3), ageMs: 0 },
      { type: 'mic', samples: new Int16Array(3).buffer, ageMs: 0 },
      { type: 'mic', samples: new Int16Array(3), ageMs: Number.NaN },
      { type: 'mic', samples: new Int16Array(3) },
      { type: 'mic', samples: new Int16Array(MAX_MIC_SAMPLES + 1), ageMs: 0 },
      { type: 'played', utterance: 1.5, ageMs: 0 },
      { type: 'played', utterance: '1', ageMs: 0 },
      { type: 'finished', utterance: 1, ageMs: 0 },
      { type: 'finished', utterance: 1, ageMs: 0, playedMs: -1 },
    ];
    for (const data of malformed) port.receive(data);
    expect(core.handler.audioUp).not.toHaveBeenCalled();
    expect(warnings).toHaveLength(2); // at the 1st and the 10th drop
    expect(warnings[0]).toMatch(/dropped 1 malformed audio message/);
    expect(warnings[1]).toMatch(/dropped 10 malformed audio message/);
  });

  it('rebuilds messages with their known fields only', () => {
    const samples = new Int16Array(4);
    expect(parseAudioUp({ type: 'mic', samples, ageMs: 3, extra: 'x' })).toEqual({
      type: 'mic',
      samples,
      ageMs: 3,
    });
    expect(parseAudioUp({ type: 'played', utterance: 2, ageMs: 1, evil: true })).toEqual({
      type: 'played',
      utterance: 2,
      ageMs: 1,
    });
  });

  it('drops AudioDown while no page holds a port', () => {
    const { core, ports } = setup({ load: false });
    expect(() => core.audioDown({ type: 'pause' })).not.toThrow();
    expect(ports).toHaveLength(0);
  });

  it('hands the port over at once when registered after the app page loaded', () => {
    const { win, ports } = setup({ alreadyLoaded: true });
    expect(ports).toHaveLength(1);
    expect(win.webContents.postedPorts).toHaveLength(1);
  });
});

describe('IPC carrier: microphone ports', () => {
  const mic = (value: number, extra: object = {}) => ({
    type: 'mic',
    samples: new Int16Array(320).fill(value),
    ageMs: 21.5,
    ...extra,
  });

  it('listens on its channel until unregistered', () => {
    const { ipcMain, unregister } = setup();
    expect(ipcMain.listeners.get(ipcChannel.micPort)).toHaveLength(1);
    unregister();
    expect(ipcMain.listeners.has(ipcChannel.micPort)).toBe(false);
  });

  it('takes a port from our page and passes its mic messages to the handler, rebuilt', () => {
    const { ipcMain, win, core, warnings } = setup();
    const port = new FakePort();
    ipcMain.post(ipcChannel.micPort, win.webContents, win.webContents.mainFrame, [port]);
    expect(port.started).toBe(true);
    expect(port.closed).toBe(false);
    const first = mic(1, { evil: true });
    port.receive(first);
    port.receive(mic(2));
    expect(core.handler.audioUp.mock.calls.map(([message]) => message)).toEqual([
      { type: 'mic', samples: first.samples, ageMs: 21.5 },
      { type: 'mic', samples: new Int16Array(320).fill(2), ageMs: 21.5 },
    ]);
    expect(core.handler.audioUp.mock.calls[0]![0]).not.toHaveProperty('evil');
    // Nothing goes back on it.
    core.audioDown({ type: 'pause' });
    expect(port.posted).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('drops anything but mic on a microphone port, counted with the audio port drops', () => {
    const { ipcMain, win, core, ports, warnings } = setup();
    const port = new FakePort();
    ipcMain.post(ipcChannel.micPort, win.webContents, win.webContents.mainFrame, [port]);
    port.receive({ type: 'played', utterance: 1, ageMs: 2 });
    expect(core.handler.audioUp).not.toHaveBeenCalled();
    expect(warnings).toEqual([
      'cue: dropped 1 malformed audio message(s); latest: played on a microphone port',
    ]);
    port.receive({ type: 'finished', utterance: 1, ageMs: 2, playedMs: 3 });
    port.receive({ type: 'mic', samples: [1, 2], ageMs: 0 });
    for (let k = 0; k < 6; k++) ports[0]!.port1.receive({ type: 'shout' });
    expect(warnings).toHaveLength(1);
    port.receive(null);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toBe('cue: dropped 10 malformed audio message(s); latest: not an object');
    expect(core.handler.audioUp).not.toHaveBeenCalled();
    // Still open for good frames.
    port.receive(mic(4));
    expect(core.handler.audioUp).toHaveBeenCalledTimes(1);
  });

  const untrusted: [string, (win: FakeWindow) => { sender: unknown; frame: FrameLike | null }][] = [
    ['another URL', (win) => ({ sender: win.webContents, frame: new FakeFrame('https://evil.example/') })],
    [
      'a subframe of our page',
      (win) => ({ sender: win.webContents, frame: new FakeFrame(APP_URL, win.webContents.mainFrame, 7, 9) }),
    ],
    ['no frame', (win) => ({ sender: win.webContents, frame: null })],
    [
      'another web contents showing the app page',
      (win) => ({ sender: new FakeContents(APP_URL), frame: win.webContents.mainFrame }),
    ],
  ];
  for (const [label, make] of untrusted) {
    it(`refuses a port from ${label} and closes it`, () => {
      const { ipcMain, win, core, warnings } = setup();
      const { sender, frame } = make(win);
      const port = new FakePort();
      const extra = new FakePort();
      ipcMain.post(ipcChannel.micPort, sender, frame, [port, extra]);
      expect(port.closed).toBe(true);
      expect(extra.closed).toBe(true);
      expect(port.started).toBe(false);
      expect(port.listeners).toEqual([]);
      port.receive(mic(1));
      expect(core.handler.audioUp).not.toHaveBeenCalled();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^cue: refused a microphone port from /);
    });
  }

  it('refuses a port once the window is destroyed', () => {
    const { ipcMain, win, warnings } = setup();
    win.destroyed = true;
    const port = new FakePort();
    ipcMain.post(ipcChannel.micPort, win.webContents, win.webContents.mainFrame, [port]);
    expect(port.closed).toBe(true);
    expect(port.started).toBe(false);
    expect(warnings).toHaveLength(1);
  });

  it('ignores a trusted message without a port', () => {
    const { ipcMain, win, warnings } = setup();
    expect(() =>
      ipcMain.post(ipcChannel.micPort, win.webContents, win.webContents.mainFrame, []),
    ).not.toThrow();
    expect(warnings).toEqual([]);
  });

  it('keeps a port the new page asked for before its load finished, forgets a port the page closed, and ignores in-page navigations', () => {
    const { ipcMain, win } = setup();
    const old = new FakePort();
    ipcMain.post(ipcChannel.micPort, win.webContents, win.webContents.mainFrame, [old]);
    win.webContents.navigate({ isMainFrame: false, isSameDocument: false });
    win.webContents.navigate({ isMainFrame: true, isSameDocument: true });
    expect(old.closed).toBe(false);
    win.webContents.navigate();
    expect(old.closed).toBe(true);
    // The new page asks for its port while it is still loading.
    const early = new FakePort();
    ipcMain.post(ipcChannel.micPort, win.webContents, win.webContents.mainFrame, [early]);
    win.webContents.finishLoad();
    expect(early.closed).toBe(false);
    // A port the page lets go of is forgotten: the next navigation does not close it again.
    early.closedByPeer();
    early.closed = false;
    win.webContents.navigate();
    expect(early.closed).toBe(false);
  });

  it('closes the ports of a page when it loads again, and all of them when unregistered', () => {
    const { ipcMain, win, ports, unregister } = setup();
    const a = new FakePort();
    const b = new FakePort();
    ipcMain.post(ipcChannel.micPort, win.webContents, win.webContents.mainFrame, [a]);
    ipcMain.post(ipcChannel.micPort, win.webContents, win.webContents.mainFrame, [b]);
    expect([a.closed, b.closed]).toEqual([false, false]);
    win.webContents.load();
    expect([a.closed, b.closed]).toEqual([true, true]);
    // The audio port is handed over afresh as before.
    expect(ports).toHaveLength(2);
    expect(ports[0]!.port1.closed).toBe(true);
    expect(ports[1]!.port1.closed).toBe(false);
    const c = new FakePort();
    ipcMain.post(ipcChannel.micPort, win.webContents, win.webContents.mainFrame, [c]);
    expect(c.started).toBe(true);
    expect(c.closed).toBe(false);
    unregister();
    expect(c.closed).toBe(true);
    expect(ports[1]!.port1.closed).toBe(true);
  });
});
