/**
 * A finished timeline (a recorded session, or its replay) drawn with the live timeline's canvas,
 * showing [0, endMs] of the audio axis, so two of them with the same endMs line up one above the
 * other.
 */
import { useEffect, useMemo, useRef } from 'react';
import type { TimelineEvent } from '../../../shared/timeline';
import { TimelineCanvas, TimelineModel } from '../timeline';
import '../timeline/timeline.css';

export interface StaticTimelineProps {
  events: readonly TimelineEvent[];
  endMs: number;
  label: string;
  testId?: string;
}

export function StaticTimeline({ events, endMs, label, testId }: StaticTimelineProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const viewportRef = useRef<HTMLDivElement>(null);
  const model = useMemo(() => {
    const m = new TimelineModel({ now: () => 0 });
    m.ingestAll(events, 0);
    return m;
  }, [events]);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return undefined;
    const renderer = new TimelineCanvas(canvas, model, {
      windowMs: endMs,
      range: { start: 0, end: endMs },
      ...(viewportRef.current ? { fitTo: viewportRef.current } : {}),
    });
    renderer.setFollow(false);
    renderer.reveal(0, endMs);
    return () => renderer.dispose();
  }, [model, endMs]);

  const turns = events.filter((e) => e.type === 'turn_committed').length;
  return (
    <section className="cue-timeline static-timeline" aria-label={label} data-testid={testId}>
      <h4 className="static-timeline-title">{label}</h4>
      <div className="cue-timeline__body">
        <div ref={viewportRef} className="cue-timeline__viewport static-timeline-viewport">
          <canvas ref={canvasRef} className="cue-timeline__canvas" aria-hidden="true" />
        </div>
      </div>
      <p className="visually-hidden">
        {label}: {turns} committed turn{turns === 1 ? '' : 's'} over {(endMs / 1000).toFixed(1)} s.
      </p>
    </section>
  );
}
