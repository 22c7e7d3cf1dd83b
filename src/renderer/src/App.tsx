/** The first window: says what Cue is and where the engine runs for now. */
export function App() {
  const version = typeof window.cue === 'undefined' ? undefined : window.cue.version;
  return (
    <main className="app">
      <header className="app-header">
        <h1 className="app-title">Cue</h1>
        {version ? <span className="app-version">v{version}</span> : null}
      </header>
      <p className="app-lead">A desktop voice assistant that answers at the right moment.</p>
      <section className="app-note" aria-label="Status">
        <p>
          The voice engine runs headless for now. Replay a conversation from a terminal with{' '}
          <code>npm run replay</code>.
        </p>
      </section>
    </main>
  );
}
