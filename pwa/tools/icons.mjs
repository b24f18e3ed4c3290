// Cairn's app icons, drawn in code and encoded as PNG with node's zlib: no binary in git.
//
//   import { makeIcons } from './icons.mjs';
//   for (const [name, png] of Object.entries(makeIcons())) writeFileSync(`icons/${name}`, png);
//
// The picture: three stacked stones (a cairn) in the background colour on the theme colour.
// "maskable-512.png" keeps the stones inside the central 80 % circle that maskable icons
// guarantee to show; the others fill more of the square and round its corners.
import { deflateSync } from 'node:zlib';

export const THEME = [0x1d, 0x4d, 0x43]; // #1d4d43, the manifest's theme_color
export const BACKGROUND = [0xf6, 0xf3, 0xee]; // #f6f3ee, its background_color

// Stones as ellipses in a unit square: [centre x, centre y, radius x, radius y].
const STONES = [
  [0.5, 0.74, 0.3, 0.11],
  [0.5, 0.52, 0.21, 0.095],
  [0.5, 0.33, 0.13, 0.075],
];

function inStone(x, y, scale) {
  for (const [cx, cy, rx, ry] of STONES) {
    const dx = (x - 0.5) / scale + 0.5 - cx;
    const dy = (y - 0.5) / scale + 0.5 - cy;
    if ((dx * dx) / (rx * rx) + (dy * dy) / (ry * ry) <= 1) return true;
  }
  return false;
}

function inRoundedSquare(x, y, radius) {
  const qx = Math.max(Math.abs(x - 0.5) - (0.5 - radius), 0);
  const qy = Math.max(Math.abs(y - 0.5) - (0.5 - radius), 0);
  return qx * qx + qy * qy <= radius * radius;
}

// RGBA pixels, 4x4 supersampled for smooth edges.
function draw(size, { maskable }) {
  const px = Buffer.alloc(size * size * 4);
  const scale = maskable ? 0.78 : 1;
  const n = 4;
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      let bg = 0,
        stone = 0;
      for (let sj = 0; sj < n; sj++) {
        for (let si = 0; si < n; si++) {
          const x = (i + (si + 0.5) / n) / size,
            y = (j + (sj + 0.5) / n) / size;
          if (!maskable && !inRoundedSquare(x, y, 0.18)) continue;
          if (inStone(x, y, scale)) stone++;
          else bg++;
        }
      }
      const cover = bg + stone,
        o = (j * size + i) * 4;
      if (cover === 0) continue;
      for (let c = 0; c < 3; c++)
        px[o + c] = Math.round((THEME[c] * bg + BACKGROUND[c] * stone) / cover);
      px[o + 3] = Math.round((255 * cover) / (n * n));
    }
  }
  return px;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export function encodePng(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let j = 0; j < size; j++) {
    rows[j * (size * 4 + 1)] = 0; // filter: none
    rgba.copy(rows, j * (size * 4 + 1) + 1, j * size * 4, (j + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export function makeIcons() {
  return {
    'icon-192.png': encodePng(192, draw(192, { maskable: false })),
    'icon-512.png': encodePng(512, draw(512, { maskable: false })),
    'maskable-512.png': encodePng(512, draw(512, { maskable: true })),
  };
}
