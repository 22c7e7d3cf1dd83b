/** Whether the tuning panel is open, remembered across windows (open the first time). */
const STORAGE_KEY = 'cue.tuning';

export function loadTuningOpen(): boolean {
  try {
    return localStorage.getItem(STORAGE_KEY) !== 'closed';
  } catch {
    return true;
  }
}

export function saveTuningOpen(open: boolean): void {
  try {
    localStorage.setItem(STORAGE_KEY, open ? 'open' : 'closed');
  } catch {
    // Storage unavailable (private mode): the panel opens by default next time.
  }
}
