// Leader cockpit: the district map (GeoJSON registered with ECharts, no tile server) and trend.
(function () {
  "use strict";
  function data(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }

  var slider = document.getElementById("month");
  if (slider) {
    var months = slider.getAttribute("data-months").split(",");
    slider.addEventListener("input", function () {
      document.getElementById("month-out").textContent = months[slider.value];
      document.getElementById("month-value").value = months[slider.value];
      slider.setAttribute("aria-valuetext", months[slider.value]);
    });
    slider.addEventListener("change", function () { slider.form.requestSubmit(); });
  }

  var mapEl = document.getElementById("map");
  if (mapEl && window.echarts) {
    var rows = data("map-data") || [];
    var values = rows.map(function (r) { return r.value; }).filter(function (v) { return v !== null; });
    var chart = echarts.init(mapEl);
    fetch("/cockpit/beijing.geojson", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (geo) {
      echarts.registerMap("beijing", geo);
      chart.setOption({
        tooltip: { trigger: "item", formatter: function (p) { return p.name + ": " + (p.value == null || isNaN(p.value) ? "—" : p.value); } },
        visualMap: { min: values.length ? Math.min.apply(null, values) : 0, max: values.length ? Math.max.apply(null, values) : 1,
          left: "left", bottom: 10, calculable: true, inRange: { color: ["#d7301f", "#fdcc8a", "#1a9850"] } },
        series: [{ type: "map", map: "beijing", roam: false, label: { show: true, fontSize: 10 },
          data: rows.map(function (r) { return { name: r.name, value: r.value, code: r.code }; }) }]
      });
      mapEl.setAttribute("data-rendered", "1");
      chart.on("click", function (p) {
        if (!p.data || !window.htmx) return;
        htmx.ajax("GET", "/cockpit/district/" + p.data.code + "?month=" + mapEl.getAttribute("data-month") +
          "&metric=" + mapEl.getAttribute("data-metric"), "#drill");
      });
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  var trendEl = document.getElementById("trend");
  if (trendEl && window.echarts) {
    var t = data("trend-data") || [];
    var c = echarts.init(trendEl);
    var m = function (k) { return t.map(function (r) { return r[k]; }); };
    c.setOption({
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      grid: { left: 50, right: 50, top: 40, bottom: 30 },
      xAxis: { type: "category", data: m("month") },
      yAxis: [{ type: "value", name: "#" }, { type: "value", name: "%", min: 0, max: 100 }],
      series: [
        { name: trendEl.getAttribute("data-volume") || "volume", type: "bar", data: m("volume"), itemStyle: { color: "#9bbbe0" } },
        { name: "response", type: "line", yAxisIndex: 1, data: m("response") },
        { name: "resolution", type: "line", yAxisIndex: 1, data: m("resolution") },
        { name: "satisfaction", type: "line", yAxisIndex: 1, data: m("satisfaction") }
      ]
    });
  }
})();
