/**
 * `jit agent run --id agent:NAME -- COMMAND...`: runs a command as a running
 * agent (it holds the agent's lock while the command runs, so the claims it
 * makes are bound to its life). `jit agents` (agents.ts) lists them.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { signalReachedForegroundGroup } from 'jit-lock';
import { AGENT_ID_VARIABLE, AGENT_PID_VARIABLE, JitError } from '../../store/core.js';
import { action } from '../context.js';

/** Signals a terminal or a supervisor sends the agent: passed on to the command, whose exit then ends `agent run`. */
const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function registerAgentCommands(program: Command): void {
  const agent = program.command('agent').description('Run a command as an agent whose claims end when it does');

  agent
    .command('run')
    .description(
      'Run COMMAND as agent ID: holds the agent lock (.jit/agents/) while it runs and passes JIT_AGENT_ID and JIT_DIR on; ' +
        'its claims are freed the moment it ends, however it ends. Exits with the command\'s exit code',
    )
    .requiredOption('--id <agent>', `agent id as kind:name, e.g. agent:worker-1 (default: ${AGENT_ID_VARIABLE})`, process.env[AGENT_ID_VARIABLE])
    .argument('<command...>', 'the command and its arguments (after --)')
    .action(
      action(async (cli, words: string[], options: { id: string }) => {
        const jitDir = cli.jitDir();
        const running = await (require('../../store/index.js') as typeof import('../../store/index.js'))
          .holdAgentLock(jitDir, options.id, words.join(' '))
          .catch((error: unknown) => {
            // The id came from the environment (the option's default): say which variable to fix.
            if (options.id === process.env[AGENT_ID_VARIABLE] && error instanceof JitError && error.code === 'INVALID_ARGUMENT') {
              throw new JitError('INVALID_ENV', `${AGENT_ID_VARIABLE}=${JSON.stringify(options.id)} is not an agent id: use kind:name, e.g. agent:worker-1, or give --id.`, {
                details: { variable: AGENT_ID_VARIABLE },
                cause: error,
              });
            }
            throw error;
          });
        const code = await new Promise<number>((resolve, reject) => {
          const notStarted = (error: Error): JitError =>
            new JitError('INVALID_ARGUMENT', `Could not start ${JSON.stringify(words[0])}: ${error.message}.`, {
              suggestions: ['Check the command name and PATH; put it after --, e.g. jit agent run --id agent:w1 -- ./worker.sh.'],
              details: { field: 'command' },
              cause: error,
            });
          let child: ReturnType<typeof spawn>;
          try {
            // spawn throws at once (rather than emitting 'error') for arguments it refuses, such as an empty name.
            child = spawn(words[0]!, words.slice(1), { stdio: 'inherit', env: { ...process.env, [AGENT_ID_VARIABLE]: running.id, [AGENT_PID_VARIABLE]: String(process.pid), JIT_DIR: jitDir } });
          } catch (error) {
            reject(notStarted(error as Error));
            return;
          }
          // Ctrl-C at a terminal reached the command already (its whole foreground group): a second would double it.
          const forward = (signal: NodeJS.Signals): void => {
            if (!signalReachedForegroundGroup(signal)) child.kill(signal);
          };
          for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
          child.once('error', (error) => reject(notStarted(error)));
          child.once('exit', (exitCode, signal) => {
            for (const s of FORWARDED_SIGNALS) process.off(s, forward);
            resolve(exitCode ?? 128 + signalNumber(signal));
          });
        }).finally(() => running.release());
        process.exitCode = code;
      }),
    );
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const { constants } = require('node:os') as typeof import('node:os');
  return signal === null ? 0 : (constants.signals[signal] ?? 0);
}
