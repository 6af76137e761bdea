import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * `piko-ts bench`: runs the benchmark suite of a development checkout (built by `npm run bench`, which
 * compiles bench/ next to the tests). The suite is not shipped in the package.
 */
export async function runBench(argv: readonly string[]): Promise<void> {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const entry = resolve(root, 'dist-test/bench/run.js');
  if (!existsSync(entry)) {
    process.stderr.write('bench: the benchmark suite is not built; run "npm run bench" in a checkout of piko-ts\n');
    process.exit(1);
  }
  process.argv = [process.argv[0] ?? 'node', entry, ...argv];
  await import(pathToFileURL(entry).href);
}
