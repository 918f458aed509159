#!/usr/bin/env node
// The `pix` command. The CLI is TypeScript compiled to dist/ (npm install builds it).
'use strict';
const { join } = require('node:path');
const { existsSync } = require('node:fs');

const entry = join(__dirname, '..', 'dist', 'electron', 'cli', 'main.js');
if (!existsSync(entry)) {
  console.error('pix: the command-line tool is not built yet; run `npm run build:ts` in ' + join(__dirname, '..'));
  process.exit(1);
}
require(entry).main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`pix: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
