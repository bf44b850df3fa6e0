// Network: the whole network's counts, every station with its live status and filters, refreshed every few seconds.
import { get, withQuery, enc } from "./api.js";
import { consoleConfig } from "./auth.js";
import { ago, badge, empty, field, h, keepFocus, pager, rememberZone, replace, setViewQuery, table, timeText } from "./ui.js";

export const REFRESH_MS = 3000;
const PAGE_SIZE = 100;

// What a station is doing, for the status filter (as GET /network/counts counts it): an offline station's statuses
// are the last it sent, not the present, so it is offline only, neither charging nor faulted.
export function stationState(station) {
  const statuses = station.connectors.map((connector) => connector.status);
  return {
    connected: station.connected,
    offline: !station.connected,
    charging: station.connected && statuses.includes("Charging"),
    faulted: station.connected && (statuses.includes("Faulted") || station.connectors.some((connector) => connector.errorCode && connector.errorCode !== "NoError")),
  };
}

const COUNTED = ["connected", "charging", "faulted", "offline"];

function matches(station, text) {
  if (!text) return true;
  const boot = station.boot || {};
  const haystack = [station.chargePointId, station.description, boot.chargePointVendor, boot.chargePointModel, boot.chargePointSerialNumber]
    .filter(Boolean).join(" ").toLowerCase();
  return haystack.includes(text.toLowerCase());
}

