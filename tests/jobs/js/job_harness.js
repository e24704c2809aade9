// Run static/js/job.js against a stand-in page, fetch and timer; print what happened as JSON.
// Usage: node job_harness.js SCRIPT STATES_JSON   (each state one poll's answer; "error" = a failed fetch)
"use strict";
const fs = require("fs");
const vm = require("vm");

const [script, statesJson] = process.argv.slice(2);
const states = JSON.parse(statesJson);
const names = ["status", "progress", "message", "error", "result", "result-link",
  "no-download", "retry", "refresh"];
const fields = {};
for (const name of names) fields[name] = { textContent: "", hidden: true, value: 0, href: "#", className: "" };
const root = {
  dataset: { jobStatusUrl: "/jobs/abc/status.json", jobFinished: "false" },
  querySelector(selector) { return fields[/data-job-field="([^"]+)"/.exec(selector)[1]]; },
};
const timers = [];
const fetched = [];
const snapshots = [];
const context = {
  document: { querySelector: () => root },
  window: { setTimeout: (fn, ms) => timers.push({ fn, ms }), location: {} },
  fetch(url) {
    fetched.push(url);
    const state = states.shift();
    if (state === "error") return Promise.reject(new Error("offline"));
    return Promise.resolve({ ok: true, json: () => Promise.resolve(state) });
  },
};
vm.runInNewContext(fs.readFileSync(script, "utf8"), context);

(async () => {
  const delays = [];
  while (timers.length && delays.length < 20) {
    const { fn, ms } = timers.shift();
    delays.push(ms);
    fn();
    for (let i = 0; i < 5; i++) await Promise.resolve();
    snapshots.push(JSON.parse(JSON.stringify(fields)));
  }
  console.log(JSON.stringify({ delays, fetched, snapshots }));
})();
