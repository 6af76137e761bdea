import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgv, wantsHelp } from '../../../../../src/adapters/platform/config/argv.js';
import type { FlagKind } from '../../../../../src/adapters/platform/config/formats.js';
import { assertConfigError } from './config-test-helpers.js';

const KINDS = new Map<string, FlagKind>([
  ['proxy.bind-addr', 'value'],
  ['proxy.timeout', 'value'],
  ['proxy.access-log.disable', 'bool'],
  ['log.subsystems', 'list'],
]);

function flagsOf(argv: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(parseArgv(argv, KINDS).flags);
}

describe('parseArgv', () => {
  describe('having value flags', () => {
    it('accepts --name value and --name=value', () => {
      assert.deepEqual(flagsOf(['--proxy.bind-addr', ':1', '--proxy.timeout=5s']), { 'proxy.bind-addr': ':1', 'proxy.timeout': '5s' });
    });
    it('keeps the last of repeated values', () => {
      assert.deepEqual(flagsOf(['--proxy.timeout', '1s', '--proxy.timeout', '2s']), { 'proxy.timeout': '2s' });
    });
    it('takes the next argument even when it starts with -', () => {
      assert.deepEqual(flagsOf(['--proxy.timeout', '-1s']), { 'proxy.timeout': '-1s' });
    });
    it('accepts an empty value with =', () => {
      assert.deepEqual(flagsOf(['--proxy.timeout=']), { 'proxy.timeout': '' });
    });
    it('fails when the value is missing', () => {
      assertConfigError(() => parseArgv(['--proxy.timeout'], KINDS), 'CONFIG_USAGE', 'config: --proxy.timeout: flag needs a value');
    });
  });

  describe('having boolean flags', () => {
    const table: readonly [readonly string[], unknown][] = [
      [['--proxy.access-log.disable'], true],
      [['--proxy.access-log.disable=true'], 'true'],
      [['--proxy.access-log.disable=false'], 'false'],
    ];
    for (const [argv, value] of table) {
      it(`reads ${argv.join(' ')} as ${JSON.stringify(value)}`, () => assert.deepEqual(flagsOf(argv), { 'proxy.access-log.disable': value }));
    }
    it('never consumes the next argument', () => {
      const parsed = parseArgv(['--proxy.access-log.disable', 'false'], KINDS);
      assert.deepEqual(Object.fromEntries(parsed.flags), { 'proxy.access-log.disable': true });
      assert.deepEqual(parsed.positionals, ['false']);
    });
  });

  describe('having list flags', () => {
    it('splits on commas and accumulates repeats', () => {
      assert.deepEqual(flagsOf(['--log.subsystems', 'a,b', '--log.subsystems=c', '--log.subsystems', ' d , ,e']), {
        'log.subsystems': ['a', 'b', 'c', 'd', 'e'],
      });
    });
    it('reads an empty value as an empty list, which overrides a default', () => {
      assert.deepEqual(flagsOf(['--log.subsystems=']), { 'log.subsystems': [] });
    });
  });

  describe('having positionals', () => {
    it('keeps them in order, between flags, and everything after --', () => {
      const parsed = parseArgv(['http', '--proxy.timeout', '1s', 'ep', '-', '3000', '--', '--proxy.timeout', '-h'], KINDS);
      assert.deepEqual(parsed.positionals, ['http', 'ep', '-', '3000', '--proxy.timeout', '-h']);
      assert.deepEqual(Object.fromEntries(parsed.flags), { 'proxy.timeout': '1s' });
    });
  });

  describe('having unknown flags', () => {
    const table: readonly [string, string][] = [
      ['--proxy.bind_addr', 'config: --proxy.bind_addr: unknown flag (did you mean --proxy.bind-addr?)'],
      ['--proxy.bindaddr=x', 'config: --proxy.bindaddr: unknown flag (did you mean --proxy.bind-addr?)'],
      ['--proxy.timeot', 'config: --proxy.timeot: unknown flag (did you mean --proxy.timeout?)'],
      ['--nothing-like-it', 'config: --nothing-like-it: unknown flag'],
      ['-x', 'config: -x: unknown flag'],
      ['-proxy.timeout=1s', 'config: -proxy.timeout: unknown flag (did you mean --proxy.timeout?)'],
    ];
    for (const [arg, message] of table) {
      it(`rejects ${arg}`, () => assertConfigError(() => parseArgv([arg], KINDS), 'CONFIG_USAGE', message));
    }
  });
});

describe('wantsHelp', () => {
  const table: readonly [readonly string[], boolean][] = [
    [['--help'], true],
    [['-h'], true],
    [['http', 'ep', '3000', '--bogus', '-h'], true],
    [['--', '--help'], false],
    [['--helpful'], false],
    [[], false],
  ];
  for (const [argv, expected] of table) {
    it(`${JSON.stringify(argv)} → ${expected}`, () => assert.equal(wantsHelp(argv), expected));
  }
});
