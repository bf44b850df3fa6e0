// Tariffs: OCPI 2.2.1 Tariff objects, listed and edited as JSON with a live reading of what the tariff says and what
// a sample session would cost (POST /tariffs/preview: the engine that prices CDRs, asked as the operator types).
import { api, enc, get, withQuery } from "./api.js";
import { act, confirmDialog, empty, field, h, money, pager, replace, setViewQuery, table, time, zonedToUtc } from "./ui.js";

const PREVIEW_DELAY_MS = 400; // asked once the operator pauses typing, not at every key
const DIMENSION_UNITS = { ENERGY: "kWh", TIME: "h", PARKING_TIME: "h", FLAT: "" };

const TEMPLATE = {
  currency: "EUR",
  elements: [{ price_components: [{ type: "ENERGY", price: 0.3, vat: 20, step_size: 1 }, { type: "FLAT", price: 1, vat: 20, step_size: 1 }] }],
};
const PER = { ENERGY: "per kWh", TIME: "per hour charging", PARKING_TIME: "per hour parked", FLAT: "per session" };
const STEP = { ENERGY: "Wh", TIME: "s", PARKING_TIME: "s", FLAT: "" };

function restrictionsText(restrictions) {
  if (!restrictions) return "always";
  const parts = [];
  if (restrictions.start_time || restrictions.end_time) parts.push(`from ${restrictions.start_time || "00:00"} to ${restrictions.end_time || "24:00"}`);
  if (restrictions.start_date || restrictions.end_date) parts.push(`dates ${restrictions.start_date || "…"} to ${restrictions.end_date || "…"}`);
  if (restrictions.day_of_week) parts.push(`on ${restrictions.day_of_week.join(", ")}`);
  for (const [key, label] of [["min_kwh", "from kWh"], ["max_kwh", "below kWh"], ["min_current", "from A"], ["max_current", "below A"],
    ["min_power", "from kW"], ["max_power", "below kW"], ["min_duration", "after s"], ["max_duration", "before s"]]) {
    if (restrictions[key] !== undefined) parts.push(`${label} ${restrictions[key]}`);
  }
  if (restrictions.reservation) parts.push(`reservation ${restrictions.reservation}`);
  return parts.join("; ") || "always";
}

// What the tariff says, element by element (OCPI: the first element whose restrictions match sets each price).
export function tariffReading(tariff) {
  const currency = tariff.currency;
  return h("ol", { class: "tariff-reading" }, (tariff.elements || []).map((element) => h("li", {},
    h("strong", {}, restrictionsText(element.restrictions)),
    h("ul", {}, (element.price_components || []).map((component) => {
      const withVat = component.vat !== undefined ? ` (${money(component.price * (1 + component.vat / 100), currency)} incl. ${component.vat} % VAT)` : "";
      const step = component.step_size > 1 && STEP[component.type] ? `, billed in steps of ${component.step_size} ${STEP[component.type]}` : "";
      return h("li", {}, `${component.type}: ${money(component.price, currency)} ${PER[component.type] || ""} excl. VAT${withVat}${step}`);
    })))));
}

