// Reservations (issue 10 §1): a connector held for a driver until an expiry on the station's day. Listed by station,
// driver or status; made (ReserveNow, the station answers at once) and cancelled (CancelReservation) from here.
import { api, enc, get, withQuery } from "./api.js";
import { limitsFieldset, limitsText } from "./limits.js";
import { act, badge, confirmDialog, empty, field, h, pager, replace, setViewQuery, stationZone, table, time, timeText, utcToZoned, zoneName, zonedToUtc } from "./ui.js";

const STATUSES = ["Scheduled", "Accepted", "Consumed", "Expired", "Cancelled", "Refused"];
const LIVE = ["Scheduled", "Accepted"];

function createForm(onCreated, preset) {
  const station = h("input", { name: "chargePointId", required: true, maxlength: 48, value: preset.chargePointId || "", autocomplete: "off" });
  const connector = h("input", { name: "connectorId", type: "number", min: 0, step: 1, required: true, value: "1" });
  const idTag = h("input", { name: "idTag", required: true, maxlength: 20, value: preset.idTag || "", autocomplete: "off" });
  const expiry = h("input", { name: "expiryDate", type: "datetime-local", required: true });
  const startAt = h("input", { name: "startAt", type: "datetime-local" });
  const expiryLabel = h("span", {}, "Expiry");
  const startLabel = h("span", {}, "Start at");
  const limits = limitsFieldset();
  let zone = null;

  // Times are typed in the station's zone, named beside them; a station without one keeps UTC.
  async function readZone() {
    const id = station.value.trim();
    zone = id ? await stationZone(id) : null;
    replace(expiryLabel, `Expiry (${zoneName(zone)})`);
    replace(startLabel, `Start at (${zoneName(zone)})`);
    if (!expiry.value) {
      const inAnHour = new Date(Date.now() + 3600_000).toISOString();
      expiry.value = utcToZoned(inAnHour, zone);
    }
  }
  station.addEventListener("change", readZone);
  readZone();

  const form = h("form", { class: "card grid-form", "aria-labelledby": "reserve-title" },
    h("h2", { id: "reserve-title" }, "Reserve a connector"),
    field("Station", station), field("Connector", connector, "0: any connector of the station"),
    field("Id tag", idTag, "The driver the connector is held for"),
    field(expiryLabel, expiry, "On the station's day, in its time zone"), field(startLabel, startAt, "Optional: held from then on"),
    limits.element,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Reserve")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await readZone();
    const body = {
      chargePointId: station.value.trim(), connectorId: Number(connector.value), idTag: idTag.value.trim(),
      expiryDate: zonedToUtc(expiry.value, zone),
    };
    if (startAt.value) body.startAt = zonedToUtc(startAt.value, zone);
    const chosen = limits.value();
    if (chosen) body.limits = chosen;
    const made = await act(() => api("POST", "/reservations", body), (view) => (view.status === "Scheduled"
      ? `Reservation ${view.reservationId} scheduled: the station is asked shortly before ${timeText(view.startAt, zone)}.`
      : `Reservation ${view.reservationId} accepted by ${view.chargePointId}: connector ${view.connectorId || "any"} held for ${view.idTag} until ${timeText(view.expiryDate, zone)}.`));
    if (made) onCreated(made);
  });
  return form;
}

export async function render(main, _params, query) {
  const filters = {
    chargePointId: query.get("chargePointId") || "", idTag: query.get("idTag") || "", status: query.get("status") || "", page: query.get("page") || "",
  };
  const listBox = h("div", {});
  const station = h("input", { name: "filterChargePointId", value: filters.chargePointId, placeholder: "any", maxlength: 48 });
  const idTag = h("input", { name: "filterIdTag", value: filters.idTag, placeholder: "any", maxlength: 20 });
  const status = h("select", { name: "filterStatus" }, h("option", { value: "" }, "live (Scheduled, Accepted)"),
    STATUSES.map((value) => h("option", { value, selected: value === filters.status }, value)));
  const filterForm = h("form", { class: "filters", role: "search", "aria-label": "Filter reservations" },
    field("Station", station), field("Id tag", idTag), field("Status", status, "Past ones: name a station or an id tag"),
    h("button", { type: "submit" }, "Filter"));
  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    Object.assign(filters, { chargePointId: station.value.trim(), idTag: idTag.value.trim(), status: status.value, page: "" });
    setViewQuery(filters);
    load();
  });

  async function cancel(reservation) {
    if (!(await confirmDialog(`Cancel reservation ${reservation.reservationId} of ${reservation.idTag} at ${reservation.chargePointId}?`, "Cancel reservation"))) return;
    const done = await act(() => api("DELETE", `/reservations/${reservation.reservationId}`),
      (view) => `Reservation ${view.reservationId} cancelled: ${view.chargePointId} no longer holds it.`);
    if (done) load();
  }

  async function load() {
    const page = await get(withQuery("/reservations", { ...filters, page: undefined, limit: 50, nextToken: filters.page }));
    const zones = new Map(await Promise.all([...new Set(page.items.map((item) => item.chargePointId))]
      .map(async (id) => [id, await stationZone(id)])));
    replace(listBox,
      page.items.length
        ? table(["Reservation", "Status", "Station", "Connector", "Id tag", "Start", "Expiry", "Limits", ""], page.items.map((item) => {
          const zone = zones.get(item.chargePointId);
          return h("tr", { "data-reservation": item.reservationId },
            h("th", { scope: "row" }, String(item.reservationId)),
            h("td", {}, badge(item.status), item.refusal ? h("div", { class: "error" }, item.refusal) : null,
              item.transactionId ? h("div", {}, h("a", { href: `#/sessions/${item.transactionId}` }, `Session ${item.transactionId}`)) : null),
            h("td", {}, h("a", { href: `#/stations/${enc(item.chargePointId)}` }, item.chargePointId)),
            h("td", {}, item.connectorId ? String(item.connectorId) : "any"), h("td", {}, item.idTag),
            h("td", {}, time(item.startAt || item.acceptedAt || item.createdAt, zone)), h("td", {}, time(item.expiryDate, zone)),
            h("td", {}, limitsText(item.limits)),
            h("td", {}, LIVE.includes(item.status)
              ? h("button", { type: "button", class: "danger", onclick: () => cancel(item) }, `Cancel ${item.reservationId}`) : null));
        }))
        : empty(filters.chargePointId || filters.idTag || filters.status ? "No reservation matches these filters."
          : "No reservation is live: a driver's app reserves with POST /reservations, or reserve a connector above."),
      pager(filters.page, page.nextToken, (token) => { filters.page = token || ""; setViewQuery(filters); load(); }));
  }

  replace(main, h("h1", {}, "Reservations"), createForm(() => load(), filters), h("h2", {}, "Reservations"), filterForm, listBox);
  await load();
}
