import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/*
 * The layer rule (conventions R1), checked on the TypeScript sources:
 * - src/domain imports only src/domain: no package, no `node:` module, not even as types;
 * - src/application imports only src/domain and src/application, plus `node:` built-ins as `import type`;
 * - nothing outside src/main imports src/main (so src/adapters never does).
 *
 * The scanner below is a small tokenizer, not a regex over raw text, so that imports quoted in comments,
 * strings or template literals are not mistaken for real ones and regex literals do not derail it.
 */

/** One module reference found in a source file. */
export interface ImportRef {
  readonly specifier: string;
  /** True for `import type …` and `export type … from`, which vanish at run time. */
  readonly typeOnly: boolean;
  readonly line: number;
}

type Token =
  | { readonly kind: 'word'; readonly value: string; readonly line: number }
  | { readonly kind: 'punct'; readonly value: string; readonly line: number }
  | { readonly kind: 'string'; readonly value: string; readonly line: number }
  | { readonly kind: 'other'; readonly value: string; readonly line: number };

/** Keywords after which a `/` starts a regex literal rather than a division. */
const REGEX_AFTER_WORD = new Set([
  'return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else',
  'yield', 'await',
]);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  /** Open `{` and `${`: 'brace' for a block or object, 'template' for a template substitution. */
  const braces: Array<'brace' | 'template'> = [];
  let i = 0;
  let line = 1;
  const n = source.length;

  const regexAllowed = (): boolean => {
    const prev = tokens[tokens.length - 1];
    if (prev === undefined) return true;
    if (prev.kind === 'word') return REGEX_AFTER_WORD.has(prev.value);
    if (prev.kind === 'punct') return ![')', ']', '}'].includes(prev.value);
    return false; // after a string, number, template or regex: a division
  };

  /** Scans template text from `i` (just after `` ` `` or the `}` closing a substitution). */
  const scanTemplate = (): void => {
    const startLine = line;
    while (i < n) {
      const c = source[i];
      if (c === '\\') {
        i += 2;
      } else if (c === '`') {
        i += 1;
        tokens.push({ kind: 'other', value: 'template', line: startLine });
        return;
      } else if (c === '$' && source[i + 1] === '{') {
        i += 2;
        braces.push('template');
        tokens.push({ kind: 'punct', value: '(', line: startLine }); // a substitution starts an expression
        return;
      } else {
        if (c === '\n') line += 1;
        i += 1;
      }
    }
  };

  while (i < n) {
    const c = source[i] as string;
    if (c === '\n') {
      line += 1;
      i += 1;
    } else if (/\s/.test(c)) {
      i += 1;
    } else if (c === '/' && source[i + 1] === '/') {
      while (i < n && source[i] !== '\n') i += 1;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      for (let j = i; j < stop; j++) if (source[j] === '\n') line += 1;
      i = stop;
    } else if (c === '"' || c === "'") {
      let value = '';
      const startLine = line;
      i += 1;
      while (i < n && source[i] !== c && source[i] !== '\n') {
        if (source[i] === '\\') {
          value += source[i + 1] ?? '';
          i += 2;
        } else {
          value += source[i];
          i += 1;
        }
      }
      i += 1;
      tokens.push({ kind: 'string', value, line: startLine });
    } else if (c === '`') {
      i += 1;
      scanTemplate();
    } else if (c === '/' && regexAllowed()) {
      let inClass = false;
      i += 1;
      while (i < n && source[i] !== '\n') {
        const r = source[i];
        if (r === '\\') i += 1;
        else if (r === '[') inClass = true;
        else if (r === ']') inClass = false;
        else if (r === '/' && !inClass) break;
        i += 1;
      }
      i += 1;
      while (i < n && /[A-Za-z]/.test(source[i] as string)) i += 1; // flags
      tokens.push({ kind: 'other', value: 'regex', line });
    } else if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$]/.test(source[j] as string)) j += 1;
      tokens.push({ kind: 'word', value: source.slice(i, j), line });
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(source[j] as string)) j += 1;
      tokens.push({ kind: 'other', value: 'number', line });
      i = j;
    } else if (c === '{') {
      braces.push('brace');
      tokens.push({ kind: 'punct', value: c, line });
      i += 1;
    } else if (c === '}') {
      i += 1;
      if (braces.pop() === 'template') scanTemplate();
      else tokens.push({ kind: 'punct', value: c, line });
    } else {
      tokens.push({ kind: 'punct', value: c, line });
      i += 1;
    }
  }
  return tokens;
}

