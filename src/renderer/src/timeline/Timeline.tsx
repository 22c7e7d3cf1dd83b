/**
 * <Timeline source={model} />: the live turn timeline. The app owns a TimelineModel, feeds it
 * from the contract's events (connectTimeline / useTimelineModel: `timeline`, each event of a
 * `timeline:batch`, and `turn`) and renders this component
 * wherever the timeline goes. See index.ts for the mounting recipe.
 */
import { memo, useCallback, useEffect, useId, useRef, useState, useSyncExternalStore } from 'react';
import type { CSSProperties, KeyboardEvent as ReactKeyboardEvent, ReactNode } from 'react';
import type { CueApi } from '../../../shared/contract';
import type { TurnReport } from '../../../shared/report';
import type { TimelineEvent } from '../../../shared/timeline';
import { TimelineCanvas, sameTarget, type HoverInfo, type ViewState } from './timeline-canvas';
import {
  describeDecision,
  describeForScreenReader,
  describeItem,
  describeLatency,
  formatDuration,
  formatMaybe,
  turnLabel,
  type ItemDescription,
} from './timeline-format';
import type { HitTarget } from './timeline-geometry';
import {
  LANES,
  TimelineModel,
  timelineStats,
  type TimelineModelOptions,
  type TurnLatency,
  type TurnTrack,
} from './timeline-model';
import { extentOf, initialTarget, stepInRow, stepRow, stepTurn } from './timeline-nav';
import './timeline.css';

export interface TimelineProps {
  /** The model the app feeds (see connectTimeline / useTimelineModel). */
  source: TimelineModel;
  /** Initial visible window (ms). Default 20 s. */
  windowMs?: number;
  /** Accessible name of the region. Default "Turn timeline". */
  label?: string;
  className?: string;
  /** Latency cards shown at most (the latest turns up to the view's right edge). Default 24. */
  maxCards?: number;
  /** The VAD's activation threshold, drawn across the speech probability trace. */
  vadThreshold?: number | null;
}

const ZOOM_STEP = 1.5;
const WINDOW_PRESETS = [2_000, 5_000, 10_000, 20_000, 60_000, 300_000, 1_800_000, 3_600_000];

/**
 * Subscribes to the model's summary changes, at most once per animation frame. A change that
 * leaves the summary as it was (a VAD frame, thirty a second) asks for no frame at all: even an
 * empty animation frame runs the page's whole rendering update.
 */
function useSummaryVersion(model: TimelineModel): number {
  const subscribe = useCallback(
    (notify: () => void) => {
      let frame = 0;
      let seen = model.summaryVersion;
      const unsubscribe = model.subscribe(() => {
        if (frame || model.summaryVersion === seen) return;
        frame = requestAnimationFrame(() => {
          frame = 0;
          seen = model.summaryVersion;
          notify();
        });
      });
      return () => {
        unsubscribe();
        if (frame) cancelAnimationFrame(frame);
      };
    },
    [model],
  );
  return useSyncExternalStore(subscribe, () => model.summaryVersion);
}

