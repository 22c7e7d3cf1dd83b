/**
 * Words for the timeline (pure): clock and duration formats, the tooltip rows of every item, and
 * one-sentence labels for screen readers. Times are timeline ms (the session clock).
 */
import type { DetectorMark, TimelineItem, TurnLatency, TurnTrack } from './timeline-model';

/** Exact time on the session clock: "3.460 s", "1:02.460", "1:02:03.460". */
export function formatTime(t: number): string {
  const sign = t < 0 ? '−' : '';
  const total = Math.round(Math.abs(t));
  const ms = String(total % 1000).padStart(3, '0');
  const s = Math.floor(total / 1000);
  if (s < 60) return `${sign}${s}.${ms} s`;
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = String(s % 60).padStart(2, '0');
  return hours
    ? `${sign}${hours}:${String(minutes).padStart(2, '0')}:${seconds}.${ms}`
    : `${sign}${minutes}:${seconds}.${ms}`;
}

/** A duration: "330 ms" below 10 s, "12.3 s" below a minute, "4:05" above. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '−' : '';
  if (abs < 10_000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(1)} s`;
  const s = Math.round(abs / 1000);
  return `${sign}${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export const formatMaybe = (ms: number | null): string => (ms === null ? '—' : formatDuration(ms));

/** An axis tick label: "m:ss" for steps of whole seconds, with 1–3 decimals below. */
export function formatTick(t: number, step: number): string {
  const sign = t < 0 ? '−' : '';
  const total = Math.round(Math.abs(t));
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = Math.floor((total % 60_000) / 1000);
  const mm = hours ? `${hours}:${String(minutes).padStart(2, '0')}` : String(minutes);
  const base = `${sign}${mm}:${String(seconds).padStart(2, '0')}`;
  if (step >= 1000) return base;
  const digits = step >= 100 ? 1 : step >= 10 ? 2 : 3;
  return `${base}.${String(total % 1000)
    .padStart(3, '0')
    .slice(0, digits)}`;
}

export function turnLabel(turn: Pick<TurnTrack, 'index' | 'session'>, withSession = false): string {
  const name = turn.index < 0 ? 'Greeting' : `Turn ${turn.index}`;
  return withSession && turn.session > 0 ? `S${turn.session + 1} · ${name}` : name;
}

export function quote(text: string, max = 80): string {
  return `“${text.length > max ? `${text.slice(0, max - 1)}…` : text}”`;
}

export interface ItemDescription {
  title: string;
  /** Label/value rows for the tooltip. */
  rows: [string, string][];
  /** Longer text shown under the rows (transcript, reply). */
  text?: string;
}

const at = (t: number, from?: number) =>
  from === undefined ? formatTime(t) : `${formatTime(t)} (+${formatDuration(t - from)})`;

