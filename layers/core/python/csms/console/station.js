// Station: identity and boot, connectors with their sessions (power, energy), app sessions started from here,
// commands, its registration, configuration, charging profiles, the command history and its connectors' QR codes.
import { api, enc, get, withQuery } from "./api.js";
import { bearerToken } from "./auth.js";
import { limitsFieldset } from "./limits.js";
import { answerText, commandActions, commandForm } from "./command-form.js";
import { latestPower } from "./meter.js";
import { REFRESH_MS } from "./network.js";
import {
  act, ago, badge, confirmDialog, empty, field, h, keepFocus, kW, kWh, notify, pager, placeChildren, rememberZone, replace, setViewQuery, table,
  time, zoneName,
} from "./ui.js";

// The usual commands, each a button opening the OpenAPI-built form with that action chosen.
const HISTORY_PAGE_SIZE = 20;
const USUAL = ["Reset", "ChangeAvailability", "TriggerMessage", "UnlockConnector", "UpdateFirmware", "GetDiagnostics", "ClearCache", "GetConfiguration"];

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(([, value]) => value !== undefined && value !== null && value !== "")
    .map(([name, value]) => h("div", {}, h("dt", {}, name), h("dd", {}, value))));
}

async function sessionsOf(station) {
  const ids = station.connectors.map((connector) => connector.transactionId).filter(Boolean);
  const details = await Promise.all(ids.map((id) => get(`/transactions/${id}`).catch(() => null)));
  return new Map(details.filter(Boolean).map((transaction) => [transaction.transactionId, transaction]));
}

