/**
 * The contract (CueApi) over the local WebSocket bridge (src/main/bridge/ws-bridge.ts), for the
 * renderer running in an ordinary browser. Text frames carry requests, responses and events as
 * JSON; binary frames carry the audio channel (src/shared/audio-wire.ts).
 *
 * - Requests get an id and wait in a pending map; each fails after 15 s without an answer.
 *   Requests made while the connection is down are queued and sent when it is back (the
 *   timeout still counts); requests in flight when it drops fail at once, since nobody can
 *   tell whether main handled them.
 * - Microphone audio while disconnected is dropped (it is real time). With `createMicWorker`,
 *   `openMicPort()` gives ports to a Worker that holds a second socket, to the bridge's mic
 *   endpoint (`/bridge/mic`), so the capture worklet's frames reach main without the page's
 *   main thread (platform/mic-worker.ts); `micSocketUrl()` gives that endpoint's address to the
 *   capture worker, which opens a socket there itself.
 * - A dropped connection is re-opened with exponential backoff; listeners of 'notice' hear
 *   that it was lost and that it is back, and 'state' listeners get a fresh app state.
 *   A connection replaced by a newer one (another tab, close code 4000) does not reconnect.
 */
import { decodeAudioDown, encodeAudioUp } from '../../../shared/audio-wire';
import type {
  AudioDown,
  AudioUp,
  CueApi,
  EventName,
  Events,
  Notice,
  RequestName,
  RequestPayload,
  Response,
} from '../../../shared/contract';
import { CLOSE_REPLACED, reconnectDelayMs } from './reconnect';

export const REQUEST_TIMEOUT_MS = 15_000;
/** A replay of a long recording runs the engine over all of it (an hour takes tens of seconds). */
export const REPLAY_TIMEOUT_MS = 300_000;
export const RECONNECT_INITIAL_MS = 250;
export const RECONNECT_MAX_MS = 5_000;
/** After this many failed reconnect attempts in a row the user is told what to do. */
const ATTEMPTS_BEFORE_HELP = 5;
/** Where the bridge listens on the page's server. */
const BRIDGE_PATH = '/bridge';

/** The part of the WebSocket API the client uses: the browser's WebSocket (or `ws` in Node tests). */
export type WebSocketLike = Pick<
  WebSocket,
  'binaryType' | 'readyState' | 'send' | 'close' | 'onopen' | 'onmessage' | 'onclose' | 'onerror'
>;

export interface WebBridgeClientOptions {
  requestTimeoutMs?: number;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  /** Opens a socket (the browser's WebSocket by default). */
  createSocket?: (url: string) => WebSocketLike;
  /** Starts the mic worker (platform/mic-worker.ts); without it there is no `openMicPort`. */
  createMicWorker?: () => MicWorkerLike;
}

