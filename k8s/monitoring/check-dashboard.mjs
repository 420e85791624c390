#!/usr/bin/env node
// Offline checks of NPS's Grafana dashboard (k8s/monitoring/validate.sh runs it; README.md here says more).
//   node check-dashboard.mjs DASHBOARD.json [--break FIXTURE.mjs]
// --break applies a broken fixture (fixtures/*.mjs: a function that spoils a copy of the dashboard) first.
// Checks, each reported as "CHECK: message" lines, exit 1 when any fails:
//   schema     Grafana's own types (npm @grafana/schema): the JSON wrapped as `const d = {...} satisfies ...` in a
//              generated .ts file, `tsc --strict --noEmit`; each panel's options and custom field config against
//              its panel plugin's types (timeseries, table, heatmap, stat)
//   datasource every panel and target, every query variable and annotation uses the ${datasource} variable
//   gridPos    inside 24 columns, whole numbers, no two panels overlapping
//   ids        panel ids unique; refIds unique within a panel
//   variables  every $var used is defined (or one of Grafana's $__ variables); $tenant, $run, $node defined
//   filters    every selector of a panel filters by the variables its metric's labels allow (node; tenant; run)
//              and every rate()/increase() window is [$__rate_interval]
//   metrics    only names of the metrics contract (metrics.txt)
//   promql     every expression parses: promtool check rules on a generated rules file holding every expression,
//              variables filled in
//   series     every expression returns a series from a synthetic scrape of the contract's metrics (promtool test rules)
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";
import { contractMetrics, selectors } from "./promql.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const file = args[0];
if (!file) {
  console.error("usage: node check-dashboard.mjs DASHBOARD.json [--break FIXTURE.mjs]");
  process.exit(2);
}
const dashboard = JSON.parse(readFileSync(file, "utf8"));
const breakAt = args.indexOf("--break");
if (breakAt >= 0) {
  const fixture = await import(pathToFileURL(path.resolve(args[breakAt + 1])).href);
  fixture.default(dashboard);
}

const problems = [];
const problem = (check, message) => problems.push(`${check}: ${message}`);

const DATASOURCE = { type: "prometheus", uid: "${datasource}" };
const sameDatasource = (ds) => ds && ds.type === DATASOURCE.type && ds.uid === DATASOURCE.uid;

/** Every panel, rows' nested panels included. */
const allPanels = [];
for (const p of dashboard.panels ?? []) {
  allPanels.push(p);
  for (const n of p.panels ?? []) allPanels.push(n);
}
const vizPanels = allPanels.filter((p) => p.type !== "row");
const variables = dashboard.templating?.list ?? [];
const annotations = (dashboard.annotations?.list ?? []).filter((a) => !a.builtIn);

/** Every PromQL expression, with where it sits: panel targets, query variables' label_values, annotations. */
const exprs = [];
for (const p of vizPanels) {
  for (const t of p.targets ?? []) exprs.push({ where: `panel ${p.id} "${p.title}" target ${t.refId}`, expr: t.expr, panel: true, key: `panel_${p.id}_${t.refId}` });
}
for (const v of variables.filter((v) => v.type === "query")) {
  const q = typeof v.query === "string" ? v.query : v.query?.query;
  const m = /^\s*label_values\((.*),\s*(\w+)\s*\)\s*$/s.exec(q ?? "");
  if (!m) {
    problem("variables", `$${v.name}: query is not label_values(SELECTOR, LABEL): ${q}`);
    continue;
  }
  exprs.push({ where: `variable $${v.name}`, expr: m[1], key: `variable_${v.name}` });
}
for (const a of annotations) exprs.push({ where: `annotation "${a.name}"`, expr: a.target?.expr, key: `annotation_${exprs.length}` });
for (const e of exprs) {
  if (typeof e.expr !== "string" || e.expr.trim() === "") problem("promql", `${e.where}: no expression`);
}
const validExprs = exprs.filter((e) => typeof e.expr === "string" && e.expr.trim() !== "");

