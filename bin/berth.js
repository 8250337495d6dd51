#!/usr/bin/env node
// The installed entry point: the bundled CLI (scripts/bundle.mjs builds it into dist/bundle/).
//
// Source maps point stack traces at the TypeScript sources, but reading them costs start-up
// time on every call, and only --debug prints a stack: enable them for --debug alone,
// before the bundle loads (node reads a module's map when it loads the module).
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);

const { runCli } = await import('../dist/bundle/berth.js');
await runCli();
