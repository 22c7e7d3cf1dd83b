/**
 * Draws Cue's icons as PNG files (no image tools needed): the tray icons, one per agent status,
 * at 16 px and 32 px (@2x, picked by Electron on high-density screens), and the 512 px app icon
 * electron-builder turns into the .icns / .ico / Linux icons.
 *
 *   npx tsx scripts/make-icons.ts     writes resources/tray/*.png and build/icon.png
 *
 * The output is committed; run this again only to change the drawings.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

type Rgba = readonly [number, number, number, number];
/** Coverage of a shape at a point of the unit square (0..1 both ways): a signed distance, negative inside. */
type Shape = (x: number, y: number) => number;
interface Layer {
  shape: Shape;
  color: Rgba;
}

const root = fileURLToPath(new URL('..', import.meta.url));

const circle =
  (cx: number, cy: number, r: number): Shape =>
  (x, y) =>
    Math.hypot(x - cx, y - cy) - r;
const ring =
  (cx: number, cy: number, r: number, width: number): Shape =>
  (x, y) =>
    Math.abs(Math.hypot(x - cx, y - cy) - r) - width / 2;
const roundedSquare =
  (inset: number, radius: number): Shape =>
  (x, y) => {
    const half = 0.5 - inset - radius;
    const dx = Math.max(Math.abs(x - 0.5) - half, 0);
    const dy = Math.max(Math.abs(y - 0.5) - half, 0);
    return Math.hypot(dx, dy) - radius;
  };

const GREEN: Rgba = [46, 204, 113, 255];
const AMBER: Rgba = [243, 166, 33, 255];
const BLUE: Rgba = [52, 152, 219, 255];
const GREY: Rgba = [149, 156, 166, 255];
const WHITE: Rgba = [255, 255, 255, 255];
const DARK: Rgba = [16, 17, 20, 255];

const TRAY: Record<string, Layer[]> = {
  // A hollow grey ring: nothing is running.
  stopped: [{ shape: ring(0.5, 0.5, 0.34, 0.14), color: GREY }],
  // A green disc: Cue is listening.
  listening: [{ shape: circle(0.5, 0.5, 0.42), color: GREEN }],
  // An amber disc with three dark dots: a reply is being prepared.
  thinking: [
    { shape: circle(0.5, 0.5, 0.42), color: AMBER },
    { shape: circle(0.28, 0.5, 0.075), color: DARK },
    { shape: circle(0.5, 0.5, 0.075), color: DARK },
    { shape: circle(0.72, 0.5, 0.075), color: DARK },
  ],
  // A blue disc with a white ring: Cue is speaking.
  speaking: [
    { shape: circle(0.5, 0.5, 0.42), color: BLUE },
    { shape: ring(0.5, 0.5, 0.2, 0.1), color: WHITE },
  ],
};

const APP_ICON: Layer[] = [
  { shape: roundedSquare(0.06, 0.18), color: DARK },
  { shape: ring(0.5, 0.5, 0.27, 0.07), color: GREEN },
  { shape: circle(0.5, 0.5, 0.11), color: GREEN },
];

/** Renders the layers at `size` px with 4×4 supersampling, composited "over" in order. */
function render(layers: Layer[], size: number): Uint8Array {
  const pixels = new Uint8Array(size * size * 4);
  const grid = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < grid; sy++) {
        for (let sx = 0; sx < grid; sx++) {
          const x = (px + (sx + 0.5) / grid) / size;
          const y = (py + (sy + 0.5) / grid) / size;
          // Premultiplied "over" compositing of every layer covering this sample.
          let sr = 0;
          let sg = 0;
          let sb = 0;
          let sa = 0;
          for (const layer of layers) {
            if (layer.shape(x, y) > 0) continue;
            const la = layer.color[3] / 255;
            sr = layer.color[0] * la + sr * (1 - la);
            sg = layer.color[1] * la + sg * (1 - la);
            sb = layer.color[2] * la + sb * (1 - la);
            sa = la + sa * (1 - la);
          }
          r += sr;
          g += sg;
          b += sb;
          a += sa;
        }
      }
      const n = grid * grid;
      const alpha = a / n;
      const at = (py * size + px) * 4;
      pixels[at] = alpha ? Math.round(r / n / alpha) : 0;
      pixels[at + 1] = alpha ? Math.round(g / n / alpha) : 0;
      pixels[at + 2] = alpha ? Math.round(b / n / alpha) : 0;
      pixels[at + 3] = Math.round(alpha * 255);
    }
  }
  return pixels;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** An 8-bit RGBA PNG, no interlacing, filter 0 on every row. */
export function encodePng(pixels: Uint8Array, size: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++)
    rows.set(pixels.subarray(y * size * 4, (y + 1) * size * 4), y * (size * 4 + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

function write(path: string, layers: Layer[], size: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encodePng(render(layers, size), size));
  console.log(`wrote ${path.slice(root.length)} (${size}×${size})`);
}

for (const [name, layers] of Object.entries(TRAY)) {
  write(join(root, 'resources', 'tray', `${name}.png`), layers, 16);
  write(join(root, 'resources', 'tray', `${name}@2x.png`), layers, 32);
}
write(join(root, 'build', 'icon.png'), APP_ICON, 512);
