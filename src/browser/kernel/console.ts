/** console.* arguments as one line of text, the way Node's util.format joins them. */
import inspect from "object-inspect";

const show = (value: unknown) => (typeof value === "string" ? value : inspect(value, { depth: 4 }));

export function formatLog(args: unknown[]): string {
  if (typeof args[0] !== "string" || !/%[sdifjoOc%]/.test(args[0])) return args.map(show).join(" ");
  let rest = args.slice(1);
  const head = args[0].replace(/%([sdifjoOc%])/g, (whole, f: string) => {
    if (f === "%") return "%";
    if (rest.length === 0) return whole;
    const [value] = rest;
    rest = rest.slice(1);
    switch (f) {
      case "s": return typeof value === "string" ? value : show(value);
      case "d": case "i": return String(f === "i" ? Math.trunc(Number(value)) : Number(value));
      case "f": return String(Number(value));
      case "j": return JSON.stringify(value);
      case "c": return "";
      default: return show(value);
    }
  });
  return [head, ...rest.map(show)].join(" ");
}
