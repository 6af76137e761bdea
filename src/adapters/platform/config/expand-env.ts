const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/**
 * Expands environment references in config file text, as Piko's `--config.expand-env` does: `${NAME}` and
 * `$NAME` become the variable's value (empty when unset), and `${NAME:default}` uses the text after the
 * first `:` when the variable is unset or empty. As in Piko, `${X:-a}` yields `-a` (no shell `:-`).
 *
 * Differs from Piko: `$$` is a literal `$`, and a `$` not followed by a name or `{` is kept as written,
 * so a password containing `$` can be expressed. Returns the expanded text, or throws an Error naming the
 * line of an unterminated `${` or an invalid name.
 */
export function expandEnv(text: string, env: Readonly<Record<string, string | undefined>>): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) break;
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
    } else if (next === '{') {
      const close = text.indexOf('}', dollar + 2);
      const line = text.slice(0, dollar).split('\n').length;
      if (close < 0) throw new Error(`unterminated \${ on line ${line}`);
      const body = text.slice(dollar + 2, close);
      const colon = body.indexOf(':');
      const name = colon < 0 ? body : body.slice(0, colon);
      if (NAME.exec(name)?.[0] !== name) throw new Error(`invalid variable name ${JSON.stringify(name)} on line ${line}`);
      const value = env[name] ?? '';
      out += value === '' && colon >= 0 ? body.slice(colon + 1) : value;
      i = close + 1;
    } else {
      const name = NAME.exec(text.slice(dollar + 1))?.[0];
      if (name === undefined) {
        out += '$';
        i = dollar + 1;
      } else {
        out += env[name] ?? '';
        i = dollar + 1 + name.length;
      }
    }
  }
  return out + text.slice(i);
}