// datasource ---------------------------------------------------------------------------------------------------
for (const p of vizPanels) {
  if (!sameDatasource(p.datasource)) problem("datasource", `panel ${p.id} "${p.title}": datasource is not ${JSON.stringify(DATASOURCE)}`);
  if (!(p.targets?.length > 0)) problem("datasource", `panel ${p.id} "${p.title}": no targets`);
  for (const t of p.targets ?? []) {
    if (!sameDatasource(t.datasource)) problem("datasource", `panel ${p.id} target ${t.refId}: datasource is not ${JSON.stringify(DATASOURCE)}`);
  }
}
for (const v of variables.filter((v) => v.type === "query")) {
  if (!sameDatasource(v.datasource)) problem("datasource", `variable $${v.name}: datasource is not ${JSON.stringify(DATASOURCE)}`);
}
for (const a of annotations) {
  if (!sameDatasource(a.datasource)) problem("datasource", `annotation "${a.name}": datasource is not ${JSON.stringify(DATASOURCE)}`);
}
const dsVar = variables.find((v) => v.name === "datasource");
if (!dsVar || dsVar.type !== "datasource" || dsVar.query !== "prometheus") problem("datasource", "no datasource variable $datasource of type prometheus");

// gridPos ------------------------------------------------------------------------------------------------------
const placed = [];
for (const p of dashboard.panels ?? []) {
  const g = p.gridPos;
  const name = `panel ${p.id} "${p.title}"`;
  if (!g) {
    problem("gridPos", `${name}: no gridPos`);
    continue;
  }
  const ints = ["x", "y", "w", "h"].every((k) => Number.isInteger(g[k]));
  if (!ints || g.x < 0 || g.y < 0 || g.w < 1 || g.h < 1 || g.x + g.w > 24) {
    problem("gridPos", `${name}: ${JSON.stringify(g)} is not inside 24 columns`);
    continue;
  }
  for (const q of placed) {
    const h = q.gridPos;
    if (g.x < h.x + h.w && h.x < g.x + g.w && g.y < h.y + h.h && h.y < g.y + g.h) {
      problem("gridPos", `${name} overlaps panel ${q.id} "${q.title}"`);
    }
  }
  placed.push(p);
}

// ids ----------------------------------------------------------------------------------------------------------
const ids = new Map();
for (const p of allPanels) {
  if (!Number.isInteger(p.id)) problem("ids", `panel "${p.title}": no id`);
  else if (ids.has(p.id)) problem("ids", `panel id ${p.id} is used twice ("${ids.get(p.id)}", "${p.title}")`);
  else ids.set(p.id, p.title);
  const refIds = new Set();
  for (const t of p.targets ?? []) {
    if (refIds.has(t.refId)) problem("ids", `panel ${p.id}: refId ${t.refId} is used twice`);
    refIds.add(t.refId);
  }
}
if (typeof dashboard.uid !== "string" || !/^[\w-]{1,40}$/.test(dashboard.uid)) problem("ids", "dashboard uid missing or not a fixed short id");

// variables ----------------------------------------------------------------------------------------------------
const defined = new Set(variables.map((v) => v.name));
for (const name of ["datasource", "tenant", "run", "node"]) {
  if (!defined.has(name)) problem("variables", `$${name} is not defined`);
}
for (const v of variables.filter((v) => ["tenant", "run", "node"].includes(v.name))) {
  if (v.type !== "query" || !v.multi || !v.includeAll) problem("variables", `$${v.name}: not a multi-value query variable with All`);
  if (!/label_values\(.*nps_/.test(typeof v.query === "string" ? v.query : v.query?.query ?? "")) problem("variables", `$${v.name}: not label_values over nps_* series`);
}
const builtins = /^__(rate_interval|interval|interval_ms|range|range_s|range_ms|all|from|to|name|dashboard|org|user|timeFilter)$/;
function walkStrings(value, where, visit) {
  if (typeof value === "string") visit(value, where);
  else if (Array.isArray(value)) value.forEach((v, i) => walkStrings(v, `${where}/${i}`, visit));
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walkStrings(v, `${where}/${k}`, visit);
}
walkStrings(dashboard, "", (s, where) => {
  for (const m of s.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g)) {
    const name = m[1] ?? m[2] ?? m[3];
    if (!defined.has(name) && !builtins.test(name)) problem("variables", `$${name} is used at ${where} but not defined`);
  }
});

// rate windows: $__rate_interval, which Grafana keeps at least four scrape intervals wide ---------------------------
for (const e of validExprs.filter((e) => e.panel || e.where.startsWith("annotation"))) {
  for (const m of e.expr.matchAll(/\b(rate|irate|increase|changes|delta|deriv)\s*\(([^()]*(?:\([^()]*\))?[^()]*)\[([^\]]*)\]/g)) {
    if (m[3] !== "$__rate_interval") problem("filters", `${e.where}: ${m[1]}(...[${m[3]}]) should use [$__rate_interval]`);
  }
}

