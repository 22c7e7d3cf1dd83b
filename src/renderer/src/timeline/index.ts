/**
 * The live turn timeline.
 *
 * Mounting in the app shell (src/renderer/src/app/mounts.tsx, TimelineMount), with the store's
 * one subscription and the current session's TurnReports:
 *
 *   import { LiveTimeline } from '../timeline';
 *
 *   export function TimelineMount({ subscribeTimeline, turns }: TimelineMountProps) {
 *     return <LiveTimeline subscribeTimeline={subscribeTimeline} turns={turns} />;
 *   }
 *
 * The component fills its container's height (the lanes scale to fit) and reads the app's theme
 * variables. Straight from the API instead:
 *
 *   import { Timeline, useTimelineModel } from './timeline';
 *
 *   function Shell({ api }: { api: CueApi | null }) {
 *     // One model for the app's lifetime, fed from api.on('timeline' / 'timeline:batch' / 'turn').
 *     const timeline = useTimelineModel(api);
 *     return <Timeline source={timeline} />;
 *   }
 *
 * Or own the model outside React (e.g. to keep it across views):
 *
 *   const model = new TimelineModel();
 *   const disconnect = connectTimeline(api, model);
 *   ...
 *   <Timeline source={model} windowMs={30_000} label="Turn timeline" />
 */
export {
  LiveTimeline,
  Timeline,
  connectTimeline,
  useTimelineModel,
  type LiveTimelineProps,
  type TimelineProps,
} from './Timeline';
export {
  LANES,
  ProbabilityRing,
  TimelineModel,
  preemptionSaved,
  timelineStats,
  type LaneId,
  type TimelineItem,
  type TimelineModelOptions,
  type TimelineStats,
  type TurnLatency,
  type TurnTrack,
} from './timeline-model';
export { LIVE_FPS, pacedWriter } from './live-pace';
export { canvasSurface, type CanvasSurface } from './canvas-surface';
export {
  TimelineCanvas,
  type HoverInfo,
  type TimelineCanvasOptions,
  type ViewState,
} from './timeline-canvas';
