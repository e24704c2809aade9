// The job's page: poll its status JSON every 2 s while the job is queued or running,
// and update the page in place. Loaded with defer; the CSP allows no inline script.
(function () {
  "use strict";
  var root = document.querySelector("[data-job-status-url]");
  if (!root || root.dataset.jobFinished === "true") return;
  var url = root.dataset.jobStatusUrl;
  var failures = 0;

  function field(name) { return root.querySelector('[data-job-field="' + name + '"]'); }

  function show(name, text) {
    var el = field(name);
    if (!el) return;
    if (text !== undefined) el.textContent = text;
    el.hidden = !text;
  }

  function update(state) {
    var status = field("status");
    status.textContent = state.status_name;
    status.className = "badge badge--" + state.status_tone;
    var progress = field("progress");
    progress.value = state.progress;
    progress.textContent = state.progress + "%";
    show("message", state.message);
    show("error", state.error);
    if (state.result_url) field("result-link").href = state.result_url;
    field("result").hidden = !state.result_url;
    field("no-download").hidden = !(state.status === "succeeded" && !state.result_url);
    field("retry").hidden = !state.can_retry;
    field("refresh").hidden = state.finished;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (state) {
        failures = 0;
        update(state);
        if (!state.finished) window.setTimeout(poll, 2000);
      })
      .catch(function () {
        // Keep the Refresh link; try a few more times, more slowly.
        failures += 1;
        if (failures < 5) window.setTimeout(poll, 2000 * (failures + 1));
      });
  }

  window.setTimeout(poll, 2000);
})();
