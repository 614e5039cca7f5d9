// Renders the templates of a chart berth convert wrote, as helm would for
// the only template form berth writes ({{ index .Values "a" "b" ["c"] }}),
// into OUT: node render.js CHART OUT. Any other template is an error.
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");
const [chart, out] = process.argv.slice(2);
const values = YAML.parse(fs.readFileSync(path.join(chart, "values.yaml"), "utf8")) || {};
fs.mkdirSync(out, { recursive: true });
let bad = 0;
for (const f of fs.readdirSync(path.join(chart, "templates")).sort()) {
  let text = fs.readFileSync(path.join(chart, "templates", f), "utf8");
  text = text.replace(/\{\{ index \.Values((?: "[^"]*")+) \}\}/g, (_, keys) => {
    let v = values;
    for (const k of keys.match(/"[^"]*"/g).map((q) => q.slice(1, -1))) v = v == null ? undefined : v[k];
    if (v === undefined) {
      console.log(`${f}: no value for${keys}`);
      bad++;
    }
    return String(v);
  });
  if (text.includes("{{")) {
    console.log(`${f}: a template berth does not write`);
    bad++;
  }
  fs.writeFileSync(path.join(out, f), text);
}
process.exit(bad ? 1 : 0);
