#!/usr/bin/env node
// The normcheck command. It runs the compiled CLI, dist/cli/main.js, which `npm pack` builds into the
// tarball (the prepack script). normcheck has no prepare script, so that installing the tarball runs no
// script at all; the price is that npm builds nothing when it installs a git URL or an unbuilt checkout.
// Such a copy has no dist/: say so and how to get a working one, instead of a bare ERR_MODULE_NOT_FOUND.
const main = new URL('../dist/cli/main.js', import.meta.url);
try {
  await import(main.href);
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || err?.url !== main.href) throw err;
  process.stderr.write(
    `normcheck: ${main.pathname} is missing: this copy of normcheck was not built.\n` +
    'npm builds normcheck only when packing it (npm install git+<url> and npm install <unbuilt checkout> do not).\n' +
    'Install the packed tarball instead: in a checkout, npm ci && npm pack, then in your project\n' +
    '  npm install --save-dev /path/to/normcheck-<version>.tgz\n' +
    'or, to link a checkout, build it first (npm ci && npm run build in the checkout).\n',
  );
  process.exit(2);
}
