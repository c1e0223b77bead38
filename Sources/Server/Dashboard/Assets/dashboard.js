// Live updates for the dashboard: one EventSource on /ui/events. Connector badges change at once;
// panels marked data-live-fragment are fetched again when an event they list arrives, at most once a
// second each, however busy the fleet.
// No inline script anywhere: the Content-Security-Policy allows only this file.
(function () {
  "use strict";

  const eventTypes = [
    "connector.status", "station.online", "station.offline", "session.started", "session.updated",
    "session.stopped", "invoice.issued", "invoice.paid", "alert.raised", "alert.resolved",
  ];

  function badgeClass(status) {
    return "badge status-" + String(status).toLowerCase();
  }

  function updateConnector(event) {
    const data = JSON.parse(event.data);
    const key = data.stationId + "/" + data.connectorId;
    document.querySelectorAll("[data-connector-badge]").forEach(function (badge) {
      if (badge.getAttribute("data-connector-badge") !== key) return;
      badge.textContent = data.status;
      badge.className = badgeClass(data.status);
    });
  }

  function updateOnline(event) {
    const data = JSON.parse(event.data);
    const online = event.type === "station.online";
    document.querySelectorAll("[data-station-online]").forEach(function (badge) {
      if (badge.getAttribute("data-station-online") !== data.stationId) return;
      badge.textContent = online ? "online" : "offline";
      badge.className = "badge " + (online ? "online" : "offline");
    });
  }

  const pending = new Map();

  function refresh(panel) {
    if (pending.has(panel)) return;
    pending.set(panel, setTimeout(function () {
      pending.delete(panel);
      fetch(panel.getAttribute("data-live-fragment"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          // Redirected means the sign-in ran out: reload, and land on the sign-in page.
          if (response.redirected) { window.location.reload(); return null; }
          return response.ok ? response.text() : null;
        })
        .then(function (html) { if (html !== null) panel.innerHTML = html; })
        .catch(function () { /* the next event tries again */ });
    }, 1000));
  }

  function refreshPanels(event) {
    let stationID = null;
    try { stationID = JSON.parse(event.data).stationId || null; } catch (error) { stationID = null; }
    document.querySelectorAll("[data-live-fragment]").forEach(function (panel) {
      const wanted = (panel.getAttribute("data-live-events") || "").split(" ");
      if (wanted.indexOf(event.type) < 0) return;
      const station = panel.getAttribute("data-live-station");
      if (station && stationID && station !== stationID) return;
      refresh(panel);
    });
  }

  function setStatus(text) {
    const status = document.getElementById("live-status");
    if (status) status.textContent = text;
  }

  function connect() {
    if (!window.EventSource || !document.body.hasAttribute("data-live")) return;
    const source = new EventSource("/ui/events");
    source.onopen = function () { setStatus("live"); };
    source.onerror = function () { setStatus("reconnecting…"); };
    eventTypes.forEach(function (type) {
      source.addEventListener(type, function (event) {
        if (type === "connector.status") updateConnector(event);
        if (type === "station.online" || type === "station.offline") updateOnline(event);
        refreshPanels(event);
      });
    });
  }

  document.addEventListener("submit", function (event) {
    const message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", connect);
})();
