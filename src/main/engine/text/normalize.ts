/**
 * Transcript normalisation shared by the reuse strategies, the turn detector and the scripted
 * providers: case, punctuation and white space are ignored; apostrophes inside words are kept
 * ("what's" stays one word); numbers are compared as numbers, however the speech-to-text
 * service wrote them ("fifteen percent", "15 percent" and "15%" are the same words, as are
 * "six thirty" and "6:30").
 */
import { canonicalNumbers } from './numbers';

export function normalizeTranscript(text: string): string {
  return words(text).join(' ');
}

export function words(text: string): string[] {
  const plain = text
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/(\d),(?=\d{3}\b)/g, '$1')
    .replace(/(\d)\s*%/g, '$1 percent ')
    .replace(/\$\s*(\d+)/g, '$1 dollars ')
    .replace(/[^\p{L}\p{N}'\s]+/gu, ' ')
    .split(/\s+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter((w) => w.length > 0);
  return canonicalNumbers(plain);
}

export function sameTranscript(a: string, b: string): boolean {
  return normalizeTranscript(a) === normalizeTranscript(b);
}
