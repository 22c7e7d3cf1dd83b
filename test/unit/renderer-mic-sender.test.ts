/**
 * What the browser's mic worker does (src/renderer/src/platform/mic-sender.ts), against a fake
 * socket, fake ports and a timer queue driven by hand: frames sent while the socket is open,
 * dropped otherwise, malformed ones counted, reconnects with backoff, none after close code 4000.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  createMicSender,
  MIC_RECONNECT_INITIAL_MS,
  MIC_RECONNECT_MAX_MS,
  type MicSender,
  type MicSenderPort,
  type MicSenderSocket,
} from '../../src/renderer/src/platform/mic-sender';
import { decodeAudioUp, encodeAudioUp } from '../../src/shared/audio-wire';
import type { AudioUp } from '../../src/shared/contract';

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;
const URL_A = 'ws://127.0.0.1:5173/bridge/mic?token=abc';
const URL_B = 'ws://127.0.0.1:5174/bridge/mic?token=def';

class FakeSocket implements MicSenderSocket {
  readyState = CONNECTING;
  readonly sent: (ArrayBuffer | Uint8Array)[] = [];
  readonly closes: { code?: number; reason?: string }[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: ArrayBuffer | Uint8Array): void {
    if (this.readyState !== OPEN) throw new Error('InvalidStateError: not open');
    this.sent.push(data);
  }
  /** As the browser's: the close event comes later (see `closed`). */
  close(code?: number, reason?: string): void {
    this.closes.push({ code, reason });
    this.readyState = 2;
  }
  /** The server accepted it. */
  open(): void {
    this.readyState = OPEN;
    this.onopen?.({});
  }
  /** The connection ended (refused, dropped, or closed by the server with `code`). */
  closed(code: number): void {
    this.readyState = CLOSED;
    this.onerror?.({});
    this.onclose?.({ code });
  }
}

class FakePort implements MicSenderPort {
  started = false;
  private readonly listeners: ((event: { data: unknown }) => void)[] = [];
  addEventListener(_type: 'message', listener: (event: { data: unknown }) => void): void {
    this.listeners.push(listener);
  }
  start(): void {
    this.started = true;
  }
  /** The capture worklet posts a message. */
  post(data: unknown): void {
    for (const listener of this.listeners) listener({ data });
  }
}

interface Timer {
  fn: () => void;
  ms: number;
  cleared: boolean;
}

