/**
 * LiveKit Agents' logger, tamed for the benchmark: warnings and errors only, written to stderr as
 * one short line each (instead of pino JSON on stdout), and handed to whoever listens (the running
 * case turns them into notes). The logger is process-wide (`initializeLogger`), so this is too.
 */
import { initializeLogger, log } from '@livekit/agents';

/** pino's numeric levels. */
export const LOG_WARN = 40;
export const LOG_ERROR = 50;

export interface LiveKitLogLine {
  level: number;
  /** One line: the message, then the error's message when there is one. */
  text: string;
  /** The record's own fields (e.g. `lk.pii.user_input`), without pino's level, time, pid, hostname and msg. */
  fields: Record<string, unknown>;
}

type Listener = (line: LiveKitLogLine) => void;

const listeners = new Set<Listener>();
let installed = false;

/**
 * Initialises LiveKit's logger at level `warn` and routes its output through `onLine` listeners
 * and stderr. Idempotent. If pino's internals are not where expected (another version), the
 * logger still runs at `warn`, printing JSON to stdout as LiveKit does by default.
 */
export function installLiveKitLogging(options: { echo?: boolean } = {}): void {
  if (installed) return;
  installed = true;
  initializeLogger({ pretty: false, level: 'warn' });
  const echo = options.echo ?? true;
  const sink = {
    write(chunk: string): boolean {
      const line = parseLine(chunk);
      if (!line) return true;
      if (echo)
        process.stderr.write(`[livekit ${line.level >= LOG_ERROR ? 'error' : 'warn'}] ${line.text}\n`);
      for (const listener of listeners) listener(line);
      return true;
    },
  };
  // initializeLogger builds pino(multistream([stdout at `level`, OpenTelemetry at debug])): swap
  // the stdout entry for our sink. pino keeps the multistream under its (non-global) symbol
  // "pino.stream" on the logger.
  const logger = log() as unknown as Record<symbol, unknown>;
  const streamKey = Object.getOwnPropertySymbols(logger).find((s) => s.description === 'pino.stream');
  const multi = streamKey ? (logger[streamKey] as { streams?: { stream: unknown }[] }) : undefined;
  const entry = multi?.streams?.find((s) => s.stream === process.stdout);
  if (entry) entry.stream = sink;
}

/** Calls `listener` with every warning or error LiveKit logs until the returned function is called. */
export function onLiveKitLog(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function parseLine(chunk: string): LiveKitLogLine | null {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(chunk) as Record<string, unknown>;
  } catch {
    const text = chunk.trim();
    return text ? { level: LOG_WARN, text, fields: {} } : null;
  }
  const level = typeof record.level === 'number' ? record.level : LOG_WARN;
  const parts = [typeof record.msg === 'string' ? record.msg : ''];
  for (const key of ['error', 'err']) {
    const error = record[key];
    if (error && typeof error === 'object') {
      const message = (error as { message?: unknown }).message;
      if (typeof message === 'string' && message) parts.push(message);
    } else if (typeof error === 'string' && error) {
      parts.push(error);
    }
  }
  const text = parts.filter(Boolean).join(': ');
  const { level: _level, time: _time, pid: _pid, hostname: _hostname, msg: _msg, ...fields } = record;
  return text ? { level, text, fields } : null;
}
