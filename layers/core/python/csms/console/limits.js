// Session limits (issue 10 §3, OCPP 2.1's shape): maxCost {amount, currency}, maxEnergyWh, maxDurationSeconds, maxSoC.
// One fieldset for every form that sets them (reservations, app sessions, id tags' defaults) and one way to say them.
import { field, h, money } from "./ui.js";

const LIMIT_WORDS = { cost: "cost", energy: "energy", duration: "duration", soc: "state of charge" };

// The limits in words: "30.00 EUR · 20.00 kWh · 1 h 30 min · 80 %".
export function limitsText(limits) {
  if (!limits) return "none";
  const parts = [];
  if (limits.maxCost) parts.push(money(limits.maxCost.amount, limits.maxCost.currency));
  if (limits.maxEnergyWh) parts.push(`${(limits.maxEnergyWh / 1000).toFixed(2)} kWh`);
  if (limits.maxDurationSeconds) parts.push(durationText(limits.maxDurationSeconds));
  if (limits.maxSoC) parts.push(`${limits.maxSoC} % SoC`);
  return parts.join(" · ") || "none";
}

export function durationText(seconds) {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.round((seconds % 3600) / 60);
  return [hours ? `${hours} h` : "", minutes ? `${minutes} min` : "", !hours && !minutes ? `${seconds} s` : ""].filter(Boolean).join(" ");
}

export function limitReachedText(kind) {
  return kind ? `its ${LIMIT_WORDS[kind] || kind} limit` : null;
}

// The fields, filled with `initial`; value() is the limits object to send (null when none is set). The browser's own
// checks keep what it can (positive numbers); the API's 422 names anything else.
export function limitsFieldset(initial = null, legend = "Limits (optional)") {
  const number = (name, value, attributes) => h("input", { name, type: "number", inputmode: "numeric", value: value ?? "", ...attributes });
  const amount = h("input", { name: "maxCostAmount", inputmode: "decimal", pattern: "[0-9]{1,9}(\\.[0-9]{1,4})?", value: initial?.maxCost?.amount ?? "", placeholder: "30.00" });
  const currency = h("input", { name: "maxCostCurrency", pattern: "[A-Z]{3}", maxlength: 3, value: initial?.maxCost?.currency ?? "", placeholder: "EUR", size: 4 });
  const energy = number("maxEnergyWh", initial?.maxEnergyWh, { min: 1, step: 1 });
  const duration = number("maxDurationMinutes", initial?.maxDurationSeconds ? initial.maxDurationSeconds / 60 : "", { min: 1, step: "any" });
  const soc = number("maxSoC", initial?.maxSoC, { min: 1, max: 100, step: 1 });
  const element = h("fieldset", { class: "limits" }, h("legend", {}, legend),
    field("Max cost incl. VAT", amount), field("Currency", currency, "The tariff's"),
    field("Max energy (Wh)", energy), field("Max duration (minutes)", duration), field("Max state of charge (%)", soc));
  function value() {
    const limits = {};
    if (amount.value.trim() || currency.value.trim()) limits.maxCost = { amount: amount.value.trim(), currency: currency.value.trim().toUpperCase() };
    if (energy.value) limits.maxEnergyWh = Number(energy.value);
    if (duration.value) limits.maxDurationSeconds = Math.round(Number(duration.value) * 60);
    if (soc.value) limits.maxSoC = Number(soc.value);
    return Object.keys(limits).length ? limits : null;
  }
  return { element, value };
}
