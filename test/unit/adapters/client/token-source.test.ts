import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FileTokenSource, providedToken, refreshLeadMs, staticToken, TOKEN_FILE_POLL_MS, tokenExpiry, type TokenFileReader } from '../../../../src/adapters/client/token-source.js';
import { FakeClock } from '../../../support/fakes/fake-clock.js';
import { InMemoryLogger } from '../../../support/fakes/in-memory-logger.js';
import { signHmac } from '../../../support/security/tokens.js';

/** Lets a pending read and its callbacks finish. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Files in memory; a missing one fails as ENOENT would. */
class MemoryFiles implements TokenFileReader {
  readonly contents = new Map<string, string>();
  readSync(path: string): string {
    const text = this.contents.get(path);
    if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
    return text;
  }
  read(path: string): Promise<string> {
    try {
      return Promise.resolve(this.readSync(path));
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

describe('token sources', () => {
  const files = new MemoryFiles();
  const dir = '/run/secrets';
  const join = (...parts: string[]): string => parts.join('/');
  const writeFileSync = (path: string, text: string): void => void files.contents.set(path, text);
  const unlinkSync = (path: string): void => void files.contents.delete(path);

  it('a static token and a provided one', async () => {
    assert.equal(await staticToken('abc').current(), 'abc');
    let n = 0;
    const provided = providedToken(() => ` t${++n}\n`);
    assert.equal(await provided.current(), 't1');
    assert.equal(await provided.current(), 't2', 'asked again for every connection');
  });

  describe('FileTokenSource', () => {
    it('reads the file at once and tells listeners when its content changes', async () => {
      const path = join(dir, 'token');
      writeFileSync(path, 'first\n');
      const clock = new FakeClock();
      const log = new InMemoryLogger();
      const source = new FileTokenSource(path, clock, log, TOKEN_FILE_POLL_MS, files);
      assert.equal(await source.current(), 'first');
      let changes = 0;
      source.onChange(() => changes++);
      clock.advance(TOKEN_FILE_POLL_MS);
      await settle();
      assert.equal(changes, 0, 'same content, no change');
      writeFileSync(path, 'second');
      clock.advance(TOKEN_FILE_POLL_MS);
      await settle();
      assert.equal(changes, 1);
      assert.equal(await source.current(), 'second');
      source.close();
      writeFileSync(path, 'third');
      clock.advance(10 * TOKEN_FILE_POLL_MS);
      await settle();
      assert.equal(await source.current(), 'second', 'closed: no more reads');
    });

    it('keeps the token while the file is empty or missing (mid-rewrite), logging one warning per streak', async () => {
      const path = join(dir, 'swapped');
      writeFileSync(path, 'kept');
      const clock = new FakeClock();
      const log = new InMemoryLogger();
      const source = new FileTokenSource(path, clock, log, TOKEN_FILE_POLL_MS, files);
      writeFileSync(path, '');
      clock.advance(TOKEN_FILE_POLL_MS);
      await settle();
      unlinkSync(path);
      for (let i = 0; i < 3; i++) {
        clock.advance(TOKEN_FILE_POLL_MS);
        await settle();
      }
      assert.equal(await source.current(), 'kept');
      assert.equal(log.entries.filter((e) => e.level === 'warn').length, 1);
      writeFileSync(path, 'new');
      clock.advance(TOKEN_FILE_POLL_MS);
      await settle();
      assert.equal(await source.current(), 'new');
      source.close();
    });

    it('stops start-up naming the file when it is missing or empty', () => {
      assert.throws(() => new FileTokenSource(join(dir, 'nope'), new FakeClock(), new InMemoryLogger(), TOKEN_FILE_POLL_MS, files), /^Error: config: connect\.token_file: cannot read .*nope/);
      const empty = join(dir, 'empty');
      writeFileSync(empty, '\n');
      assert.throws(() => new FileTokenSource(empty, new FakeClock(), new InMemoryLogger(), TOKEN_FILE_POLL_MS, files), /connect\.token_file: .*empty is empty/);
    });
  });

  it('tokenExpiry reads exp without verifying, and nothing from a token that is not a JWT', async () => {
    assert.equal(tokenExpiry(await signHmac('k', { exp: 1_800_000_000 })), 1_800_000_000_000);
    assert.equal(tokenExpiry(await signHmac('k', {})), undefined);
    for (const t of ['', 'opaque-token', 'a.b.c']) assert.equal(tokenExpiry(t), undefined);
  });

  it('refreshLeadMs replaces a token a third of its life early, between 1 s and 60 s', () => {
    assert.equal(refreshLeadMs(3_600_000), 60_000);
    assert.equal(refreshLeadMs(12_000), 4_000);
    assert.equal(refreshLeadMs(2_000), 1_000);
    assert.equal(refreshLeadMs(-5), 1_000);
  });
});