// metrics and filters ------------------------------------------------------------------------------------------
const contract = contractMetrics(readFileSync(path.join(here, "metrics.txt"), "utf8"));
for (const e of validExprs) {
  let found;
  try {
    found = selectors(e.expr);
  } catch (err) {
    problem("promql", `${e.where}: ${err.message}`);
    continue;
  }
  if (found.length === 0) problem("metrics", `${e.where}: no metric in ${e.expr}`);
  for (const s of found) {
    for (const name of s.names) {
      const c = contract.get(name);
      if (!c) {
        problem("metrics", `${e.where}: ${name} is not a metric of the contract (metrics.txt)`);
        continue;
      }
      if (!e.panel) continue;
      for (const label of ["node", "tenant", "run"]) {
        if (c.labels.has(label) && !new RegExp(`\\b${label}\\s*=~\\s*"\\$${label}"`).test(s.matchers)) {
          problem("filters", `${e.where}: ${name}{${s.matchers}} does not filter by ${label}=~"$${label}"`);
        }
      }
    }
  }
}

// promql -------------------------------------------------------------------------------------------------------
/** The expression as the Prometheus test runs it: variables filled in ($tenant etc. by ".*"). */
const fill = (expr) =>
  expr
    .replaceAll("$__rate_interval", "1m")
    .replaceAll("$__interval", "15s")
    .replaceAll("$__range", "5m")
    .replace(/\$\{?(\w+)\}?/g, ".*");
const build = path.join(here, "build");
mkdirSync(build, { recursive: true });
if (validExprs.length > 0) {
  const rules = ["groups:", "  - name: nps-dashboard-expressions", "    rules:"];
  for (const e of validExprs) rules.push(`      - record: dashboard:${e.key.replace(/\W/g, "_")}`, `        expr: ${JSON.stringify(fill(e.expr))}`);
  const rulesFile = path.join(build, "dashboard-exprs.rules.yaml");
  writeFileSync(rulesFile, rules.join("\n") + "\n");
  try {
    execFileSync("promtool", ["check", "rules", rulesFile], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const out = `${err.stdout ?? ""}${err.stderr ?? ""}`.trim() || err.message;
    problem("promql", `promtool check rules refused an expression:\n${out}`);
  }
}

// series -------------------------------------------------------------------------------------------------------
// Every expression, filled in, must return at least one series from a synthetic scrape: one series per metric of
// metrics.txt (several for some labels), every label of its line set (promtool test rules evaluates them). This
// catches a filter on a label or a label value the metric does not have, offline; the metrics side's Prometheus test
// does the same against a real scrape of a real cluster.
const labelValues = {
  node: ["127.0.0.1:25520"], run: ["r1"], tenant: ["t1"], kind: ["prune"], slot: ["cpu0"], status: ["up", "200", "404"],
  outcome: ["scored", "SUCCESS", "CLIENT_ERROR"], event: ["started", "resumed", "cancelled"], quota: ["runs"],
  area: ["heap"], id: ["G1 Old Gen"], action: ["end of minor GC"], cause: ["G1 Evacuation Pause"], method: ["GET"],
  uri: ["/v1/runs", "NOT_FOUND"], le: ["0.1", "1.0", "+Inf"],
};
if (validExprs.length > 0 && !problems.some((p) => p.startsWith("promql:"))) {
  const series = [];
  for (const [name, { labels }] of contract) {
    let sets = [{}];
    for (const l of labels) sets = sets.flatMap((set) => (labelValues[l] ?? ["x"]).map((v) => ({ ...set, [l]: v })));
    const counter = /_(total|count|sum|bucket)$/.test(name);
    for (const set of sets) {
      const sel = Object.entries(set).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
      const le = set.le === "+Inf" ? 3 : set.le === "1.0" ? 2 : 1;   // cumulative buckets
      series.push(`      - series: ${JSON.stringify(`${name}{${sel}}`)}`, `        values: "${counter ? `0+${le}x40` : "1x40"}"`);
    }
  }
  const test = ["rule_files: []", "evaluation_interval: 15s", "tests:", "  - interval: 15s", "    input_series:", ...series, "    promql_expr_test:"];
  for (const e of validExprs) {
    test.push(`      - expr: ${JSON.stringify(`count(${fill(e.expr)}) > bool 0`)}`, "        eval_time: 8m", "        exp_samples:", "          - labels: '{}'", "            value: 1");
  }
  const testFile = path.join(build, "dashboard-exprs.test.yaml");
  writeFileSync(testFile, test.join("\n") + "\n");
  try {
    execFileSync("promtool", ["test", "rules", testFile], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], cwd: build });
  } catch (err) {
    const out = `${err.stdout ?? ""}${err.stderr ?? ""}`;
    const empty = validExprs.filter((e) => out.includes(JSON.stringify(`count(${fill(e.expr)}) > bool 0`)));
    for (const e of empty) problem("series", `${e.where}: no series from a synthetic scrape of the contract's metrics: ${e.expr}`);
    if (empty.length === 0) problem("series", `promtool test rules failed:\n${out.trim()}`);
  }
}