export function Timeline({
  source,
  windowMs = 20_000,
  label = 'Turn timeline',
  className,
  maxCards = 24,
  vadThreshold = null,
}: TimelineProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const viewportRef = useRef<HTMLDivElement>(null);
  const rendererRef = useRef<TimelineCanvas | null>(null);
  const [view, setView] = useState<ViewState | null>(null);
  const [hover, setHover] = useState<HoverInfo | null>(null);
  const [selection, setSelection] = useState<HitTarget | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const summary = useSummaryVersion(source);
  const helpId = useId();

  const describe = useCallback(
    (target: HitTarget): ItemDescription =>
      target.kind === 'item'
        ? describeItem(target.item)
        : describeLatency(target.turn, source.latency(target.turn), source.sessions.length > 1),
    [source],
  );

  const select = useCallback(
    (target: HitTarget | null, reveal: boolean) => {
      setSelection(target);
      const renderer = rendererRef.current;
      if (target && renderer && reveal) {
        const [start, end] = extentOf(target, source);
        renderer.reveal(start, end);
      }
      setAnnouncement(target ? describeForScreenReader(describe(target)) : 'Selection cleared');
    },
    [describe, source],
  );

  const selectTurn = useCallback((turn: TurnTrack) => select({ kind: 'latency', turn }, true), [select]);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return undefined;
    const renderer = new TimelineCanvas(canvas, source, {
      windowMs,
      ...(viewportRef.current ? { fitTo: viewportRef.current } : {}),
      onHover: setHover,
      onViewChange: setView,
      onSelect: (target) => select(target, false),
    });
    rendererRef.current = renderer;
    return () => {
      renderer.dispose();
      rendererRef.current = null;
    };
  }, [source, windowMs, select]);

  useEffect(() => {
    rendererRef.current?.setSelection(selection);
  }, [selection]);

  useEffect(() => {
    rendererRef.current?.setProbabilityThreshold(vadThreshold);
  }, [vadThreshold, source, windowMs, select]);

  const following = view?.following ?? true;

  const setFollow = (follow: boolean) => {
    rendererRef.current?.setFollow(follow);
    setAnnouncement(follow ? 'Following live' : 'Paused');
  };
  const zoom = (factor: number) => rendererRef.current?.zoomBy(factor);
  const setWindow = (ms: number) => rendererRef.current?.setWindow(ms);

  const onKeyDown = (event: ReactKeyboardEvent<HTMLDivElement>) => {
    const renderer = rendererRef.current;
    if (!renderer || event.altKey || event.ctrlKey || event.metaKey) return;
    const current = selection;
    const centre = view ? (view.startT + view.endT) / 2 : source.liveTime();
    let next: HitTarget | null | undefined;
    switch (event.key) {
      case ' ':
      case 'Spacebar':
        setFollow(!renderer.isFollowing);
        break;
      case 'ArrowLeft':
      case 'ArrowRight': {
        const direction = event.key === 'ArrowLeft' ? -1 : 1;
        if (event.shiftKey || !current) {
          if (event.shiftKey) renderer.panByWindow(direction * 0.25);
          else next = initialTarget(source, centre);
          break;
        }
        next = stepInRow(source, current, direction);
        break;
      }
      case 'ArrowUp':
      case 'ArrowDown': {
        const direction = event.key === 'ArrowUp' ? -1 : 1;
        next = current ? stepRow(source, current, direction) : initialTarget(source, centre);
        break;
      }
      case 'PageUp':
      case '[':
        next = stepTurn(source, current, -1);
        break;
      case 'PageDown':
      case ']':
        next = stepTurn(source, current, 1);
        break;
      case 'Home':
        next = source.turns[0] ? { kind: 'latency', turn: source.turns[0] } : null;
        break;
      case 'End':
        select(null, false);
        setFollow(true);
        break;
      case '+':
      case '=':
        zoom(1 / ZOOM_STEP);
        break;
      case '-':
      case '_':
        zoom(ZOOM_STEP);
        break;
      case '0':
        setWindow(windowMs);
        break;
      case 'Escape':
        if (!current) return;
        select(null, false);
        break;
      default:
        return;
    }
    event.preventDefault();
    if (next !== undefined && !sameTarget(next, current)) select(next, true);
    else if (next && current) setAnnouncement(`${describeForScreenReader(describe(next))} (end of row)`);
  };

  // Tooltip: the hovered target at the pointer (the selection has its own box under the lanes,
  // so it never covers the turn it describes).
  let tooltip: ReactNode = null;
  if (hover !== null) {
    const description = describe(hover.hit.target);
    // Fixed-position (client coordinates), on the side of the pointer with more room.
    const leftSide = hover.clientX > hover.windowWidth / 2;
    const above = hover.clientY > hover.windowHeight / 2;
    const style: CSSProperties = {
      left: leftSide ? hover.clientX - 12 : hover.clientX + 12,
      top: above ? hover.clientY - 14 : hover.clientY + 14,
      transform: `translate(${leftSide ? '-100%' : '0'}, ${above ? '-100%' : '0'})`,
    };
    tooltip = (
      <div className="cue-timeline__tooltip" role="tooltip" style={style}>
        <TooltipBody description={description} />
      </div>
    );
  }
  const details = selection ? describe(selection) : null;

  const stats = timelineStats(source);
  // The latest turns up to the view's right edge (those in view are marked), latest first.
  const endT = view?.endT ?? Number.POSITIVE_INFINITY;
  const inView = new Set(view?.visibleTurns ?? []);
  const cardTurns = source.turns
    .filter((turn) => turn.start <= endT && (turn.index >= 0 || turn.items.length > 0))
    .slice(-maxCards)
    .reverse();
  const latencies = cardTurns.map((turn) => source.latency(turn));
  const scale = Math.max(1000, ...latencies.map((l) => (l.e2e ?? 0) + (l.saved ?? 0)));
  const selectedTurn = selection?.kind === 'latency' ? selection.turn.key : null;
  const currentWindow = view?.windowMs ?? windowMs;

  return (
    <section
      className={`cue-timeline${className ? ` ${className}` : ''}`}
      aria-label={label}
      data-following={following ? 'true' : 'false'}
      data-summary={summary}
    >
      <div className="cue-timeline__toolbar" role="toolbar" aria-label="Timeline controls">
        <button
          type="button"
          className="cue-timeline__follow"
          aria-pressed={following}
          onClick={() => setFollow(!following)}
          title={following ? 'Pause (Space)' : 'Follow live (Space)'}
        >
          <span className="cue-timeline__dot" aria-hidden="true" />
          {following ? 'Live' : 'Paused'}
          <span className="cue-timeline__sr">
            {following ? ': following live, press to pause' : ': press to follow live'}
          </span>
        </button>
        <div className="cue-timeline__zoom" role="group" aria-label="Zoom">
          <button type="button" onClick={() => zoom(ZOOM_STEP)} aria-label="Zoom out" title="Zoom out (−)">
            −
          </button>
          <select
            aria-label="Visible window"
            value={String(nearestPreset(currentWindow))}
            onChange={(e) => setWindow(Number(e.target.value))}
          >
            {WINDOW_PRESETS.map((ms) => (
              <option key={ms} value={ms}>
                {windowLabel(ms)}
              </option>
            ))}
          </select>
          <button type="button" onClick={() => zoom(1 / ZOOM_STEP)} aria-label="Zoom in" title="Zoom in (+)">
            +
          </button>
        </div>
        <dl className="cue-timeline__stats" aria-label="Latency over the turns kept">
          <Stat label="turns" value={String(stats.turns)} />
          <Stat label="e2e p50" value={formatMaybe(stats.e2eP50)} />
          <Stat label="p95" value={formatMaybe(stats.e2eP95)} />
          <Stat
            label="end-of-turn p50/p95"
            title="End-of-turn delay: the commit after the end of speech"
            value={`${formatMaybe(stats.eotP50)} / ${formatMaybe(stats.eotP95)}`}
          />
          <Stat
            label="resumed"
            title="Turns that ended too soon and were taken up again (TurnResumed)"
            value={String(stats.resumed)}
          />
          <Stat
            label="saved"
            title="Saved by preemption per turn: preemptive lead capped by LLM TTFT"
            value={stats.savedTurns ? `≈ ${formatDuration(stats.savedTotal / stats.savedTurns)}` : '—'}
          />
          <Stat
            label="wasted"
            title="LLM requests wasted / made"
            value={`${stats.wasted}/${stats.requests}`}
          />
          <Stat
            label="TTS chars wasted"
            title="Characters synthesised and never heard"
            value={String(stats.ttsWasted)}
          />
          <Stat
            label="interruptions"
            value={
              stats.falseInterruptions
                ? `${stats.interruptions} + ${stats.falseInterruptions} false`
                : String(stats.interruptions)
            }
          />
          {stats.errors ? <Stat label="errors" value={String(stats.errors)} tone="error" /> : null}
        </dl>
        <Legend />
      </div>

      <div className="cue-timeline__body">
        <div
          ref={viewportRef}
          className="cue-timeline__viewport"
          tabIndex={0}
          role="application"
          aria-roledescription="timeline"
          aria-label={`${label}: ${LANES.map((lane) => lane.label).join(', ')} and latency lanes`}
          aria-describedby={helpId}
          onKeyDown={onKeyDown}
        >
          <canvas ref={canvasRef} className="cue-timeline__canvas" aria-hidden="true" />
          {tooltip}
        </div>
        <ol className="cue-timeline__cards" aria-label="Latency per turn">
          {cardTurns.map((turn, i) => (
            <TurnCard
              key={turn.key}
              inView={inView.has(turn.key)}
              turn={turn}
              rev={turn.rev}
              latency={latencies[i]!}
              scale={scale}
              selected={turn.key === selectedTurn}
              multiSession={source.sessions.length > 1}
              onSelect={selectTurn}
            />
          ))}
          {cardTurns.length === 0 ? <li className="cue-timeline__empty">No turns in view yet.</li> : null}
        </ol>
      </div>
      {details ? (
        <div className="cue-timeline__details" role="group" aria-label="Selected on the timeline">
          <TooltipBody description={details} />
        </div>
      ) : null}
      <p id={helpId} className="cue-timeline__sr">
        Arrow left and right move between items of a lane, arrow up and down between lanes; Page Up and Page
        Down (or [ and ]) move between turns; Space pauses or follows live; Shift with arrows scrolls; plus
        and minus zoom, 0 resets; End follows live; Escape clears the selection. Hover or select an item for
        exact times.
      </p>
      <div className="cue-timeline__sr" aria-live="polite" aria-atomic="true">
        {announcement}
      </div>
    </section>
  );
}

