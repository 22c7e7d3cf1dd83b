/** Saving the session report as a JSON file (a download from a Blob URL). */
import type { SessionReport } from '../../../shared/report';

/** `cue-session-2025-01-31-142305.json`, from the local time of `now`. */
export function reportFileName(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const date = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  const time = `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return `cue-session-${date}-${time}.json`;
}

export function reportJson(report: SessionReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** Starts a download of `text` as `fileName` (browser and Electron renderer alike). */
export function downloadText(text: string, fileName: string, type = 'application/json'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked once the download has had time to start reading the blob.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
