// Id tags: register, block, expire, set the tariff, priority, default session limits and energy notifications,
// remove. PUT /id-tags/{idTag} replaces what is known of a tag, so every change sends the tag's other fields as they are.
import { api, enc, get, withQuery } from "./api.js";
import { limitsFieldset, limitsText } from "./limits.js";
import { act, badge, confirmDialog, empty, field, h, pager, replace, setViewQuery, table, time } from "./ui.js";

const STATUSES = ["Accepted", "Blocked", "Expired", "Invalid"];

function registration(tag, changes) {
  const body = {
    status: tag.status, expiryDate: tag.expiryDate, parentIdTag: tag.parentIdTag, tariffId: tag.tariffId, priority: tag.priority,
    limits: tag.limits, notifyAtEnergyWh: tag.notifyAtEnergyWh, ...changes,
  };
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== null && value !== undefined && value !== ""));
}

// datetime-local <-> ISO in UTC: expiry dates are typed and shown in UTC, named so.
function toUtcInput(iso) {
  return iso ? iso.slice(0, 16) : "";
}

export async function render(main, _params, query) {
  const filters = { page: query.get("page") || "" };
  const idTag = h("input", { name: "idTag", required: true, maxlength: 20, autocomplete: "off" });
  const status = h("select", { name: "status" }, STATUSES.map((value) => h("option", { value }, value)));
  const expiry = h("input", { name: "expiryDate", type: "datetime-local" });
  const parent = h("input", { name: "parentIdTag", maxlength: 20 });
  const tariffs = await get(withQuery("/tariffs", { limit: 100 })).catch(() => ({ items: [] }));
  const tariff = h("select", { name: "tariffId" }, h("option", { value: "" }, "— the station's or the network's"),
    tariffs.items.map((item) => h("option", { value: item.tariffId }, item.tariffId)));
  const priority = h("input", { name: "priority", type: "number", min: -9, max: 9, step: 1 });
  const notify = h("input", { name: "notifyAtEnergyWh", placeholder: "10000, 20000", pattern: "\\s*\\d+(\\s*,\\s*\\d+)*\\s*" });
  const limitsBox = h("div", { class: "wide" });
  let limits = limitsFieldset(null, "Default session limits");
  limitsBox.append(limits.element);
  const listBox = h("div", {});
  const form = h("form", { class: "card grid-form", "aria-labelledby": "tag-form-title" },
    h("h2", { id: "tag-form-title" }, "Register or change an id tag"),
    field("Id tag", idTag, "Case-insensitive, at most 20 characters (CiString20)"), field("Status", status),
    field("Expiry (UTC)", expiry, "After it the tag is answered Expired"), field("Parent id tag", parent, "Group tag"),
    field("Tariff", tariff, "Over the station's tariff (subscribers)"),
    field("Priority", priority, "−9 to 9, higher first on a shared site; empty: 0"),
    field("Notify at (Wh)", notify, "Energy delivered at which the driver's app is told, comma-separated"),
    limitsBox,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save id tag")));
  replace(main, h("h1", {}, "Id tags"), form, listBox);

  async function put(tag, body, words) {
    return act(() => api("PUT", `/id-tags/${enc(tag)}`, body), words);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const tag = idTag.value.trim();
    const body = registration({}, {
      status: status.value, expiryDate: expiry.value ? `${expiry.value}:00Z` : null, parentIdTag: parent.value.trim(), tariffId: tariff.value,
      priority: priority.value === "" ? null : Number(priority.value), limits: limits.value(),
      notifyAtEnergyWh: notify.value.trim() ? notify.value.split(",").map((wh) => Number(wh.trim())) : null,
    });
    if (await put(tag, body, (view) => `Id tag ${view.idTag} saved: ${view.status}.`)) {
      form.reset();
      setLimits(null);
      load();
    }
  });

  function setLimits(initial) {
    limits = limitsFieldset(initial, "Default session limits");
    replace(limitsBox, limits.element);
  }

  function edit(tag) {
    priority.value = tag.priority ?? "";
    notify.value = (tag.notifyAtEnergyWh || []).join(", ");
    setLimits(tag.limits);
    idTag.value = tag.idTag;
    status.value = tag.status;
    expiry.value = toUtcInput(tag.expiryDate);
    parent.value = tag.parentIdTag || "";
    tariff.value = tag.tariffId || "";
    idTag.focus();
  }

  function actions(tag) {
    const change = (changes, words) => async () => { if (await put(tag.idTag, registration(tag, changes), words)) load(); };
    return h("div", { class: "buttons" },
      tag.status === "Blocked"
        ? h("button", { type: "button", onclick: change({ status: "Accepted" }, `Id tag ${tag.idTag} unblocked.`) }, "Unblock")
        : h("button", { type: "button", onclick: change({ status: "Blocked" }, `Id tag ${tag.idTag} blocked: stations will refuse it.`) }, `Block ${tag.idTag}`),
      tag.status !== "Expired"
        ? h("button", { type: "button", onclick: change({ status: "Expired" }, `Id tag ${tag.idTag} expired.`) }, "Expire") : null,
      h("button", { type: "button", onclick: () => edit(tag) }, "Edit"),
      h("button", {
        type: "button", class: "danger",
        onclick: async () => {
          if (!(await confirmDialog(`Remove id tag ${tag.idTag}? It will be answered Invalid.`, "Remove"))) return;
          if (await act(() => api("DELETE", `/id-tags/${enc(tag.idTag)}`).then(() => true), `Id tag ${tag.idTag} removed.`)) load();
        },
      }, "Remove"));
  }

  async function load() {
    const page = await get(withQuery("/id-tags", { limit: 50, nextToken: filters.page }));
    const items = page.items.sort((a, b) => a.idTag.localeCompare(b.idTag));
    replace(listBox,
      items.length
        ? table(["Id tag", "Status", "Expiry", "Parent", "Tariff", "Priority", "Limits", "Session", ""], items.map((tag) => h("tr", { "data-id-tag": tag.idTag },
          h("th", { scope: "row" }, tag.idTag), h("td", {}, badge(tag.status)), h("td", {}, time(tag.expiryDate, null)),
          h("td", {}, tag.parentIdTag || "—"), h("td", {}, tag.tariffId || "—"), h("td", {}, tag.priority ?? "0"),
          h("td", {}, limitsText(tag.limits), tag.notifyAtEnergyWh?.length ? h("div", { class: "muted" }, `notify at ${tag.notifyAtEnergyWh.join(", ")} Wh`) : null),
          h("td", {}, tag.activeTransactionId ? h("a", { href: `#/sessions/${tag.activeTransactionId}` }, `Session ${tag.activeTransactionId}`) : "—"),
          h("td", {}, actions(tag)))))
        : empty("No id tag registered: stations' drivers are answered Invalid.",
          "Register the tags drivers present (RFID cards, app identities) above; simulated stations charge with one each: SIM-TAG-1, SIM-TAG-2, …"),
      pager(filters.page, page.nextToken, (token) => { filters.page = token || ""; setViewQuery(filters); load(); }));
  }
  await load();
}