function nearestPreset(ms: number): number {
  let best = WINDOW_PRESETS[0]!;
  for (const preset of WINDOW_PRESETS)
    if (Math.abs(Math.log(preset / ms)) < Math.abs(Math.log(best / ms))) best = preset;
  return best;
}

function windowLabel(ms: number): string {
  return ms < 60_000 ? `${ms / 1000} s` : ms < 3_600_000 ? `${ms / 60_000} min` : `${ms / 3_600_000} h`;
}

function Stat({
  label,
  value,
  tone,
  title,
}: {
  label: string;
  value: string;
  tone?: 'error';
  title?: string;
}) {
  return (
    <div className={`cue-timeline__stat${tone ? ` cue-timeline__stat--${tone}` : ''}`} title={title}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function TooltipBody({ description }: { description: ItemDescription }) {
  return (
    <>
      <div className="cue-timeline__tooltip-title">{description.title}</div>
      <dl>
        {description.rows.map(([label, value], i) => (
          <div key={`${label}-${i}`}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {description.text ? <p>{description.text}</p> : null}
    </>
  );
}

interface CardProps {
  turn: TurnTrack;
  inView: boolean;
  /** The turn's revision: the card re-renders only when it changes. */
  rev: number;
  latency: TurnLatency;
  scale: number;
  selected: boolean;
  multiSession: boolean;
  onSelect: (turn: TurnTrack) => void;
}

/** Cards re-render only when their turn's revision or their presentation changes. */
function sameCard(a: CardProps, b: CardProps): boolean {
  return (
    a.turn === b.turn &&
    a.rev === b.rev &&
    a.inView === b.inView &&
    a.scale === b.scale &&
    a.selected === b.selected &&
    a.multiSession === b.multiSession &&
    a.onSelect === b.onSelect &&
    a.latency.source === b.latency.source
  );
}

/** The parts of the e2e latency, in order, as widths of the bar. */
function breakdown(latency: TurnLatency): { key: string; label: string; ms: number }[] {
  if (latency.e2e === null) return [];
  const eot = Math.max(0, latency.endOfTurnDelay ?? 0);
  const llm = Math.max(0, (latency.ttft ?? 0) - (latency.saved ?? 0));
  const tts = Math.max(0, latency.ttfb ?? 0);
  const other = Math.max(0, latency.e2e - eot - llm - tts);
  return [
    { key: 'eot', label: 'end-of-turn delay', ms: eot },
    { key: 'llm', label: 'LLM wait after commit', ms: llm },
    { key: 'tts', label: 'TTS first audio', ms: tts },
    { key: 'other', label: 'other (chunking, playout)', ms: other },
  ];
}

const TurnCard = memo(function TurnCard({
  turn,
  inView,
  latency,
  scale,
  selected,
  multiSession,
  onSelect,
}: CardProps) {
  const parts = breakdown(latency);
  const total = parts.reduce((sum, p) => sum + p.ms, 0);
  const interrupted = turn.interrupted;
  const name = turnLabel(turn, multiSession);
  const flags = [
    turn.settingsNumber > 0 ? `settings ${turn.settingsNumber}` : null,
    turn.speculationReused ? 'speculation reused' : null,
    interrupted ? 'interrupted' : null,
    latency.wasted ? `${latency.wasted} wasted` : null,
    latency.source === 'events' ? 'provisional' : null,
  ].filter((f): f is string => f !== null);
  const decision = turn.decision ? describeDecision(turn.decision) : null;
  // For screen readers, after the visible text (so the name starts with what is seen).
  const details = [
    `end-of-turn delay ${formatMaybe(latency.endOfTurnDelay)}`,
    `transcript lag ${formatMaybe(latency.transcriptLag)}`,
    `preemptive lead ${formatMaybe(latency.preemptiveLead)}`,
    `LLM TTFT ${formatMaybe(latency.ttft)}`,
    `TTS TTFB ${formatMaybe(latency.ttfb)}`,
    `saved by preemption ${latency.saved === null ? 'none' : formatDuration(latency.saved)}`,
  ].join(', ');
  return (
    <li className="cue-timeline__card-item" data-in-view={inView ? 'true' : undefined}>
      <button
        type="button"
        className="cue-timeline__card"
        aria-pressed={selected}
        onClick={() => onSelect(turn)}
        title="Show this turn on the timeline"
      >
        <span className="cue-timeline__card-head">
          <span className="cue-timeline__card-name">{name}</span>
          {flags.map((flag) => (
            <span key={flag} className={`cue-timeline__flag cue-timeline__flag--${flag.split(' ')[0]}`}>
              {flag}
            </span>
          ))}
        </span>
        <span className="cue-timeline__card-text">{turn.transcript || '…'}</span>
        <span className="cue-timeline__card-e2e">
          <strong>{formatMaybe(latency.e2e)}</strong>
          <span>e2e</span>
          {latency.saved ? (
            <span className="cue-timeline__saved">saved ≈ {formatDuration(latency.saved)}</span>
          ) : null}
        </span>
        <span className="cue-timeline__bar" aria-hidden="true">
          {total > 0
            ? parts.map((p) =>
                p.ms > 0 ? (
                  <span
                    key={p.key}
                    className={`cue-timeline__seg cue-timeline__seg--${p.key}`}
                    style={{ width: `${(p.ms / scale) * 100}%` }}
                    title={`${p.label} ${formatDuration(p.ms)}`}
                  />
                ) : null,
              )
            : null}
          {latency.saved && total > 0 ? (
            <span
              className="cue-timeline__seg cue-timeline__seg--saved"
              style={{ width: `${(latency.saved / scale) * 100}%` }}
              title={`saved by preemption ≈ ${formatDuration(latency.saved)}`}
            />
          ) : null}
        </span>
        <span className="cue-timeline__card-numbers" aria-hidden="true">
          <span>EoT {formatMaybe(latency.endOfTurnDelay)}</span>
          <span>lag {formatMaybe(latency.transcriptLag)}</span>
          <span>lead {formatMaybe(latency.preemptiveLead)}</span>
          <span>TTFT {formatMaybe(latency.ttft)}</span>
          <span>TTFB {formatMaybe(latency.ttfb)}</span>
        </span>
        {decision ? <span className="cue-timeline__card-decision">{decision}</span> : null}
        <span className="cue-timeline__sr">. {details}</span>
      </button>
    </li>
  );
}, sameCard);

function Legend() {
  const entries: [string, string][] = [
    ['user', 'user speech (VAD) and probability, dashed: activation threshold'],
    ['transcript', 'transcript: ◆ final, | interim'],
    ['turn', 'turn: ▶ start, ◆ eager, ○ resumed, ■ end, | commit'],
    [
      'endpointing',
      'endpointing wait; ● likely end / ○ not done, ⌐ the silence judged (solid: a short pause)',
    ],
    ['settings', 'settings changed (dashed line): later turns run under them'],
    ['preemptive', 'speculation pending'],
    ['reused', 'speculation reused'],
    ['cancelled', 'speculation cancelled'],
    ['discarded', 'speculation discarded / aborted'],
    ['llm', 'LLM: light until first token, dashed = speculative'],
    ['tts', 'TTS: light until first audio'],
    ['agent', 'agent speech, gaps = paused'],
    ['interruption', 'interruption: ▼ true, ○ false, ▶ resumed'],
    ['error', 'error'],
  ];
  return (
    <details className="cue-timeline__legend">
      <summary>Legend</summary>
      <ul>
        {entries.map(([key, text]) => (
          <li key={key}>
            <span className={`cue-timeline__swatch cue-timeline__swatch--${key}`} aria-hidden="true" />
            {text}
          </li>
        ))}
        <li>
          <span className="cue-timeline__swatch cue-timeline__swatch--latency" aria-hidden="true" />
          latency row: end of speech → commit (end-of-turn delay) → first audio; dashed = saved by preemption
          (≈ preemptive lead capped by LLM TTFT)
        </li>
      </ul>
    </details>
  );
}

// ---------------------------------------------------------------- wiring helpers

/** Feeds a model from the contract's events; returns the unsubscribe function. */
export function connectTimeline(api: Pick<CueApi, 'on'>, model: TimelineModel): () => void {
  const offTimeline = api.on('timeline', (event) => model.ingest(event));
  const offBatch = api.on('timeline:batch', (events) => {
    for (const event of events) model.ingest(event);
  });
  const offTurn = api.on('turn', (report) => model.ingestReport(report));
  return () => {
    offTimeline();
    offBatch();
    offTurn();
  };
}

/** A TimelineModel for this component tree, fed from `api` while it is given. */
export function useTimelineModel(
  api: Pick<CueApi, 'on'> | null | undefined,
  options?: TimelineModelOptions,
): TimelineModel {
  const [model] = useState(() => new TimelineModel(options));
  useEffect(() => (api ? connectTimeline(api, model) : undefined), [api, model]);
  return model;
}

export interface LiveTimelineProps extends Omit<TimelineProps, 'source'> {
  /** Delivers every timeline event as it arrives (VAD frames included); returns the unsubscribe. */
  subscribeTimeline: (listener: (event: TimelineEvent) => void) => () => void;
  /** The current session's TurnReports (new or replaced reports are picked up). */
  turns?: readonly TurnReport[];
  /** Model caps (read once). */
  options?: TimelineModelOptions;
}

/**
 * <Timeline> with its own model, fed from an app-level subscription and the turn reports:
 * `<LiveTimeline subscribeTimeline={actions.subscribeTimeline} turns={cue.turns} />`.
 */
export function LiveTimeline({ subscribeTimeline, turns, options, ...props }: LiveTimelineProps) {
  const [model] = useState(() => new TimelineModel(options));
  const seen = useRef(new WeakSet<TurnReport>());
  useEffect(() => subscribeTimeline((event) => model.ingest(event)), [subscribeTimeline, model]);
  useEffect(() => {
    for (const report of turns ?? []) {
      if (seen.current.has(report)) continue;
      seen.current.add(report);
      model.ingestReport(report);
    }
  }, [turns, model]);
  return <Timeline source={model} {...props} />;
}
