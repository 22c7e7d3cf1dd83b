/** What the window shows while it cannot reach Cue's main process (no bridge). */
import { PlugIcon } from './icons';

export interface DisconnectedProps {
  error: string;
  onRetry: () => void;
  retrying: boolean;
}

export function Disconnected({ error, onRetry, retrying }: DisconnectedProps) {
  return (
    <section className="disconnected" aria-labelledby="disconnected-title">
      <div className="disconnected-card">
        <span className="disconnected-icon">
          <PlugIcon />
        </span>
        <h2 id="disconnected-title">Not connected to Cue</h2>
        <p className="disconnected-lead">
          This window cannot reach Cue’s main process, where the voice engine, your settings and your API keys
          live. Nothing can start until it is connected.
        </p>
        <p className="disconnected-error" role="alert">
          {error}
        </p>
        <h3>How to connect</h3>
        <ul>
          <li>
            <strong>Desktop app:</strong> this should not happen there; quit Cue and open it again.
          </li>
          <li>
            <strong>In a browser:</strong> run <code>npm run web</code> and open the address it prints (it
            carries this run’s <code>?token=</code>).
          </li>
        </ul>
        <button type="button" className="btn btn--primary" onClick={onRetry} disabled={retrying}>
          {retrying ? 'Connecting…' : 'Try again'}
        </button>
      </div>
    </section>
  );
}
