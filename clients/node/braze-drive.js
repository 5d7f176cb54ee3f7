// Drive the npm `braze-api` package (no library code changed): each call is a dotted method of its
// Braze class ("users.track", "users.alias.new", "users.export.ids", ...) and the one argument it takes.
// Usage: node braze-drive.js CONFIG_JSON with CONFIG {url, api_key, calls: [[method, argument], ...]}.
// Prints one JSON line per call: {"call", "ok", "reply"} or {"call", "ok": false, "status", "error", "errors"}.
"use strict";
const { Braze } = require("braze-api");

const config = JSON.parse(process.argv[2]);
const braze = new Braze(config.url, config.api_key);

(async () => {
  for (const [name, argument] of config.calls) {
    const path = name.split(".");
    const owner = path.slice(0, -1).reduce((object, key) => object[key], braze);
    try {
      const reply = await owner[path[path.length - 1]](argument);
      console.log(JSON.stringify({ call: name, ok: true, reply }));
    } catch (e) {
      console.log(JSON.stringify({ call: name, ok: false, status: e.status, error: e.message, errors: e.errors }));
    }
  }
})();
