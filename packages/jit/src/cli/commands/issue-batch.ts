/** Commands over many issues at once: `issue batch-create`, `issue update --filter`, and the field picking of `issue show`. */
import fs from 'node:fs';
import type { Command } from 'commander';
import { JitError, type FilteredUpdateOutcome, type FilteredUpdateReport, type Issue, type UpdateIssueInput } from '../../store/core.js';
import { action, type Invocation } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { inert, shortId, writeOut, STDOUT, type Paint } from '../output.js';

export function registerBatchCommands(issue: Command): void {
  issue
    .command('batch-create')
    .description('Create many issues, their dependencies (by "ref" or id), gates and labels in one transaction: all or nothing')
    .requiredOption('--from-json <file>', 'JSON file with a list of issues (or {"issues": [...]}); - reads standard input')
    .action(
      action(async (cli, options: { fromJson: string }) => {
        const result = await cli.tracker().batchCreate(readJsonInput(options.fromJson));
        cli.print(result, (data, paint) =>
          `Created ${data.created} issue${data.created === 1 ? '' : 's'}\n` +
          Object.entries(data.ids)
            .map(([key, id]) => `${paint('cyan', shortId(id))} ${inert(key)}\n`)
            .join('') +
          (data.warnings ?? []).map((w) => `${paint('yellow', `Warning: ${w.message}`)}\n`).join(''),
        );
      }),
    );
}

/** The JSON a file (or standard input, for -) holds; INVALID_ARGUMENT when it cannot be read or is not JSON. */
function readJsonInput(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new JitError('INVALID_ARGUMENT', `Cannot read --from-json ${file}: ${(error as Error).message}.`, { details: { field: 'from-json', path: file } });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new JitError('INVALID_ARGUMENT', `--from-json ${file} is not JSON: ${(error as Error).message}.`, { details: { field: 'from-json', path: file } });
  }
}

/** `issue update --filter EXPR`: exit 0 when nothing was refused, 4 (EXIT.VALIDATION) when some issue was. */
export async function updateByFilter(cli: Invocation, filter: string, input: UpdateIssueInput, dryRun: boolean): Promise<void> {
  const report = await cli.tracker().updateMatching(filter, input, { dryRun });
  cli.print(report, (data, paint) => renderReport(data, paint));
  if (report.refused.length > 0) process.exitCode = EXIT.VALIDATION;
}

function renderReport(report: FilteredUpdateReport, paint: Paint): string {
  const line = (o: FilteredUpdateOutcome, note: string): string => `  ${paint('cyan', shortId(o.id))} ${inert(o.title)} [${o.state}]${note}\n`;
  const verb = report.dry_run ? 'would change' : 'changed';
  let text = `${report.matched} matched: ${report.changed.length} ${verb}, ${report.unchanged.length} unchanged, ${report.refused.length} refused${report.dry_run ? ' (dry run: nothing written)' : ''}\n`;
  text += report.changed.map((o) => line(o, ` ${verb}: ${(o.fields ?? []).join(', ')}`)).join('');
  text += report.refused.map((o) => line(o, ` ${paint('red', `refused: ${o.error!.code}: ${inert(o.error!.message)}`)}`)).join('');
  return text;
}

/** The fields `issue show --field/--fields` may pick. */
const ISSUE_FIELDS: readonly (keyof Issue)[] = ['id', 'title', 'description', 'state', 'priority', 'assignee', 'dependencies', 'gates_required', 'gates_status', 'labels', 'context', 'created_at', 'updated_at', 'lease'];

/** Checks a --field/--fields list against the issue's fields. */
export function pickFields(spec: string): (keyof Issue)[] {
  const fields = spec.split(',').map((f) => f.trim()).filter((f) => f !== '');
  for (const field of fields) {
    if (!(ISSUE_FIELDS as readonly string[]).includes(field)) {
      throw new JitError('INVALID_ARGUMENT', `Unknown issue field ${JSON.stringify(field)}: use one of ${ISSUE_FIELDS.join(', ')}.`, { details: { field: 'fields', choices: [...ISSUE_FIELDS] } });
    }
  }
  if (fields.length === 0) throw new JitError('INVALID_ARGUMENT', 'No field named: give e.g. --field state or --fields id,state.', { details: { field: 'fields' } });
  return fields as (keyof Issue)[];
}

/**
 * Prints the picked fields of each issue for scripts: with --json an object
 * of those fields (a list of them for several issues); otherwise one line per
 * issue, the values separated by tabs, strings as they are, the rest as JSON.
 */
export function printFields(cli: Invocation, issues: readonly Issue[], fields: readonly (keyof Issue)[], several: boolean): void {
  const picked = issues.map((issue) => Object.fromEntries(fields.map((f) => [f, issue[f] ?? null])));
  if (cli.json) {
    cli.print(several ? picked : picked[0], () => '');
    return;
  }
  const value = (v: unknown): string => (typeof v === 'string' ? inert(v) : JSON.stringify(v));
  writeOut(STDOUT, picked.map((row) => fields.map((f) => value(row[f])).join('\t') + '\n').join(''));
}
