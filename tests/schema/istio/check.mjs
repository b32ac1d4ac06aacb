// Validate Istio objects against the models generated from Istio's CRDs.
//
// Two checks, both from @kubernetes-models/istio:
//  - its JSON-schema validators (types, enums, patterns, required fields);
//  - the TypeScript interfaces of the same schemas, type-checked with excess-property
//    checks, which report unknown fields (the CRDs themselves only prune them).
// Usage: node check.mjs objects.json  ->  prints {"<index>": ["error", ...]} as JSON.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const here = path.dirname(fileURLToPath(import.meta.url));
const objects = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const errors = {};
const report = (i, message) => (errors[i] ??= []).push(message);

const modulePath = (o) => {
  const [group, version] = o.apiVersion.split("/");
  return `@kubernetes-models/istio/${group}/${version}/${o.kind}`;
};

// 1. JSON-schema validators.
for (const [i, o] of objects.entries()) {
  let Model;
  try {
    Model = (await import(modulePath(o)))[o.kind];
  } catch {
    report(i, `no Istio schema for ${o.apiVersion} ${o.kind}`);
    continue;
  }
  try {
    new Model(o).validate();
  } catch (e) {
    report(i, e.message);
  }
}

// 2. Excess-property type check: one object per line, so a diagnostic's line is its index.
const lines = objects.map(
  (o, i) => `export const o${i}: import("${modulePath(o)}").I${o.kind} = ${JSON.stringify(o)};`,
);
const file = path.join(here, `.check-${process.pid}.ts`);
fs.writeFileSync(file, lines.join("\n") + "\n");
try {
  const program = ts.createProgram([file], {
    noEmit: true,
    strict: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  });
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const line = d.file ? d.file.getLineAndCharacterOfPosition(d.start ?? 0).line : -1;
    report(line, ts.flattenDiagnosticMessageText(d.messageText, " "));
  }
} finally {
  fs.unlinkSync(file);
}
process.stdout.write(JSON.stringify(errors));
