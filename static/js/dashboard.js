/* Draws the dashboard charts from the JSON the page hands over (json_script "dashboard-charts").
   No inline script anywhere, so the Content-Security-Policy can keep script-src 'self'. */
(function () {
  "use strict";

  function draw(spec) {
    var element = document.getElementById(spec.id);
    if (!element || !window.echarts) { return; }
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    var horizontal = spec.kind === "bar" && spec.labels.length > 8;
    var categoryAxis = { type: "category", data: spec.labels, axisLabel: { interval: 0, rotate: horizontal ? 0 : 30 } };
    var valueAxis = { type: "value", name: spec.unit };
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
      xAxis: horizontal ? valueAxis : categoryAxis,
      yAxis: horizontal ? Object.assign({}, categoryAxis, { inverse: true, axisLabel: { interval: 0 } }) : valueAxis,
      series: spec.series.map(function (series) {
        return {
          name: series.name,
          type: spec.kind,
          stack: spec.stacked ? "total" : undefined,
          data: series.data.map(Number),
          // The page gives each meaning its colour (budget, disbursed, not yet disbursed, quantity).
          itemStyle: series.color ? { color: series.color } : undefined,
          lineStyle: series.color ? { color: series.color } : undefined,
          smooth: false
        };
      })
    });
    element.setAttribute("data-drawn", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function start() {
    var data = document.getElementById("dashboard-charts");
    if (!data) { return; }
    JSON.parse(data.textContent).forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