/** What the tooltip shows for an item: exact times, durations and text. */
export function describeItem(item: TimelineItem): ItemDescription {
  const duration = item.end === null ? null : item.end - item.start;
  switch (item.kind) {
    case 'speech': {
      const rows: [string, string][] = [['speech began', formatTime(item.start)]];
      rows.push(['VAD decided', at(item.detectedAt, item.start)]);
      if (item.end !== null) rows.push(['speech ended', formatTime(item.end)]);
      if (item.endDetectedAt !== null && item.end !== null)
        rows.push(['end confirmed', at(item.endDetectedAt, item.end)]);
      rows.push(['duration', item.duration === null ? 'speaking…' : formatDuration(item.duration)]);
      return { title: 'User speech (VAD)', rows };
    }
    case 'transcript':
      return {
        title: item.final
          ? `Final transcript${item.speechFinal ? ' (speech_final)' : ''}`
          : 'Interim transcript',
        rows: [['at', formatTime(item.start)]],
        text: quote(item.text, 240),
      };
    case 'turn_event': {
      const rows: [string, string][] = [['at', formatTime(item.start)]];
      if (item.confidence !== null) rows.push(['confidence', item.confidence.toFixed(2)]);
      return { title: item.event, rows, ...(item.transcript ? { text: quote(item.transcript, 240) } : {}) };
    }
    case 'commit':
      return {
        title: 'Turn committed',
        rows: [
          ['at', formatTime(item.start)],
          ['speculation', item.speculationReused ? 'reused' : 'not reused'],
        ],
        text: quote(item.transcript, 240),
      };
    case 'detector': {
      const rows: [string, string][] = [['judged at', formatTime(item.start)]];
      if (item.silenceStart !== null)
        rows.push([
          'after silence',
          `${formatDuration(item.start - item.silenceStart)} (${
            item.early ? "a short pause, before the VAD's end of speech" : "after the VAD's end of speech"
          })`,
        ]);
      rows.push(
        [
          'end of turn',
          `p ${item.probability.toFixed(2)} ${item.likelyEnd ? '≥' : '<'} ${item.threshold.toFixed(2)}: ${
            item.likelyEnd ? 'likely end' : 'not done'
          }`,
        ],
        ['judged by', item.source],
      );
      if (item.wait !== null) rows.push(['wait set', formatDuration(item.wait)]);
      return { title: item.early ? 'Turn judged at a short pause' : 'Turn detector', rows };
    }
    case 'settings':
      return {
        title: `Settings change ${item.number}`,
        rows: [
          ['at', formatTime(item.start)],
          ...item.changes.map((change): [string, string] => [
            change.path,
            `${String(change.from)} → ${String(change.to)}${change.live ? '' : ' (at the next start)'}`,
          ]),
        ],
        text: 'The turns after this mark run under these settings.',
      };
    case 'wait': {
      const rows: [string, string][] = [
        ['from', formatTime(item.start)],
        ['until', formatTime(item.until)],
        ['decided', at(item.decidedAt, item.start)],
        ['reason', item.reason],
      ];
      if (item.cancelledAt !== null) {
        rows.push(['cancelled', at(item.cancelledAt, item.start)]);
        if (item.cancelReason) rows.push(['because', item.cancelReason]);
      }
      return {
        title: `Endpointing wait ${formatDuration(item.delay)}${item.cancelledAt !== null ? ' (cancelled)' : ''}`,
        rows,
      };
    }
    case 'speculation': {
      const rows: [string, string][] = [
        ['started', formatTime(item.start)],
        ['trigger', item.trigger.replaceAll('_', ' ')],
      ];
      if (item.end !== null) rows.push([item.outcome, at(item.end, item.start)]);
      if (item.lead !== null) rows.push(['lead', `${formatDuration(item.lead)} before the commit`]);
      if (item.reason) rows.push(['reason', item.reason]);
      return {
        title: `Speculation #${item.request}: ${item.outcome}`,
        rows,
        text: quote(item.transcript, 240),
      };
    }
    case 'skipped':
      return {
        title: 'Speculation skipped',
        rows: [
          ['at', formatTime(item.start)],
          ['reason', item.reason.replaceAll('_', ' ')],
        ],
      };
    case 'llm': {
      const rows: [string, string][] = [['requested', formatTime(item.start)]];
      if (item.firstTokenAt !== null)
        rows.push(['first token', `${formatTime(item.firstTokenAt)} (TTFT ${formatMaybe(item.ttft)})`]);
      if (item.end !== null) rows.push([item.outcome, at(item.end, item.start)]);
      else rows.push(['status', 'streaming…']);
      if (item.reason) rows.push(['reason', item.reason]);
      if (item.completionTokens !== null)
        rows.push(['tokens', `${item.promptTokens ?? 0} prompt, ${item.completionTokens} completion`]);
      const text = item.text
        ? `${quote(item.transcript, 120)} → ${quote(item.text, 200)}`
        : quote(item.transcript, 240);
      return { title: `LLM request #${item.request}${item.preemptive ? ' (speculative)' : ''}`, rows, text };
    }
    case 'tts': {
      const rows: [string, string][] = [['requested', formatTime(item.start)]];
      if (item.firstAudioAt !== null)
        rows.push(['first audio', `${formatTime(item.firstAudioAt)} (TTFB ${formatMaybe(item.ttfb)})`]);
      if (item.end !== null) rows.push([item.outcome, at(item.end, item.start)]);
      else rows.push(['status', 'synthesising…']);
      if (item.reason) rows.push(['reason', item.reason]);
      if (item.characters !== null) rows.push(['characters', String(item.characters)]);
      if (item.audioMs !== null) rows.push(['audio', formatDuration(item.audioMs)]);
      return { title: `TTS #${item.request}`, rows };
    }
    case 'agent': {
      const rows: [string, string][] = [['audible', formatTime(item.start)]];
      if (item.end !== null) rows.push([item.outcome, at(item.end, item.start)]);
      else rows.push(['status', 'speaking…']);
      if (item.playedMs !== null) rows.push(['played', formatDuration(item.playedMs)]);
      for (const pause of item.pauses) {
        rows.push([
          'paused',
          `${formatTime(pause.start)} → ${pause.end === null ? '…' : `${formatTime(pause.end)} (${formatDuration(pause.end - pause.start)})`}`,
        ]);
      }
      return {
        title: `Agent speech #${item.request}${item.outcome === 'interrupted' ? ' (interrupted)' : ''}`,
        rows,
        ...(item.text ? { text: quote(item.text, 240) } : {}),
      };
    }
    case 'interruption':
      return {
        title: `Interruption: ${item.interruption}`,
        rows: [
          ['at', formatTime(item.start)],
          ['reason', item.reason],
        ],
      };
    case 'error':
      return {
        title: `Error (${item.source})`,
        rows: [
          ['at', formatTime(item.start)],
          ['recoverable', item.recoverable ? 'yes' : 'no'],
        ],
        text: item.message,
      };
    default:
      return { title: 'Event', rows: duration === null ? [] : [['duration', formatDuration(duration)]] };
  }
}

