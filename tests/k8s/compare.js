// What berth convert wrote for a service against what berth runs for it:
// node compare.js DIR PROJECT SERVICE INSPECT.json — same image, command,
// environment, ports, mount paths and networks, or a line per difference.
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");
const [dir, project, service, inspectFile] = process.argv.slice(2);
const ctr = JSON.parse(fs.readFileSync(inspectFile, "utf8"))[0];
let obj = null;
for (const kind of ["deployment", "statefulset", "job"]) {
  const f = path.join(dir, `${service}-${kind}.yaml`);
  if (fs.existsSync(f)) obj = YAML.parse(fs.readFileSync(f, "utf8"));
}
const bad = [];
if (!obj) {
  console.log(`no workload for ${service} in ${dir}`);
  process.exit(1);
}
const pod = obj.spec.template.spec;
const c = pod.containers[0];
const same = (what, a, b) => {
  if (JSON.stringify(a) !== JSON.stringify(b)) bad.push(`${what}: convert ${JSON.stringify(a)}, berth ${JSON.stringify(b)}`);
};
same("image", c.image, ctr.Config.Image);
same("command", [...(c.command || []), ...(c.args || [])], ctr.Config.Cmd.filter((a, i, all) => !(all[0] === "/sbin/berth-init" && i < 2)));
const env = Object.fromEntries(ctr.Config.Env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
for (const e of c.env || []) same(`env ${e.name}`, e.value, env[e.name]);
const ports = Object.keys(ctr.NetworkSettings.Ports || {}).map((p) => parseInt(p)).sort((a, b) => a - b);
same("ports", (c.ports || []).map((p) => p.containerPort).sort((a, b) => a - b), ports);
const mounts = ctr.Mounts.map((m) => m.Destination).filter((d) => !d.startsWith("/etc/"));
for (const m of c.volumeMounts || []) if (!mounts.includes(m.mountPath)) bad.push(`mount ${m.mountPath}: berth has none there`);
const nets = Object.keys(obj.spec.template.metadata.labels)
  .filter((l) => l.startsWith("com.docker.compose.network."))
  .map((l) => `${project}_${l.slice("com.docker.compose.network.".length)}`)
  .sort();
same("networks", nets, Object.keys(ctr.NetworkSettings.Networks).sort());
for (const b of bad) console.log(`${service}: ${b}`);
process.exit(bad.length ? 1 : 0);
