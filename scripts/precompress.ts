// Writes .br and .gz beside every text asset of dist/, so the server sends compressed bytes without
// compressing on each request (sirv picks them up).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dist = process.argv[2] ?? 'dist';
const TEXT = /\.(html|css|js|mjs|svg|json|xml|txt|map|webmanifest)$/;

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (TEXT.test(e.name)) yield p;
  }
}

let count = 0;
for (const file of files(dist)) {
  const raw = readFileSync(file);
  if (raw.length < 512) continue;
  writeFileSync(`${file}.br`, brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
  writeFileSync(`${file}.gz`, gzipSync(raw, { level: 9 }));
  count++;
}
console.log(`precompressed ${count} files in ${dist}`);