/** The latency tooltip of a turn. */
export function describeLatency(turn: TurnTrack, latency: TurnLatency, withSession = false): ItemDescription {
  const rows: [string, string][] = [['e2e', formatMaybe(latency.e2e)]];
  if (latency.speechEnd !== null) rows.push(['end of speech', formatTime(latency.speechEnd)]);
  if (latency.committedAt !== null) rows.push(['committed', formatTime(latency.committedAt)]);
  if (latency.firstAudioAt !== null) rows.push(['first audio', formatTime(latency.firstAudioAt)]);
  rows.push(['end-of-turn delay', formatMaybe(latency.endOfTurnDelay)]);
  rows.push(['transcript lag', formatMaybe(latency.transcriptLag)]);
  rows.push(['preemptive lead', formatMaybe(latency.preemptiveLead)]);
  rows.push(['LLM TTFT', formatMaybe(latency.ttft)]);
  rows.push(['TTS TTFB', formatMaybe(latency.ttfb)]);
  rows.push(['saved by preemption', latency.saved === null ? '—' : `≈ ${formatDuration(latency.saved)}`]);
  rows.push(['LLM requests', `${latency.requests} (${latency.wasted} wasted)`]);
  return {
    title: `${turnLabel(turn, withSession)} latency${latency.source === 'events' ? ' (live)' : ''}`,
    rows,
    ...(turn.transcript ? { text: quote(turn.transcript, 240) } : {}),
  };
}

/** One sentence for screen readers. */
export function describeForScreenReader(description: ItemDescription): string {
  const rows = description.rows.map(([label, value]) => `${label} ${value}`).join(', ');
  return `${description.title}. ${rows}${description.text ? `. ${description.text}` : ''}`;
}

/** The label beside a turn detector decision on the canvas: its probability, and the pause judged. */
export function detectorLabel(item: Pick<DetectorMark, 'probability'> & Partial<DetectorMark>): string {
  const p = `p ${item.probability.toFixed(2)}`;
  if (item.silenceStart === null || item.silenceStart === undefined || item.start === undefined) return p;
  return `${p} @ ${formatDuration(item.start - item.silenceStart)}`;
}

/** One line for a turn's card: when its turn was judged, by what, how sure, and the wait it set. */
export function describeDecision(decision: DetectorMark): string {
  const pause =
    decision.silenceStart === null
      ? ''
      : ` after ${formatDuration(decision.start - decision.silenceStart)}${decision.early ? ' pause' : ' silence'}`;
  const wait = decision.wait === null ? '' : `, wait ${formatDuration(decision.wait)}`;
  return `judged${pause}: p ${decision.probability.toFixed(2)} ${decision.likelyEnd ? '≥' : '<'} ${decision.threshold.toFixed(2)} (${decision.source})${wait}`;
}

/** A short label drawn inside a span when there is room. */

export function spanLabel(item: TimelineItem): string {
  switch (item.kind) {
    case 'speech':
      return item.duration === null ? 'speaking' : formatDuration(item.duration);
    case 'wait':
      return `wait ${formatDuration(item.delay)}`;
    case 'speculation':
      return `#${item.request} ${item.trigger === 'eager_end_of_turn' ? 'eager' : item.trigger} · ${item.outcome}`;
    case 'llm':
      return `#${item.request}${item.ttft === null ? '' : ` TTFT ${formatDuration(item.ttft)}`}`;
    case 'tts':
      return `#${item.request}${item.ttfb === null ? '' : ` TTFB ${formatDuration(item.ttfb)}`}`;
    case 'agent':
      return item.text || `#${item.request}`;
    case 'transcript':
      return item.text;
    default:
      return '';
  }
}
