// Validates Kubernetes objects in YAML files against the API schema (kubernetes-models).
const fs = require("fs");
const YAML = require("yaml");
const models = require("kubernetes-models");
let bad = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of YAML.parseAllDocuments(fs.readFileSync(file, "utf8"))) {
    const obj = doc.toJS();
    if (!obj) continue;
    const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
    let mod;
    try {
      mod = require(`kubernetes-models/${group ? group + "/" : ""}${version}/${obj.kind}`);
    } catch (e) {
      console.log(`${file}: no model for ${obj.apiVersion} ${obj.kind}`);
      bad++;
      continue;
    }
    const Model = mod[obj.kind] || mod.default;
    try {
      new Model(obj).validate();
    } catch (e) {
      console.log(`${file}: ${e.message}`);
      bad++;
    }
  }
}
process.exit(bad ? 1 : 0);