// schema -------------------------------------------------------------------------------------------------------
const cfg = "@grafana/schema/dist/esm/raw/composable";
const ts = `// Generated by check-dashboard.mjs from ${path.basename(file)}: the dashboard against Grafana's own types.
import type { AnnotationQuery, DataQuery, Dashboard, FieldConfig, FieldConfigSource, Panel, RowPanel } from "@grafana/schema";
import type * as timeseries from "${cfg}/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen";
import type * as table from "${cfg}/table/panelcfg/x/TablePanelCfg_types.gen";
import type * as heatmap from "${cfg}/heatmap/panelcfg/x/HeatmapPanelCfg_types.gen";
import type * as stat from "${cfg}/stat/panelcfg/x/StatPanelCfg_types.gen";

/** Grafana's types as JSON holds them: a string enum by its values ("palette-classic", not FieldColorModeId.PaletteClassic). */
type Json<T> = T extends string ? \`\${T}\` : T extends readonly (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

/** A panel of plugin K: Grafana's Panel, with the plugin's own Options and custom FieldConfig instead of open records. */
type PanelOf<K extends string, O, C> = Omit<Json<Panel>, "type" | "options" | "fieldConfig"> & {
  type: K;
  options: Json<O>;
  fieldConfig: Omit<Json<FieldConfigSource>, "defaults"> & { defaults: Omit<Json<FieldConfig>, "custom"> & { custom?: Json<C> } };
};
type NpsPanel =
  | PanelOf<"timeseries", timeseries.Options, timeseries.FieldConfig>
  | PanelOf<"table", table.Options, table.FieldConfig>
  | PanelOf<"heatmap", heatmap.Options, heatmap.FieldConfig>
  | PanelOf<"stat", stat.Options, {}>
  | Json<RowPanel>;

/**
 * Annotations: Grafana's AnnotationQuery; its target is the Prometheus plugin's query (expr, interval), and the
 * plugin's event fields (grafana-prometheus processEvents reads titleFormat, textFormat, tagKeys, useValueForTime).
 */
type PrometheusAnnotation = Omit<Json<AnnotationQuery>, "target"> & {
  target?: Json<DataQuery> & { expr: string; interval?: string };
  titleFormat?: string;
  textFormat?: string;
  tagKeys?: string;
  useValueForTime?: boolean;
};

type NpsDashboard = Omit<Json<Dashboard>, "panels" | "annotations"> & {
  panels: NpsPanel[];
  annotations: { list: PrometheusAnnotation[] };
};

export const d = ${JSON.stringify(dashboard, null, 2)} satisfies NpsDashboard;

/** And Grafana's Dashboard itself, panels and all, where the annotations' plugin fields are left aside. */
export const plain = { ...d, annotations: {} } satisfies Json<Dashboard>;
`;
const tsFile = path.join(build, "dashboard.check.ts");
writeFileSync(tsFile, ts);
const tsc = path.join(here, "node_modules", "typescript", "bin", "tsc");
try {
  execFileSync(process.execPath, [tsc, "--strict", "--noEmit", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext", "--skipLibCheck", "--pretty", "false", tsFile], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
} catch (err) {
  const out = `${err.stdout ?? ""}${err.stderr ?? ""}`.trim() || err.message;
  problem("schema", `tsc --strict refused the dashboard against @grafana/schema:\n${out.replaceAll(tsFile, path.basename(tsFile)).split("\n").slice(0, 30).join("\n")}`);
}

if (problems.length) {
  for (const p of problems) console.error(`${file}: ${p}`);
  process.exit(1);
}
console.log(`${file}: valid (${vizPanels.length} panels, ${exprs.length} expressions, ${variables.length} variables, ${annotations.length} annotations)`);
