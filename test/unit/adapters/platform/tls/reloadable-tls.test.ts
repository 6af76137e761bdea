import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TlsFileError } from '../../../../../src/adapters/platform/tls/pem-files.js';
import { ReloadableTls, RELOAD_DEBOUNCE_MS, TlsReloadGroup, type WatchDirectory } from '../../../../../src/adapters/platform/tls/reloadable-tls.js';
import type { TlsMaterial } from '../../../../../src/adapters/platform/tls/tls-material.js';
import { FakeClock } from '../../../../support/fakes/fake-clock.js';
import { InMemoryLogger } from '../../../../support/fakes/in-memory-logger.js';

/** Files as the loader sees them: edited by the test, read on each load. */
class FakeFiles {
  cert = 'cert-1';
  broken = false;
  loads = 0;

  load = (): TlsMaterial<{ cert: string }> => {
    this.loads++;
    if (this.broken) throw new TlsFileError('/etc/piko/cert.pem', 'proxy.tls.cert', 'is not a PEM certificate');
    return { options: { cert: this.cert }, fingerprint: this.cert, files: ['/etc/piko/cert.pem', '/etc/piko/key.pem', '/ca/ca.pem'], facts: { serial: this.cert } };
  };
}

/** A directory watch whose events the test fires. */
class FakeWatch {
  readonly dirs: string[] = [];
  readonly fire = new Map<string, () => void>();
  readonly fail = new Map<string, (err: Error) => void>();
  closed = 0;

  watch: WatchDirectory = (dir, onEvent, onError) => {
    this.dirs.push(dir);
    this.fire.set(dir, onEvent);
    this.fail.set(dir, onError);
    return { close: () => void this.closed++ };
  };
}

function setUp() {
  const files = new FakeFiles();
  const clock = new FakeClock();
  const log = new InMemoryLogger();
  const watch = new FakeWatch();
  const tls = new ReloadableTls({ name: 'proxy.tls', load: files.load, clock, log, watchDirectory: watch.watch });
  return { files, clock, log, watch, tls };
}

