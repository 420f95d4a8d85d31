/** `jit serve`: the web view (src/web), loaded only when asked for so other commands start fast. */
import type { Command } from 'commander';
import { JitError } from '../../store/core.js';
import { action } from '../context.js';
import { integerOption } from '../options.js';
import { writeOut, STDERR } from '../output.js';
import { packageVersion } from '../version.js';

type WebModule = typeof import('../../web/index.js');

function loadWeb(): WebModule {
  try {
    return require('../../web/index.js') as WebModule;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes('web/index.js')) {
      throw new JitError('INTERNAL', 'This build of jit has no web server (dist/web/index.js is missing).', { suggestions: ['Rebuild with `npm run build`.'], cause: error });
    }
    throw error;
  }
}

interface ServeFlags {
  port: number;
  host?: string;
  token?: string | true;
  as?: string;
  open?: boolean;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('A live web view of the tracker (board, graph, issues, activity) with a JSON API; loopback only unless given --host and --token')
    .addOption(integerOption('-p, --port <n>', 'port to listen on (0 picks a free one)', 0).default(7737))
    .option('--host <address>', 'address to listen on (default 127.0.0.1); any other than loopback needs --token')
    .option('--token [secret]', 'require this access token on every request (without a value, jit makes one and prints it)')
    .option('--as <who>', 'who the page\'s actions (gate pass/fail, release, priority, reject) are recorded as, kind:name (default human:<login name>)')
    .option('--open', 'open the page in the default browser')
    .action(
      action(async (cli, flags: ServeFlags) => {
        const web = loadWeb();
        const serving = await web.runWebServer({ dir: cli.dir, host: flags.host, port: flags.port, token: flags.token, as: flags.as, open: flags.open, version: packageVersion() });
        const { server, address, token, jitDir, store } = serving;
        cli.print({ url: server.url, address, host: server.host, port: server.port, token: token ?? null, jit_dir: jitDir, store }, (data) =>
          `jit serve: ${data.address}\n  store: ${data.store}\n${data.token ? '  access token required (it is in the address above)\n' : ''}  Ctrl-C to stop.\n`,
        );
        await serving.stopped;
        if (!cli.json) writeOut(STDERR, 'jit serve: stopped.\n');
      }),
    );
}
