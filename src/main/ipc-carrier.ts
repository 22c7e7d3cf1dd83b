/**
 * The contract over Electron IPC, main side (the preload is the other end).
 *
 * - Requests: one `ipcMain.handle` per request name of the contract, on ipcChannel.request(name).
 *   Every handler first checks who is asking: the sending web contents must be our window's,
 *   and `isTrustedSender(event.senderFrame)` must hold (in the app: the main frame of our window
 *   showing the app's own page, see shell/app-origin.ts). Anything else is refused with an error
 *   and never reaches the handler. The raw payload goes to `handler.request`, which validates it.
 * - Events: `webContents.send(ipcChannel.event, name, payload)`, to our window only, and only
 *   while it shows the app's page; the VAD trace's per-frame events go in `timeline:batch`
 *   events at most ~100 ms apart, everything else at once and in order (app/timeline-batcher.ts).
 * - Audio: a MessageChannelMain per page load. After each load of the app's page, one port goes
 *   to the renderer (`webContents.postMessage(ipcChannel.audioPort, null, [port])`); the other
 *   stays here. AudioUp messages are checked field by field and rebuilt (malformed ones are
 *   dropped, counted, with a warning at the 1st, 10th, 100th… drop); AudioDown messages are
 *   posted as they come. Int16Array samples cross by structured clone (the renderer transfers
 *   its buffers; MessagePortMain can only transfer ports, so main → renderer samples are copied).
 * - Microphone ports: the page asks its preload for a port of its own for its capture worker
 *   (or worklet), whose other end arrives here on ipcChannel.micPort (`ipcRenderer.postMessage`),
 *   checked like a request (our window, a trusted frame). It carries `mic` messages only, checked
 *   as above;
 *   so the 50 frames a second go from the capture thread to main without the page's main thread.
 *   Ports of a page are closed when the window navigates away from it (a reload included) and
 *   when the carrier is removed; a port the page closes is forgotten.
 *
 * Register once the window exists and call the returned function when it closes: it removes
 * the handlers, the subscriptions and the port.
 *
 * No Electron import: everything Electron comes in through the options (tests pass fakes).
 */
import type { AudioDown, AudioUp } from '../shared/contract';
import { REQUEST_NAMES, ipcChannel, isEventName } from '../shared/contract-names';
import { subscribeBatched, type TimelineBatchOptions } from './app/timeline-batcher';
import type { ContractHandler } from './app/types';
import type { FrameLike } from './shell/app-origin';

export interface IpcInvokeEventLike {
  readonly sender: unknown;
  readonly senderFrame: FrameLike | null;
}

/** An `ipcRenderer.postMessage` as main receives it (Electron's IpcMainEvent). */
export interface IpcPortEventLike extends IpcInvokeEventLike {
  readonly ports: readonly MessagePortLike[];
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
  on(channel: string, listener: (event: IpcPortEventLike, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: IpcPortEventLike, ...args: unknown[]) => void): unknown;
}

