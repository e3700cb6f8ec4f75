// Apply page: show each step's outcome as it finishes. Without JavaScript (or if anything here fails) the
// form posts normally and the server answers with the same steps once they are all done.
(function () {
  "use strict";

  function cell(row, text, className) {
    var td = document.createElement("td");
    if (className) {
      var span = document.createElement("span");
      span.className = className;
      span.textContent = text;
      td.appendChild(span);
    } else {
      td.textContent = text;
    }
    row.appendChild(td);
  }

  var STATUS_CLASS = {ok: "status up", notice: "status warn", skipped: "status", failed: "status down"};

  function render(body, steps) {
    while (body.firstChild) { body.removeChild(body.firstChild); }
    steps.forEach(function (step) {
      var row = document.createElement("tr");
      row.className = "step step-" + step.state;
      row.setAttribute("data-step", step.name);
      cell(row, step.name);
      cell(row, step.node);
      cell(row, step.state, STATUS_CLASS[step.state] || "status");
      cell(row, step.message);
      cell(row, step.duration.toFixed(2) + "\u00a0s");
      body.appendChild(row);
    });
  }

  function poll(progress, body, urls, started) {
    fetch(urls.status_url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (reply) {
        if (!reply.ok) { throw new Error("status " + reply.status); }
        return reply.json();
      })
      .then(function (job) {
        render(body, job.steps);
        if (job.done) {
          window.location.assign(urls.result_url);
        } else if (Date.now() - started > 300000) {
          progress.querySelector(".apply-waiting").textContent = "Still running after 5 minutes; reload the page later.";
        } else {
          window.setTimeout(function () { poll(progress, body, urls, started); }, 250);
        }
      })
      .catch(function () { window.location.assign(urls.result_url); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("apply-form");
    var progress = document.getElementById("apply-progress");
    if (!form || !progress || !window.fetch || !window.FormData) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      progress.hidden = false;
      fetch(form.getAttribute("data-start-url"), {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: {"Accept": "application/json"}
      })
        .then(function (reply) {
          if (reply.status !== 202) { throw new Error("status " + reply.status); }
          return reply.json();
        })
        .then(function (urls) {
          poll(progress, progress.querySelector("tbody"), urls, Date.now());
        })
        .catch(function () {
          progress.hidden = true;
          HTMLFormElement.prototype.submit.call(form);  // the plain POST, handled without JavaScript
        });
    });
  });
}());
