/**
 * What the mic worker does, without the worker (tests drive it with fakes): one socket to the
 * bridge's mic endpoint, any number of ports the capture worklet posts `mic` messages on (or the
 * frames the capture worker hands it), each valid frame encoded and sent while the socket is
 * open, dropped while it is not.
 */
import type { AudioUp } from '../../../shared/contract';
import { CLOSE_REPLACED, reconnectDelayMs } from './reconnect';

export const MIC_RECONNECT_INITIAL_MS = 250;
export const MIC_RECONNECT_MAX_MS = 5_000;
const OPEN = 1;

export interface MicSenderSocket {
  readonly readyState: number;
  send(data: ArrayBuffer | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export interface MicSenderPort {
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  start(): void;
}

export interface MicSenderDeps {
  createSocket(url: string): MicSenderSocket;
  encode(message: AudioUp): ArrayBuffer | Uint8Array;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
  /** The socket opened (true) or closed (false). */
  onState?(open: boolean): void;
}

export interface MicSender {
  /** Opens (or re-targets) the socket. */
  connect(url: string): void;
  /** Sends what the capture worklet posts on `port`. */
  addPort(port: MicSenderPort): void;
  /** Sends one frame (as a port message would bring it). */
  send(frame: unknown): void;
  /** Frames sent and dropped so far (diagnostics, tests). */
  readonly counts: { sent: number; dropped: number; malformed: number };
  close(): void;
}

export function createMicSender(deps: MicSenderDeps): MicSender {
  let url: string | null = null;
  let socket: MicSenderSocket | null = null;
  let timer: unknown = null;
  let failures = 0;
  let stopped = false;
  const counts = { sent: 0, dropped: 0, malformed: 0 };

  const open = (): void => {
    if (stopped || !url) return;
    let ws: MicSenderSocket;
    try {
      ws = deps.createSocket(url);
    } catch {
      retry();
      return;
    }
    socket = ws;
    ws.onopen = () => {
      if (socket !== ws) return;
      failures = 0;
      deps.onState?.(true);
    };
    ws.onerror = () => {
      // The close event follows.
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      deps.onState?.(false);
      if (event.code === CLOSE_REPLACED) stopped = true;
      else retry();
    };
  };

  const retry = (): void => {
    if (stopped || timer !== null) return;
    const delay = reconnectDelayMs(failures++, MIC_RECONNECT_INITIAL_MS, MIC_RECONNECT_MAX_MS);
    timer = deps.setTimer(() => {
      timer = null;
      open();
    }, delay);
  };

  const onFrame = (data: unknown): void => {
    const message = data as { type?: unknown; samples?: unknown; ageMs?: unknown } | null;
    if (
      message?.type !== 'mic' ||
      !(message.samples instanceof Int16Array) ||
      typeof message.ageMs !== 'number' ||
      !Number.isFinite(message.ageMs)
    ) {
      counts.malformed++;
      return;
    }
    if (!socket || socket.readyState !== OPEN) {
      counts.dropped++;
      return;
    }
    socket.send(deps.encode({ type: 'mic', samples: message.samples, ageMs: message.ageMs }));
    counts.sent++;
  };

  return {
    connect(next) {
      if (next === url && socket) return;
      url = next;
      stopped = false;
      const previous = socket;
      socket = null;
      previous?.close(1000, 'reconnecting');
      if (timer !== null) {
        deps.clearTimer(timer);
        timer = null;
      }
      open();
    },
    addPort(port) {
      port.addEventListener('message', (event) => onFrame(event.data));
      port.start();
    },
    send: onFrame,
    counts,
    close() {
      stopped = true;
      if (timer !== null) deps.clearTimer(timer);
      timer = null;
      const ws = socket;
      socket = null;
      ws?.close(1000, 'closed by the page');
    },
  };
}
