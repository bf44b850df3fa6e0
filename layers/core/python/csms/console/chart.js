// A session's power, energy and state of charge over time, drawn as inline SVG (no chart library): power in kW on
// the left axis, energy in kWh on the right one, SoC (where the car sends it) as a dashed line on its own 0-100 %.
import { h, timeText } from "./ui.js";

const WIDTH = 760;
const HEIGHT = 300;
const PAD = { left: 56, right: 64, top: 16, bottom: 40 };

function svg(tag, attributes, ...children) {
  return h(`svg:${tag}`, attributes, ...children);
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((step) => step * magnitude).find((candidate) => candidate >= value);
}

// "10:05", or "10:05:30" for a session shorter than ten minutes.
function clock(moment, zone, withSeconds) {
  return timeText(moment.toISOString(), zone).slice(11, withSeconds ? 19 : 16);
}

export function sessionChart(points, zone) {
  const x0 = PAD.left;
  const x1 = WIDTH - PAD.right;
  const y0 = HEIGHT - PAD.bottom;
  const y1 = PAD.top;
  const start = points[0].at.getTime();
  const span = Math.max(points[points.length - 1].at.getTime() - start, 1);
  const x = (point) => x0 + ((point.at.getTime() - start) / span) * (x1 - x0);
  const series = [
    { key: "powerW", name: "Power", unit: "kW", scale: 1000, css: "power", axis: "left" },
    { key: "energyWh", name: "Energy delivered", unit: "kWh", scale: 1000, css: "energy", axis: "right" },
    { key: "soc", name: "State of charge", unit: "%", scale: 1, css: "soc", axis: "none", max: 100 },
  ].map((line) => {
    const values = points.filter((point) => point[line.key] !== null);
    const max = line.max || niceMax(Math.max(...values.map((point) => point[line.key] / line.scale), 0));
    return { ...line, values, max };
  }).filter((line) => line.values.length);
  const y = (line, point) => y0 - (point[line.key] / line.scale / line.max) * (y0 - y1);

  const grid = [0, 0.25, 0.5, 0.75, 1].map((fraction) => {
    const at = y0 - fraction * (y0 - y1);
    const left = series.find((line) => line.axis === "left");
    const right = series.find((line) => line.axis === "right");
    return svg("g", { class: "grid" },
      svg("line", { x1: x0, x2: x1, y1: at, y2: at }),
      left ? svg("text", { x: x0 - 6, y: at + 4, "text-anchor": "end" }, `${+(left.max * fraction).toFixed(2)}`) : null,
      right ? svg("text", { x: x1 + 6, y: at + 4, "text-anchor": "start" }, `${+(right.max * fraction).toFixed(2)}`) : null);
  });
  const ticks = [0, 1 / 3, 2 / 3, 1].map((fraction) => {
    const moment = new Date(start + fraction * span);
    const at = x0 + fraction * (x1 - x0);
    return svg("text", { x: at, y: y0 + 18, "text-anchor": "middle", class: "tick" }, clock(moment, zone, span < 600_000));
  });
  const lines = series.map((line) => svg("g", { class: `series ${line.css}`, "data-series": line.key, "data-points": line.values.length },
    svg("polyline", { points: line.values.map((point) => `${x(point).toFixed(1)},${y(line, point).toFixed(1)}`).join(" ") }),
    line.values.map((point) => svg("circle", { cx: x(point).toFixed(1), cy: y(line, point).toFixed(1), r: 3 },
      svg("title", {}, `${timeText(point.at.toISOString(), zone)}: ${+(point[line.key] / line.scale).toFixed(3)} ${line.unit}`)))));
  const legend = h("ul", { class: "legend" }, series.map((line) => h("li", { class: line.css },
    `${line.name} (${line.unit}${line.axis === "left" ? ", left axis" : line.axis === "right" ? ", right axis" : ", 0–100"})`)));
  const label = `Power and energy of the session over time, ${timeText(points[0].at.toISOString(), zone)} to ${timeText(points[points.length - 1].at.toISOString(), zone)}`;
  return h("figure", { class: "chart" },
    svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": label, class: "session-chart" },
      svg("title", {}, label),
      grid,
      svg("line", { class: "axis", x1: x0, x2: x1, y1: y0, y2: y0 }),
      ticks,
      lines,
      svg("text", { x: 4, y: 12, class: "unit" }, series.find((line) => line.axis === "left") ? "kW" : ""),
      svg("text", { x: WIDTH - 4, y: 12, class: "unit", "text-anchor": "end" }, series.find((line) => line.axis === "right") ? "kWh" : "")),
    h("figcaption", {}, legend, h("small", { class: "muted" }, `Times in ${zone || "UTC"}.`)));
}
