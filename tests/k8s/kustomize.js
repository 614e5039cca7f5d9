// Checks a kustomize tree berth convert wrote, as kustomize would read it:
// node kustomize.js DIR. base/kustomization.yaml lists every file of base/
// and nothing else; the overlay takes ../../base and patches that exist,
// each naming an object (kind, name, namespace) base has. A line per fault.
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");
const dir = process.argv[2];
const bad = [];
const read = (f) => YAML.parse(fs.readFileSync(f, "utf8"));
const base = path.join(dir, "base");
const k = read(path.join(base, "kustomization.yaml"));
if (k.apiVersion !== "kustomize.config.k8s.io/v1beta1" || k.kind !== "Kustomization") bad.push("base: not a Kustomization");
const files = fs.readdirSync(base).filter((f) => f !== "kustomization.yaml").sort();
const listed = [...(k.resources || [])].sort();
if (JSON.stringify(files) !== JSON.stringify(listed)) bad.push(`base lists ${listed.join(",")} but has ${files.join(",")}`);
const objects = new Map();
for (const f of files) {
  const o = read(path.join(base, f));
  objects.set(`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, o);
}
for (const ov of fs.readdirSync(path.join(dir, "overlays"))) {
  const od = path.join(dir, "overlays", ov);
  const ok = read(path.join(od, "kustomization.yaml"));
  for (const r of ok.resources || []) if (!fs.existsSync(path.join(od, r, "kustomization.yaml"))) bad.push(`${ov}: no ${r}`);
  for (const p of ok.patches || []) {
    const f = path.join(od, p.path);
    if (!fs.existsSync(f)) {
      bad.push(`${ov}: no patch ${p.path}`);
      continue;
    }
    const o = read(f);
    if (!objects.has(`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`))
      bad.push(`${ov}: ${p.path} patches ${o.kind} ${o.metadata.name}, which base does not have`);
  }
}
for (const b of bad) console.log(b);
process.exit(bad.length ? 1 : 0);
