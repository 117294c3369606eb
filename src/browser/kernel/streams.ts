/**
 * A cell's stdout and stderr on their way to the page: pieces of text are gathered and
 * sent in order (one message per burst, not one per console.log), and a cell shows at
 * most `limit` characters of them — after that they are counted, and a note at the
 * cell's end says how much was cut.
 */
import type { StreamName } from "./console";

/** How many characters of stdout and stderr one cell shows. */
export const STREAM_LIMIT = 100_000;

export class CellStreams {
  private pending: { name: StreamName; text: string }[] = [];
  private shown = 0;
  private cut = { characters: 0, lines: 0 };
  private scheduled = false;

  constructor(
    private readonly send: (name: StreamName, text: string) => void,
    readonly limit = STREAM_LIMIT,
    private readonly schedule: (flush: () => void) => void = (f) => setTimeout(f, 0),
  ) {}

  write(name: StreamName, text: string): void {
    const room = this.limit - this.shown;
    if (text.length > room) {
      const rest = text.slice(Math.max(0, room));
      this.cut.characters += rest.length;
      this.cut.lines += rest.split("\n").length - 1;
      text = text.slice(0, Math.max(0, room));
    }
    if (!text) return;
    this.shown += text.length;
    const last = this.pending[this.pending.length - 1];
    if (last?.name === name) last.text += text;
    else this.pending.push({ name, text });
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.flush());
    }
  }

  /** Sends what is gathered (before any other output, so the order holds). */
  flush(): void {
    this.scheduled = false;
    const pending = this.pending;
    this.pending = [];
    for (const { name, text } of pending) this.send(name, text);
  }

  /** Flushes, sends the note on what was cut (if anything was), and starts counting anew. */
  end(): void {
    this.flush();
    if (this.cut.characters > 0) {
      const { characters, lines } = this.cut;
      this.send(
        "stderr",
        `… output cut: ${characters.toLocaleString("en-US")} more characters (${lines.toLocaleString("en-US")} lines) of this cell's ` +
          `stdout and stderr were not shown — the browser kernel shows the first ${this.limit.toLocaleString("en-US")} characters of a cell's output.\n`,
      );
    }
    this.shown = 0;
    this.cut = { characters: 0, lines: 0 };
  }
}
