// flask-eventbus dashboard: refreshes the live parts from the JSON routes. Shipped with the
// package; loads nothing from elsewhere. Text is set with textContent, never as HTML.
(function () {
  "use strict";

  function clock(seconds) {
    return new Date(seconds * 1000).toISOString().substring(11, 19);
  }

  function cell(text, code) {
    var td = document.createElement("td");
    var inner = code ? document.createElement("code") : td;
    inner.textContent = text;
    if (code) { td.appendChild(inner); }
    return td;
  }

  function refreshTail(table) {
    fetch(table.dataset.source, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        var tbody = document.createElement("tbody");
        body.events.forEach(function (e) {
          var tr = document.createElement("tr");
          tr.className = "tail-entry";
          tr.appendChild(cell(clock(e.at)));
          tr.appendChild(cell(e.event_type, true));
          tr.appendChild(cell(e.event_id, true));
          tr.appendChild(cell(e.correlation_id, true));
          tr.appendChild(cell(e.producer));
          tr.appendChild(cell(e.transport));
          tbody.appendChild(tr);
        });
        table.replaceChild(tbody, table.tBodies[0]);
      })
      .catch(function () {});
  }

  function show(value, suffix) {
    if (value === null || value === undefined) { return "\u2014"; }
    return suffix ? value.toFixed(1) + suffix : String(value);
  }

  function refreshHandlers(table) {
    fetch(window.location.pathname.replace(/\/?$/, ".json"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        body.handlers.forEach(function (h) {
          var rows = table.querySelectorAll("tr.handler-row");
          rows.forEach(function (tr) {
            if (tr.dataset.handler !== h.handler_id || tr.dataset.transport !== h.transport) { return; }
            tr.querySelector('[data-field="pending"]').textContent = show(h.pending);
            tr.querySelector('[data-field="lag"]').textContent = show(h.lag);
            tr.querySelector('[data-field="oldest_pending_age_s"]').textContent = show(h.oldest_pending_age_s, " s");
            tr.querySelector('[data-field="dead_letters"]').textContent = show(h.dead_letters);
            tr.querySelector("polyline.handled").setAttribute("points", h.chart.handled);
            tr.querySelector("polyline.failed").setAttribute("points", h.chart.failed);
            tr.querySelector(".peak").textContent = "max " + h.chart.peak + "/min";
          });
        });
      })
      .catch(function () {});
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
      });
    });
    var tail = document.getElementById("tail");
    if (tail) { setInterval(function () { refreshTail(tail); }, 2000); }
    var figures = document.getElementById("handler-figures");
    if (figures) { setInterval(function () { refreshHandlers(figures); }, 5000); }
  });
})();
