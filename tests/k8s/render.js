// Renders the templates of a chart berth convert wrote, as helm would for
// the only template forms berth writes ({{ .Values.a.b }} and
// {{ index .Values.a "b-c" }}), into OUT: node render.js CHART OUT. Any
// other template is an error.
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");
const [chart, out] = process.argv.slice(2);
const values = YAML.parse(fs.readFileSync(path.join(chart, "values.yaml"), "utf8")) || {};
fs.mkdirSync(out, { recursive: true });
let bad = 0;
const lookup = (f, keys) => {
  let v = values;
  for (const k of keys) v = v == null ? undefined : v[k];
  if (v === undefined || v === null) {
    console.log(`${f}: no value for ${keys.join(".")}`);
    bad++;
  }
  return String(v);
};
for (const f of fs.readdirSync(path.join(chart, "templates")).sort()) {
  let text = fs.readFileSync(path.join(chart, "templates", f), "utf8");
  text = text.replace(/\{\{ (index )?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)*)((?: "[^"]*")*) \}\}/g, (all, index, dotted, quoted) => {
    if (!index && quoted) return all; // not a form helm takes: left for the check below
    const keys = dotted.split(".").slice(1);
    for (const q of quoted.match(/"[^"]*"/g) || []) keys.push(q.slice(1, -1));
    return lookup(f, keys);
  });
  if (text.includes("{{")) {
    console.log(`${f}: a template berth does not write`);
    bad++;
  }
  fs.writeFileSync(path.join(out, f), text);
}
process.exit(bad ? 1 : 0);
