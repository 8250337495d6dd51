#!/usr/bin/env node
// The installed entry point: everything lives in the compiled CLI.
import { runCli } from '../dist/src/cli.js';

await runCli();
