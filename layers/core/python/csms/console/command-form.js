// A form for any central-system command, built from the operator API's OpenAPI description: the actions are the
// enum of the command route's `action`, each action's fields its request schema (components/schemas/<Action>),
// pre-filled from the route's example for that action. The usual commands are this same form, pre-selected.
import { api, enc, get } from "./api.js";
import { field, h, notify, replace } from "./ui.js";

const COMMAND_PATH = "/charge-points/{chargePointId}/commands/{action}";
let specPromise = null;

function openapi() {
  specPromise ??= get("/openapi.json");
  return specPromise;
}

export async function commandActions() {
  const spec = await openapi();
  const parameter = spec.paths[COMMAND_PATH].post.parameters.find((p) => p.name === "action");
  return parameter.schema.enum;
}

function resolve(spec, schema) {
  let resolved = schema;
  while (resolved && resolved.$ref) resolved = spec.components.schemas[resolved.$ref.split("/").pop()];
  if (resolved && resolved.anyOf) {
    const options = resolved.anyOf.filter((option) => option.type !== "null");
    if (options.length === 1) return { ...resolve(spec, options[0]), title: resolved.title, description: resolved.description || options[0].description };
  }
  return resolved || {};
}

// One input per field: a select for an enum or a boolean, a number, text, or JSON for objects and arrays.
function input(name, schema, required, value) {
  const attributes = { name, required };
  if (schema.enum) {
    return h("select", attributes, required ? null : h("option", { value: "" }, "—"),
      schema.enum.map((option) => h("option", { value: option, selected: option === value }, option)));
  }
  if (schema.type === "boolean") {
    return h("select", { ...attributes, "data-type": "boolean" }, h("option", { value: "" }, "—"),
      ["true", "false"].map((option) => h("option", { value: option, selected: String(value) === option }, option)));
  }
  if (schema.type === "integer" || schema.type === "number") {
    return h("input", { ...attributes, type: "number", step: schema.type === "integer" ? 1 : "any", "data-type": "number", value: value ?? "" });
  }
  if (schema.type === "object" || schema.type === "array" || (!schema.type && !schema.enum)) {
    return h("textarea", { ...attributes, rows: 4, "data-type": "json", spellcheck: "false" }, value === undefined ? "" : JSON.stringify(value, null, 2));
  }
  return h("input", {
    ...attributes, type: "text", maxlength: schema.maxLength, value: value ?? "",
    placeholder: schema.format === "date-time" ? "2026-01-31T12:00:00Z" : null,
  });
}

function payloadOf(form) {
  const payload = {};
  for (const element of form.querySelectorAll("[name]")) {
    if (element.value === "") continue;
    const kind = element.dataset.type;
    if (kind === "number") payload[element.name] = Number(element.value);
    else if (kind === "boolean") payload[element.name] = element.value === "true";
    else if (kind === "json") {
      try {
        payload[element.name] = JSON.parse(element.value);
      } catch {
        throw new Error(`${element.name} is not valid JSON.`);
      }
    } else payload[element.name] = element.value;
  }
  return payload;
}

// Words for the station's answer: its status when it has one, else the whole answer.
export function answerText(action, command) {
  const response = command.response || {};
  if (response.status) return `${action}: the station answered ${response.status}.`;
  return `${action}: the station answered ${JSON.stringify(response)}.`;
}

export async function commandForm(chargePointId, action, { values = {}, onAnswered } = {}) {
  const spec = await openapi();
  const schema = resolve(spec, { $ref: `#/components/schemas/${action}` });
  const examples = spec.paths[COMMAND_PATH].post.requestBody?.content?.["application/json"]?.examples || {};
  const prefill = { ...(examples[action]?.value || {}), ...values };
  const required = new Set(schema.required || []);
  const properties = Object.entries(schema.properties || {});
  const result = h("div", { class: "result", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "primary" }, `Send ${action}`);
  const form = h("form", { class: "command-form", "data-action": action },
    properties.length ? properties.map(([name, property]) => {
      const resolved = resolve(spec, property);
      return field(`${name}${required.has(name) ? " (required)" : ""}`, input(name, resolved, required.has(name), prefill[name]), resolved.description);
    }) : h("p", { class: "muted" }, `${action} has no fields.`),
    h("div", { class: "actions" }, submit), result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    replace(result, h("p", { class: "muted" }, "Waiting for the station's answer…"));
    try {
      const command = await api("POST", `/charge-points/${enc(chargePointId)}/commands/${enc(action)}`, payloadOf(form));
      const words = answerText(action, command);
      notify(words, "ok");
      replace(result, h("p", {}, words), h("pre", {}, JSON.stringify(command.response, null, 2)));
      if (onAnswered) onAnswered(command);
    } catch (error) {
      notify(`${action}: ${error.message}`, "error");
      replace(result, h("p", { class: "error" }, error.message));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
