// The npm packages whose JavaScript the CLI bundle holds (read by
// build-cli-bundle.js, which says why each one is there, and by the root's
// scripts/pack.js). The bundle runs the version it was built with while the
// native parts (jit-lock's addon, libsql's @libsql/<target> binary) load from
// node_modules at run time, so the published jit-tracker names these
// packages by that exact version: a newer one under a range could pair the
// bundled JavaScript with a binary it was not built for. (commander has no
// binary; pinned all the same, the bundle and the separate modules it falls
// back to run the same commander.)
'use strict';
module.exports = { BUNDLED_PACKAGES: ['jit-lock', 'libsql', 'commander'] };
