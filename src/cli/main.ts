// Placeholder: replaced by the CLI issue.
export function main(argv: string[]): void {
  const arg = argv[2];
  if (arg === '--version' || arg === '-V') {
    process.stdout.write('0.1.0\n');
    return;
  }
  process.stdout.write('Usage: jit [options] [command]\n\nA local issue tracker for AI agents.\n');
}
