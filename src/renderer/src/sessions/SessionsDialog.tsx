/**
 * Sessions: the recorded sessions (recording.enabled), one opened on its recorded timeline, and a
 * replay of it under other settings shown under the recording, aligned on the audio, with a
 * per-turn table of what moved and one button that applies the tried settings. The replays run in
 * main on the virtual clock; recordings never leave this computer.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CueApi } from '../../../shared/contract';
import type { RecordedSession, RecordingSummary, ReplayComparison } from '../../../shared/recording';
import type { OptionInfo, Settings } from '../../../shared/settings';
import type { SettingsUpdateResult } from '../../../shared/contract';
import { CloseIcon } from '../app/icons';
import { PRESETS } from '../settings/presets';
import {
  applyPatch,
  deltaTone,
  describeChanges,
  formatBytes,
  formatDelta,
  formatLength,
  formatMs,
  formatWhen,
  parseOptionValue,
  replayableOptions,
  replayRequest,
  turnRows,
  type ReplayChoice,
} from './sessions';
import { StaticTimeline } from './StaticTimeline';

export interface SessionsDialogProps {
  api: CueApi;
  settings: Settings | null;
  options: readonly OptionInfo[];
  onApply: (patch: Record<string, unknown>) => Promise<SettingsUpdateResult>;
  onClose: () => void;
}

type View =
  { kind: 'list' } | { kind: 'session'; session: RecordedSession; comparison: ReplayComparison | null };

export function SessionsDialog({ api, settings, options, onApply, onClose }: SessionsDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [list, setList] = useState<RecordingSummary[] | null>(null);
  const [view, setView] = useState<View>({ kind: 'list' });
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    const el = dialog.current;
    if (el && !el.open) el.showModal();
  }, []);

  const refresh = useCallback(async () => {
    try {
      setList(await api.request('recordings:list', {}));
    } catch (e) {
      setError(errorText(e));
    }
  }, [api]);
  useEffect(() => {
    let live = true;
    api.request('recordings:list', {}).then(
      (loaded) => live && setList(loaded),
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [api]);

  const open = async (id: string) => {
    setBusy('Opening…');
    setError(null);
    try {
      const result = await api.request('recordings:open', { id });
      if (result.ok) setView({ kind: 'session', session: result.session, comparison: null });
      else setError(result.error);
    } finally {
      setBusy(null);
    }
  };

  const remove = async (id: string | null) => {
    setError(null);
    try {
      setList(
        id === null
          ? await api.request('recordings:delete-all', {})
          : await api.request('recordings:delete', { id }),
      );
    } catch (e) {
      setError(errorText(e));
    }
  };

  const replay = async (choice: ReplayChoice) => {
    if (view.kind !== 'session') return;
    setBusy('Replaying on the virtual clock…');
    setError(null);
    setMessage(null);
    try {
      const result = await api.request('recordings:replay', {
        id: view.session.summary.id,
        ...replayRequest(choice),
      });
      if (result.ok) setView({ ...view, comparison: result.comparison });
      else setError(result.error);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  };

  const apply = async (comparison: ReplayComparison) => {
    if (!settings) return;
    const patch = applyPatch(settings, comparison.settings);
    const result = await onApply(patch);
    setMessage(
      result.ok ? 'The tried settings are now in force.' : `Not applied: ${result.problems.join('; ')}`,
    );
  };

  return (
    <dialog
      ref={dialog}
      className="drawer sessions"
      aria-labelledby="sessions-title"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <div className="drawer-frame">
        <header className="drawer-head">
          <div>
            <h2 id="sessions-title">Sessions</h2>
            <p className="muted">
              Recorded conversations, kept on this computer. Replay one under other settings and see what
              would have moved.
            </p>
          </div>
          <button
            type="button"
            className="btn btn--ghost btn--icon"
            onClick={onClose}
            aria-label="Close sessions"
            title="Close (Esc)"
          >
            <CloseIcon />
          </button>
        </header>
        <div className="sessions-body">
          <div role="status" aria-live="polite" className="sessions-status">
            {busy ?? ''}
          </div>
          {error ? (
            <p className="sessions-error" role="alert">
              {error}
            </p>
          ) : null}
          {view.kind === 'list' ? (
            <SessionList
              list={list}
              recordingOn={settings?.recording.enabled ?? false}
              onOpen={(id) => void open(id)}
              onDelete={(id) => void remove(id)}
            />
          ) : (
            <SessionView
              session={view.session}
              comparison={view.comparison}
              options={options}
              busy={busy !== null}
              message={message}
              onBack={() => {
                setView({ kind: 'list' });
                setMessage(null);
                void refresh();
              }}
              onReplay={(choice) => void replay(choice)}
              onApply={(c) => void apply(c)}
            />
          )}
        </div>
      </div>
    </dialog>
  );
}

function SessionList(props: {
  list: RecordingSummary[] | null;
  recordingOn: boolean;
  onOpen: (id: string) => void;
  onDelete: (id: string | null) => void;
}) {
  const { list } = props;
  if (list === null) return <p className="muted">Loading…</p>;
  return (
    <>
      {!props.recordingOn ? (
        <p className="sessions-hint">
          Recording is off. Turn on Settings → Recording → Record sessions to keep your next sessions here.
        </p>
      ) : null}
      {list.length === 0 ? (
        <p className="muted">No recorded sessions yet.</p>
      ) : (
        <table className="sessions-table" aria-label="Recorded sessions">
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Length</th>
              <th scope="col">Turns</th>
              <th scope="col">e2e p50</th>
              <th scope="col">Cut-ins</th>
              <th scope="col">Size</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((s) => (
              <tr key={s.id} data-session={s.id}>
                <td>
                  {formatWhen(s.created_at)}
                  {s.problem ? (
                    <div className={`session-problem${s.unreadable ? ' session-problem--refused' : ''}`}>
                      {s.unreadable ? 'Cannot be opened: ' : 'Incomplete: '}
                      {s.problem}
                    </div>
                  ) : null}
                </td>
                <td>{formatLength(s.duration_ms)}</td>
                <td>{s.turns}</td>
                <td>{formatMs(s.e2e_p50_ms)}</td>
                <td>{s.cut_ins}</td>
                <td>{formatBytes(s.bytes)}</td>
                <td className="sessions-actions">
                  <button
                    type="button"
                    className="btn btn--primary"
                    disabled={s.unreadable}
                    onClick={() => props.onOpen(s.id)}
                    aria-label={`Open the session of ${formatWhen(s.created_at)}`}
                  >
                    Open
                  </button>
                  <button
                    type="button"
                    className="btn btn--ghost"
                    onClick={() => props.onDelete(s.id)}
                    aria-label={`Delete the session of ${formatWhen(s.created_at)}`}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.length > 0 ? (
        <button
          type="button"
          className="btn btn--ghost sessions-delete-all"
          onClick={() => props.onDelete(null)}
        >
          Delete all recordings
        </button>
      ) : null}
    </>
  );
}

function SessionView(props: {
  session: RecordedSession;
  comparison: ReplayComparison | null;
  options: readonly OptionInfo[];
  busy: boolean;
  message: string | null;
  onBack: () => void;
  onReplay: (choice: ReplayChoice) => void;
  onApply: (comparison: ReplayComparison) => void;
}) {
  const { session, comparison } = props;
  const endMs = session.summary.duration_ms;
  return (
    <div className="session-view">
      <div className="session-view-head">
        <button type="button" className="btn btn--ghost" onClick={props.onBack}>
          ← All sessions
        </button>
        <span>
          {formatWhen(session.summary.created_at)} · {formatLength(session.summary.duration_ms)} ·{' '}
          {session.summary.turns} turns · e2e p50 {formatMs(session.summary.e2e_p50_ms)}
        </span>
      </div>
      {session.summary.problem ? (
        <p className="session-problem">This recording is incomplete: {session.summary.problem}</p>
      ) : null}
      <ReplayControls options={props.options} busy={props.busy} onReplay={props.onReplay} />
      <StaticTimeline events={session.events} endMs={endMs} label="Recorded" testId="timeline-recorded" />
      {comparison ? (
        <>
          <StaticTimeline
            events={comparison.replayed.events}
            endMs={endMs}
            label={`Replayed with ${describeChanges(comparison)}`}
            testId="timeline-replayed"
          />
          <Fidelity comparison={comparison} />
          <TurnTable comparison={comparison} />
          <div className="session-apply">
            <button
              type="button"
              className="btn btn--primary"
              onClick={() => props.onApply(comparison)}
              disabled={props.busy}
            >
              Apply these settings
            </button>
            <span role="status" aria-live="polite">
              {props.message ?? ''}
            </span>
          </div>
        </>
      ) : null}
    </div>
  );
}

function ReplayControls(props: {
  options: readonly OptionInfo[];
  busy: boolean;
  onReplay: (choice: ReplayChoice) => void;
}) {
  const replayable = replayableOptions(props.options);
  const [preset, setPreset] = useState(PRESETS[0]!.id as string);
  const [path, setPath] = useState('turn_handling.endpointing.min_delay');
  const [raw, setRaw] = useState('');
  const option = replayable.find((o) => o.path === path);
  return (
    <div className="replay-controls" role="group" aria-label="Replay">
      <button
        type="button"
        className="btn btn--primary"
        disabled={props.busy}
        onClick={() => props.onReplay({ kind: 'current' })}
      >
        Replay with the current settings
      </button>
      <span className="replay-control">
        <label htmlFor="replay-preset">Preset</label>
        <select id="replay-preset" value={preset} onChange={(e) => setPreset(e.target.value)}>
          {PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="btn"
          disabled={props.busy}
          onClick={() => props.onReplay({ kind: 'preset', preset })}
        >
          Replay with preset
        </button>
      </span>
      <span className="replay-control">
        <label htmlFor="replay-option">One option</label>
        <select id="replay-option" value={path} onChange={(e) => setPath(e.target.value)}>
          {replayable.map((o) => (
            <option key={o.path} value={o.path}>
              {o.path}
            </option>
          ))}
        </select>
        <label htmlFor="replay-value" className="visually-hidden">
          New value
        </label>
        <input
          id="replay-value"
          value={raw}
          placeholder={option ? `now ${JSON.stringify(option.default)} by default` : ''}
          onChange={(e) => setRaw(e.target.value)}
          size={10}
        />
        <button
          type="button"
          className="btn"
          disabled={props.busy || !option || raw.trim() === ''}
          onClick={() =>
            option && props.onReplay({ kind: 'option', path, value: parseOptionValue(option, raw) })
          }
        >
          Replay with this change
        </button>
      </span>
    </div>
  );
}

function Fidelity({ comparison }: { comparison: ReplayComparison }) {
  return (
    <div className={`replay-fidelity${comparison.approximate.length ? ' replay-fidelity--approximate' : ''}`}>
      <p>
        <strong>
          {comparison.approximate.length ? 'Approximate replay.' : 'Exact replay of the providers.'}
        </strong>{' '}
        {(comparison.audio_ms / 1000).toFixed(1)} s of audio replayed in{' '}
        {(comparison.elapsed_ms / 1000).toFixed(2)} s.
      </p>
      {comparison.approximate.length ? (
        <ul aria-label="Why approximate">
          {comparison.approximate.map((a) => (
            <li key={a.path}>
              <code>{a.path}</code>: {a.reason}.
            </li>
          ))}
        </ul>
      ) : null}
      <ul className="replay-fidelity-notes">
        {comparison.fidelity.map((f) => (
          <li key={f}>{f}</li>
        ))}
      </ul>
    </div>
  );
}

function Delta({ before, after }: { before: number | null; after: number | null }) {
  const text = formatDelta(before, after);
  return text ? <span className={`delta delta--${deltaTone(before, after)}`}>{text}</span> : null;
}

function TurnTable({ comparison }: { comparison: ReplayComparison }) {
  const rows = turnRows(comparison);
  const r = comparison.recorded.totals;
  const p = comparison.replayed.totals;
  const yes = (v: boolean | null) => (v === null ? '—' : v ? 'yes' : 'no');
  return (
    <table className="sessions-table turn-table" aria-label="What moved, turn by turn">
      <thead>
        <tr>
          <th scope="col">Turn</th>
          <th scope="col">e2e recorded → replayed</th>
          <th scope="col">End-of-turn delay</th>
          <th scope="col">Cut-in</th>
          <th scope="col">Wasted requests</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.index}>
            <th scope="row">
              {row.index + 1}. <span className="turn-text">{row.transcript}</span>
            </th>
            <td>
              {formatMs(row.e2e[0])} → {formatMs(row.e2e[1])} <Delta before={row.e2e[0]} after={row.e2e[1]} />
            </td>
            <td>
              {formatMs(row.endOfTurn[0])} → {formatMs(row.endOfTurn[1])}{' '}
              <Delta before={row.endOfTurn[0]} after={row.endOfTurn[1]} />
            </td>
            <td>
              {yes(row.cutIn[0])} → {yes(row.cutIn[1])}
            </td>
            <td>
              {row.wasted[0] ?? '—'} → {row.wasted[1] ?? '—'}
            </td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row">
            Totals ({r.turns} → {p.turns} turns)
          </th>
          <td>
            p50 {formatMs(r.e2e_p50_ms)} → {formatMs(p.e2e_p50_ms)}{' '}
            <Delta before={r.e2e_p50_ms} after={p.e2e_p50_ms} />
          </td>
          <td>
            p95 {formatMs(r.e2e_p95_ms)} → {formatMs(p.e2e_p95_ms)}
          </td>
          <td>
            {r.cut_ins} → {p.cut_ins}
          </td>
          <td>
            {r.llm_requests_wasted} of {r.llm_requests} → {p.llm_requests_wasted} of {p.llm_requests}
          </td>
        </tr>
      </tfoot>
    </table>
  );
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
