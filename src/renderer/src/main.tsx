// First: zod's CSP-safe mode must be set before any schema is built (see app/csp.ts).
import './app/csp';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { applyTheme, loadTheme } from './app/theme';
import './styles.css';

// The saved theme before the first paint, so a dark-theme user never sees a light flash.
applyTheme(loadTheme());

const root = document.getElementById('root');
if (!root) throw new Error('Cue: #root element missing from index.html');

createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
