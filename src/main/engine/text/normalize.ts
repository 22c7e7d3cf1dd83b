/**
 * Transcript normalisation shared by the reuse strategies and the scripted providers:
 * case, punctuation and white space are ignored; apostrophes inside words are kept
 * ("what's" stays one word).
 */
export function normalizeTranscript(text: string): string {
  return words(text).join(' ');
}

export function words(text: string): string[] {
  return text
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[^\p{L}\p{N}'\s]+/gu, ' ')
    .split(/\s+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter((w) => w.length > 0);
}

export function sameTranscript(a: string, b: string): boolean {
  return normalizeTranscript(a) === normalizeTranscript(b);
}
