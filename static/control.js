// CONTROL/MONITORING: refresh the live part of /control without reloading the page.
// The page works without JavaScript (a server-rendered snapshot). With it, the fragment at
// data-live-url replaces #control-live every N seconds (the select; 1 s at the least, remembered in
// localStorage), never while the tab is hidden or while the user is typing in a form inside it. Looks start
// every N seconds (not N seconds after the last one ended), so a slow look does not stretch the interval.
(function () {
  "use strict";
  var bar = document.getElementById("refresh-bar");
  var select = document.getElementById("refresh-interval");
  var state = document.getElementById("refresh-state");
  if (!bar || !select || !window.fetch) { return; }
  var url = bar.getAttribute("data-live-url");
  var timer = null;
  var busy = false;
  var lastStart = 0;
  var KEY = "piranha.control.refresh";

  function seconds() {
    var value = parseFloat(select.value);
    return isNaN(value) ? 0 : (value > 0 ? Math.max(1, value) : 0);
  }

  function stamp(text, stale) {
    state.textContent = text;
    state.className = stale ? "stale" : "muted";
  }

  function now() {
    return new Date().toISOString().substring(11, 19);
  }

  function typingInside(live) {
    var active = document.activeElement;
    return active && live.contains(active) && (active.tagName === "INPUT" || active.tagName === "SELECT");
  }

  function refresh() {
    var live = document.getElementById("control-live");
    if (busy || !live || document.hidden) { return; }
    if (typingInside(live)) { schedule(); return; }
    busy = true;
    lastStart = Date.now();
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" }, redirect: "error" })
      .then(function (response) {
        if (!response.ok) { throw new Error("the console answered " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#control-live");
        if (!fresh) { throw new Error("the console sent no status"); }
        live.replaceWith(fresh);
        stamp("updated " + now() + " UTC, every " + seconds() + " s", false);
      })
      .catch(function (error) {
        stamp("update failed at " + now() + " UTC (" + error.message + "); retrying", true);
      })
      .then(function () { busy = false; schedule(); });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = null;
    var wait = seconds();
    if (wait > 0 && !document.hidden) {
      timer = window.setTimeout(refresh, Math.max(0, wait * 1000 - (Date.now() - lastStart)));
    }
  }

  try {
    var saved = window.localStorage.getItem(KEY);
    if (saved !== null && select.querySelector('option[value="' + saved + '"]')) { select.value = saved; }
  } catch (e) { /* storage may be disabled: keep the default */ }

  select.addEventListener("change", function () {
    try { window.localStorage.setItem(KEY, select.value); } catch (e) { /* not remembered */ }
    if (seconds() > 0) { refresh(); } else { schedule(); stamp("paused at " + now() + " UTC", false); }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      window.clearTimeout(timer);
      stamp("paused while the tab is hidden", false);
    } else if (seconds() > 0) {
      refresh();
    }
  });
  stamp(seconds() > 0 ? "updating every " + seconds() + " s" : "paused", false);
  schedule();
}());
