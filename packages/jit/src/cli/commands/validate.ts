/** `jit validate [--fix]`: integrity of .jit/; exit 4 while problems remain. */
import type { Command } from 'commander';
import type { ValidationProblem, ValidationReport } from '../../store/core.js';
import { action } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { oneLine, STDERR, writeOut, type Paint } from '../output.js';

/** After --fix the report still lists what was found; the fixable ones were repaired. */
function remainingProblems(report: ValidationReport, fixed: boolean): ValidationProblem[] {
  if (report.ok) return [];
  const remaining = fixed ? report.problems.filter((problem) => !problem.fixable) : report.problems;
  return remaining.length > 0 ? remaining : report.problems;
}

function renderReport(report: ValidationReport, remaining: readonly ValidationProblem[], paint: Paint): string {
  const lines = [
    ...report.recovered.map((line) => `${paint('green', 'recovered')}  ${oneLine(line)}`),
    ...report.fixed.map((line) => `${paint('green', 'fixed')}      ${oneLine(line)}`),
  ];
  for (const problem of remaining) {
    const where = problem.path ?? problem.issue_id;
    const hint = problem.fixable ? paint('dim', ' [fixable]') : '';
    lines.push(`${paint('red', 'problem')}    ${problem.kind}: ${oneLine(problem.message)}${where ? paint('dim', ` (${where})`) : ''}${hint}`);
  }
  if (report.ok) lines.push(paint('green', 'The tracker is consistent.'));
  return lines.join('\n') + '\n';
}

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description(
      'Check .jit/: index vs issue files, dangling dependencies, cycles, unknown gates, torn event line, stray temp files',
    )
    .option('--fix', 'repair what can be repaired without guessing, and report what was done', false)
    .action(
      action(async (cli, options: { fix: boolean }) => {
        const report = await cli.tracker().validate({ fix: options.fix });
        const remaining = remainingProblems(report, options.fix);
        // The report is the command's data even when problems remain; the exit code says whether any do.
        cli.print(report, (data, paint) => renderReport(data, remaining, paint));
        if (report.ok) return;
        process.exitCode = EXIT.VALIDATION;
        if (cli.json) return; // the report says it all; nothing may follow the JSON document
        const fixable = remaining.filter((problem) => problem.fixable).length;
        const hint = fixable > 0 && !options.fix ? ` ${fixable} can be repaired with \`jit validate --fix\`.` : '';
        writeOut(STDERR, `jit: validate: ${remaining.length} problem(s) remain.${hint}\n`);
      }),
    );
}
