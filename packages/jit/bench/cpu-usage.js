// Preloaded (--require) into every process bench/cli.js times, `node -e 0`
// included: at exit, writes the process's own CPU time (user + system, ms)
// to fd 3. CPU time hardly moves when other work shares the machine, wall
// time does; both are reported.
'use strict';
process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  require('node:fs').writeSync(3, `${(user + system) / 1000}\n`);
});
