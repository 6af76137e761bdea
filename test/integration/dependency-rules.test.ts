import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../support/processes.js';

/** Runs dependency-cruiser with the project's rules on `src` below `cwd`. */
function cruise(cwd: string): { status: number | null; out: string } {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      resolve(ROOT, 'scripts/typescript-api-alias.mjs'),
      resolve(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs'),
      'src',
      '--config',
      resolve(ROOT, '.dependency-cruiser.cjs'),
    ],
    { cwd, encoding: 'utf8' },
  );
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function write(root: string, file: string, text: string): void {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
}

describe('the dependency rules (dependency-cruiser, run by npm test as lint:deps)', () => {
  it('pass on the product sources', () => {
    const r = cruise(ROOT);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /no dependency violations found/);
  });

  it('fail on each kind of violation, naming the rule', () => {
    const dir = mkdtempSync(join(tmpdir(), 'piko-ts-rules-'));
    try {
      write(dir, 'tsconfig.json', JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
      write(dir, 'package.json', JSON.stringify({ type: 'module' }));
      write(dir, 'src/domain/bad.ts', "import type { Stats } from 'node:fs';\nexport type S = Stats;\n");
      write(dir, 'src/application/bad.ts', "import { helper } from '../adapters/platform/clock/helper.js';\nexport const x = helper;\n");
      write(dir, 'src/adapters/platform/clock/helper.ts', 'export const helper = 1;\n');
      write(dir, 'src/adapters/server/proxy/route.ts', 'export const route = 1;\n');
      write(dir, 'src/adapters/client/agent/uses-server.ts', "import { route } from '../../server/proxy/route.js';\nexport const y = route;\n");
      write(dir, 'src/adapters/wire/mux/codec.ts', "import { Socket } from 'node:net';\nexport const z = Socket;\n");
      write(dir, 'src/adapters/server/cluster/gossip/protocol/machine.ts', "import { createSocket } from 'node:dgram';\nexport const w = createSocket;\n");
      write(dir, 'src/adapters/platform/logging/log.ts', "import { route } from '../../server/proxy/route.js';\nexport const v = route;\n");
      write(dir, 'src/adapters/platform/net/a.ts', "import { b } from './b.js';\nexport const a = () => b;\n");
      write(dir, 'src/adapters/platform/net/b.ts', "import { a } from './a.js';\nexport const b = () => a;\n");
      const r = cruise(dir);
      assert.notEqual(r.status, 0, r.out);
      for (const rule of [
        'domain-is-pure',
        'application-points-inwards',
        'client-never-loads-server',
        'pure-protocol',
        'platform-knows-no-role',
        'no-circular',
      ]) {
        assert.match(r.out, new RegExp(`error ${rule}:`), `${rule} should fire:\n${r.out}`);
      }
      assert.match(r.out, /gossip\/protocol\/machine\.ts → .*dgram/, 'a socket under protocol/ is refused');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
