/**
 * Imported first by main.tsx, before any schema is built: zod probes `new Function` (for its
 * compiled fast path) when an object schema is created, and the page's CSP (script-src 'self')
 * reports that probe as a violation even though zod catches it. Jitless mode skips the probe.
 */
import { config } from 'zod';

config({ jitless: true });
