/** The capture paths `npm run bench:capture` compares (bench/capture-lab/page.ts sets each one up). */
export const CAPTURE_PATHS = ['shipped', 'track-reader', 'track-reader-suspended'] as const;

export type CapturePath = (typeof CAPTURE_PATHS)[number];
