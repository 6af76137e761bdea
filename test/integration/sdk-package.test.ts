import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, startServer, type ServerProc } from '../support/processes.js';

/** Runs a command to completion; resolves with its exit code and output (never rejects). */
function run(cmd: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.on('error', (err) => done({ code: -1, out: out + String(err) }));
    child.on('close', (code) => done({ code, out }));
  });
}

const PROGRAM = `import { createServer } from 'node:http';
import { serveHttp, dial, listen, type ListenOptions } from 'piko-ts';

const options: ListenOptions = { url: \`http://\${process.env.UPSTREAM_ADDR}\` };
const app = createServer((req, res) => res.end(\`installed sdk says hi to \${req.url}\`));
const listener = await serveHttp('from-tarball', app, options);
const echo = await listen('echo-from-tarball', options);
echo.on('connection', (socket) => socket.pipe(socket));

const res = await fetch(\`http://\${process.env.PROXY_ADDR}/hello\`, { headers: { 'x-piko-endpoint': 'from-tarball' } });
const conn = await dial('echo-from-tarball', { url: \`http://\${process.env.PROXY_ADDR}\` });
conn.end('tcp round trip');
let echoed = '';
for await (const chunk of conn) echoed += String(chunk);
console.log(JSON.stringify({ status: res.status, body: await res.text(), echoed }));
await listener.close();
await echo.close();
process.exit(0);
`;

describe('the SDK installed as users install packages (issue 7)', () => {
  let dir = '';
  let server: ServerProc | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'piko-ts-sdk-'));
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('npm pack, npm install of the tarball into an empty project, and a TypeScript program that type-checks and runs against a live server', async () => {
    // A clone as a user has it: the sources without dist/, dependencies installed (npm ci). `npm pack` (and an
    // install from git or from the folder) must build dist/ itself through the prepare script.
    const clone = join(dir, 'clone');
    const listed = await run('git', ['ls-files', '-co', '--exclude-standard'], ROOT);
    assert.equal(listed.code, 0, listed.out);
    for (const file of listed.out.split('\n').filter((f) => f !== '' && !f.startsWith('dist'))) {
      if (!existsSync(join(ROOT, file))) continue;
      mkdirSync(dirname(join(clone, file)), { recursive: true });
      copyFileSync(join(ROOT, file), join(clone, file));
    }
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
    assert.equal(existsSync(join(clone, 'dist')), false);
    const packed = await run('npm', ['pack', '--pack-destination', dir, '--silent'], clone);
    assert.equal(packed.code, 0, packed.out);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, `npm pack wrote a tarball: ${packed.out}`);

    const project = join(dir, 'app');
    await run('mkdir', ['-p', project], dir);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'sdk-user', private: true, type: 'module' }));
    const installed = await run('npm', ['install', join(dir, tarball), '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], project);
    assert.equal(installed.code, 0, installed.out);
    assert.ok(existsSync(join(project, 'node_modules/piko-ts/LICENSE')), 'the package carries its licence');
    assert.ok(existsSync(join(project, 'node_modules/piko-ts/dist/index.d.ts')), 'and its types');

    writeFileSync(join(project, 'main.ts'), PROGRAM);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          allowImportingTsExtensions: true,
          types: ['node'],
          typeRoots: [resolve(ROOT, 'node_modules/@types')],
        },
        files: ['main.ts'],
      }),
    );
    // Types resolve through the package's "exports" (the types condition), as in a user's editor.
    const checked = await run(resolve(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], project);
    assert.equal(checked.code, 0, checked.out);

    const ran = await run(process.execPath, ['main.ts'], project, {
      UPSTREAM_ADDR: server!.addrs.upstream,
      PROXY_ADDR: server!.addrs.proxy,
    });
    assert.equal(ran.code, 0, ran.out);
    const result = JSON.parse(ran.out.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}') as Record<string, unknown>;
    assert.deepEqual(result, { status: 200, body: 'installed sdk says hi to /hello', echoed: 'tcp round trip' });
  });
});
