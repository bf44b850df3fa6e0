// A session: what the station reported, a chart of its meter values, and its CDR with the cost breakdown.
import { api, enc, get } from "./api.js";
import { answerText } from "./command-form.js";
import { sessionChart } from "./chart.js";
import { meterSeries } from "./meter.js";
import { limitReachedText, limitsText } from "./limits.js";
import { REFRESH_MS } from "./network.js";
import { act, badge, confirmDialog, empty, h, keepFocus, kW, kWh, money, parseTime, replace, stationZone, table, time, timeText } from "./ui.js";

const CDR_WAIT_MS = 120_000; // after the stop, how long the page keeps looking for the CDR

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(([, value]) => value !== undefined && value !== null && value !== "")
    .map(([name, value]) => h("div", {}, h("dt", {}, name), h("dd", {}, value))));
}

function cost(price, currency) {
  if (!price) return "—";
  return `${money(price.excl_vat, currency)} excl. VAT${price.incl_vat !== undefined ? ` · ${money(price.incl_vat, currency)} incl.` : ""}`;
}

function hours(value) {
  if (value === undefined || value === null) return "—";
  const minutes = Math.round(Number(value) * 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

export function cdrBreakdown(cdr, zone) {
  const currency = cdr.currency;
  const total = cdr.total_cost || {};
  const vat = total.incl_vat !== undefined ? Number(total.incl_vat) - Number(total.excl_vat) : null;
  const rows = [
    ["Fixed price", "", cost(cdr.total_fixed_cost, currency)],
    ["Energy", `${Number(cdr.total_energy ?? 0).toFixed(3)} kWh`, cost(cdr.total_energy_cost, currency)],
    ["Charging time", hours(cdr.total_time), cost(cdr.total_time_cost, currency)],
    ["Parking time", hours(cdr.total_parking_time), cost(cdr.total_parking_cost, currency)],
  ].map(([name, quantity, price]) => h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, quantity), h("td", {}, price)));
  rows.push(h("tr", { class: "total" }, h("th", { scope: "row" }, "Total"), h("td", {}, vat !== null ? `VAT ${money(vat, currency)}` : ""),
    h("td", { "data-total": total.incl_vat ?? total.excl_vat }, h("strong", {}, money(total.incl_vat ?? total.excl_vat, currency)), total.incl_vat !== undefined ? " incl. VAT" : " excl. VAT")));
  return h("div", { class: "cdr" },
    facts([["CDR", cdr.id], ["Credit", cdr.credit ? `yes, for ${cdr.credit_reference_id}` : null], ["Tariff", (cdr.tariffs || []).map((tariff) => tariff.id).join(", ")],
      ["From", time(cdr.start_date_time, zone)], ["To", time(cdr.end_date_time, zone)], ["Remark", cdr.remark]]),
    table(["", "Quantity", "Cost"], rows, "Cost breakdown"),
    (cdr.charging_periods || []).length
      ? h("details", {}, h("summary", {}, `${cdr.charging_periods.length} charging periods`),
        table(["Start", "Dimensions"], cdr.charging_periods.map((period) => h("tr", {}, h("td", {}, time(period.start_date_time, zone)),
          h("td", {}, (period.dimensions || []).map((dimension) => `${dimension.type} ${dimension.volume}`).join(", "))))))
      : null);
}

function valuesTable(points, zone) {
  return h("details", {}, h("summary", {}, `These ${points.length} points as a table`),
    table(["Time", "Power", "Energy delivered", "SoC"], points.map((point) => h("tr", {},
      h("td", {}, timeText(point.at.toISOString(), zone)), h("td", {}, kW(point.powerW)), h("td", {}, kWh(point.energyWh)),
      h("td", {}, point.soc === null ? "—" : `${point.soc} %`)))));
}

