// dependency-cruiser parses TypeScript through the compiler's JavaScript API, which TypeScript 7 (our
// compiler, native) does not ship yet. This hook hands dependency-cruiser the TypeScript 5 API, installed as
// the dev dependency `typescript-api`; nothing else sees it. Use: node --import ./scripts/typescript-api-alias.mjs
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    const fromCruiser = context.parentURL !== undefined && context.parentURL.includes('/node_modules/dependency-cruiser/');
    if (fromCruiser && (specifier === 'typescript' || specifier.startsWith('typescript/'))) {
      return nextResolve(`typescript-api${specifier.slice('typescript'.length)}`, context);
    }
    return nextResolve(specifier, context);
  },
});