async function editor(main, tariffId) {
  let current = null;
  try {
    current = await get(`/tariffs/${enc(tariffId)}`);
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  const body = current ? { ...current.tariff } : { ...TEMPLATE };
  for (const key of ["id", "country_code", "party_id", "last_updated"]) delete body[key]; // set by the CSMS
  const text = h("textarea", { name: "tariff", rows: 22, spellcheck: "false", class: "code" }, JSON.stringify(body, null, 2));
  const preview = h("div", { "aria-live": "polite", class: "preview" });
  function readIt() {
    let tariff;
    try {
      tariff = JSON.parse(text.value);
    } catch (error) {
      replace(preview, h("p", { class: "error" }, `Not JSON yet: ${error.message}`));
      return;
    }
    replace(preview,
      h("p", {}, `Currency ${tariff.currency || "(missing)"}; ${(tariff.elements || []).length} element(s).`),
      tariffReading(tariff),
      tariff.tariff_alt_text ? h("p", {}, "As drivers read it: ", tariff.tariff_alt_text.map((alt) => alt.text).join(" / ")) : null);
    schedulePreview();
  }
  const sample = sampleForm(() => schedulePreview());
  let timer = null;
  let asked = 0;
  function schedulePreview() {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++asked; // an older answer arriving late never overwrites a newer one
      let tariff;
      try {
        tariff = JSON.parse(text.value);
      } catch {
        replace(sample.result, h("p", { class: "muted" }, "The cost shows once the tariff is JSON."));
        return;
      }
      const session = sample.value();
      if (!session) {
        replace(sample.result, h("p", { class: "muted" }, "Give the sample a start, a duration and its energy."));
        return;
      }
      try {
        const preview = await api("POST", "/tariffs/preview", { tariff, session });
        if (mine === asked) replace(sample.result, costTable(preview.priced));
      } catch (error) {
        if (mine === asked) replace(sample.result, h("p", { class: "error", role: "alert" }, error.message));
      }
    }, PREVIEW_DELAY_MS);
  }
  text.addEventListener("input", readIt);
  const save = h("button", { type: "submit", class: "primary" }, "Save as a new version");
  const form = h("form", {
    class: "tariff-editor",
    onsubmit: async (event) => {
      event.preventDefault();
      let parsed;
      try {
        parsed = JSON.parse(text.value);
      } catch (error) {
        act(() => Promise.reject(new Error(`The tariff is not JSON: ${error.message}`)));
        return;
      }
      const saved = await act(() => api("PUT", `/tariffs/${enc(tariffId)}`, parsed), (view) => `Tariff ${view.tariffId} saved as version ${view.version}.`);
      if (saved) render(main, [tariffId], new URLSearchParams());
    },
  }, field("OCPI 2.2.1 Tariff (JSON)", text, "id, country_code, party_id and last_updated are set by the CSMS"), h("div", { class: "actions" }, save));
  const remove = current ? h("button", {
    type: "button", class: "danger",
    onclick: async () => {
      if (!(await confirmDialog(`Remove tariff ${tariffId}? Sessions that started before keep their version.`, "Remove"))) return;
      if (await act(() => api("DELETE", `/tariffs/${enc(tariffId)}`).then(() => true), `Tariff ${tariffId} removed.`)) location.hash = "#/tariffs";
    },
  }, "Remove tariff") : null;
  replace(main,
    h("p", { class: "crumbs" }, h("a", { href: "#/tariffs" }, "Tariffs"), ` / ${tariffId}`),
    h("div", { class: "heading" }, h("h1", {}, `Tariff ${tariffId}`), current ? h("span", { class: "muted" }, `version ${current.version}, in force since `, time(current.effectiveAt, null)) : h("span", { class: "muted" }, "new"), remove),
    h("div", { class: "split" }, form, h("div", {},
      h("section", { "aria-labelledby": "preview-title" }, h("h2", { id: "preview-title" }, "What it says"), preview),
      h("section", { "aria-labelledby": "sample-title" }, h("h2", { id: "sample-title" }, "What a sample session costs"), sample.element))));
  readIt();
  return () => clearTimeout(timer);
}

