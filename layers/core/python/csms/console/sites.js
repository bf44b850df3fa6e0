// Sites (issue 11): stations sharing one grid connection. Listed, defined (PUT /sites/{id} replaces the whole
// definition, so the form sends every field), and shown with how the capacity is shared now: one bar per session.
import { api, enc, get, withQuery } from "./api.js";
import { act, badge, confirmDialog, empty, field, h, pager, replace, setViewQuery, table } from "./ui.js";

const TEMPLATE = { name: "", maxCurrentA: 63, phases: 3, voltageV: 230, chargePoints: [], circuits: [], connectors: [] };

function amps(value) {
  return value === null || value === undefined ? "—" : `${Number(value).toLocaleString("en", { maximumFractionDigits: 1 })} A`;
}

// A horizontal bar: allocated current over the site's limit, with the measured current as a marker (per phase).
function allocationBar(allocation, capacity) {
  const width = 320;
  const x = (value) => Math.max(0, Math.min(width, (Number(value) / capacity) * width));
  const allocated = x(allocation.allocatedCurrentA);
  const measured = allocation.measuredCurrentA === null || allocation.measuredCurrentA === undefined ? null : x(allocation.measuredCurrentA);
  const label = `${allocation.chargePointId} #${allocation.connectorId}: ${amps(allocation.allocatedCurrentA)} allocated of ${amps(capacity)}`
    + (measured === null ? ", not measured" : `, ${amps(allocation.measuredCurrentA)} measured`);
  return h("svg:svg", { class: "bar", viewBox: `0 0 ${width} 18`, width, height: 18, role: "img", "aria-label": label,
    "data-allocated": allocation.allocatedCurrentA, "data-measured": allocation.measuredCurrentA ?? "" },
  h("svg:title", {}, label),
  h("svg:rect", { class: "track", x: 0, y: 2, width, height: 14, rx: 3 }),
  h("svg:rect", { class: allocation.paused ? "allocated paused" : "allocated", x: 0, y: 2, width: allocated, height: 14, rx: 3 }),
  measured === null ? null : h("svg:rect", { class: "measured", x: Math.max(0, measured - 1.5), y: 0, width: 3, height: 18 }));
}

function capacityView(site) {
  const used = site.allocations.reduce((sum, allocation) => sum + Number(allocation.allocatedCurrentA), 0);
  const shares = site.allocations.map((allocation) => h("tr", { "data-allocation": `${allocation.chargePointId}/${allocation.connectorId}` },
    h("th", { scope: "row" }, h("a", { href: `#/stations/${enc(allocation.chargePointId)}` }, allocation.chargePointId), ` #${allocation.connectorId}`),
    h("td", {}, h("a", { href: `#/sessions/${allocation.transactionId}` }, `Session ${allocation.transactionId}`)),
    h("td", {}, String(allocation.priority)),
    h("td", {}, allocationBar(allocation, Number(site.maxCurrentA))),
    h("td", {}, amps(allocation.allocatedCurrentA), allocation.paused ? h("div", {}, badge("Paused", "paused")) : null),
    h("td", {}, amps(allocation.measuredCurrentA)),
    h("td", {}, allocation.limitedBy, allocation.circuitId ? ` (${allocation.circuitId})` : "")));
  return h("div", {},
    h("p", {}, `Grid connection ${amps(site.maxCurrentA)} per phase, ${site.phases} phase(s) at ${site.voltageV} V; `,
      h("strong", { "data-site-allocated": used }, `${amps(used)} allocated`), ` to ${site.allocations.length} session(s); `,
      `a station the CSMS cannot reach falls back to ${amps(site.safeCurrentA)}.`),
    site.allocations.length
      ? table(["Connector", "Session", "Priority", "Allocated (bar) and measured (mark)", "Allocated", "Measured", "Limited by"], shares,
        "Per phase; priority −9 to 9, higher first (the id tag's); a session below 6 A is paused")
      : empty("No session in progress at this site's stations: the whole capacity is free."));
}

