import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/*
 * Protocol codecs and state machines take time and randomness as arguments (house rule R11): dependency-cruiser
 * keeps sockets and Node modules out of them, and this test keeps out the globals no import rule can see.
 */
const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
const FORBIDDEN = /\b(setTimeout|setInterval|setImmediate|queueMicrotask|Date\.now|new Date|Math\.random|performance\.now|process\.)\b/;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** The code of a TypeScript file without its comments (enough for the identifiers checked here). */
const withoutComments = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

function pureFiles(): string[] {
  const adapters = join(ROOT, 'src/adapters');
  const protocol = sources(adapters).filter((f) => f.includes('/protocol/'));
  const mux = ['codec.ts', 'frame.ts', 'errors.ts', 'stream-state.ts', 'control-queue.ts'].map((f) => join(adapters, 'wire/mux', f));
  return [...protocol, ...mux];
}

describe('pure protocol code', () => {
  it('exists where the rule looks (gossip protocol and mux codec)', () => {
    const files = pureFiles().map((f) => relative(ROOT, f));
    assert.ok(files.some((f) => f.includes('gossip/protocol/gossip-machine.ts')), files.join('\n'));
    assert.ok(files.includes('src/adapters/wire/mux/codec.ts'));
  });

  for (const file of pureFiles()) {
    it(`${relative(ROOT, file)} reads no clock, timer, randomness or process`, () => {
      const code = withoutComments(readFileSync(file, 'utf8'));
      const hit = FORBIDDEN.exec(code);
      assert.equal(hit, null, hit ? `uses ${hit[0]}` : '');
    });
  }

  it('the check can fail', () => {
    assert.match(withoutComments('const t = Date.now(); // fine'), FORBIDDEN);
    assert.doesNotMatch(withoutComments('// Date.now() in a comment\nconst t = now;'), FORBIDDEN);
  });
});