/** Every static import, re-export, dynamic `import('…')` and `require('…')` in a TypeScript source. */
export function scanImports(source: string): ImportRef[] {
  const tokens = tokenize(source);
  const refs: ImportRef[] = [];
  const at = (k: number): Token | undefined => tokens[k];
  const is = (k: number, kind: Token['kind'], value?: string): boolean => {
    const t = at(k);
    return t !== undefined && t.kind === kind && (value === undefined || t.value === value);
  };

  /** From token `k`, the string after the next `from` in this statement (before a `;` at depth 0). */
  const fromClause = (k: number): Token | undefined => {
    let depth = 0;
    for (let j = k; j < tokens.length; j++) {
      const t = tokens[j] as Token;
      if (t.kind === 'punct') {
        if (t.value === '{') depth += 1;
        else if (t.value === '}') depth -= 1;
        else if (t.value === ';' && depth === 0) return undefined;
      }
      if (depth === 0 && t.kind === 'word' && t.value === 'from' && is(j + 1, 'string')) return at(j + 1);
      if (depth === 0 && t.kind === 'word' && (t.value === 'import' || t.value === 'export') && j > k) return undefined;
    }
    return undefined;
  };

  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k] as Token;
    if (t.kind !== 'word') continue;
    if (is(k - 1, 'punct', '.')) continue; // a property named import/export/require

    if (t.value === 'import') {
      if (is(k + 1, 'punct', '(') && is(k + 2, 'string')) {
        refs.push({ specifier: (at(k + 2) as Token).value, typeOnly: false, line: t.line });
      } else if (is(k + 1, 'string')) {
        refs.push({ specifier: (at(k + 1) as Token).value, typeOnly: false, line: t.line }); // side effects only
      } else if (is(k + 1, 'word') || is(k + 1, 'punct', '{') || is(k + 1, 'punct', '*')) {
        // `import type X from` is type-only; `import type from 'x'` imports a default named `type`.
        const typeOnly = is(k + 1, 'word', 'type') && !(is(k + 2, 'word', 'from') && is(k + 3, 'string'));
        // `import x = require('y')` is picked up by the require branch.
        const from = fromClause(k + 1);
        if (from !== undefined) refs.push({ specifier: from.value, typeOnly, line: t.line });
      }
    } else if (t.value === 'export') {
      const typeOnly = is(k + 1, 'word', 'type');
      const next = typeOnly ? k + 2 : k + 1;
      if (is(next, 'punct', '{') || is(next, 'punct', '*')) {
        const from = fromClause(next);
        if (from !== undefined) refs.push({ specifier: from.value, typeOnly, line: t.line });
      }
    } else if (t.value === 'require' && is(k + 1, 'punct', '(') && is(k + 2, 'string')) {
      refs.push({ specifier: (at(k + 2) as Token).value, typeOnly: false, line: t.line });
    }
  }
  return refs;
}

type Layer = 'domain' | 'application' | 'adapters' | 'main' | 'other';

/** What an import points at, seen from the src root. */
type Target =
  | { readonly kind: 'src'; readonly layer: Layer; readonly path: string }
  | { readonly kind: 'outside-src'; readonly path: string }
  | { readonly kind: 'node' }
  | { readonly kind: 'package' };

const BUILTINS = new Set(builtinModules);

function layerOf(srcRelative: string): Layer {
  const first = srcRelative.split('/')[0];
  return first === 'domain' || first === 'application' || first === 'adapters' || first === 'main' ? first : 'other';
}