describe('ReloadableTls', () => {
  it('reads the files when built, and throws what the loader throws (start-up fails with the key and file)', () => {
    const { tls, files } = setUp();
    assert.deepEqual(tls.current, { cert: 'cert-1' });
    assert.equal(files.loads, 1);
    const broken = new FakeFiles();
    broken.broken = true;
    assert.throws(
      () => new ReloadableTls({ name: 'proxy.tls', load: broken.load, clock: new FakeClock(), log: new InMemoryLogger() }),
      /^TlsFileError: config: proxy\.tls\.cert: \/etc\/piko\/cert\.pem: is not a PEM certificate$/,
    );
  });

  describe('.reload', () => {
    it('swaps in new material, tells the listeners and logs the new certificate', () => {
      const { tls, files, log } = setUp();
      const seen: string[] = [];
      tls.onReload((o) => seen.push(o.cert));
      files.cert = 'cert-2';
      assert.equal(tls.reload('SIGHUP'), 'reloaded');
      assert.deepEqual(tls.current, { cert: 'cert-2' });
      assert.deepEqual(seen, ['cert-2']);
      assert.deepEqual(log.filter({ message: 'TLS certificates reloaded' }).map((e) => e.fields), [{ tls: 'proxy.tls', reason: 'SIGHUP', serial: 'cert-2' }]);
    });

    it('does nothing when the files read the same', () => {
      const { tls, log } = setUp();
      let told = 0;
      tls.onReload(() => told++);
      assert.equal(tls.reload('SIGHUP'), 'unchanged');
      assert.equal(told, 0);
      assert.equal(log.filter({ level: 'info' }).length, 0);
    });

    it('keeps the material in use when the new files cannot be used, and logs the file at fault', () => {
      const { tls, files, log } = setUp();
      let told = 0;
      tls.onReload(() => told++);
      files.cert = 'cert-2';
      files.broken = true;
      assert.equal(tls.reload('SIGHUP'), 'failed');
      assert.deepEqual(tls.current, { cert: 'cert-1' });
      assert.equal(told, 0);
      const [entry] = log.filter({ level: 'error' });
      assert.equal(entry?.message, 'TLS reload failed: keeping the certificates in use');
      assert.equal(entry?.fields['file'], '/etc/piko/cert.pem');
      assert.equal(entry?.fields['error'], 'config: proxy.tls.cert: /etc/piko/cert.pem: is not a PEM certificate');
      files.broken = false;
      assert.equal(tls.reload('SIGHUP'), 'reloaded', 'a fixed file is taken on the next reload');
    });

    it('logs a listener that fails and still tells the others', () => {
      const { tls, files, log } = setUp();
      const seen: string[] = [];
      tls.onReload(() => {
        throw new Error('bad context');
      });
      tls.onReload((o) => seen.push(o.cert));
      files.cert = 'cert-2';
      assert.equal(tls.reload('SIGHUP'), 'reloaded');
      assert.deepEqual(seen, ['cert-2']);
      assert.equal(log.filter({ message: 'TLS reload could not be applied' }).length, 1);
    });
  });

  describe('.watch', () => {
    it('watches each directory of its files once', () => {
      const { tls, watch } = setUp();
      tls.watch();
      tls.watch();
      assert.deepEqual(watch.dirs, ['/etc/piko', '/ca']);
    });

    it('reloads once, after the debounce delay, for a burst of file events', () => {
      const { tls, files, clock, watch } = setUp();
      tls.watch();
      files.cert = 'cert-2';
      const fire = watch.fire.get('/etc/piko') as () => void;
      fire();
      clock.advance(RELOAD_DEBOUNCE_MS - 1);
      fire();
      watch.fire.get('/ca')?.();
      clock.advance(RELOAD_DEBOUNCE_MS - 1);
      assert.equal(files.loads, 1, 'not yet: events keep coming');
      clock.advance(1);
      assert.equal(files.loads, 2);
      assert.deepEqual(tls.current, { cert: 'cert-2' });
    });

    it('logs a failed watch and carries on (SIGHUP still reloads)', () => {
      const { tls, log, watch } = setUp();
      tls.watch();
      watch.fail.get('/ca')?.(new Error('EMFILE'));
      assert.equal(log.filter({ level: 'warn', message: 'TLS file watch failed: reload with SIGHUP' }).length, 1);
    });

    it('stops watching and drops a pending reload when closed', () => {
      const { tls, files, clock, watch } = setUp();
      tls.watch();
      watch.fire.get('/etc/piko')?.();
      tls.close();
      clock.advance(RELOAD_DEBOUNCE_MS * 2);
      assert.equal(files.loads, 1);
      assert.equal(watch.closed, 2);
      assert.equal(clock.pending, 0);
      tls.watch();
      assert.equal(watch.dirs.length, 2, 'a closed instance never watches again');
    });
  });
});

describe('TlsReloadGroup', () => {
  it('reloads every member and reports each outcome by name', () => {
    const group = new TlsReloadGroup();
    const a = setUp();
    const b = setUp();
    const other = new ReloadableTls({ name: 'connect.tls', load: b.files.load, clock: b.clock, log: b.log });
    group.add(a.tls);
    group.add(other);
    a.files.cert = 'cert-2';
    assert.deepEqual(group.reloadAll('SIGHUP'), { 'proxy.tls': 'reloaded', 'connect.tls': 'unchanged' });
    assert.equal(group.size, 2);
  });

  it('reloads on the signal until the returned function is called', () => {
    const group = new TlsReloadGroup();
    const { tls, files } = setUp();
    group.add(tls);
    const handlers = new Map<string, () => void>();
    const target = {
      on: (signal: string, fn: () => void) => void handlers.set(signal, fn),
      off: (signal: string) => void handlers.delete(signal),
    } as unknown as Pick<NodeJS.Process, 'on' | 'off'>;
    const stop = group.reloadOnSignal(target);
    files.cert = 'cert-2';
    handlers.get('SIGHUP')?.();
    assert.deepEqual(tls.current, { cert: 'cert-2' });
    stop();
    assert.equal(handlers.size, 0);
  });
});
