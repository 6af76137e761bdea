/**
 * The house rules, checked by dependency-cruiser on every `npm test` (script `lint:deps`):
 * layers point inwards, the domain is pure, client and server code never load each other, the wire and the
 * platform know neither role, and pure protocol code touches no socket, timer or Node module.
 */
const NODE_BUILTIN = '^(node:|(assert|buffer|child_process|crypto|dgram|dns|events|fs|http|https|http2|net|os|path|perf_hooks|process|stream|timers|tls|url|util|worker_threads|zlib)(/|$))';

module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'src/domain imports only src/domain: no package, no Node module, not even as a type.',
      from: { path: '^src/domain/' },
      to: { pathNot: '^src/domain/' },
    },
    {
      name: 'application-points-inwards',
      severity: 'error',
      comment: 'src/application imports only the domain and itself (and Node types in port signatures).',
      from: { path: '^src/application/' },
      to: { pathNot: ['^src/domain/', '^src/application/'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'application-no-packages',
      severity: 'error',
      comment: 'No library in the application layer, not even as a type: ports are ours.',
      from: { path: '^src/application/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'nothing-imports-main',
      severity: 'error',
      comment: 'src/main is the composition root: only tests may import it.',
      from: { path: '^src/', pathNot: '^src/main/' },
      to: { path: '^src/main/' },
    },
    {
      name: 'client-never-loads-server',
      severity: 'error',
      comment: 'The agent, forward and the SDK ship without server code.',
      from: { path: '^src/adapters/client/' },
      to: { path: '^src/adapters/server/' },
    },
    {
      name: 'server-never-loads-client',
      severity: 'error',
      from: { path: '^src/adapters/server/' },
      to: { path: '^src/adapters/client/' },
    },
    {
      name: 'sdk-entry-is-client-only',
      severity: 'error',
      comment: 'The package entry (the SDK) loads no server module.',
      from: { path: '^src/index\\.ts$' },
      to: { path: '^src/adapters/server/' },
    },
    {
      name: 'wire-knows-no-role',
      severity: 'error',
      comment: 'What both sides speak (mux, WebSocket pipe, route paths, error bodies) depends on no role.',
      from: { path: '^src/adapters/wire/' },
      to: { path: '^src/adapters/(server|client|http)/' },
    },
    {
      name: 'platform-knows-no-role',
      severity: 'error',
      comment: 'Config, logging, metrics, clock and net serve every program and depend on none of them.',
      from: { path: '^src/adapters/platform/' },
      to: { path: '^src/adapters/(server|client|wire|http)/' },
    },
    {
      name: 'shared-http-knows-no-role',
      severity: 'error',
      comment: 'The HTTP forwarding both the server and the agent use depends on neither.',
      from: { path: '^src/adapters/http/' },
      to: { path: '^src/adapters/(server|client)/' },
    },
    {
      name: 'pure-protocol',
      severity: 'error',
      comment: 'Protocol codecs and state machines are pure: no Node module, socket library or timer.',
      from: { path: '(^src/adapters/wire/mux/(codec|frame|errors|stream-state|control-queue)\\.ts$)|(/protocol/)' },
      to: { path: [NODE_BUILTIN, '(^|/)node_modules/(ws|inversify)/'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles.',
      from: { path: '^src/' },
      to: { circular: true, dependencyTypesNot: ['type-only'], viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.d.ts'] },
    builtInModules: { add: [] },
  },
};
