import assert from 'node:assert/strict';
import type { ConfigErrorCode } from '../../../../../src/adapters/platform/config/errors.js';
import { ConfigError } from '../../../../../src/adapters/platform/config/errors.js';
import {
  loadAgentConfig,
  loadForwardConfig,
  loadServerConfig,
  type ConfigLoaded,
  type Env,
  type LoadOptions,
  type LoadResult,
} from '../../../../../src/adapters/platform/config/load-config.js';
import type { AgentConfig, ForwardConfig, ServerConfig } from '../../../../../src/adapters/platform/config/types.js';

/** The path tests pass as `--config.path`; its contents come from {@link withFile}. */
export const CONFIG_PATH = '/etc/piko/piko.yaml';

/** Load options whose file system holds `text` at {@link CONFIG_PATH} and whose node ID suffix is fixed. */
export function withFile(text: string | undefined): LoadOptions {
  return {
    readFile: (path) => {
      if (path !== CONFIG_PATH || text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
      return text;
    },
    nodeIdSuffix: () => 'abc1234',
  };
}

/** Unwraps a loaded result, failing the test on help. */
export function loaded<T>(result: LoadResult<T>): ConfigLoaded<T> {
  assert.equal(result.kind, 'config');
  return result as ConfigLoaded<T>;
}

/** Loads a server config from flags, env and an optional YAML file. */
export function server(argv: readonly string[] = [], env: Env = {}, yaml?: string): ConfigLoaded<ServerConfig> {
  const args = yaml === undefined ? argv : [...argv, '--config.path', CONFIG_PATH];
  return loaded(loadServerConfig(args, env, withFile(yaml)));
}

/** Loads an agent config from argv (starting with the subcommand), env and an optional YAML file. */
export function agent(argv: readonly string[], env: Env = {}, yaml?: string): ConfigLoaded<AgentConfig> {
  const args = yaml === undefined ? argv : [...argv, '--config.path', CONFIG_PATH];
  return loaded(loadAgentConfig(args, env, withFile(yaml)));
}

/** Loads a forward config from argv (starting with the subcommand), env and an optional YAML file. */
export function forward(argv: readonly string[], env: Env = {}, yaml?: string): ConfigLoaded<ForwardConfig> {
  const args = yaml === undefined ? argv : [...argv, '--config.path', CONFIG_PATH];
  return loaded(loadForwardConfig(args, env, withFile(yaml)));
}

/** Asserts `fn` throws a ConfigError with this code and exactly this one-line message (or matching it). */
export function assertConfigError(fn: () => unknown, code: ConfigErrorCode, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.ok(!err.message.includes('\n'), 'message must be one line');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}
