/**
 * Stable codes of configuration errors: `CONFIG_USAGE` a bad command line (unknown flag, missing value, wrong
 * positionals); `CONFIG_UNKNOWN_KEY` a file key that matches nothing in the schema; `CONFIG_INVALID_VALUE` a
 * value that fails its format or a cross-field rule; `CONFIG_FILE` a file that cannot be read or is not
 * valid YAML; `CONFIG_UNSUPPORTED` a Piko option accepted by the schema but not honoured yet.
 */
export type ConfigErrorCode = 'CONFIG_USAGE' | 'CONFIG_UNKNOWN_KEY' | 'CONFIG_INVALID_VALUE' | 'CONFIG_FILE' | 'CONFIG_UNSUPPORTED';

/**
 * A configuration the process must not start with. `message` is one line, `config: <what>: <reason>`, where
 * `<what>` is the key path (`proxy.timeout`), flag (`--foo`), variable (`PIKO_FOO`) or file at fault, which
 * is also in `subject`. Secrets are never quoted back.
 */
export class ConfigError extends Error {
  constructor(
    readonly code: ConfigErrorCode,
    readonly subject: string,
    reason: string,
  ) {
    super(`config: ${subject}: ${reason}`.replace(/\s*\n\s*/g, ' '));
    this.name = 'ConfigError';
  }
}
