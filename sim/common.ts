/**
 * What every provider simulator shares: how it is started, the case that drives it,
 * the key it accepts, the faults it can inject, and a local HTTP server on a free port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { RealClock, type Clock } from '../src/main/engine/clock';
import type { ScriptCase } from '../src/main/engine/scripted/case';

/** The API key simulators accept unless told otherwise. */
export const SIM_API_KEY = 'sim-key';

/** Faults a test can ask a simulator to inject. Each simulator documents which it honours. */
export type Fault =
  /** Close the socket (or connection) abruptly once this much case audio has been received (STT) or after this many chunks were sent (LLM/TTS). */
  | { kind: 'drop'; afterAudioSeconds?: number; afterChunks?: number; times?: number }
  /** Answer the next `times` requests or connections with this HTTP status and the provider's own error body. */
  | { kind: 'status'; status: 401 | 403 | 429 | 500 | 503; times?: number }
  /** Delay responses by this many ms (on the simulator's clock), e.g. to cause a client timeout. */
  | { kind: 'delay'; ms: number; times?: number }
  /** Send one message (or SSE record) that is not valid JSON, then carry on. */
  | { kind: 'malformed'; afterChunks?: number; times?: number }
  /** End the stream cleanly but halfway (no [DONE] / isFinal). */
  | { kind: 'cut'; afterChunks: number; times?: number }
  /** A per-context error naming `contextId` (which the client may no longer track), after this many chunks. */
  | { kind: 'context_error'; contextId: string; afterChunks?: number; times?: number };

export interface SimOptions {
  /** The case whose script the simulator follows. */
  caseData: Pick<ScriptCase, 'turns' | 'profile'>;
  /** Simulated latencies run on this clock (the real clock by default; a VirtualClock in tests). */
  clock?: Clock;
  /** The only key accepted (default SIM_API_KEY). */
  apiKey?: string;
  faults?: Fault[];
  /** 0 (default) picks a free port. */
  port?: number;
}

export interface RunningSim {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Takes the next fault of a kind that is still armed, counting down its `times` (default 1). */
export class FaultPlan {
  private readonly remaining: { fault: Fault; left: number }[];

  constructor(faults: readonly Fault[] = []) {
    this.remaining = faults.map((fault) => ({ fault, left: fault.times ?? 1 }));
  }

  take<K extends Fault['kind']>(kind: K): Extract<Fault, { kind: K }> | undefined {
    const entry = this.remaining.find((e) => e.fault.kind === kind && e.left > 0);
    if (!entry) return undefined;
    entry.left--;
    return entry.fault as Extract<Fault, { kind: K }>;
  }

  peek<K extends Fault['kind']>(kind: K): Extract<Fault, { kind: K }> | undefined {
    return this.remaining.find((e) => e.fault.kind === kind && e.left > 0)?.fault as
      Extract<Fault, { kind: K }> | undefined;
  }
}

export function simClock(options: SimOptions): Clock {
  return options.clock ?? new RealClock();
}

/**
 * Starts an HTTP server on 127.0.0.1 (a free port unless given). `onUpgrade` handles WebSocket
 * upgrades (with ws's `handleUpgrade`). Closing destroys open connections so tests end promptly.
 */
export async function startHttpServer(
  port: number,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  onUpgrade?: (req: IncomingMessage, socket: Socket, head: Buffer) => void,
): Promise<{ server: Server; url: string; port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer(onRequest);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  if (onUpgrade) server.on('upgrade', (req, socket, head) => onUpgrade(req, socket as Socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Writes a JSON body with a status, as the providers do for errors. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
