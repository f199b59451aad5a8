// Writes .gz and .br next to every compressible file in dist/, so chatd can serve them
// without compressing on the fly. Skips files where compression does not pay.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, extname } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = process.argv[2] ?? new URL('../dist', import.meta.url).pathname;
const compressible = new Set(['.js', '.mjs', '.css', '.html', '.svg', '.json', '.txt', '.map', '.ttf']);

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

let count = 0;
for (const path of files(root)) {
  if (!compressible.has(extname(path))) continue;
  const data = readFileSync(path);
  if (data.length < 1024) continue;
  const gz = gzipSync(data, { level: 9 });
  const br = brotliCompressSync(data, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
  });
  if (gz.length < data.length * 0.9) writeFileSync(`${path}.gz`, gz);
  if (br.length < data.length * 0.9) writeFileSync(`${path}.br`, br);
  count++;
}
console.log(`precompressed ${count} file(s) in ${root}`);
