/**
 * What a person at a terminal sees while a check runs: one line on stderr,
 * rewritten in place at most a few times a second, with the gate, the
 * elapsed time and the checker's last output line; each finished run leaves
 * its line. Nothing at all when stderr is not a terminal (agents, pipes).
 */
import type { GateCheckOptions, GateCheckProgress } from '../store/core.js';
import { inert, isTerminal, shortId, STDERR, writeOut, type OutputFd } from './output.js';
import { displayWidth } from './text-width.js';

const REDRAW_MS = 200;

export class GateProgressLine {
  private lastDraw = 0;
  private ticker: NodeJS.Timeout | undefined;
  private current: GateCheckProgress | undefined;
  private started = 0;

  private constructor(private readonly fd: OutputFd) {}

  static onTerminal(fd: OutputFd): GateProgressLine | undefined {
    return isTerminal(fd) ? new GateProgressLine(fd) : undefined;
  }

  update(progress: GateCheckProgress): void {
    if (progress.phase === 'started') {
      this.current = progress;
      this.started = Date.now() - progress.elapsed_ms;
      // The elapsed time moves on even while the checker prints nothing.
      this.ticker ??= setInterval(() => this.draw(), 1000);
      this.ticker.unref();
      this.draw();
      return;
    }
    this.current = progress;
    if (progress.phase === 'finished') {
      this.draw(`${progress.status}\n`);
      this.current = undefined;
      clearInterval(this.ticker);
      this.ticker = undefined;
      return;
    }
    if (Date.now() - this.lastDraw >= REDRAW_MS) this.draw();
  }

  private draw(end = ''): void {
    const progress = this.current;
    if (!progress) return;
    this.lastDraw = Date.now();
    const elapsed = ((Date.now() - this.started) / 1000).toFixed(0);
    const head = `${progress.gate_key} on ${shortId(progress.issue_id)} ${elapsed}s`;
    const columns = process.stderr.columns || 80;
    let text = end === '' ? `${head} ${inert(progress.last_line.replace(/\s+/g, ' ').trim())}` : `${head} ${end.trim()}`;
    while (displayWidth(text) > columns - 1) text = text.slice(0, -1);
    writeOut(this.fd, `\r\u001b[2K${text}${end === '' ? '' : '\n'}`);
  }
}

/** The progress option of a check: a live line when stderr is a terminal, nothing otherwise. */
export function progressOnTerminal(): Pick<GateCheckOptions, 'onProgress'> {
  const line = GateProgressLine.onTerminal(STDERR);
  return line ? { onProgress: (progress) => line.update(progress) } : {};
}