/** The part of a Worker the client uses. */
export interface MicWorkerLike {
  postMessage(message: unknown, transfer: Transferable[]): void;
  terminate(): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

/** How long `openMicPort` waits for the mic worker's socket before the page sends frames itself. */
export const MIC_OPEN_TIMEOUT_MS = 3_000;

/** The CueApi, plus a way to end the connection for good. */
export interface WebBridgeClient extends CueApi {
  readonly connected: boolean;
  /** Closes the connection without reconnecting; pending requests fail. */
  close(): void;
}

interface Pending {
  name: RequestName;
  frame: string;
  sent: boolean;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

type ServerFrame =
  | { kind: 'response'; id: number | string | null; ok: true; value: unknown }
  | { kind: 'response'; id: number | string | null; ok: false; error: string }
  | { kind: 'event'; name: EventName; payload: unknown };

const OPEN = 1;

/**
 * Connects to the bridge at `url` (ws://127.0.0.1:PORT/bridge, or the page's own http(s) address,
 * taken as its server's /bridge) with the run's token, and resolves once the first connection
 * is open; rejects if that first connection is refused or unreachable.
 */
export function connectWebBridge(
  url: string,
  token: string,
  options: WebBridgeClientOptions = {},
): Promise<WebBridgeClient> {
  const {
    requestTimeoutMs = REQUEST_TIMEOUT_MS,
    reconnectInitialMs = RECONNECT_INITIAL_MS,
    reconnectMaxMs = RECONNECT_MAX_MS,
    createSocket = (address: string) => new WebSocket(address),
  } = options;
  const address = new URL(url);
  if (address.protocol === 'http:' || address.protocol === 'https:') {
    // The page's address: its server's bridge.
    address.protocol = address.protocol === 'https:' ? 'wss:' : 'ws:';
    address.pathname = BRIDGE_PATH;
    address.search = '';
  }
  address.searchParams.set('token', token);
  // Names this page to the bridge: its reconnects are not another page taking over (which would
  // close this page's microphone socket).
  address.searchParams.set('page', randomPageId());
  const socketUrl = address.toString();
  const where = `${address.host}${address.pathname}`;
  const micAddress = new URL(socketUrl);
  micAddress.pathname = `${address.pathname.replace(/\/$/, '')}/mic`;
  const micUrl = micAddress.toString();
  let micWorker: MicWorkerLike | null = null;
  /** Whether the mic worker's socket is open; waiters hear when it opens or the worker fails. */
  let micOpen = false;
  let micFailed: Error | null = null;
  const micWaiters = new Set<(error: Error | null) => void>();
  const settleMicWaiters = (error: Error | null) => {
    for (const waiter of [...micWaiters]) waiter(error);
  };
  const startMicWorker = (create: () => MicWorkerLike): MicWorkerLike => {
    const worker = create();
    worker.addEventListener('message', (event) => {
      const data = event.data as { type?: unknown; open?: unknown } | null;
      if (data?.type !== 'state' || typeof data.open !== 'boolean') return;
      micOpen = data.open;
      if (micOpen) settleMicWaiters(null);
    });
    worker.addEventListener('error', () => {
      micFailed = new Error('the microphone worker failed to start');
      settleMicWaiters(micFailed);
    });
    worker.postMessage({ type: 'connect', url: micUrl }, []);
    return worker;
  };
  /** Resolves once the mic socket is open; rejects if the worker failed or it takes too long. */
  const micReady = (): Promise<void> => {
    if (micFailed) return Promise.reject(micFailed);
    if (micOpen) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        micWaiters.delete(waiter);
        reject(new Error(`the microphone socket did not open within ${MIC_OPEN_TIMEOUT_MS / 1000} s`));
      }, MIC_OPEN_TIMEOUT_MS);
      const waiter = (error: Error | null) => {
        clearTimeout(timer);
        micWaiters.delete(waiter);
        if (error) reject(error);
        else resolve();
      };
      micWaiters.add(waiter);
    });
  };

  const pending = new Map<number, Pending>();
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  const audioListeners = new Set<(message: AudioDown) => void>();
  let socket: WebSocketLike | null = null;
  let nextId = 1;
  let everOpened = false;
  let stopped = false;
  let failedAttempts = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;

  const emit = <E extends EventName>(name: E, payload: Events[E]): void => {
    for (const listener of [...(listeners.get(name) ?? [])]) {
      try {
        (listener as (p: Events[E]) => void)(payload);
      } catch (error) {
        console.error(`Cue: a "${name}" listener failed`, error);
      }
    }
  };
  const notice = (level: Notice['level'], message: string) => emit('notice', { level, message });

  const settle = (id: number): Pending | undefined => {
    const entry = pending.get(id);
    if (!entry) return undefined;
    pending.delete(id);
    clearTimeout(entry.timer);
    return entry;
  };

  const flush = () => {
    if (!socket || socket.readyState !== OPEN) return;
    for (const entry of pending.values()) {
      if (entry.sent) continue;
      entry.sent = true;
      socket.send(entry.frame);
    }
  };

  const failPending = (message: (name: RequestName) => string, onlySent: boolean) => {
    for (const [id, entry] of [...pending]) {
      if (onlySent && !entry.sent) continue;
      settle(id)?.reject(new Error(message(entry.name)));
    }
  };

  const receive = (data: unknown) => {
    if (typeof data !== 'string') {
      let message: AudioDown;
      try {
        message = decodeAudioDown(data as ArrayBuffer);
      } catch (error) {
        console.error('Cue: audio frame dropped:', (error as Error).message);
        return;
      }
      for (const listener of [...audioListeners]) {
        try {
          listener(message);
        } catch (error) {
          console.error('Cue: an audio listener failed', error);
        }
      }
      return;
    }
    let frame: ServerFrame;
    try {
      frame = JSON.parse(data) as ServerFrame;
    } catch {
      console.error('Cue: the bridge sent a frame that is not JSON');
      return;
    }
    if (frame.kind === 'event') {
      emit(frame.name, frame.payload as Events[typeof frame.name]);
    } else if (frame.kind === 'response') {
      const entry = typeof frame.id === 'number' ? settle(frame.id) : undefined;
      if (!entry) {
        if (!frame.ok) console.error(`Cue: the bridge refused a frame: ${frame.error}`);
        return;
      }
      if (frame.ok) entry.resolve(frame.value);
      else entry.reject(new Error(frame.error));
    }
  };

  const refreshState = () => {
    // After a reconnect the UI may have missed state events: hand it the current state.
    request('app:state', {}).then(
      (state) => emit('state', state),
      () => {},
    );
  };

  const scheduleReconnect = () => {
    if (stopped || reconnectTimer) return;
    const delay = reconnectDelayMs(failedAttempts, reconnectInitialMs, reconnectMaxMs);
    reconnectTimer = setTimeout(
      () => {
        reconnectTimer = null;
        open();
      },
      delay * (0.8 + Math.random() * 0.4),
    );
  };

  let resolveFirst: (client: WebBridgeClient) => void = () => {};
  let rejectFirst: (error: Error) => void = () => {};

  const open = () => {
    if (stopped) return;
    let ws: WebSocketLike;
    try {
      ws = createSocket(socketUrl);
    } catch (error) {
      if (!everOpened) {
        stopped = true;
        rejectFirst(new Error(`cannot connect to Cue at ${where}: ${(error as Error).message}`));
        return;
      }
      failedAttempts++;
      scheduleReconnect();
      return;
    }
    socket = ws;
    let opened = false;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      if (socket !== ws) return;
      opened = true;
      const reconnected = everOpened;
      everOpened = true;
      failedAttempts = 0;
      flush();
      if (reconnected) {
        notice('info', 'Reconnected to Cue.');
        refreshState();
      } else {
        resolveFirst(client);
      }
    };
    ws.onmessage = (event) => {
      if (socket === ws) receive(event.data);
    };
    ws.onerror = () => {
      // The close event follows with what there is to know (browsers give no error details).
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      if (stopped) return;
      if (!everOpened) {
        stopped = true;
        failPending((name) => `request "${name}" failed: not connected to Cue`, false);
        rejectFirst(
          new Error(
            `cannot connect to Cue at ${where} (refused or unreachable: is \`npm run web\` running, ` +
              'and is this the address with the token it printed?)',
          ),
        );
        return;
      }
      if (opened) {
        failPending((name) => `connection to Cue lost before "${name}" was answered`, true);
        if (event.code === CLOSE_REPLACED) {
          stopped = true;
          failPending((name) => `request "${name}" failed: disconnected`, false);
          notice(
            'error',
            'Cue was opened in another tab or window, so this one was disconnected. Reload to use it here.',
          );
          return;
        }
        notice('warning', 'Lost the connection to Cue; reconnecting…');
      } else if (++failedAttempts === ATTEMPTS_BEFORE_HELP) {
        notice(
          'error',
          `Still cannot reach Cue at ${where}. If it was restarted, open the new address it printed ` +
            '(the token changes every run).',
        );
      }
      scheduleReconnect();
    };
  };

  function request<K extends RequestName>(name: K, payload: RequestPayload<K>): Promise<Response<K>> {
    if (stopped && everOpened) return Promise.reject(new Error(`request "${name}" failed: disconnected`));
    const id = nextId++;
    const timeoutMs =
      name === 'recordings:replay' ? Math.max(requestTimeoutMs, REPLAY_TIMEOUT_MS) : requestTimeoutMs;
    return new Promise<Response<K>>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (settle(id))
          reject(new Error(`request "${name}" timed out: no answer from Cue in ${timeoutMs / 1000} s`));
      }, timeoutMs);
      pending.set(id, {
        name,
        frame: JSON.stringify({ kind: 'request', id, name, payload }),
        sent: false,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer,
      });
      flush();
    });
  }

  const client: WebBridgeClient = {
    get connected() {
      return socket?.readyState === OPEN;
    },
    request,
    on(name, listener) {
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      const entry = listener as (payload: never) => void;
      set.add(entry);
      return () => {
        set.delete(entry);
      };
    },
    sendAudio(message: AudioUp) {
      const frame = encodeAudioUp(message);
      if (socket && socket.readyState === OPEN) socket.send(frame);
    },
    onAudio(listener) {
      audioListeners.add(listener);
      return () => {
        audioListeners.delete(listener);
      };
    },
    micSocketUrl: () => micUrl,
    ...(options.createMicWorker && {
      // Resolves once the worker's socket is open, so a worker that cannot start or connect leaves
      // the frames on the page's own way (nothing is dropped into a socket that is not there).
      openMicPort: async (): Promise<MessagePort> => {
        if (stopped) throw new Error('the connection to Cue was closed');
        micWorker ??= startMicWorker(options.createMicWorker!);
        const worker = micWorker;
        await micReady();
        if (stopped || micWorker !== worker) throw new Error('the connection to Cue was closed');
        const channel = new MessageChannel();
        worker.postMessage({ type: 'port' }, [channel.port2]);
        return channel.port1;
      },
    }),
    close() {
      micWorker?.terminate();
      micWorker = null;
      settleMicWaiters(new Error('the connection to Cue was closed'));
      if (stopped && !socket) return;
      stopped = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      reconnectTimer = null;
      failPending((name) => `request "${name}" failed: the connection was closed`, false);
      const ws = socket;
      socket = null;
      ws?.close(1000, 'closed by the page');
    },
  };

  return new Promise<WebBridgeClient>((resolve, reject) => {
    resolveFirst = resolve;
    rejectFirst = reject;
    open();
  });
}

function randomPageId(): string {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