function definitionForm(siteId, site, saved) {
  const definition = site || TEMPLATE;
  const name = h("input", { name: "name", required: true, maxlength: 200, value: definition.name });
  const maxCurrent = h("input", { name: "maxCurrentA", type: "number", min: 0, step: 0.1, required: true, value: definition.maxCurrentA });
  const phases = h("select", { name: "phases" }, [1, 3].map((n) => h("option", { value: n, selected: Number(definition.phases) === n }, String(n))));
  const voltage = h("input", { name: "voltageV", type: "number", min: 1, step: 1, required: true, value: definition.voltageV });
  const stations = h("input", { name: "chargePoints", value: definition.chargePoints.join(", "), placeholder: "CP-1, CP-2" });
  const circuits = h("textarea", { name: "circuits", rows: 5, spellcheck: "false", class: "code small" }, JSON.stringify(definition.circuits, null, 2));
  const connectors = h("textarea", { name: "connectors", rows: 4, spellcheck: "false", class: "code small" }, JSON.stringify(definition.connectors, null, 2));
  const form = h("form", { class: "card grid-form", "aria-labelledby": "definition-title" },
    h("h2", { id: "definition-title" }, site ? "Definition" : "Define the site"),
    field("Name", name), field("Grid connection (A per phase)", maxCurrent, "Its main fuse"), field("Phases", phases), field("Voltage (V)", voltage),
    field("Stations", stations, "Registered charge point ids, comma-separated"),
    h("div", { class: "wide" }, field("Circuits (JSON)", circuits, '[{"circuitId": "C1", "maxCurrentA": 32, "chargePoints": ["CP-1"]}]')),
    h("div", { class: "wide" }, field("Connector settings (JSON)", connectors, '[{"chargePointId": "CP-1", "connectorId": 0, "maxCurrentA": 16, "phases": 3}]')),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save site")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const json = (area, label) => {
      try {
        return JSON.parse(area.value || "[]");
      } catch (error) {
        throw new Error(`${label} is not JSON: ${error.message}`);
      }
    };
    const done = await act(async () => api("PUT", `/sites/${enc(siteId)}`, {
      name: name.value.trim(), maxCurrentA: Number(maxCurrent.value), phases: Number(phases.value), voltageV: Number(voltage.value),
      chargePoints: stations.value.split(",").map((id) => id.trim()).filter(Boolean),
      circuits: json(circuits, "Circuits"), connectors: json(connectors, "Connector settings"),
      ...(site ? { safeCurrentA: site.safeCurrentA } : {}),
    }), (view) => `Site ${view.siteId} saved (version ${view.version}).`);
    if (done) saved();
  });
  return form;
}

async function sitePage(main, siteId) {
  let site = null;
  try {
    site = await get(`/sites/${enc(siteId)}`);
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  const remove = site ? h("button", {
    type: "button", class: "danger",
    onclick: async () => {
      if (!(await confirmDialog(`Remove site ${siteId}? Its sessions are no longer shared out.`, "Remove"))) return;
      if (await act(() => api("DELETE", `/sites/${enc(siteId)}`).then(() => true), `Site ${siteId} removed.`)) location.hash = "#/sites";
    },
  }, "Remove site") : null;
  replace(main,
    h("p", { class: "crumbs" }, h("a", { href: "#/sites" }, "Sites"), ` / ${siteId}`),
    h("div", { class: "heading" }, h("h1", {}, site ? `${site.name} (${siteId})` : `New site ${siteId}`), remove),
    site ? h("section", { "aria-labelledby": "capacity-title" }, h("h2", { id: "capacity-title" }, "Capacity now"), capacityView(site)) : null,
    definitionForm(siteId, site, () => sitePage(main, siteId)));
}

export async function render(main, [siteId], query) {
  if (siteId) return sitePage(main, siteId);
  const filters = { page: query.get("page") || "" };
  const newId = h("input", { name: "siteId", required: true, maxlength: 36, pattern: "[\\x21-\\x7e]+" });
  const page = await get(withQuery("/sites", { limit: 50, nextToken: filters.page }));
  replace(main, h("h1", {}, "Sites"),
    h("form", { class: "inline card", onsubmit: (event) => { event.preventDefault(); location.hash = `#/sites/${enc(newId.value.trim())}`; } },
      field("New site id", newId), h("button", { type: "submit" }, "Create")),
    page.items.length
      ? table(["Site", "Name", "Grid connection", "Stations", "Circuits"], page.items.map((item) => h("tr", { "data-site": item.siteId },
        h("th", { scope: "row" }, h("a", { href: `#/sites/${enc(item.siteId)}` }, item.siteId)), h("td", {}, item.name),
        h("td", {}, `${amps(item.maxCurrentA)} × ${item.phases} at ${item.voltageV} V`), h("td", {}, item.chargePoints.join(", ") || "—"),
        h("td", {}, item.circuits.map((circuit) => `${circuit.circuitId} ${amps(circuit.maxCurrentA)}`).join(", ") || "—"))))
      : empty("No site defined: every station draws what it is allowed on its own.",
        "Define one above for stations that share a grid connection: the CSMS then shares its current among their sessions by priority."),
    pager(filters.page, page.nextToken, (token) => { filters.page = token || ""; setViewQuery(filters); render(main, [], new URLSearchParams(filters)); }));
  return null;
}
