#!/usr/bin/env node
// The rules' own check beside promtool's (validate.sh runs both): every metric an expression of a Prometheus rules
// file uses is a metric of the contract (metrics.txt) or recorded by a rule of the same file.
//   node check-rules.mjs RULES.yaml
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { parse } from "yaml";
import { contractMetrics, selectors } from "./promql.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const file = process.argv[2];
if (!file) {
  console.error("usage: node check-rules.mjs RULES.yaml");
  process.exit(2);
}
const contract = contractMetrics(readFileSync(path.join(here, "metrics.txt"), "utf8"));
const rules = (parse(readFileSync(file, "utf8"))?.groups ?? []).flatMap((g) => g.rules ?? []);
const recorded = new Set(rules.filter((r) => r.record).map((r) => r.record));
const problems = [];
for (const r of rules) {
  const name = r.record ?? r.alert;
  let found = [];
  try {
    found = selectors(String(r.expr ?? ""));
  } catch (e) {
    problems.push(`${name}: ${e.message}`);
  }
  for (const s of found) {
    for (const m of s.names) {
      if (!contract.has(m) && !recorded.has(m)) problems.push(`metrics: ${name}: ${m} is not a metric of the contract (metrics.txt) nor recorded here`);
    }
  }
}
if (rules.length === 0) problems.push("no rules");
if (problems.length) {
  for (const p of problems) console.error(`${file}: ${p}`);
  process.exit(1);
}
console.log(`${file}: ${rules.length} rules use contract metrics only`);