function setup() {
  const sockets: FakeSocket[] = [];
  const timers: Timer[] = [];
  const encoded: AudioUp[] = [];
  let failCreate = false;
  const sender: MicSender = createMicSender({
    createSocket: (url) => {
      if (failCreate) throw new Error('SyntaxError: bad URL');
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    encode: (message) => {
      encoded.push(message);
      return encodeAudioUp(message);
    },
    setTimer: (fn, ms) => {
      const timer: Timer = { fn, ms, cleared: false };
      timers.push(timer);
      return timer;
    },
    clearTimer: (timer) => {
      (timer as Timer).cleared = true;
    },
  });
  const ran = new Set<Timer>();
  /** Timers scheduled and neither run nor cleared. */
  const pending = () => timers.filter((t) => !t.cleared && !ran.has(t));
  /** Runs the one pending timer; returns its delay. */
  const fire = (): number => {
    const due = pending();
    expect(due).toHaveLength(1);
    ran.add(due[0]!);
    due[0]!.fn();
    return due[0]!.ms;
  };
  return {
    sender,
    sockets,
    timers,
    encoded,
    pending,
    fire,
    last: () => sockets.at(-1)!,
    failCreate: (on: boolean) => (failCreate = on),
  };
}

const frame = (value: number, ageMs = 20.5) => ({
  type: 'mic' as const,
  samples: new Int16Array(320).fill(value),
  ageMs,
});

describe('mic sender: frames', () => {
  it('sends each valid frame, encoded, while the socket is open', () => {
    const { sender, sockets, encoded } = setup();
    sender.connect(URL_A);
    expect(sockets.map((s) => s.url)).toEqual([URL_A]);
    const port = new FakePort();
    sender.addPort(port);
    expect(port.started).toBe(true);
    sockets[0]!.open();
    port.post(frame(7));
    port.post({ ...frame(-3, 41.25), extra: 'not sent' });
    expect(sockets[0]!.sent).toHaveLength(2);
    expect(sockets[0]!.sent.map((bytes) => decodeAudioUp(bytes))).toEqual([frame(7), frame(-3, 41.25)]);
    // The frame is rebuilt from its known fields before it is encoded.
    expect(encoded[1]).toEqual(frame(-3, 41.25));
    expect(encoded[1]).not.toHaveProperty('extra');
    expect(sender.counts).toEqual({ sent: 2, dropped: 0, malformed: 0 });
  });

  it('sends the frames of every port on the one socket', () => {
    const { sender, sockets } = setup();
    sender.connect(URL_A);
    const first = new FakePort();
    const second = new FakePort();
    sender.addPort(first);
    sender.addPort(second);
    sockets[0]!.open();
    first.post(frame(1));
    second.post(frame(2));
    first.post(frame(3));
    expect(sockets).toHaveLength(1);
    expect(
      sockets[0]!.sent.map((bytes) => (decodeAudioUp(bytes) as { samples: Int16Array }).samples[0]),
    ).toEqual([1, 2, 3]);
  });

  it('send: a frame handed over directly (the capture worker) goes the same way as a port message', () => {
    const { sender, sockets } = setup();
    sender.send(frame(9));
    sender.connect(URL_A);
    sockets[0]!.open();
    sender.send(frame(4, 12.5));
    sender.send({ type: 'mic', samples: [1, 2] });
    expect(sockets[0]!.sent.map((bytes) => decodeAudioUp(bytes))).toEqual([frame(4, 12.5)]);
    expect(sender.counts).toEqual({ sent: 1, dropped: 1, malformed: 1 });
  });

  it('drops frames while connecting, after the socket closed, and before any connect', () => {
    const { sender, sockets, pending } = setup();
    const port = new FakePort();
    sender.addPort(port);
    port.post(frame(1));
    expect(sender.counts).toEqual({ sent: 0, dropped: 1, malformed: 0 });
    sender.connect(URL_A);
    port.post(frame(2));
    expect(sender.counts).toEqual({ sent: 0, dropped: 2, malformed: 0 });
    sockets[0]!.open();
    port.post(frame(3));
    sockets[0]!.closed(1006);
    port.post(frame(4));
    port.post(frame(5));
    expect(sender.counts).toEqual({ sent: 1, dropped: 4, malformed: 0 });
    expect(sockets[0]!.sent.map((bytes) => decodeAudioUp(bytes))).toEqual([frame(3)]);
    expect(pending()).toHaveLength(1);
  });

  it('counts malformed messages and sends none of them', () => {
    const { sender, sockets } = setup();
    sender.connect(URL_A);
    sockets[0]!.open();
    const port = new FakePort();
    sender.addPort(port);
    const malformed: unknown[] = [
      null,
      undefined,
      'mic',
      42,
      {},
      { type: 'played', utterance: 1, ageMs: 2 },
      { type: 'frame', samples: new Int16Array(320), time: 1 },
      { type: 'mic', samples: [1, 2, 3], ageMs: 1 },
      { type: 'mic', samples: new Float32Array(320), ageMs: 1 },
      { type: 'mic', samples: new Int16Array(320).buffer, ageMs: 1 },
      { type: 'mic', samples: new Int16Array(320) },
      { type: 'mic', samples: new Int16Array(320), ageMs: '1' },
      { type: 'mic', samples: new Int16Array(320), ageMs: Number.NaN },
      { type: 'mic', samples: new Int16Array(320), ageMs: Number.POSITIVE_INFINITY },
    ];
    for (const data of malformed) port.post(data);
    expect(sockets[0]!.sent).toEqual([]);
    expect(sender.counts).toEqual({ sent: 0, dropped: 0, malformed: malformed.length });
    // Malformed while closed is still malformed, not dropped.
    sockets[0]!.closed(1006);
    port.post({ type: 'mic' });
    expect(sender.counts).toEqual({ sent: 0, dropped: 0, malformed: malformed.length + 1 });
  });
});

describe('mic sender: the connection', () => {
  it('reconnects with backoff (250 ms doubling up to 5 s), from the start again after a success', () => {
    const { sender, sockets, fire, pending } = setup();
    expect([MIC_RECONNECT_INITIAL_MS, MIC_RECONNECT_MAX_MS]).toEqual([250, 5_000]);
    sender.connect(URL_A);
    const delays: number[] = [];
    for (let attempt = 0; attempt < 7; attempt++) {
      // Refused before it opened.
      sockets.at(-1)!.closed(1006);
      expect(sockets).toHaveLength(attempt + 1);
      delays.push(fire());
      expect(sockets).toHaveLength(attempt + 2);
      expect(sockets.at(-1)!.url).toBe(URL_A);
    }
    expect(delays).toEqual([250, 500, 1_000, 2_000, 4_000, 5_000, 5_000]);
    // It opens, frames flow, then it drops: the next attempt comes after 250 ms again.
    const port = new FakePort();
    sender.addPort(port);
    sockets.at(-1)!.open();
    port.post(frame(1));
    expect(sockets.at(-1)!.sent).toHaveLength(1);
    sockets.at(-1)!.closed(1001);
    expect(pending().map((t) => t.ms)).toEqual([250]);
    fire();
    expect(sockets).toHaveLength(9);
    sockets.at(-1)!.open();
    port.post(frame(2));
    expect(decodeAudioUp(sockets.at(-1)!.sent[0]!)).toEqual(frame(2));
  });

  it('retries with backoff when the socket cannot even be created', () => {
    const { sender, sockets, fire, failCreate } = setup();
    failCreate(true);
    sender.connect(URL_A);
    expect(sockets).toEqual([]);
    expect(fire()).toBe(250);
    expect(fire()).toBe(500);
    failCreate(false);
    expect(fire()).toBe(1_000);
    expect(sockets.map((s) => s.url)).toEqual([URL_A]);
  });

  it('does not come back after close code 4000 (the page was replaced), until told to connect', () => {
    const { sender, sockets, pending } = setup();
    sender.connect(URL_A);
    sockets[0]!.open();
    const port = new FakePort();
    sender.addPort(port);
    sockets[0]!.closed(4000);
    expect(pending()).toEqual([]);
    port.post(frame(1));
    expect(sender.counts.dropped).toBe(1);
    expect(sockets).toHaveLength(1);
    sender.connect(URL_A);
    expect(sockets).toHaveLength(2);
    sockets[1]!.open();
    port.post(frame(2));
    expect(sender.counts.sent).toBe(1);
  });

  it('connect with another URL moves to it; the same URL again changes nothing', () => {
    const { sender, sockets, pending } = setup();
    sender.connect(URL_A);
    sockets[0]!.open();
    sender.connect(URL_A);
    expect(sockets).toHaveLength(1);
    sender.connect(URL_B);
    expect(sockets.map((s) => s.url)).toEqual([URL_A, URL_B]);
    expect(sockets[0]!.closes).toEqual([{ code: 1000, reason: 'reconnecting' }]);
    // The old socket's close event, when it comes, does not schedule anything.
    sockets[0]!.closed(1000);
    expect(pending()).toEqual([]);
    // A pending reconnect is replaced, not doubled.
    sockets[1]!.closed(1006);
    expect(pending()).toHaveLength(1);
    const waiting = pending()[0]!;
    sender.connect(URL_A);
    expect(waiting.cleared).toBe(true);
    expect(sockets.map((s) => s.url)).toEqual([URL_A, URL_B, URL_A]);
    expect(pending()).toEqual([]);
  });

  it('close: closes the socket, cancels a reconnect, drops what comes after', () => {
    const { sender, sockets, pending, timers } = setup();
    sender.connect(URL_A);
    sockets[0]!.open();
    const port = new FakePort();
    sender.addPort(port);
    sender.close();
    expect(sockets[0]!.closes).toEqual([{ code: 1000, reason: 'closed by the page' }]);
    sockets[0]!.closed(1000);
    expect(timers).toEqual([]);
    port.post(frame(1));
    expect(sender.counts).toEqual({ sent: 0, dropped: 1, malformed: 0 });

    // Closed while waiting to reconnect: the timer is cleared.
    const other = setup();
    other.sender.connect(URL_A);
    other.sockets[0]!.closed(1006);
    const waiting = other.pending()[0]!;
    other.sender.close();
    expect(waiting.cleared).toBe(true);
    expect(other.pending()).toEqual([]);
    expect(other.sockets).toHaveLength(1);
    expect(pending()).toEqual([]);
  });
});

describe('mic sender: encode', () => {
  it('is given exactly the AudioUp it sends', () => {
    const encode = vi.fn((message: AudioUp) => encodeAudioUp(message));
    const socket = new FakeSocket(URL_A);
    const sender = createMicSender({
      createSocket: () => socket,
      encode,
      setTimer: () => 0,
      clearTimer: () => undefined,
    });
    sender.connect(URL_A);
    socket.open();
    const port = new FakePort();
    sender.addPort(port);
    const samples = new Int16Array([1, 2, 3]);
    port.post({ type: 'mic', samples, ageMs: 3 });
    expect(encode).toHaveBeenCalledTimes(1);
    expect(encode.mock.calls[0]![0]).toEqual({ type: 'mic', samples, ageMs: 3 });
    expect(encode.mock.calls[0]![0].type === 'mic' && encode.mock.calls[0]![0].samples).toBe(samples);
  });
});

describe('mic worker (the Worker entry)', () => {
  /** The browser's WebSocket, as far as the worker uses it. */
  class FakeWebSocket extends FakeSocket {
    static readonly made: FakeWebSocket[] = [];
    binaryType = 'blob';
    constructor(url: string) {
      super(url);
      FakeWebSocket.made.push(this);
    }
  }

  it('connects where the page says, sends the frames of the ports it is given, reconnects with backoff', async () => {
    vi.useFakeTimers();
    vi.stubGlobal('WebSocket', FakeWebSocket);
    const toPage: unknown[] = [];
    vi.stubGlobal('postMessage', (message: unknown) => toPage.push(message));
    const scope = globalThis as unknown as { onmessage: ((event: unknown) => void) | null };
    const before = scope.onmessage;
    try {
      await import('../../src/renderer/src/platform/mic-worker');
      const onmessage = scope.onmessage!;
      expect(typeof onmessage).toBe('function');
      // Anything but connect and port is ignored.
      onmessage({ data: { type: 'connect' }, ports: [] });
      onmessage({ data: null, ports: [] });
      onmessage({ data: { type: 'port' }, ports: [] });
      expect(FakeWebSocket.made).toEqual([]);
      onmessage({ data: { type: 'connect', url: URL_A }, ports: [] });
      expect(FakeWebSocket.made.map((s) => [s.url, s.binaryType])).toEqual([[URL_A, 'arraybuffer']]);
      const port = new FakePort();
      onmessage({ data: { type: 'port' }, ports: [port] });
      expect(port.started).toBe(true);
      const socket = FakeWebSocket.made[0]!;
      expect(toPage).toEqual([]);
      socket.open();
      // The page hears that the socket is open (it hands out ports only then).
      expect(toPage).toEqual([{ type: 'state', open: true }]);
      port.post(frame(9));
      expect(socket.sent.map((bytes) => decodeAudioUp(bytes))).toEqual([frame(9)]);
      socket.closed(1006);
      expect(toPage).toEqual([
        { type: 'state', open: true },
        { type: 'state', open: false },
      ]);
      vi.advanceTimersByTime(249);
      expect(FakeWebSocket.made).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(FakeWebSocket.made).toHaveLength(2);
      expect(FakeWebSocket.made[1]!.url).toBe(URL_A);
    } finally {
      scope.onmessage = before;
      vi.unstubAllGlobals();
      vi.useRealTimers();
    }
  });
});
