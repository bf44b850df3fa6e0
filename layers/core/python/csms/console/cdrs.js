// Charge detail records: listed with filters, page by page, and downloaded as CSV (every page of the filter).
import { allPages, enc, get, withQuery } from "./api.js";
import { act, empty, field, h, money, pager, replace, setViewQuery, stationZone, table, time, timeText } from "./ui.js";

// OCPI CDRs name the station by its location's EVSE; the CSMS puts the charge point id and connector there.
function stationOf(cdr) {
  return cdr.cdr_location?.evse_id || cdr.cdr_location?.evse_uid || cdr.cdr_location?.id || "";
}

export function chargePointOf(cdr) {
  return cdr.cdr_location?.id || stationOf(cdr);
}

const COLUMNS = [
  ["id", (cdr) => cdr.id],
  ["session_id", (cdr) => cdr.session_id ?? ""],
  ["charge_point", (cdr) => chargePointOf(cdr)],
  ["evse", (cdr) => stationOf(cdr)],
  ["start_date_time", (cdr) => cdr.start_date_time],
  ["end_date_time", (cdr) => cdr.end_date_time],
  ["total_energy_kwh", (cdr) => cdr.total_energy],
  ["total_time_h", (cdr) => cdr.total_time],
  ["total_parking_time_h", (cdr) => cdr.total_parking_time ?? ""],
  ["currency", (cdr) => cdr.currency],
  ["total_cost_excl_vat", (cdr) => cdr.total_cost?.excl_vat],
  ["total_cost_incl_vat", (cdr) => cdr.total_cost?.incl_vat ?? ""],
  ["credit", (cdr) => (cdr.credit ? "true" : "false")],
  ["credit_reference_id", (cdr) => cdr.credit_reference_id ?? ""],
];

function csvCell(value) {
  const text = value === undefined || value === null ? "" : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function cdrCsv(cdrs) {
  return [COLUMNS.map(([name]) => name), ...cdrs.map((cdr) => COLUMNS.map(([, value]) => value(cdr)))]
    .map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

function utc(input) {
  return input ? `${input}:00Z` : "";
}

export async function render(main, _params, query) {
  const filters = { chargePointId: query.get("chargePointId") || "", from: query.get("from") || "", to: query.get("to") || "", page: query.get("page") || "" };
  const station = h("input", { name: "chargePointId", type: "search", value: filters.chargePointId, placeholder: "exact station id" });
  const from = h("input", { name: "from", type: "datetime-local", value: filters.from });
  const to = h("input", { name: "to", type: "datetime-local", value: filters.to });
  const listBox = h("div", {});
  const download = h("button", { type: "button" }, "Download CSV");
  const form = h("form", { class: "filters", role: "search" },
    field("Station", station), field("Ended from (UTC)", from), field("Ended before (UTC)", to), h("button", { type: "submit" }, "Filter"), download);
  replace(main, h("h1", {}, "Charge detail records"), form, listBox);
  const params = () => ({ chargePointId: filters.chargePointId, from: utc(filters.from), to: utc(filters.to) });

  async function load() {
    const page = await get(withQuery("/cdrs", { ...params(), limit: 50, nextToken: filters.page }));
    const zones = new Map(await Promise.all([...new Set(page.items.map(chargePointOf))].map(async (id) => [id, id ? await stationZone(id) : null])));
    replace(listBox,
      page.items.length
        ? table(["CDR", "Session", "Station", "Ended", "Energy", "Total", "Credit"], page.items.map((cdr) => {
          const zone = zones.get(chargePointOf(cdr));
          return h("tr", { "data-cdr": cdr.id },
            h("th", { scope: "row" }, h("code", { title: cdr.id }, cdr.id.slice(0, 8))),
            h("td", {}, cdr.session_id ? h("a", { href: `#/sessions/${enc(cdr.session_id)}` }, `Session ${cdr.session_id}`) : "—"),
            h("td", {}, chargePointOf(cdr) ? h("a", { href: `#/stations/${enc(chargePointOf(cdr))}` }, chargePointOf(cdr)) : "—"),
            h("td", {}, time(cdr.end_date_time, zone)),
            h("td", {}, `${Number(cdr.total_energy).toFixed(3)} kWh`),
            h("td", {}, money(cdr.total_cost?.incl_vat ?? cdr.total_cost?.excl_vat, cdr.currency)),
            h("td", {}, cdr.credit ? "credit" : ""));
        }))
        : empty(filters.chargePointId || filters.from || filters.to ? "No CDR matches these filters." : "No CDR yet.",
          "A CDR is issued seconds after a session stops, when a tariff applies to it (Tariffs page)."),
      pager(filters.page, page.nextToken, (token) => { filters.page = token || ""; setViewQuery(filters); load(); }));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    Object.assign(filters, { chargePointId: station.value.trim(), from: from.value, to: to.value, page: "" });
    setViewQuery(filters);
    load().catch((error) => replace(listBox, h("p", { class: "error", role: "alert" }, error.message)));
  });
  download.addEventListener("click", () => act(async () => {
    const cdrs = await allPages("/cdrs", params());
    const link = h("a", { href: URL.createObjectURL(new Blob([cdrCsv(cdrs)], { type: "text/csv" })), download: `cdrs-${new Date().toISOString().slice(0, 10)}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    return cdrs.length;
  }, (count) => `${count} CDRs downloaded as CSV.`));
  await load();
}
