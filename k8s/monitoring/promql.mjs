// Just enough PromQL to find an expression's metric names and their label matchers (no dependencies):
// string literals, durations, label lists of by/without/on/ignoring/group_left/group_right and function names
// are told apart from metric names. The syntax itself is promtool's to judge (check-dashboard.mjs, validate.sh).

const keywords = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan", "atan2"]);

/** metrics.txt: Map of name -> { labels: Set }. */
export function contractMetrics(text) {
  const out = new Map();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const [name, ...labels] = line.split(/\s+/);
    const m = /^(.*)\{([\w,]+)\}$/.exec(name);
    for (const n of m ? m[2].split(",").map((s) => m[1] + s) : [name]) out.set(n, { labels: new Set(labels) });
  }
  return out;
}

/**
 * The vector selectors of expr: [{ names: [metric names], matchers: "text inside {}" }]. A selector without a
 * name, {__name__=~"a|b"}, names the alternatives of its __name__ matcher.
 */
export function selectors(expr) {
  // Blank out string literals (same length, so positions stay) and keep the originals for the matchers.
  let masked = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, (s) => s[0] + "_".repeat(s.length - 2) + s[0]);
  masked = masked.replace(/\[[^\]]*\]/g, (s) => " ".repeat(s.length));
  masked = masked.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, (s) => " ".repeat(s.length));
  if ((masked.match(/\{/g) ?? []).length !== (masked.match(/\}/g) ?? []).length) throw new Error(`unbalanced braces in ${expr}`);
  const out = [];
  for (let i = 0; i < masked.length; i++) {
    const c = masked[i];
    if (c === "{") {
      const end = masked.indexOf("}", i);
      const matchers = expr.slice(i + 1, end);
      // A bare selector: a name before it makes it a named one (handled at the name).
      const before = masked.slice(0, i).trimEnd();
      if (!/[\w:]$/.test(before)) {
        const m = /__name__\s*=~?\s*"([^"]*)"/.exec(matchers);
        if (!m) throw new Error(`selector without a metric name: {${matchers}}`);
        out.push({ names: m[1].split("|"), matchers });
      }
      i = end;
      continue;
    }
    const m = /^[a-zA-Z_:][\w:]*/.exec(masked.slice(i));
    if (m && !/[\w.$]/.test(masked[i - 1] ?? "")) {
      const name = m[0];
      const rest = masked.slice(i + name.length);
      const next = rest.trimStart()[0];
      i += name.length - 1;
      if (keywords.has(name.toLowerCase()) || next === "(") continue;
      let matchers = "";
      if (next === "{") {
        const open = masked.indexOf("{", i + 1);
        matchers = expr.slice(open + 1, masked.indexOf("}", open));
      }
      out.push({ names: [name], matchers });
    }
  }
  return out;
}
