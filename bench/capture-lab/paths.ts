/** The capture paths `npm run bench:capture` compares (bench/capture-lab/page.ts sets each one up). */
export const CAPTURE_PATHS = ['worklet', 'worker', 'worker-suspended'] as const;

export type CapturePath = (typeof CAPTURE_PATHS)[number];