export async function render(main, [chargePointId], query) {
  const path = `/charge-points/${enc(chargePointId)}`;
  const header = h("div", {});
  const connectorsBox = h("section", { "aria-labelledby": "connectors-title" });
  const commandBox = h("section", { "aria-labelledby": "commands-title" });
  const configurationBox = h("section", { "aria-labelledby": "configuration-title" });
  const profilesBox = h("section", { "aria-labelledby": "profiles-title" });
  const historyBox = h("section", { "aria-labelledby": "history-title" });
  const registrationBox = h("section", { "aria-labelledby": "registration-title" });
  const appSessionBox = h("section", { "aria-labelledby": "app-session-title" });
  const qrBox = h("section", { class: "qr-section", "aria-labelledby": "qr-title" });
  replace(main,
    h("p", { class: "crumbs" }, h("a", { href: "#/network" }, "Network"), " / ", chargePointId),
    header, connectorsBox, appSessionBox, commandBox, registrationBox, configurationBox, profilesBox, historyBox, qrBox);

  let station = null;

  function drawHeader() {
    const boot = station.boot || {};
    const zone = station.timeZone;
    replace(header,
      h("div", { class: "heading" }, h("h1", {}, station.chargePointId), badge(station.connected ? "Online" : "Offline"),
        station.bootStatus ? badge(station.bootStatus, `Boot ${station.bootStatus}`) : null),
      station.description ? h("p", {}, station.description) : null,
      facts([
        ["Vendor", boot.chargePointVendor], ["Model", boot.chargePointModel], ["Serial", boot.chargePointSerialNumber || boot.chargeBoxSerialNumber],
        ["Firmware", boot.firmwareVersion], ["Meter", [boot.meterType, boot.meterSerialNumber].filter(Boolean).join(" ")],
        ["Last seen", station.lastSeenAt ? h("span", {}, time(station.lastSeenAt, zone), ` (${ago(station.lastSeenAt)})`) : "never"],
        ["Connected since", station.connected ? time(station.connectedAt, zone) : null],
        ["Disconnected at", station.connected ? null : time(station.disconnectedAt, zone)],
        ["Last boot", time(station.lastBootAt, zone)],
        ["Time zone", zoneName(zone)],
        ["Tariff", station.tariffId],
        ["Registered", station.registered ? "yes" : "no (connected unregistered)"],
        ["Password", station.passwordProtected ? "required" : "none"],
        ["Lenient", station.lenient ? "yes" : null],
        ["Local list version", station.localListVersion],
        ["Firmware status", station.firmwareStatus?.status],
        ["Diagnostics status", station.diagnosticsStatus?.status],
      ]));
  }

  async function stop(connector, transactionId) {
    if (!(await confirmDialog(`Stop the session ${transactionId} on connector ${connector}?`, "Stop session"))) return;
    await act(() => api("POST", `${path}/connectors/${connector}/stop`), (command) => answerText("RemoteStopTransaction", command));
    refresh();
  }

  // A connector's row is rebuilt only when what it shows changed, and its start form is kept as long as the connector
  // has no session: an id tag being typed (and the focus) survives the refresh every few seconds.
  let connectorRows = new Map(); // connectorId -> { shown, row }
  const startForms = new Map(); // connectorId -> its start form

  function startForm(connectorId) {
    if (startForms.has(connectorId)) return startForms.get(connectorId);
    const idTag = h("input", { name: "idTag", required: true, maxlength: 20, autocomplete: "off" });
    const form = h("form", {
      class: "inline",
      onsubmit: async (event) => {
        event.preventDefault();
        const command = await act(() => api("POST", `${path}/commands/RemoteStartTransaction`, { connectorId, idTag: idTag.value.trim() }),
          (answered) => answerText("RemoteStartTransaction", answered));
        if (command?.response?.status === "Accepted") idTag.value = "";
        refresh();
      },
    }, field(`Id tag for connector ${connectorId}`, idTag), h("button", { type: "submit" }, "Start"));
    startForms.set(connectorId, form);
    return form;
  }

  function connectorRow(connector, transaction, zone) {
    return h("tr", { "data-connector": connector.connectorId },
      h("th", { scope: "row" }, String(connector.connectorId)),
      h("td", {}, badge(connector.status), connector.errorCode && connector.errorCode !== "NoError" ? h("div", { class: "error" }, connector.errorCode) : null,
        connector.info ? h("div", { class: "muted" }, connector.info) : null),
      h("td", {}, time(connector.reportedAt, zone)),
      h("td", {}, connector.transactionId
        ? h("span", {}, h("a", { href: `#/sessions/${connector.transactionId}` }, `Session ${connector.transactionId}`),
          transaction ? h("div", { class: "muted" }, `${transaction.idTag}, since ${time(transaction.startedAt, zone).textContent}`) : null)
        : h("span", { class: "muted" }, "none")),
      h("td", { "data-power": "" }, transaction ? kW(latestPower(transaction.meterValues)) : "—"),
      h("td", { "data-energy": "" }, transaction ? kWh(transaction.energyWh) : "—"),
      h("td", {}, connector.transactionId
        ? h("button", { type: "button", class: "danger", onclick: () => stop(connector.connectorId, connector.transactionId) }, `Stop connector ${connector.connectorId}`)
        : station.connected ? startForm(connector.connectorId) : null));
  }

  function drawConnectors(sessions) {
    const zone = station.timeZone;
    const connectors = station.connectors.filter((connector) => connector.connectorId > 0);
    keepFocus(connectorsBox, () => {
      const rows = new Map();
      for (const connector of connectors) {
        const transaction = sessions.get(connector.transactionId) || null;
        if (connector.transactionId || !station.connected) startForms.delete(connector.connectorId); // a fresh one next time
        const shown = JSON.stringify([connector, station.connected, zone,
          transaction && [transaction.idTag, transaction.startedAt, latestPower(transaction.meterValues), transaction.energyWh]]);
        const kept = connectorRows.get(connector.connectorId);
        rows.set(connector.connectorId, kept?.shown === shown ? kept : { shown, row: connectorRow(connector, transaction, zone) });
      }
      connectorRows = rows;
      const body = connectorsBox.querySelector("tbody");
      if (connectors.length && body) {
        placeChildren(body, [...rows.values()].map(({ row }) => row));
        return;
      }
      replace(connectorsBox, h("h2", { id: "connectors-title" }, "Connectors"),
        connectors.length
          ? table(["Connector", "Status", "Reported", "Session", "Power", "Energy", ""], [...rows.values()].map(({ row }) => row))
          : empty("The station has not reported its connectors yet (StatusNotification).", station.connected
            ? h("button", { type: "button", onclick: () => openCommand("TriggerMessage", { requestedMessage: "StatusNotification" }) }, "Ask for its statuses")
            : "It will once it connects."));
    });
  }

  const formBox = h("div", { class: "command-box" });
  const offline = h("p", { class: "muted" }, "The station is offline: commands are refused until it connects.");
  async function openCommand(action, values = {}) {
    replace(formBox, h("h3", {}, action), await commandForm(chargePointId, action, { values, onAnswered: () => refresh() }));
    formBox.querySelector("input, select, textarea, button")?.focus();
  }

  async function drawCommands() {
    const actions = await commandActions();
    const other = h("select", { name: "action" }, actions.map((action) => h("option", { value: action }, action)));
    replace(commandBox, h("h2", { id: "commands-title" }, "Commands"),
      offline,
      h("div", { class: "buttons" }, USUAL.filter((action) => actions.includes(action))
        .map((action) => h("button", { type: "button", onclick: () => openCommand(action) }, action))),
      h("form", { class: "inline", onsubmit: (event) => { event.preventDefault(); openCommand(other.value); } },
        field("Any other action", other), h("button", { type: "submit" }, "Open form")),
      formBox);
  }

  function drawConfiguration() {
    const snapshot = station.configuration;
    const read = h("button", { type: "button", onclick: () => act(() => api("POST", `${path}/commands/GetConfiguration`, {}),
      "Configuration read from the station.").then(() => refresh({ configuration: true })) }, "Read configuration from the station");
    if (!snapshot || !Object.keys(snapshot.keys).length) {
      replace(configurationBox, h("h2", { id: "configuration-title" }, "Configuration"),
        empty("The CSMS has not read this station's configuration yet.", station.connected ? read : "Read it once the station connects."));
      return;
    }
    const rows = Object.entries(snapshot.keys).sort(([a], [b]) => a.localeCompare(b)).map(([key, entry]) => {
      if (entry.readonly) {
        return h("tr", {}, h("th", { scope: "row" }, key), h("td", {}, entry.value ?? ""), h("td", { class: "muted" }, "read-only"));
      }
      const value = h("input", { name: key, value: entry.value ?? "", "aria-label": `Value of ${key}`, maxlength: 500 });
      const save = h("button", { type: "submit" }, "Change");
      return h("tr", {}, h("th", { scope: "row" }, key),
        h("td", {}, h("form", {
          class: "inline", id: `config-${key}`,
          onsubmit: async (event) => {
            event.preventDefault();
            await act(() => api("POST", `${path}/commands/ChangeConfiguration`, { key, value: value.value }),
              (command) => `ChangeConfiguration of ${key}: the station answered ${command.response?.status}.`);
            refresh({ configuration: true });
          },
        }, value)),
        h("td", {}, save));
    });
    // Each row's button submits that row's form.
    rows.forEach((row) => {
      const form = row.querySelector("form");
      const button = row.querySelector("button[type=submit]");
      if (form && button) button.setAttribute("form", form.id);
    });
    replace(configurationBox, h("h2", { id: "configuration-title" }, "Configuration"),
      h("p", { class: "muted" }, "As last read ", time(snapshot.updatedAt, station.timeZone), ". ", read),
      table(["Key", "Value", ""], rows),
      snapshot.unknownKeys.length ? h("p", { class: "muted" }, `Unknown to the station: ${snapshot.unknownKeys.join(", ")}`) : null);
  }

  function drawProfiles() {
    const profiles = station.chargingProfiles;
    replace(profilesBox, h("h2", { id: "profiles-title" }, "Charging profiles"),
      profiles.length
        ? table(["Connector", "Profile", "Purpose", "Stack level", "Schedule", "Installed"], profiles.map((installed) => {
          const profile = installed.chargingProfile;
          const schedule = profile.chargingSchedule || {};
          const periods = (schedule.chargingSchedulePeriod || []).map((period) => `${period.startPeriod} s: ${period.limit} ${schedule.chargingRateUnit}`).join(", ");
          return h("tr", {}, h("td", {}, String(installed.connectorId)), h("td", {}, String(profile.chargingProfileId)),
            h("td", {}, profile.chargingProfilePurpose), h("td", {}, String(profile.stackLevel)), h("td", {}, periods),
            h("td", {}, time(installed.installedAt, station.timeZone)));
        }))
        : empty("No charging profile installed through the CSMS.", "SetChargingProfile installs one (Commands above)."));
  }

  // Newest first, a page at a time; the page shown is in the view's URL (shareable) and stays put across refreshes.
  let historyPage = query?.get("historyPage") || "";
  let historyDrawn = 0; // the latest draw wins: a refresh begun before a turn of the page does not undo it
  async function drawHistory() {
    const draw = ++historyDrawn;
    const history = await get(withQuery(`${path}/commands`, { limit: HISTORY_PAGE_SIZE, nextToken: historyPage }));
    if (draw !== historyDrawn) return;
    const turn = (token) => {
      historyPage = token || "";
      setViewQuery({ historyPage });
      act(drawHistory);
    };
    keepFocus(historyBox, () => replace(historyBox, h("h2", { id: "history-title" }, "Command history"),
      history.items.length
        ? table(["Sent", "Action", "Status", "Answer"], history.items.map((command) => h("tr", { "data-command": command.commandId },
          h("td", {}, time(command.createdAt, station.timeZone)), h("td", {}, command.action), h("td", {}, badge(command.status)),
          h("td", {}, command.error ? `${command.error.code}${command.error.description ? `: ${command.error.description}` : ""}`
            : command.response ? h("code", {}, JSON.stringify(command.response)) : h("span", { class: "muted" }, "—")))),
        historyPage ? "Older commands, newest first" : `The ${HISTORY_PAGE_SIZE} newest`)
        : empty(historyPage ? "No older command." : "No command sent to this station yet."),
      historyPage || history.nextToken ? pager(historyPage, history.nextToken, turn) : null));
  }

  // PUT /charge-points/{id}: fields sent are changed, the others kept (the password is never shown, nor sent here).
  async function drawRegistration() {
    const tariffs = await get(withQuery("/tariffs", { limit: 100 })).catch(() => ({ items: [] }));
    const description = h("input", { name: "description", value: station.description || "", maxlength: 500 });
    const zone = h("input", { name: "timeZone", value: station.timeZone || "", placeholder: "Europe/Paris", maxlength: 64 });
    const tariff = h("select", { name: "tariffId" }, h("option", { value: "" }, "— the network's default"),
      tariffs.items.map((item) => h("option", { value: item.tariffId, selected: item.tariffId === station.tariffId }, item.tariffId)));
    const separator = h("input", { name: "idTagSuffixSeparator", value: station.idTagSuffixSeparator || "", maxlength: 20, placeholder: "_" });
    const lenient = h("select", { name: "lenient" }, [["false", "no"], ["true", "yes"]]
      .map(([value, label]) => h("option", { value, selected: String(station.lenient) === value }, label)));
    const form = h("form", {
      class: "card grid-form",
      onsubmit: async (event) => {
        event.preventDefault();
        const body = {
          description: description.value.trim() || null, timeZone: zone.value.trim() || null, tariffId: tariff.value || null,
          lenient: lenient.value === "true", idTagSuffixSeparator: separator.value || null,
        };
        if (await act(() => api("PUT", path, body), `Registration of ${chargePointId} saved.`)) refresh();
      },
    },
    h("h2", { id: "registration-title" }, "Registration"),
    field("Description", description), field("Time zone (IANA)", zone, "Times on these pages and tariff hours follow it; UTC when empty"),
    field("Tariff", tariff, "Unless the driver's id tag names one"), field("Lenient", lenient, "Answer schema violations instead of refusing them"),
    field("Id tag suffix separator", separator, "A station that sends TAG_SERIAL for the card TAG (KEBA): cut at it; from its next connection"),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save registration")));
    replace(registrationBox, form);
  }

  // POST /sessions: what a driver's app does (RemoteStartTransaction through the outbox, with the session's limits).
  function drawAppSession() {
    const connector = h("input", { name: "sessionConnectorId", type: "number", min: 1, step: 1, value: 1, required: true });
    const idTag = h("input", { name: "sessionIdTag", required: true, maxlength: 20, autocomplete: "off" });
    const limits = limitsFieldset(null, "Limits for this session (over the id tag's)");
    const form = h("form", {
      class: "card grid-form",
      onsubmit: async (event) => {
        event.preventDefault();
        const body = { chargePointId, connectorId: Number(connector.value), idTag: idTag.value.trim() };
        const chosen = limits.value();
        if (chosen) body.limits = chosen;
        const started = await act(() => api("POST", "/sessions", body), (view) => `App session ${view.sessionId}: ${view.status}`
          + `${view.response?.status ? `, the station answered ${view.response.status}` : ""}.`);
        if (started) refresh();
      },
    }, h("h2", { id: "app-session-title" }, "Start an app session"),
    field("Connector", connector), field("Id tag", idTag, "A registered tag: the driver's app identity"), limits.element,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Start app session")));
    replace(appSessionBox, form);
  }

  // The QR code of each connector (GET .../qr, SVG), to print and stick on it. With a signed-in operator the image is
  // fetched with the token (an <img> cannot send it), otherwise the route is the image's source.
  async function drawQrCodes() {
    const numbers = station.connectors.map((connector) => connector.connectorId).filter((id) => id > 0);
    const token = await bearerToken();
    const figures = await Promise.all((numbers.length ? numbers : [1]).map(async (connectorId) => {
      const route = `${path}/connectors/${connectorId}/qr`;
      let source = route;
      if (token) {
        const response = await fetch(route, { headers: { authorization: `Bearer ${token}` } });
        source = response.ok ? URL.createObjectURL(await response.blob()) : "";
      }
      return h("figure", { "data-qr": connectorId }, h("img", { src: source, alt: `QR code of ${chargePointId} connector ${connectorId}` }),
        h("figcaption", {}, `${chargePointId} · connector ${connectorId}`));
    }));
    const print = h("button", {
      type: "button", class: "no-print",
      onclick: () => {
        document.body.classList.add("printing-qr");
        window.addEventListener("afterprint", () => document.body.classList.remove("printing-qr"), { once: true });
        window.print();
      },
    }, "Print the QR codes");
    replace(qrBox, h("h2", { id: "qr-title" }, "QR codes"),
      h("p", { class: "muted no-print" }, "A driver's phone opens the connector's start link and the app starts a session there. ", print),
      station.registered ? h("div", { class: "qr-codes" }, figures) : empty("Register the station (save its registration) to print its QR codes."));
  }

  let first = true;
  async function update({ configuration = false } = {}) {
    station = await get(path);
    rememberZone(chargePointId, station.timeZone);
    drawHeader();
    drawConnectors(await sessionsOf(station));
    offline.hidden = station.connected;
    if (first) {
      drawAppSession();
      await Promise.all([drawCommands(), drawRegistration(), drawQrCodes()]);
    }
    if (first || configuration) drawConfiguration();
    drawProfiles();
    await drawHistory();
    first = false;
  }

  // A refresh that fails says so in one notice (kept up to date, not one more every few seconds), gone once one works.
  let failure = null;
  async function refresh(options) {
    try {
      await update(options);
    } catch (error) {
      if (first) throw error;
      failure = notify(`Not updated: ${error.message}`, "error", { replaces: failure });
      return;
    }
    failure?.remove();
    failure = null;
  }

  await refresh();
  // Live parts refresh by themselves; the configuration table only on demand, not to undo an edit being typed.
  const timer = setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
  return () => clearInterval(timer);
}
