// A session's meter values as series: power (W), energy (Wh) and state of charge (%), from the sampledValue
// entries as the station sent them (OCPP 1.6 §7.45: value as text, unit W/kW/Wh/kWh, per phase or in total).
import { parseTime } from "./ui.js";

const ENERGY = "Energy.Active.Import.Register";
const POWER = "Power.Active.Import";
const SOC = "SoC";
const SCALE = { W: 1, kW: 1000, Wh: 1, kWh: 1000 };

function measurand(sample) {
  return sample.measurand || ENERGY; // 1.6 default
}

// [{at: Date, powerW, energyWh, soc}] in time order; absent values are null. Energy is what the session delivered:
// the register reading less `meterStart` (the register itself counts the meter's whole life).
export function meterSeries(meterValues, meterStart = 0) {
  const points = [];
  for (const meterValue of meterValues) {
    const at = parseTime(meterValue.timestamp);
    if (!at) continue;
    let powerW = null;
    let energyWh = null;
    let soc = null;
    for (const sample of meterValue.sampledValue || []) {
      if (sample.format === "SignedData") continue;
      const value = Number(sample.value);
      if (!Number.isFinite(value)) continue;
      const name = measurand(sample);
      if (name === POWER && !(sample.phase || "").includes("-")) {
        powerW = (powerW || 0) + value * (SCALE[sample.unit || "W"] || 1);
      } else if (name === ENERGY && !sample.phase) {
        energyWh = value * (SCALE[sample.unit || "Wh"] || 1) - meterStart;
      } else if (name === SOC) {
        soc = value;
      }
    }
    if (powerW !== null || energyWh !== null || soc !== null) points.push({ at, powerW, energyWh, soc });
  }
  return points.sort((a, b) => a.at - b.at);
}

export function latestPower(meterValues) {
  const withPower = meterSeries(meterValues).filter((point) => point.powerW !== null);
  return withPower.length ? withPower[withPower.length - 1].powerW : null;
}