// The sample session: typed in its own zone (the tariff's hours are read there), sent as UTC instants.
function sampleForm(changed) {
  const zone = h("input", { name: "sampleTimeZone", value: "UTC", maxlength: 64, placeholder: "Europe/Paris" });
  const tomorrow = new Date(Date.now() + 86400_000).toISOString().slice(0, 10);
  const start = h("input", { name: "sampleStart", type: "datetime-local", value: `${tomorrow}T18:00` });
  const charging = h("input", { name: "sampleChargingMinutes", type: "number", min: 0, step: 1, value: 90 });
  const parked = h("input", { name: "sampleParkedMinutes", type: "number", min: 0, step: 1, value: 0 });
  const energy = h("input", { name: "sampleEnergyKwh", type: "number", min: 0, step: "any", value: 20 });
  const result = h("div", { "aria-live": "polite", class: "sample-result" });
  const element = h("div", {},
    h("div", { class: "grid-form sample" }, field("Time zone", zone, "Where the tariff's hours are read"), field("Start", start),
      field("Charging (minutes)", charging), field("Then parked (minutes)", parked), field("Energy (kWh)", energy)),
    result);
  for (const input of [zone, start, charging, parked, energy]) input.addEventListener("input", changed);
  function value() {
    const timeZone = zone.value.trim() || "UTC";
    const startUtc = zonedToUtc(start.value, timeZone);
    if (!startUtc || charging.value === "" || energy.value === "") return null;
    const chargingMs = Number(charging.value) * 60_000;
    const parkedMs = Number(parked.value || 0) * 60_000;
    const begin = new Date(startUtc).getTime();
    const iso = (ms) => new Date(ms).toISOString().replace(".000Z", "Z");
    return {
      startDateTime: startUtc, chargingEndDateTime: iso(begin + chargingMs), endDateTime: iso(begin + chargingMs + parkedMs),
      energyWh: Math.round(Number(energy.value) * 1000), timeZone,
    };
  }
  return { element, value, result };
}

// The pricing engine's lines: what the driver's invoice would say, then the total.
function costTable(priced) {
  const currency = priced.currency;
  const rows = priced.cost_lines.map((line) => h("tr", {},
    h("td", {}, line.dimension), h("td", {}, `${line.billed_volume} ${DIMENSION_UNITS[line.dimension] || ""}`.trim()),
    h("td", {}, money(line.price, currency)), h("td", {}, line.vat === null ? "none" : `${line.vat} %`),
    h("td", {}, money(line.cost.excl_vat, currency)), h("td", {}, money(line.cost.incl_vat, currency))));
  rows.push(h("tr", { class: "total" }, h("th", { scope: "row", colspan: 4 }, "Total"),
    h("td", {}, money(priced.total_cost.excl_vat, currency)), h("td", { "data-preview-total": "" }, money(priced.total_cost.incl_vat, currency))));
  return h("div", {},
    table(["Dimension", "Billed", "Price", "VAT", "Excl. VAT", "Incl. VAT"], rows,
      `${priced.total_energy} kWh over ${priced.total_time} h, ${priced.total_parking_time} h of it parked`),
    priced.notes.length ? h("ul", { class: "muted" }, priced.notes.map((note) => h("li", {}, note.detail))) : null);
}

export async function render(main, [tariffId], query) {
  if (tariffId) return editor(main, tariffId);
  const filters = { page: query.get("page") || "" };
  const newId = h("input", { name: "tariffId", required: true, maxlength: 36, pattern: "[\\x20-\\x7e]+" });
  const page = await get(withQuery("/tariffs", { limit: 50, nextToken: filters.page }));
  replace(main, h("h1", {}, "Tariffs"),
    h("form", { class: "inline card", onsubmit: (event) => { event.preventDefault(); location.hash = `#/tariffs/${enc(newId.value.trim())}`; } },
      field("New tariff id", newId), h("button", { type: "submit" }, "Create")),
    page.items.length
      ? table(["Tariff", "Version", "In force since", "Currency", "Reads"], page.items.map((item) => h("tr", {},
        h("th", { scope: "row" }, h("a", { href: `#/tariffs/${enc(item.tariffId)}` }, item.tariffId)), h("td", {}, String(item.version)),
        h("td", {}, time(item.effectiveAt, null)), h("td", {}, item.tariff.currency),
        h("td", {}, (item.tariff.tariff_alt_text || []).map((alt) => alt.text).join(" / ") || tariffReading(item.tariff)))))
      : empty("No tariff yet: sessions are not priced and get no CDR.", "Create one above, then name it on a station (tariffId) or an id tag."),
    pager(filters.page, page.nextToken, (token) => { filters.page = token || ""; setViewQuery(filters); render(main, [], new URLSearchParams(filters)); }));
  return null;
}