function classify(fromFile: string, specifier: string): Target {
  if (specifier.startsWith('node:') || BUILTINS.has(specifier)) return { kind: 'node' };
  if (!specifier.startsWith('.') && !specifier.startsWith('/')) return { kind: 'package' };
  const resolved = posix.normalize(posix.join(posix.dirname(fromFile), specifier));
  if (resolved === '..' || resolved.startsWith('../') || specifier.startsWith('/')) {
    return { kind: 'outside-src', path: resolved };
  }
  return { kind: 'src', layer: layerOf(resolved), path: resolved };
}

/** The layer-rule violations of one file; `file` is relative to src, with `/` separators. */
export function checkFile(file: string, source: string): string[] {
  const layer = layerOf(file);
  const problems: string[] = [];
  for (const ref of scanImports(source)) {
    const target = classify(file, ref.specifier);
    const where = `src/${file}:${ref.line} imports '${ref.specifier}'`;
    if (target.kind === 'src' && target.layer === 'main' && layer !== 'main') {
      problems.push(`${where}: only src/main may import src/main`);
      continue;
    }
    if (layer === 'domain') {
      if (target.kind !== 'src' || target.layer !== 'domain') problems.push(`${where}: src/domain may import only src/domain`);
    } else if (layer === 'application') {
      if (target.kind === 'node') {
        if (!ref.typeOnly) problems.push(`${where}: src/application may import node built-ins only with 'import type'`);
      } else if (target.kind !== 'src' || (target.layer !== 'domain' && target.layer !== 'application')) {
        problems.push(`${where}: src/application may import only src/domain and src/application`);
      }
    }
  }
  return problems;
}

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

function sourceFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(`${dir}/${entry.name}`, rel));
    else if (/\.(?:c|m)?tsx?$/.test(entry.name)) out.push(rel);
  }
  return out.sort();
}

