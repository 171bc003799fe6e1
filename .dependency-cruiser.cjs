// The layering of src/ (README, Layout), checked by `npm run check:layers`: a module
// may import from its own layer and the layers below it, never from one above, and
// no import cycle is allowed anywhere.

/** Highest first. */
const LAYERS = [
  { name: 'entry', path: '^src/(index|app)\\.ts$' },
  { name: 'admin', path: '^src/admin/' },
  { name: 'proxy', path: '^src/proxy/' },
  { name: 'control', path: '^src/control/' },
  { name: 'stats', path: '^src/stats/' },
  { name: 'steering', path: '^src/steering/' },
  { name: 'health', path: '^src/health/' },
  { name: 'config', path: '^src/config/' },
  { name: 'rules', path: '^src/rules/' },
  { name: 'edge and geo', path: '^src/(edge|geo)/' },
  { name: 'base', path: '^src/(env|errors)\\.ts$' },
];

const upward = LAYERS.slice(1).map((layer, i) => ({
  name: `no-upward-from-${layer.name.replaceAll(' ', '-')}`,
  comment: `${layer.name} sits below ${LAYERS.slice(0, i + 1).map((l) => l.name).join(', ')}: it may not import from them`,
  severity: 'error',
  from: { path: layer.path },
  to: { path: LAYERS.slice(0, i + 1).map((l) => l.path) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle: split the shared part into a module of its own',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-unlayered',
      comment: 'every module of src/ belongs to a layer of .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.map((l) => l.path) },
      to: {},
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'] },
  },
};
