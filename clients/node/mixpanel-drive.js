// Drive the official `mixpanel` npm package as its own user would (no library code changed).
// Usage: node mixpanel-drive.js CONFIG_JSON. CONFIG: token, project_id, username, secret, calls, and
// host ("127.0.0.1:port") and protocol ("http", or "https" for a TLS front of cohort-harness proxy).
// Prints one JSON line per call: {"call", "ok", "error"}.
"use strict";
const Mixpanel = require("mixpanel");

const config = JSON.parse(process.argv[2]);
const options = { credentials: new Mixpanel.ServiceAccountCredentials(config.username, config.secret,
                                                                       String(config.project_id)) };
Object.assign(options, { host: config.host, protocol: config.protocol });
const mp = Mixpanel.init(config.token, options);
const now = Math.floor(Date.now() / 1000);
const monthAgo = now - 30 * 86400;

const calls = {
  track: (cb) => mp.track("Purchase", { distinct_id: "nina", amount: 3 }, cb),
  people_set: (cb) => mp.people.set("nina", { plan: "team", seats: 4 }, cb),
  people_increment: (cb) => mp.people.increment("nina", "logins", 2, cb),
  people_union: (cb) => mp.people.union("nina", { tags: ["x", "y"] }, cb),
  people_delete: (cb) => mp.people.delete_user("omar", cb),
  import: (cb) => mp.import("Purchase", monthAgo, { distinct_id: "omar", amount: 11 }, cb),
  import_batch: (cb) => mp.import_batch([
    { event: "Signup", properties: { time: monthAgo, distinct_id: "pia" } },
    { event: "Signup", properties: { time: monthAgo + 60, distinct_id: "quinn" } },
  ], (errors) => cb(errors && errors.length ? errors[0] : undefined)),
};

(async () => {
  for (const name of config.calls) {
    const error = await new Promise((resolve) => calls[name]((e) => resolve(e)));
    console.log(JSON.stringify({ call: name, ok: !error, error: error ? String(error.message || error) : "" }));
  }
})();
