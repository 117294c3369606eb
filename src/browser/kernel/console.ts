/**
 * `console` in the browser kernel, printing what Node's console prints (tslab's console is
 * Node's): arguments joined by Node's util.format, values shown by Node's util.inspect
 * (node-inspect-extracted, Node's own code for the Web), and Node's forms of table,
 * time/timeLog/timeEnd, count/countReset, assert, dir, group/groupEnd and trace. Only the
 * table renderer and the string width are carried over from Node's source
 * (lib/internal/cli_table.js, lib/internal/util/inspect.js; MIT), the rest is Node's
 * Console logic restated over `write`.
 */
import { format, formatWithOptions, inspect, stripVTControlCharacters } from "node-inspect-extracted";

export type StreamName = "stdout" | "stderr";

export interface ConsoleHost {
  /** Writes one piece of text (it ends with "\n") to a stream of the running cell. */
  write(stream: StreamName, text: string): void;
  /** The stack frames to print for `console.trace` (the kernel maps them to cell lines). */
  frames(stack: string): string[];
  /** Milliseconds, for console.time. */
  now?(): number;
}

/** console.* arguments as one line of text, as Node's util.format joins them. */
export function formatLog(args: unknown[]): string {
  return format(...args);
}

// Node's getStringWidth without ICU: East Asian wide characters count two columns.
const isFullWidthCodePoint = (code: number) =>
  code >= 0x1100 &&
  (code <= 0x115f ||
    code === 0x2329 ||
    code === 0x232a ||
    (code >= 0x2e80 && code <= 0x3247 && code !== 0x303f) ||
    (code >= 0x3250 && code <= 0x4dbf) ||
    (code >= 0x4e00 && code <= 0xa4c6) ||
    (code >= 0xa960 && code <= 0xa97c) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe10 && code <= 0xfe19) ||
    (code >= 0xfe30 && code <= 0xfe6b) ||
    (code >= 0xff01 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1b000 && code <= 0x1b001) ||
    (code >= 0x1f200 && code <= 0x1f251) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x20000 && code <= 0x3fffd));
const isZeroWidthCodePoint = (code: number) =>
  code <= 0x1f ||
  (code >= 0x7f && code <= 0x9f) ||
  (code >= 0x300 && code <= 0x36f) ||
  (code >= 0x200b && code <= 0x200f) ||
  (code >= 0x20d0 && code <= 0x20ff) ||
  (code >= 0xfe00 && code <= 0xfe0f) ||
  (code >= 0xfe20 && code <= 0xfe2f) ||
  (code >= 0xe0100 && code <= 0xe01ef);

export function stringWidth(text: string): number {
  let width = 0;
  for (const char of stripVTControlCharacters(text).normalize("NFC")) {
    const code = char.codePointAt(0)!;
    if (isFullWidthCodePoint(code)) width += 2;
    else if (!isZeroWidthCodePoint(code)) width++;
  }
  return width;
}

/** Node's console.table layout (lib/internal/cli_table.js): a head row and columns of cells. */
export function renderTable(head: string[], columns: string[][]): string {
  const widths = head.map(stringWidth);
  const longest = Math.max(0, ...columns.map((c) => c.length));
  const rows: string[][] = [];
  for (let i = 0; i < head.length; i++) {
    for (let j = 0; j < longest; j++) {
      rows[j] ??= [];
      const value = Object.hasOwn(columns[i], j) ? columns[i][j] : "";
      rows[j][i] = value;
      widths[i] = Math.max(widths[i] || 0, stringWidth(value));
    }
  }
  const row = (cells: string[]) => `│ ${cells.map((c, i) => c + " ".repeat(widths[i] - stringWidth(c))).join(" │ ")} │`;
  const divider = widths.map((w) => "─".repeat(w + 2));
  return [`┌${divider.join("┬")}┐`, row(head), `├${divider.join("┼")}┤`, ...rows.map(row), `└${divider.join("┴")}┘`].join("\n");
}

/** The text of `console.table(data, properties)`, or null when Node would just log the value. */
export function tableText(data: unknown, properties?: string[]): string | null {
  if (data === null || typeof data !== "object") return null;
  const cell = (v: unknown) => {
    const depth = v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 2 ? -1 : 0;
    return inspect(v, { depth, maxArrayLength: 3, breakLength: Infinity });
  };
  const indices = (n: number) => Array.from({ length: n }, (_, i) => cell(i));
  if (data instanceof Map) {
    const keys: string[] = [];
    const values: string[] = [];
    for (const [k, v] of data) {
      keys.push(cell(k));
      values.push(cell(v));
    }
    return renderTable(["(iteration index)", "Key", "Values"], [indices(keys.length), keys, values]);
  }
  if (data instanceof Set) {
    const values = [...data].map(cell);
    return renderTable(["(iteration index)", "Values"], [indices(values.length), values]);
  }
  const map: Record<string, string[]> = Object.create(null);
  let hasPrimitives = false;
  const primitives: string[] = [];
  const index = Object.keys(data);
  index.forEach((key, i) => {
    const item = (data as Record<string, unknown>)[key];
    const primitive = item === null || (typeof item !== "function" && typeof item !== "object");
    if (properties === undefined && primitive) {
      hasPrimitives = true;
      primitives[i] = cell(item);
    } else {
      for (const k of properties ?? Object.keys(item as object)) {
        map[k] ??= [];
        map[k][i] = (primitive && properties) || !Object.hasOwn(item as object, k) ? "" : cell((item as Record<string, unknown>)[k]);
      }
    }
  });
  const head = Object.keys(map);
  const columns = Object.values(map);
  if (hasPrimitives) {
    head.push("Values");
    columns.push(primitives);
  }
  return renderTable(["(index)", ...head], [index, ...columns]);
}