describe('architecture', () => {
  describe('scanImports', () => {
    it('finds static, type-only, side-effect, re-export, dynamic and require imports with their lines', () => {
      const source = [
        "import { a, type B } from './a.js';",
        "import type { C } from 'node:stream';",
        "import 'reflect-metadata';",
        'import {',
        '  d,',
        '  e,',
        "} from '../d.js';",
        "export * from './all.js';",
        "export type { F } from './f.js';",
        "export { g as h } from './g.js';",
        'export { local };',
        "const m = await import('./lazy.js');",
        "const r = require('cjs-thing');",
        "import type from 'default-named-type';",
        "import * as ns from \"./ns.js\";",
      ].join('\n');
      assert.deepEqual(scanImports(source), [
        { specifier: './a.js', typeOnly: false, line: 1 },
        { specifier: 'node:stream', typeOnly: true, line: 2 },
        { specifier: 'reflect-metadata', typeOnly: false, line: 3 },
        { specifier: '../d.js', typeOnly: false, line: 4 },
        { specifier: './all.js', typeOnly: false, line: 8 },
        { specifier: './f.js', typeOnly: true, line: 9 },
        { specifier: './g.js', typeOnly: false, line: 10 },
        { specifier: './lazy.js', typeOnly: false, line: 12 },
        { specifier: 'cjs-thing', typeOnly: false, line: 13 },
        { specifier: 'default-named-type', typeOnly: false, line: 14 },
        { specifier: './ns.js', typeOnly: false, line: 15 },
      ]);
    });

    it('ignores imports written in comments, strings, templates and regex literals', () => {
      const source = [
        "// import x from 'commented';",
        "/* import y from 'block-commented'; */",
        "/** Example: `import { z } from 'in-doc'` */",
        "const s = \"import q from 'in-string'\";",
        "const t = `import w from 'in-template' ${fn(\"x\")} import v from 'after-substitution'`;",
        "const re = /import u from 'in-regex'/;",
        "const ratio = a / b; const other = c / d; import { real } from './real.js';",
        'obj.import(\'method-call\');',
      ].join('\n');
      assert.deepEqual(scanImports(source), [{ specifier: './real.js', typeOnly: false, line: 7 }]);
    });
  });

  describe('checkFile', () => {
    // The self-check: the rule must catch each kind of violation, or the real check could pass vacuously.
    const cases: ReadonlyArray<readonly [string, string, string, RegExp | undefined]> = [
      ['domain → domain', 'domain/routing/x.ts', "import { y } from '../endpoint/y.js';", undefined],
      ['domain → package', 'domain/x.ts', "import { z } from 'zod';", /src\/domain may import only src\/domain/],
      ['domain → node: (even as types)', 'domain/x.ts', "import type { Duplex } from 'node:stream';", /src\/domain may import only/],
      ['domain → bare builtin', 'domain/x.ts', "import { readFileSync } from 'fs';", /src\/domain may import only/],
      ['domain → application', 'domain/x.ts', "import type { Clock } from '../application/ports/clock.port.js';", /src\/domain may import only/],
      ['domain → outside src', 'domain/x.ts', "import { t } from '../../test/t.js';", /src\/domain may import only/],
      ['application → domain', 'application/use-cases/x.ts', "import { RoutingTable } from '../../domain/routing/routing-table.js';", undefined],
      ['application → type-only node:', 'application/ports/x.ts', "import type { Duplex } from 'node:stream';", undefined],
      ['application → value node:', 'application/ports/x.ts', "import { Duplex } from 'node:stream';", /only with 'import type'/],
      ['application → inline-type node:', 'application/ports/x.ts', "import { type Duplex } from 'node:stream';", /only with 'import type'/],
      ['application → package', 'application/x.ts', "import type { ServiceIdentifier } from 'inversify';", /src\/application may import only/],
      ['application → adapters', 'application/x.ts', "import { PromMetrics } from '../adapters/metrics/prom-metrics.adapter.js';", /src\/application may import only/],
      ['application → dynamic package', 'application/x.ts', "const ws = await import('ws');", /src\/application may import only/],
      ['adapters → package', 'adapters/x/y.ts', "import { WebSocketServer } from 'ws';", undefined],
      ['adapters → main', 'adapters/http/x.ts', "import { TOKENS } from '../../main/tokens.js';", /only src\/main may import src\/main/],
      ['adapters → main, type-only', 'adapters/http/x.ts', "import type { TOKENS } from '../../main/tokens.js';", /only src\/main may import src\/main/],
      ['domain re-exporting main', 'domain/x.ts', "export * from '../main/tokens.js';", /only src\/main may import src\/main/],
      ['other → main', 'index.ts', "export { createServer } from './main/create-server.js';", /only src\/main may import src\/main/],
      ['main → main', 'main/server.ts', "import { createServer } from './create-server.js';", undefined],
      ['main → adapters', 'main/server.ts', "import { listen } from '../adapters/net/listen.js';", undefined],
    ];
    for (const [name, file, source, expected] of cases) {
      it(`${expected === undefined ? 'allows' : 'reports'} ${name}`, () => {
        const problems = checkFile(file, source);
        if (expected === undefined) assert.deepEqual(problems, []);
        else {
          assert.equal(problems.length, 1, `expected one problem, got ${JSON.stringify(problems)}`);
          assert.match(problems[0] as string, expected);
        }
      });
    }
  });

  describe('src', () => {
    const files = sourceFiles(SRC);

    it('is found and holds files in every layer', () => {
      for (const layer of ['domain', 'application', 'adapters', 'main'] as const) {
        assert.ok(files.some((f) => f.startsWith(`${layer}/`)), `no TypeScript file under src/${layer} in ${SRC}`);
      }
    });

    it('respects the layer rule in every file', () => {
      const problems: string[] = [];
      let imports = 0;
      for (const file of files) {
        const source = readFileSync(`${SRC}${file}`, 'utf8');
        imports += scanImports(source).length;
        problems.push(...checkFile(file, source));
      }
      assert.ok(imports > files.length, `only ${imports} imports found in ${files.length} files: is the scanner broken?`);
      assert.deepEqual(problems, [], `layer rule violations:\n  ${problems.join('\n  ')}`);
    });
  });
});
