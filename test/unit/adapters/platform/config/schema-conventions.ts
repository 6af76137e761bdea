import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CONFIG_FORMATS } from '../../../../../src/adapters/platform/config/formats.js';
import { envNameOf, flagNameOf, schemaLeaves, type ConfigSchema } from '../../../../../src/adapters/platform/config/schema-tools.js';

/** Shared checks of R13 for one schema: every field has doc, format, default, env and (unless noArg) arg. */
export function itFollowsTheConventions(schema: ConfigSchema, envPrefix: string): void {
  const leaves = schemaLeaves(schema);

  it('gives every field a doc sentence, a known format and a default that passes its format (or is required)', () => {
    for (const { path, field } of leaves) {
      assert.match(field.doc, /^[A-Z(].*\.$/, `${path}: doc must be a sentence`);
      assert.ok(Object.hasOwn(CONFIG_FORMATS, field.format), `${path}: format`);
      try {
        CONFIG_FORMATS[field.format].validate(field.default);
      } catch (err) {
        assert.equal((err as Error).message, 'is required', `${path}: default`);
      }
    }
  });

  it(`names every variable ${envPrefix} + the key path in upper snake case, uniquely`, () => {
    for (const { path, field } of leaves) assert.equal(field.env, envNameOf(envPrefix, path));
    const names = leaves.map(({ field }) => field.env);
    assert.equal(new Set(names).size, names.length);
  });

  it('names every flag after the key path with _ → -, uniquely, except noArg fields', () => {
    for (const { path, field } of leaves) {
      assert.equal(field.arg, field.noArg === true ? undefined : flagNameOf(path), path);
    }
    const flags = leaves.flatMap(({ field }) => (field.arg === undefined ? [] : [field.arg]));
    assert.equal(new Set(flags).size, flags.length);
  });

  it('uses Piko snake_case keys only', () => {
    for (const { path } of leaves) assert.match(path, /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/, path);
  });

  it('is frozen', () => {
    assert.ok(Object.isFrozen(schema));
    for (const { field } of leaves) assert.ok(Object.isFrozen(field));
  });
}