/** Node's console.time format: "1.234ms", "1.234s", "1:02.003 (m:ss.mmm)". */
export function formatTime(ms: number): string {
  let hours = 0;
  let minutes = 0;
  let seconds = 0;
  if (ms >= 1000) {
    if (ms >= 60_000) {
      if (ms >= 3_600_000) {
        hours = Math.floor(ms / 3_600_000);
        ms = ms % 3_600_000;
      }
      minutes = Math.floor(ms / 60_000);
      ms = ms % 60_000;
    }
    seconds = ms / 1000;
  }
  if (hours !== 0 || minutes !== 0) {
    const [s, frac] = seconds.toFixed(3).split(".");
    const pad = (v: string | number) => String(v).padStart(2, "0");
    const head = hours !== 0 ? `${hours}:${pad(minutes)}` : `${minutes}`;
    return `${head}:${pad(s)}.${frac} (${hours !== 0 ? "h:m" : ""}m:ss.mmm)`;
  }
  if (seconds !== 0) return `${seconds.toFixed(3)}s`;
  return `${Number(ms.toFixed(3))}ms`;
}

/** A console whose methods behave as Node's, writing through `host`. */
export function createConsole(host: ConsoleHost) {
  const now = host.now ?? (() => performance.now());
  let indent = "";
  const timers = new Map<string, number>();
  const counts = new Map<string, number>();
  const write = (stream: StreamName, text: string) => {
    if (indent) text = indent + text.replace(/\n/g, `\n${indent}`);
    host.write(stream, `${text}\n`);
  };
  const out = (...args: unknown[]) => write("stdout", formatWithOptions({}, ...args));
  const err = (...args: unknown[]) => write("stderr", formatWithOptions({}, ...args));
  const warning = (message: string) => write("stderr", `Warning: ${message}`);
  const timeLog = (name: string, label: unknown, data: unknown[]) => {
    const key = `${label}`;
    const start = timers.get(key);
    if (start === undefined) {
      warning(`No such label '${key}' for console.${name}()`);
      return false;
    }
    out(`%s: %s`, key, formatTime(now() - start), ...data);
    return true;
  };
  const group = (...data: unknown[]) => {
    if (data.length > 0) out(...data);
    indent += "  ";
  };
  return {
    log: out,
    info: out,
    debug: out,
    warn: err,
    error: err,
    dir(object: unknown, options?: object) {
      write("stdout", inspect(object, { customInspect: false, ...options }));
    },
    dirxml: out,
    table(data: unknown, properties?: string[]) {
      const text = tableText(data, properties);
      if (text === null) out(data);
      else out(text);
    },
    time(label: unknown = "default") {
      const key = `${label}`;
      if (timers.has(key)) return warning(`Label '${key}' already exists for console.time()`);
      timers.set(key, now());
    },
    timeLog(label: unknown = "default", ...data: unknown[]) {
      timeLog("timeLog", label, data);
    },
    timeEnd(label: unknown = "default") {
      if (timeLog("timeEnd", label, [])) timers.delete(`${label}`);
    },
    count(label: unknown = "default") {
      const key = `${label}`;
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      out(`${key}: ${n}`);
    },
    countReset(label: unknown = "default") {
      const key = `${label}`;
      if (!counts.has(key)) return warning(`Count for '${key}' does not exist`);
      counts.delete(key);
    },
    assert(expression: unknown, ...args: unknown[]) {
      if (expression) return;
      args[0] = `Assertion failed${args.length === 0 ? "" : `: ${args[0]}`}`;
      err(...args);
    },
    group,
    groupCollapsed: group,
    groupEnd() {
      indent = indent.slice(0, -2);
    },
    trace(...args: unknown[]) {
      const stack = new Error().stack ?? "";
      const frames = host.frames(stack.split("\n").slice(0, 1).concat(stack.split("\n").slice(2)).join("\n"));
      err([`Trace${args.length ? `: ${format(...args)}` : ""}`, ...frames].join("\n"));
    },
    clear() {},
    profile() {},
    profileEnd() {},
    timeStamp() {},
  };
}

export type NodeLikeConsole = ReturnType<typeof createConsole>;