export async function render(main, [transactionId]) {
  const summaryBox = h("div", {});
  const chartBox = h("section", { "aria-labelledby": "chart-title" });
  const cdrBox = h("section", { "aria-labelledby": "cdr-title" });
  replace(main, h("p", { class: "crumbs" }, h("a", { href: "#/sessions" }, "Sessions"), ` / ${transactionId}`), summaryBox, chartBox, cdrBox);
  let transaction = null;
  let zone = null;
  let cdr = null;
  let appSession = null;

  async function stop() {
    if (!(await confirmDialog(`Stop session ${transactionId} on ${transaction.chargePointId}?`, "Stop session"))) return;
    await act(() => api("POST", `/charge-points/${enc(transaction.chargePointId)}/commands/RemoteStopTransaction`, { transactionId: Number(transactionId) }),
      (command) => answerText("RemoteStopTransaction", command));
    refresh();
  }

  // Redrawn every few seconds while the session runs: the keyboard's focus stays (on "Stop session", a link).
  function drawSummary() {
    keepFocus(summaryBox, () => replace(summaryBox,
      h("div", { class: "heading" }, h("h1", {}, `Session ${transactionId}`), badge(transaction.active ? "Active" : "Stopped"),
        transaction.active ? h("button", { type: "button", class: "danger", onclick: stop }, "Stop session") : null),
      facts([
        ["Station", h("a", { href: `#/stations/${enc(transaction.chargePointId)}` }, transaction.chargePointId)],
        ["Connector", String(transaction.connectorId)], ["Id tag", transaction.idTag],
        ["Started", time(transaction.startedAt, zone)], ["Stopped", transaction.stoppedAt ? time(transaction.stoppedAt, zone) : null],
        ["Stop reason", transaction.stopReason], ["Stopped by", transaction.stopIdTag],
        ["Limits", h("span", { "data-limits": "" }, limitsText(transaction.limits))],
        ["Stopped by the CSMS", transaction.limitReached ? h("strong", { "data-limit-reached": transaction.limitReached }, `on reaching ${limitReachedText(transaction.limitReached)}`) : null],
        ["App session", appSession ? h("span", { "data-app-session": appSession.sessionId }, `${appSession.sessionId} (${appSession.status}, requested `, time(appSession.requestedAt, zone), ")") : null],
        ["Energy", h("span", { "data-energy": "" }, kWh(transaction.energyWh))],
        ["Meter start", `${transaction.meterStart} Wh`], ["Meter stop", transaction.meterStop !== null && transaction.meterStop !== undefined ? `${transaction.meterStop} Wh` : null],
        ["Reservation", transaction.reservationId],
        ["Time zone", zone || "UTC"],
      ])));
  }

  function drawChart() {
    const points = meterSeries(transaction.meterValues, transaction.meterStart);
    const started = parseTime(transaction.startedAt);
    if (points.length && started < points[0].at) points.unshift({ at: started, powerW: null, energyWh: 0, soc: null }); // meterStart
    const tableOpen = Boolean(chartBox.querySelector("details[open]")); // a table being read stays open
    const values = points.length ? valuesTable(points, zone) : null;
    if (values) values.open = tableOpen;
    replace(chartBox, h("h2", { id: "chart-title" }, "Power and energy"),
      points.length ? [sessionChart(points, zone), values]
        : empty("No meter values yet.", "They arrive with the station's MeterValues (every MeterValueSampleInterval seconds)."));
  }

  async function drawCdr() {
    if (transaction.active) {
      replace(cdrBox, h("h2", { id: "cdr-title" }, "Charge detail record"), empty("The CDR is issued when the session stops."));
      return;
    }
    try {
      cdr = await get(`/transactions/${transactionId}/cdr`);
    } catch (error) {
      if (error.status !== 404) throw error;
      replace(cdrBox, h("h2", { id: "cdr-title" }, "Charge detail record"),
        empty("No CDR for this session yet: billing issues it seconds after the stop, priced with the tariff in force at the start.",
          "Without a tariff (the id tag's, the station's or the network's default) none is issued."));
      return;
    }
    replace(cdrBox, h("h2", { id: "cdr-title" }, "Charge detail record"), cdrBreakdown(cdr, zone));
  }

  async function refresh() {
    transaction = await get(`/transactions/${transactionId}`);
    zone = await stationZone(transaction.chargePointId);
    // The app session (POST /sessions) that started it, when one did.
    if (transaction.sessionId && appSession?.sessionId !== transaction.sessionId) {
      appSession = await get(`/sessions/${enc(transaction.sessionId)}`).catch(() => null);
    }
    drawSummary();
    drawChart();
    await drawCdr();
  }

  await refresh();
  // A running session grows, and a stopped one's CDR comes a few seconds later.
  const timer = setInterval(() => {
    const awaitingCdr = !cdr && Date.now() - (parseTime(transaction.stoppedAt)?.getTime() ?? 0) < CDR_WAIT_MS;
    if (!document.hidden && (transaction.active || awaitingCdr)) refresh().catch(() => {});
  }, REFRESH_MS);
  return () => clearInterval(timer);
}
