#!/usr/bin/env node
/**
 * The `normcheck` bin: runs cli/program.ts on the command line and exits with its code
 * (0 all passed or failed only as expected, 1 a check failed, 2 usage or adapter-loading error).
 */
import { runCli } from './program.js';

// An adapter may leave a Promise rejecting after its check has moved on; report it, never crash the run.
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`normcheck: warning: an adapter left an unhandled rejection: ${reason instanceof Error ? reason.message : String(reason)}\n`);
});

const code = await runCli(process.argv.slice(2));
// Adapters may hold timers or worker threads open (a hung call's Promise stays pending): end explicitly.
process.exit(code);
