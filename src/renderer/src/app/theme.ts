/**
 * Light and dark themes: the system's choice (prefers-color-scheme) unless the user picked one.
 * The choice is a `data-theme` attribute on <html>; styles.css holds both palettes.
 */
export type ThemeChoice = 'system' | 'light' | 'dark';

const STORAGE_KEY = 'cue.theme';
const ORDER: readonly ThemeChoice[] = ['system', 'light', 'dark'];

export function isThemeChoice(value: unknown): value is ThemeChoice {
  return typeof value === 'string' && (ORDER as readonly string[]).includes(value);
}

/** system → light → dark → system. */
export function nextTheme(choice: ThemeChoice): ThemeChoice {
  return ORDER[(ORDER.indexOf(choice) + 1) % ORDER.length]!;
}

export function themeLabel(choice: ThemeChoice): string {
  return choice === 'system' ? 'System theme' : choice === 'light' ? 'Light theme' : 'Dark theme';
}

export function loadTheme(): ThemeChoice {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    return isThemeChoice(stored) ? stored : 'system';
  } catch {
    return 'system';
  }
}

export function applyTheme(choice: ThemeChoice): void {
  const root = document.documentElement;
  if (choice === 'system') delete root.dataset.theme;
  else root.dataset.theme = choice;
  try {
    if (choice === 'system') localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, choice);
  } catch {
    // Storage refused (private mode): the choice lasts for this window only.
  }
}