function connectorBadges(station) {
  const shown = station.connectors.filter((connector) => connector.connectorId > 0);
  const list = shown.length ? shown : station.connectors;
  if (!list.length) return h("span", { class: "muted" }, "no status reported");
  return h("ul", { class: "badges" }, list.map((connector) => h("li", {},
    badge(connector.status, `${connector.connectorId === 0 ? "Station" : `#${connector.connectorId}`} ${connector.status}`))));
}

function errors(station) {
  const faults = station.connectors.filter((connector) => connector.errorCode && connector.errorCode !== "NoError");
  return faults.length
    ? faults.map((connector) => h("div", {}, `#${connector.connectorId} ${connector.errorCode}${connector.vendorErrorCode ? ` (${connector.vendorErrorCode})` : ""}`))
    : h("span", { class: "muted" }, "—");
}

function row(station) {
  const boot = station.boot || {};
  return h("tr", { "data-station": station.chargePointId },
    h("th", { scope: "row" }, h("a", { href: `#/stations/${enc(station.chargePointId)}` }, station.chargePointId),
      station.description ? h("div", { class: "muted" }, station.description) : null),
    h("td", {}, [boot.chargePointVendor, boot.chargePointModel].filter(Boolean).join(" ") || h("span", { class: "muted" }, "not booted")),
    h("td", {}, badge(station.connected ? "Online" : "Offline")),
    h("td", {}, station.lastSeenAt
      ? h("span", { title: timeText(station.lastSeenAt, station.timeZone) }, ago(station.lastSeenAt))
      : h("span", { class: "muted" }, "never")),
    h("td", {}, connectorBadges(station)),
    h("td", {}, errors(station)));
}

// The whole network's counts (GET /network/counts); the page's own only when the API could not give them.
function counts(network, stations, more) {
  let tally = network.counts;
  let remark;
  if (tally) {
    const total = tally.total;
    remark = h("p", { class: "muted", "data-total": String(total) },
      `${total} station${total === 1 ? "" : "s"} in the network, counted at ${new Date(tally.countedAt).toLocaleTimeString("en-GB")}.`);
  } else {
    tally = Object.fromEntries(COUNTED.map((name) => [name, 0]));
    for (const station of stations) {
      const state = stationState(station);
      for (const name of COUNTED) if (state[name]) tally[name] += 1;
    }
    remark = h("p", { class: "muted" },
      `Counted on this page${more ? "; more stations follow" : ""}. The network's counts could not be read: ${network.error}`);
  }
  return h("dl", { class: "counts", "aria-label": network.counts ? "Counts of the whole network" : "Counts on this page" },
    COUNTED.map((name) => h("div", { class: `count ${name}`, "data-count": name },
      h("dt", {}, name[0].toUpperCase() + name.slice(1)), h("dd", {}, String(tally[name])))),
    remark);
}

async function emptyNetwork() {
  const { stationUrl } = await consoleConfig().catch(() => ({}));
  const url = `${stationUrl || "ws://127.0.0.1:9000/ocpp/"}{chargePointId}`;
  return empty(
    h("h2", {}, "No station has connected yet"),
    h("p", {}, "Point a charging station at the CSMS: set its central system URL to ", h("code", {}, url),
      " (most stations append their own identity to ", h("code", {}, url.replace("{chargePointId}", "")), ")."),
    h("p", {}, "Or start simulated stations: ", h("code", {}, 'make sim ARGS="--stations 3 --sessions"'),
      ", and register the id tags they charge with (one per station: ", h("code", {}, "SIM-TAG-1"), ", ", h("code", {}, "SIM-TAG-2"), ", ", h("code", {}, "SIM-TAG-3"), ") on the ", h("a", { href: "#/id-tags" }, "Id tags"), " page."),
    h("p", {}, "On AWS, stations are refused until registered: ", h("code", {}, "PUT /charge-points/{chargePointId}"), "."));
}

export async function render(main, _params, query) {
  const filters = { status: query.get("status") || "", q: query.get("q") || "", page: query.get("page") || "" };
  const status = h("select", { name: "status" },
    ["", "connected", "charging", "faulted", "offline"].map((value) =>
      h("option", { value, selected: value === filters.status }, value ? value[0].toUpperCase() + value.slice(1) : "All")));
  const text = h("input", { type: "search", name: "q", value: filters.q, placeholder: "id, description, vendor, model" });
  const countsBox = h("div", {});
  const listBox = h("div", { "aria-live": "polite" });
  const updated = h("small", { class: "muted" });
  replace(main,
    h("div", { class: "heading" }, h("h1", {}, "Network"), updated),
    countsBox,
    h("form", { class: "filters", role: "search", onsubmit: (event) => event.preventDefault() },
      field("Status", status), field("Search", text)),
    listBox);

  let stations = [];
  let nextToken = null;
  let network = { counts: null, error: "" };

  function draw() {
    replace(countsBox, counts(network, stations, Boolean(nextToken)));
    const shown = stations.filter((station) => (!filters.status || stationState(station)[filters.status]) && matches(station, filters.q));
    if (!stations.length && !filters.page) {
      emptyNetwork().then((box) => replace(listBox, box));
      return;
    }
    keepFocus(listBox, () => replace(listBox,
      shown.length
        ? table(["Station", "Model", "Connection", "Last seen", "Connectors", "Errors"], shown.map(row))
        : empty("No station matches these filters.", h("button", { type: "button", onclick: () => { status.value = ""; text.value = ""; filter(); } }, "Clear the filters")),
      pager(filters.page, nextToken, (token) => { filters.page = token || ""; setViewQuery(filters); refresh(); })));
  }

  function filter() {
    filters.status = status.value;
    filters.q = text.value.trim();
    setViewQuery(filters);
    draw();
  }
  status.addEventListener("change", filter);
  text.addEventListener("input", filter);

  async function refresh() {
    try {
      const [page, networkCounts] = await Promise.all([
        get(withQuery("/charge-points", { limit: PAGE_SIZE, nextToken: filters.page })),
        get("/network/counts").then((counted) => ({ counts: counted }), (error) => ({ counts: null, error: error.message })),
      ]);
      network = networkCounts;
      stations = page.items.sort((a, b) => a.chargePointId.localeCompare(b.chargePointId));
      for (const station of stations) rememberZone(station.chargePointId, station.timeZone);
      nextToken = page.nextToken;
      updated.textContent = `Updated ${new Date().toLocaleTimeString("en-GB")}, every ${REFRESH_MS / 1000} s`;
      updated.classList.remove("error");
      draw();
    } catch (error) {
      updated.textContent = `Not updated: ${error.message}`;
      updated.classList.add("error");
    }
  }

  await refresh();
  const timer = setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
  return () => clearInterval(timer);
}
