#!/usr/bin/env node
// Generates nps-dashboard.json, NPS's Grafana dashboard (issue 13), so that its panels, ids, layout and
// filters stay consistent. Node, no dependencies.
//   node make-dashboard.mjs            prints the dashboard JSON
//   node make-dashboard.mjs --write    writes nps-dashboard.json beside this script
// k8s/monitoring/validate.sh checks that the committed JSON equals this script's output: edit this, not the JSON.
// Metric names: /work/brief/metrics-contract.md (the metrics contract); validate.sh refuses any other name.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const DS = { type: "prometheus", uid: "${datasource}" };

// Label filters by the dashboard's variables. allValue ".*" (below) makes "All" match series without the label too.
const RUN = 'tenant=~"$tenant", run=~"$run", node=~"$node"';
const TENANT = 'tenant=~"$tenant", node=~"$node"';
const NODE = 'node=~"$node"';

// ---- panels -------------------------------------------------------------------------------------------------

let nextId = 1;
const panels = [];
let y = 0;

/** A row header, then its panels laid out left to right in lines of 24 columns; each item is [width, height, panel]. */
function row(title, ...items) {
  panels.push({ type: "row", id: nextId++, title, collapsed: false, panels: [], gridPos: { h: 1, w: 24, x: 0, y } });
  y += 1;
  let x = 0;
  let lineHeight = 0;
  for (const [w, h, panel] of items) {
    if (x + w > 24) {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
    }
    panels.push({ ...panel, id: nextId++, gridPos: { h, w, x, y } });
    x += w;
    lineHeight = Math.max(lineHeight, h);
  }
  y += lineHeight;
}

/** A Prometheus target; refIds A, B, ... in order. */
function targets(...specs) {
  return specs.map((s, i) => ({
    datasource: DS,
    refId: String.fromCharCode(65 + i),
    expr: s.expr,
    legendFormat: s.legend ?? "__auto",
    range: !s.instant,
    instant: !!s.instant,
    ...(s.format ? { format: s.format } : {}),
    ...(s.interval ? { interval: s.interval } : {}),
  }));
}

const legend = { showLegend: true, displayMode: "list", placement: "bottom", calcs: [] };
const tableLegend = { showLegend: true, displayMode: "table", placement: "right", calcs: ["lastNotNull", "max"] };
const tooltip = { mode: "multi", sort: "desc" };

/** A time series panel. unit: Grafana unit id; custom: extra field config; overrides: field overrides. */
function timeseries(title, description, specs, { unit = "short", min, max, custom = {}, overrides = [], legendOptions = legend } = {}) {
  return {
    type: "timeseries",
    title,
    description,
    datasource: DS,
    targets: targets(...specs),
    fieldConfig: {
      defaults: {
        unit,
        ...(min !== undefined ? { min } : {}),
        ...(max !== undefined ? { max } : {}),
        color: { mode: "palette-classic" },
        custom: { drawStyle: "line", lineWidth: 1, fillOpacity: 0, showPoints: "never", spanNulls: false, ...custom },
      },
      overrides,
    },
    options: { legend: legendOptions, tooltip },
  };
}

function stat(title, description, specs, { unit = "short", thresholds } = {}) {
  return {
    type: "stat",
    title,
    description,
    datasource: DS,
    targets: targets(...specs),
    fieldConfig: {
      defaults: {
        unit,
        color: { mode: "thresholds" },
        thresholds: thresholds ?? { mode: "absolute", steps: [{ color: "green", value: null }] },
      },
      overrides: [],
    },
    options: {
      reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
      orientation: "auto",
      textMode: "value_and_name",
      colorMode: "value",
      graphMode: "area",
      justifyMode: "auto",
      showPercentChange: false,
      percentChangeColorMode: "standard",
      wideLayout: true,
    },
  };
}