export interface MessagePortLike {
  on(event: 'message', listener: (messageEvent: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  postMessage(message: unknown): void;
  start(): void;
  close(): void;
}

export interface WebContentsLike {
  readonly mainFrame: FrameLike;
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
  postMessage(channel: string, message: unknown, transfer?: MessagePortLike[]): void;
  on(event: 'did-finish-load', listener: () => void): unknown;
  removeListener(event: 'did-finish-load', listener: () => void): unknown;
  on(event: 'did-start-navigation', listener: (details: NavigationDetailsLike) => void): unknown;
  removeListener(event: 'did-start-navigation', listener: (details: NavigationDetailsLike) => void): unknown;
}

/** What `did-start-navigation` tells (Electron's details event). */
export interface NavigationDetailsLike {
  readonly isMainFrame: boolean;
  readonly isSameDocument: boolean;
}

export interface WindowLike {
  readonly webContents: WebContentsLike;
  isDestroyed(): boolean;
}

export interface IpcCarrierOptions {
  ipcMain: IpcMainLike;
  handler: ContractHandler;
  /** The sender check applied to every request, and to our own page before events and audio go to it. */
  isTrustedSender(frame: FrameLike | null): boolean;
  getWindow(): WindowLike | null | undefined;
  /** `() => new MessageChannelMain()` in the app. */
  createMessageChannel(): { port1: MessagePortLike; port2: MessagePortLike };
  warn?: (message: string) => void;
  /** How the VAD trace is batched (tests: a virtual clock). */
  timelineBatch?: TimelineBatchOptions;
}

/** The longest mic message accepted: 10 s at 16 kHz (the renderer sends frames of a few tens of ms). */
export const MAX_MIC_SAMPLES = 160_000;

/** Checks an AudioUp message from the renderer; returns a fresh message, or why it is malformed. */
export function parseAudioUp(data: unknown): AudioUp | string {
  if (typeof data !== 'object' || data === null) return 'not an object';
  const message = data as Record<string, unknown>;
  const finite = (field: string): number | undefined => {
    const value = message[field];
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  };
  const utterance = (): number | undefined => {
    const value = message.utterance;
    return Number.isInteger(value) && (value as number) >= -0x8000_0000 && (value as number) <= 0x7fff_ffff
      ? (value as number)
      : undefined;
  };
  switch (message.type) {
    case 'mic': {
      const samples = message.samples;
      const ageMs = finite('ageMs');
      if (!(samples instanceof Int16Array)) return 'mic: samples must be an Int16Array';
      if (samples.length > MAX_MIC_SAMPLES) return `mic: more than ${MAX_MIC_SAMPLES} samples`;
      if (ageMs === undefined) return 'mic: ageMs must be a finite number';
      return { type: 'mic', samples, ageMs };
    }
    case 'played': {
      const u = utterance();
      const ageMs = finite('ageMs');
      if (u === undefined) return 'played: utterance must be a 32-bit integer';
      if (ageMs === undefined) return 'played: ageMs must be a finite number';
      return { type: 'played', utterance: u, ageMs };
    }
    case 'finished': {
      const u = utterance();
      const ageMs = finite('ageMs');
      const playedMs = finite('playedMs');
      if (u === undefined) return 'finished: utterance must be a 32-bit integer';
      if (ageMs === undefined) return 'finished: ageMs must be a finite number';
      if (playedMs === undefined || playedMs < 0) return 'finished: playedMs must be a non-negative number';
      return { type: 'finished', utterance: u, ageMs, playedMs };
    }
    default:
      return `unknown type ${JSON.stringify(String(message.type))}`;
  }
}

export function registerIpcCarrier(options: IpcCarrierOptions): () => void {
  const { ipcMain, handler, isTrustedSender, getWindow } = options;
  const warn = options.warn ?? ((message: string) => console.warn(message));

  const usableWindow = (): WindowLike | undefined => {
    const win = getWindow();
    if (!win || win.isDestroyed() || win.webContents.isDestroyed()) return undefined;
    return win;
  };
  /** Our window, when it shows the app's page. */
  const appPage = (): WebContentsLike | undefined => {
    const contents = usableWindow()?.webContents;
    return contents && isTrustedSender(contents.mainFrame) ? contents : undefined;
  };

  // ---------- requests ----------
  const channels: string[] = [];
  for (const name of REQUEST_NAMES) {
    const channel = ipcChannel.request(name);
    ipcMain.handle(channel, (event, payload) => {
      const win = usableWindow();
      if (!win || event.sender !== win.webContents || !isTrustedSender(event.senderFrame)) {
        warn(`cue: refused request "${name}" from ${describeFrame(event.senderFrame)}`);
        throw new Error(`request "${name}" refused: it did not come from the app window`);
      }
      return handler.request(name, payload);
    });
    channels.push(channel);
  }

  // ---------- events ----------
  const unsubscribeEvents = subscribeBatched(
    handler,
    (name, payload) => {
      if (!isEventName(name)) return;
      appPage()?.send(ipcChannel.event, name, payload);
    },
    options.timelineBatch,
  );

  // ---------- audio ----------
  let port: MessagePortLike | undefined;
  let dropped = 0;

  /** Counts a dropped audio message, with a warning at the 1st, 10th, 100th… */
  const drop = (why: string): void => {
    dropped += 1;
    if (isPowerOfTen(dropped)) warn(`cue: dropped ${dropped} malformed audio message(s); latest: ${why}`);
  };

  const onAudioMessage = (messageEvent: { data: unknown }): void => {
    const parsed = parseAudioUp(messageEvent.data);
    if (typeof parsed === 'string') drop(parsed);
    else handler.audioUp(parsed);
  };

  const closePort = (): void => {
    port?.close();
    port = undefined;
  };

  const connectAudio = (): void => {
    closePort();
    const contents = appPage();
    if (!contents) return;
    const channel = options.createMessageChannel();
    channel.port1.on('message', onAudioMessage);
    channel.port1.start();
    port = channel.port1;
    contents.postMessage(ipcChannel.audioPort, null, [channel.port2]);
  };

  const unsubscribeAudio = handler.onAudioDown((message: AudioDown) => {
    port?.postMessage(message);
  });

  // ---------- microphone ports ----------
  const micPorts = new Set<MessagePortLike>();
  const closeMicPorts = (): void => {
    for (const micPort of micPorts) micPort.close();
    micPorts.clear();
  };
  const onMicMessage = (messageEvent: { data: unknown }): void => {
    const parsed = parseAudioUp(messageEvent.data);
    if (typeof parsed === 'string') drop(parsed);
    else if (parsed.type !== 'mic') drop(`${parsed.type} on a microphone port`);
    else handler.audioUp(parsed);
  };
  const onMicPort = (event: IpcPortEventLike): void => {
    const win = usableWindow();
    const micPort = event.ports[0];
    if (!win || event.sender !== win.webContents || !isTrustedSender(event.senderFrame)) {
      warn(`cue: refused a microphone port from ${describeFrame(event.senderFrame)}`);
      for (const refused of event.ports) refused.close();
      return;
    }
    // One port per message; any other is not ours to keep.
    for (const extra of event.ports.slice(1)) extra.close();
    if (!micPort) return;
    micPort.on('message', onMicMessage);
    micPort.on('close', () => micPorts.delete(micPort));
    micPort.start();
    micPorts.add(micPort);
  };
  ipcMain.on(ipcChannel.micPort, onMicPort);

  // A page that goes away takes its microphone ports with it (not at the next load's end: the
  // new page may have asked for its own by then).
  const onNavigation = (details: NavigationDetailsLike): void => {
    if (details.isMainFrame && !details.isSameDocument) closeMicPorts();
  };
  const contents = usableWindow()?.webContents;
  contents?.on('did-finish-load', connectAudio);
  contents?.on('did-start-navigation', onNavigation);
  // Registered after the page has loaded: hand over the port now.
  if (contents && isTrustedSender(contents.mainFrame)) connectAudio();

  let registered = true;
  return () => {
    if (!registered) return;
    registered = false;
    for (const channel of channels) ipcMain.removeHandler(channel);
    ipcMain.removeListener(ipcChannel.micPort, onMicPort);
    unsubscribeEvents();
    unsubscribeAudio();
    if (contents && !contents.isDestroyed()) {
      contents.removeListener('did-finish-load', connectAudio);
      contents.removeListener('did-start-navigation', onNavigation);
    }
    closePort();
    closeMicPorts();
  };
}

function isPowerOfTen(n: number): boolean {
  while (n >= 10 && n % 10 === 0) n /= 10;
  return n === 1;
}

function describeFrame(frame: FrameLike | null): string {
  if (!frame) return 'an unknown frame';
  let url = frame.url;
  if (url.length > 120) url = `${url.slice(0, 120)}…`;
  return `${frame.parent ? 'a subframe' : 'a main frame'} at ${JSON.stringify(url)}`;
}
