// Preload (`node -r ./bench/max-rss.js ...`): at exit, appends the process's
// peak resident set size in KiB to the file named by JIT_MAX_RSS_FILE, so a
// benchmark or test can report the memory of a real `jit` run on any OS.
'use strict';
const fs = require('node:fs');

const file = process.env.JIT_MAX_RSS_FILE;
if (file) process.on('exit', () => fs.appendFileSync(file, `${process.resourceUsage().maxRSS}\n`));