/** histogram_quantile of a Micrometer percentile histogram, p50/p95/p99, summed over `by` (plus le). */
function quantiles(bucket, filter, by = []) {
  const keys = ["le", ...by].join(", ");
  const tail = by.length ? ` {{${by.join("}} {{")}}}` : "";
  return [0.5, 0.95, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (${keys}) (rate(${bucket}{${filter}}[$__rate_interval])))`,
    legend: `p${Math.round(q * 100)}${tail}`,
  }));
}

// Runs --------------------------------------------------------------------------------------------------------

const byRun = "max by (run, tenant, kind, node)";
const runTable = {
  type: "table",
  title: "Runs",
  description:
    "One row per active run (a run's meters exist only while it runs, on the node that hosts it). state: scoring when it " +
    "scored candidates in the last interval, waiting otherwise (for slots, or between searches). progress: (searches done " +
    "+ generation/G) / searches, where searches counts those known so far (finished and current: workflows do not announce " +
    "their plan), so it reaches 1 at the end of each search. best: best calibration fitness of the current search.",
  datasource: DS,
  targets: targets(
    { expr: `${byRun} (rate(nps_run_candidates_total{${RUN}}[$__rate_interval]) > bool 0)`, instant: true, format: "table" },
    { expr: `${byRun} (nps_run_progress{${RUN}})`, instant: true, format: "table" },
    { expr: `${byRun} (nps_run_searches_done{${RUN}})`, instant: true, format: "table" },
    { expr: `${byRun} (nps_run_searches{${RUN}})`, instant: true, format: "table" },
    { expr: `${byRun} (nps_run_generation{${RUN}})`, instant: true, format: "table" },
    { expr: `${byRun} (nps_run_fitness_best{${RUN}})`, instant: true, format: "table" },
    { expr: `${byRun} (nps_run_sigma{${RUN}})`, instant: true, format: "table" },
  ),
  transformations: [
    { id: "merge", options: {} },
    {
      id: "organize",
      options: {
        excludeByName: { Time: true },
        indexByName: { run: 0, "Value #A": 1, tenant: 2, kind: 3, node: 4, "Value #B": 5, "Value #C": 6, "Value #D": 7, "Value #E": 8, "Value #F": 9, "Value #G": 10 },
        renameByName: {
          "Value #A": "state",
          "Value #B": "progress",
          "Value #C": "searches done",
          "Value #D": "searches known",
          "Value #E": "generation",
          "Value #F": "best so far",
          "Value #G": "sigma",
        },
      },
    },
    { id: "sortBy", options: { fields: {}, sort: [{ field: "run" }] } },
  ],
  fieldConfig: {
    defaults: {
      custom: { align: "auto", cellOptions: { type: "auto" }, inspect: false, filterable: true },
      color: { mode: "thresholds" },
      thresholds: { mode: "absolute", steps: [{ color: "green", value: null }] },
    },
    overrides: [
      {
        matcher: { id: "byName", options: "state" },
        properties: [
          { id: "mappings", value: [{ type: "value", options: { 0: { text: "waiting", color: "yellow", index: 0 }, 1: { text: "scoring", color: "green", index: 1 } } }] },
          { id: "custom.cellOptions", value: { type: "color-text" } },
        ],
      },
      {
        matcher: { id: "byName", options: "progress" },
        properties: [
          { id: "unit", value: "percentunit" },
          { id: "min", value: 0 },
          { id: "max", value: 1 },
          { id: "custom.cellOptions", value: { type: "gauge", mode: "basic" } },
        ],
      },
      { matcher: { id: "byName", options: "best so far" }, properties: [{ id: "decimals", value: 4 }] },
      { matcher: { id: "byName", options: "sigma" }, properties: [{ id: "decimals", value: 4 }] },
    ],
  },
  options: { showHeader: true, frameIndex: 0, cellHeight: "sm", sortBy: [{ displayName: "run", desc: false }] },
};

const sigmaOnLog = {
  matcher: { id: "byFrameRefID", options: "C" },
  properties: [
    { id: "custom.scaleDistribution", value: { type: "log", log: 10 } },
    { id: "custom.axisPlacement", value: "right" },
    { id: "custom.axisLabel", value: "sigma (log)" },
    { id: "custom.lineStyle", value: { fill: "dash", dash: [10, 10] } },
  ],
};

row(
  "Runs",
  [24, 8, runTable],
  [16, 9, timeseries(
    "Fitness and sigma per run",
    "Best calibration fitness so far (current search) and mean fitness of the last generation, per run (left axis); CMA-ES step size sigma on a log axis (right, dashed).",
    [
      { expr: `${byRun} (nps_run_fitness_best{${RUN}})`, legend: "{{run}} best" },
      { expr: `${byRun} (nps_run_fitness_mean{${RUN}})`, legend: "{{run}} mean" },
      { expr: `${byRun} (nps_run_sigma{${RUN}})`, legend: "{{run}} sigma" },
    ],
    { overrides: [sigmaOnLog], legendOptions: tableLegend },
  )],
  [8, 9, timeseries(
    "Progress per run",
    "(searches done + generation/G) / searches known so far, per run: 1 at the end of each search, before the next one starts.",
    [{ expr: `${byRun} (nps_run_progress{${RUN}})`, legend: "{{run}}" }],
    { unit: "percentunit", min: 0, max: 1 },
  )],
  [8, 8, timeseries(
    "Active runs per tenant",
    "Runs active, by tenant and kind (prune, transfer, merge, compress).",
    [{ expr: `sum by (tenant, kind) (nps_runs_active{${TENANT}})`, legend: "{{tenant}} {{kind}}" }],
    { custom: { drawStyle: "line", fillOpacity: 20, stacking: { mode: "normal" } } },
  )],
  [8, 8, timeseries(
    "Candidates scored per second",
    "Rate of candidates scored, per run.",
    [{ expr: `sum by (run) (rate(nps_run_candidates_total{${RUN}}[$__rate_interval]))`, legend: "{{run}}" }],
    { unit: "ops" },
  )],
  [8, 8, timeseries(
    "Calibration batches by outcome",
    "Batches per second: scored on a slot, answered from the cache, or aborted.",
    [{ expr: `sum by (outcome) (rate(nps_run_batches_total{${RUN}}[$__rate_interval]))`, legend: "{{outcome}}" }],
    { unit: "ops", custom: { fillOpacity: 20, stacking: { mode: "normal" } } },
  )],
);

// Evaluator slots ---------------------------------------------------------------------------------------------

row(
  "Evaluator slots",
  [12, 8, timeseries(
    "Slot utilisation",
    "Fraction of time each evaluator slot spent scoring: rate of nps_slot_busy_seconds_total, per node and slot.",
    [{ expr: `sum by (node, slot) (rate(nps_slot_busy_seconds_total{${NODE}}[$__rate_interval]))`, legend: "{{node}} {{slot}}" }],
    { unit: "percentunit", min: 0, max: 1 },
  )],
  [12, 8, timeseries(
    "Batch latency p50 / p95 / p99",
    "One calibration batch on a slot, from the percentile histogram nps_slot_batch_latency_seconds.",
    quantiles("nps_slot_batch_latency_seconds_bucket", NODE),
    { unit: "s" },
  )],
  [12, 8, {
    type: "heatmap",
    title: "Batch latency heatmap",
    description: "Calibration batches per latency bucket and interval (all selected nodes and slots).",
    datasource: DS,
    targets: targets({
      expr: `sum by (le) (increase(nps_slot_batch_latency_seconds_bucket{${NODE}}[$__rate_interval]))`,
      legend: "{{le}}",
      format: "heatmap",
    }),
    fieldConfig: {
      defaults: { custom: { hideFrom: { legend: false, tooltip: false, viz: false }, scaleDistribution: { type: "linear" } } },
      overrides: [],
    },
    options: {
      calculate: false,
      cellGap: 1,
      color: { exponent: 0.5, fill: "dark-orange", mode: "scheme", reverse: false, scale: "exponential", scheme: "Oranges", steps: 64 },
      exemplars: { color: "rgba(255,0,255,0.7)" },
      filterValues: { le: 1e-9 },
      legend: { show: true },
      rowsFrame: { layout: "auto" },
      showValue: "never",
      tooltip: { mode: "single", yHistogram: true, showColorScale: false },
      yAxis: { axisPlacement: "left", unit: "s", reverse: false },
    },
  }],
  [12, 8, timeseries(
    "Materialization and session time (mean)",
    "Mean time to build a candidate's weights (materialize) and to build or update the ONNX Runtime session, per node.",
    [
      { expr: `sum by (node) (rate(nps_slot_materialize_seconds_sum{${NODE}}[$__rate_interval])) / sum by (node) (rate(nps_slot_materialize_seconds_count{${NODE}}[$__rate_interval]))`, legend: "materialize {{node}}" },
      { expr: `sum by (node) (rate(nps_slot_session_seconds_sum{${NODE}}[$__rate_interval])) / sum by (node) (rate(nps_slot_session_seconds_count{${NODE}}[$__rate_interval]))`, legend: "session {{node}}" },
    ],
    { unit: "s" },
  )],
  [24, 7, timeseries(
    "Data loaded per slot",
    "Calibration, test data and weights loaded on each slot's node.",
    [{ expr: `max by (node, slot) (nps_slot_data_loaded_bytes{${NODE}})`, legend: "{{node}} {{slot}}" }],
    { unit: "bytes" },
  )],
);

// Scheduler and quotas ----------------------------------------------------------------------------------------

row(
  "Scheduler and quotas",
  [12, 8, timeseries(
    "Slots per tenant against fair share",
    "Slots held by each tenant's runs (solid) and the tenant's fair share in slots (dashed).",
    [
      { expr: `max by (tenant) (nps_scheduler_slots{${TENANT}})`, legend: "{{tenant}} slots" },
      { expr: `max by (tenant) (nps_scheduler_share{${TENANT}})`, legend: "{{tenant}} fair share" },
    ],
    {
      overrides: [{
        matcher: { id: "byFrameRefID", options: "B" },
        properties: [{ id: "custom.lineStyle", value: { fill: "dash", dash: [10, 10] } }],
      }],
    },
  )],
  [6, 8, timeseries(
    "Scheduler queue depth",
    "Runs waiting for slots.",
    [{ expr: `max by (node) (nps_scheduler_queue_depth{${NODE}})`, legend: "{{node}}" }],
    { min: 0 },
  )],
  [6, 8, timeseries(
    "Quota refusals",
    "429s per second, by tenant and quota (runs, slots, bytes, submissions, requests).",
    [{ expr: `sum by (tenant, quota) (rate(nps_quota_refusals_total{${TENANT}}[$__rate_interval]))`, legend: "{{tenant}} {{quota}}" }],
    { unit: "reqps", min: 0 },
  )],
);

// API ---------------------------------------------------------------------------------------------------------

const HTTP = 'tenant=~"$tenant", node=~"$node"';
row(
  "API",
  [8, 8, timeseries(
    "Request rate",
    "HTTP requests per second, by method and route template.",
    [{ expr: `sum by (method, uri) (rate(http_server_requests_seconds_count{${HTTP}}[$__rate_interval]))`, legend: "{{method}} {{uri}}" }],
    { unit: "reqps" },
  )],
  [8, 8, timeseries(
    "Request latency p50 / p95 / p99",
    "From the percentile histogram http_server_requests_seconds, all routes; 429s are left out (a refusal of the request rate is held for its Retry-After by design).",
    quantiles("http_server_requests_seconds_bucket", `${HTTP}, status!="429"`),
    { unit: "s" },
  )],
  [8, 8, timeseries(
    "Errors",
    "Requests per second answered 4xx or 5xx, by status and route; the dashed line is the share of all requests answered with an error (right axis).",
    [
      { expr: `sum by (status, uri) (rate(http_server_requests_seconds_count{outcome=~"CLIENT_ERROR|SERVER_ERROR", ${HTTP}}[$__rate_interval]))`, legend: "{{status}} {{uri}}" },
      // "or vector(0)": a ratio of 0, not no series, while no request has failed.
      { expr: `(sum(rate(http_server_requests_seconds_count{outcome=~"CLIENT_ERROR|SERVER_ERROR", ${HTTP}}[$__rate_interval])) or vector(0)) / sum(rate(http_server_requests_seconds_count{${HTTP}}[$__rate_interval]))`, legend: "error ratio" },
    ],
    {
      unit: "reqps",
      overrides: [{
        matcher: { id: "byFrameRefID", options: "B" },
        properties: [
          { id: "unit", value: "percentunit" },
          { id: "custom.axisPlacement", value: "right" },
          { id: "custom.lineStyle", value: { fill: "dash", dash: [10, 10] } },
        ],
      }],
    },
  )],
);

// Journal -----------------------------------------------------------------------------------------------------

row(
  "Journal",
  [12, 8, timeseries(
    "Journal persist latency p50 / p95 / p99",
    "One event persisted to the journal (PostgreSQL), per node.",
    quantiles("nps_journal_persist_seconds_bucket", NODE, ["node"]),
    { unit: "s" },
  )],
  [12, 8, timeseries(
    "Recovery and rebalances",
    "Mean recovery time of a run entity (left) and recoveries and shard rebalances per interval (right, bars), per node.",
    [
      { expr: `sum by (node) (rate(nps_journal_recovery_seconds_sum{${NODE}}[$__rate_interval])) / sum by (node) (rate(nps_journal_recovery_seconds_count{${NODE}}[$__rate_interval]))`, legend: "mean recovery {{node}}" },
      { expr: `sum by (node) (increase(nps_journal_recovery_seconds_count{${NODE}}[$__rate_interval]))`, legend: "recoveries {{node}}" },
      { expr: `sum by (node) (increase(nps_cluster_rebalances_total{${NODE}}[$__rate_interval]))`, legend: "rebalances {{node}}" },
    ],
    {
      unit: "s",
      overrides: [{
        matcher: { id: "byRegexp", options: "^(recoveries|rebalances) .*" },
        properties: [
          { id: "unit", value: "short" },
          { id: "custom.drawStyle", value: "bars" },
          { id: "custom.fillOpacity", value: 50 },
          { id: "custom.axisPlacement", value: "right" },
        ],
      }],
    },
  )],
);

// Cluster -----------------------------------------------------------------------------------------------------

row(
  "Cluster",
  [6, 6, stat(
    "Members up",
    "Cluster members with status up, as the selected nodes see them (the largest view).",
    [{ expr: `max(nps_cluster_members{status="up", ${NODE}})`, legend: "up" }],
  )],
  [6, 6, stat(
    "Unreachable",
    "Members some selected node sees as unreachable.",
    [{ expr: `max(nps_cluster_unreachable{${NODE}})`, legend: "unreachable" }],
    { thresholds: { mode: "absolute", steps: [{ color: "green", value: null }, { color: "red", value: 1 }] } },
  )],
  [12, 6, timeseries(
    "Members by status",
    "Cluster members by status (up, joining, leaving, exiting, down, weakly-up) and unreachable members, as each node sees them.",
    [
      { expr: `max by (status) (nps_cluster_members{${NODE}})`, legend: "{{status}}" },
      { expr: `max(nps_cluster_unreachable{${NODE}})`, legend: "unreachable" },
    ],
    { min: 0 },
  )],
);

// JVM ---------------------------------------------------------------------------------------------------------

row(
  "JVM",
  [8, 8, timeseries(
    "Heap",
    "Heap used per node (solid) and the heap's maximum (dashed; pools without a maximum left out).",
    [
      { expr: `sum by (node) (jvm_memory_used_bytes{area="heap", ${NODE}})`, legend: "used {{node}}" },
      { expr: `sum by (node) (jvm_memory_max_bytes{area="heap", ${NODE}} > 0)`, legend: "max {{node}}" },
    ],
    {
      unit: "bytes",
      overrides: [{ matcher: { id: "byFrameRefID", options: "B" }, properties: [{ id: "custom.lineStyle", value: { fill: "dash", dash: [10, 10] } }] }],
    },
  )],
  [8, 8, timeseries(
    "GC pause time",
    "Fraction of time in GC pauses per node (left) and pauses per second by GC action (right).",
    [
      { expr: `sum by (node) (rate(jvm_gc_pause_seconds_sum{${NODE}}[$__rate_interval]))`, legend: "time {{node}}" },
      { expr: `sum by (node, action) (rate(jvm_gc_pause_seconds_count{${NODE}}[$__rate_interval]))`, legend: "pauses {{node}} {{action}}" },
    ],
    {
      unit: "percentunit",
      overrides: [{
        matcher: { id: "byFrameRefID", options: "B" },
        properties: [{ id: "unit", value: "ops" }, { id: "custom.axisPlacement", value: "right" }],
      }],
    },
  )],
  [8, 8, timeseries(
    "Threads and CPU",
    "Live threads (left) and the process's CPU usage (right), per node.",
    [
      { expr: `max by (node) (jvm_threads_live_threads{${NODE}})`, legend: "threads {{node}}" },
      { expr: `max by (node) (process_cpu_usage{${NODE}})`, legend: "cpu {{node}}" },
    ],
    {
      overrides: [{
        matcher: { id: "byFrameRefID", options: "B" },
        properties: [{ id: "unit", value: "percentunit" }, { id: "custom.axisPlacement", value: "right" }],
      }],
    },
  )],
);

// ---- variables and annotations ------------------------------------------------------------------------------

function queryVariable(name, label, query, description) {
  return {
    type: "query",
    name,
    label,
    description,
    datasource: DS,
    query: { qryType: 1, query, refId: `PrometheusVariableQueryEditor-VariableQuery` },
    refresh: 2,
    sort: 1,
    multi: true,
    includeAll: true,
    allValue: ".*",
    current: { selected: true, text: ["All"], value: ["$__all"] },
    options: [],
    regex: "",
  };
}

const templating = {
  list: [
    {
      type: "datasource",
      name: "datasource",
      label: "Prometheus",
      query: "prometheus",
      refresh: 1,
      regex: "",
      options: [],
    },
    queryVariable("tenant", "Tenant", "label_values(nps_runs_active, tenant)", 'Tenants with active runs ("none": runs not served through the API).'),
    queryVariable("run", "Run", 'label_values(nps_run_progress{tenant=~"$tenant"}, run)', "Active runs of the selected tenants."),
    queryVariable("node", "Node", 'label_values({__name__=~"nps_cluster_members|nps_slot_busy_seconds_total"}, node)', "Cluster nodes (Pekko address host:port)."),
  ],
};

// A counter's increase, plus a series born with the event in it: the five event counters of a tenant and kind start at 0
// on a node with their first event, so a node's first start (or a resume after a restart, in a fresh JVM) is a new
// series at 1, which increase() does not see (the metrics contract, "Changes").
const eventsOf = (event) => `nps_run_events_total{event="${event}", tenant=~"$tenant", node=~"$node"}`;
const runEvent = (event, color) => ({
  name: `Runs ${event}`,
  datasource: DS,
  enable: true,
  hide: false,
  iconColor: color,
  target: {
    refId: "Anno",
    expr: `sum by (tenant, kind) (increase(${eventsOf(event)}[$__rate_interval]) > 0 or (${eventsOf(event)} > 0 unless ${eventsOf(event)} offset $__rate_interval))`,
    interval: "1m",
  },
  titleFormat: `run ${event}`,
  textFormat: `tenant {{tenant}}, kind {{kind}}`,
  tagKeys: "tenant,kind",
  useValueForTime: false,
});

const dashboard = {
  uid: "nps-overview",
  title: "NPS: Neural Parameter Search",
  description: "Runs, evaluator slots, scheduler and quotas, API, journal, cluster and JVM of an NPS cluster (issue 13; k8s/monitoring/README.md).",
  tags: ["nps"],
  editable: true,
  graphTooltip: 1,
  schemaVersion: 42,
  version: 1,
  refresh: "30s",
  time: { from: "now-6h", to: "now" },
  timepicker: {},
  timezone: "browser",
  fiscalYearStartMonth: 0,
  liveNow: false,
  links: [],
  annotations: {
    list: [
      {
        builtIn: 1,
        name: "Annotations & Alerts",
        datasource: { type: "grafana", uid: "-- Grafana --" },
        enable: true,
        hide: true,
        iconColor: "rgba(0, 211, 255, 1)",
        type: "dashboard",
      },
      runEvent("started", "green"),
      runEvent("resumed", "blue"),
      runEvent("cancelled", "red"),
    ],
  },
  templating,
  panels,
};

const json = JSON.stringify(dashboard, null, 2) + "\n";
if (process.argv.includes("--write")) {
  writeFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "nps-dashboard.json"), json);
} else {
  process.stdout.write(json);
}
