// Sessions: active and past transactions, filtered by state and station, page by page.
import { enc, get, withQuery } from "./api.js";
import { badge, empty, field, h, pager, replace, setViewQuery, stationZone, table, time } from "./ui.js";
import { kWh } from "./ui.js";

export async function render(main, _params, query) {
  const filters = { state: query.get("state") || "", chargePointId: query.get("chargePointId") || "", page: query.get("page") || "" };
  const state = h("select", { name: "state" }, [["", "All"], ["active", "Active"], ["stopped", "Stopped"]]
    .map(([value, label]) => h("option", { value, selected: value === filters.state }, label)));
  const station = h("input", { type: "search", name: "chargePointId", value: filters.chargePointId, placeholder: "exact station id" });
  const listBox = h("div", {});
  const form = h("form", { class: "filters", role: "search" }, field("State", state), field("Station", station), h("button", { type: "submit" }, "Filter"));
  replace(main, h("h1", {}, "Sessions"), form, listBox);

  async function load() {
    const page = await get(withQuery("/transactions", {
      chargePointId: filters.chargePointId,
      active: filters.state === "active" ? "true" : filters.state === "stopped" ? "false" : "",
      limit: 50,
      nextToken: filters.page,
    }));
    const zones = new Map(await Promise.all([...new Set(page.items.map((t) => t.chargePointId))].map(async (id) => [id, await stationZone(id)])));
    const rows = page.items.map((transaction) => {
      const zone = zones.get(transaction.chargePointId);
      return h("tr", { "data-transaction": transaction.transactionId },
        h("th", { scope: "row" }, h("a", { href: `#/sessions/${transaction.transactionId}` }, `Session ${transaction.transactionId}`)),
        h("td", {}, h("a", { href: `#/stations/${enc(transaction.chargePointId)}` }, transaction.chargePointId), ` #${transaction.connectorId}`),
        h("td", {}, transaction.idTag),
        h("td", {}, badge(transaction.active ? "Active" : "Stopped")),
        h("td", {}, time(transaction.startedAt, zone)),
        h("td", {}, transaction.stoppedAt ? time(transaction.stoppedAt, zone) : "—"),
        h("td", {}, kWh(transaction.energyWh)),
        h("td", {}, transaction.stopReason || "—"));
    });
    replace(listBox,
      rows.length
        ? table(["Session", "Station", "Id tag", "State", "Started", "Stopped", "Energy", "Stop reason"], rows)
        : empty(filters.state || filters.chargePointId ? "No session matches these filters." : "No session yet.",
          "A session starts when a station sends StartTransaction: a driver presents an id tag registered on the Id tags page, or a station page's Start button sends RemoteStartTransaction."),
      pager(filters.page, page.nextToken, (token) => { filters.page = token || ""; setViewQuery(filters); load(); }));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    Object.assign(filters, { state: state.value, chargePointId: station.value.trim(), page: "" });
    setViewQuery(filters);
    load().catch((error) => replace(listBox, h("p", { class: "error", role: "alert" }, error.message)));
  });
  state.addEventListener("change", () => form.requestSubmit());
  await load();
}
