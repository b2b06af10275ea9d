
(function () {
  "use strict";
  var holder = document.getElementById("report-data");
  if (!holder) return;
  var D = JSON.parse(holder.textContent);
  function isShare(m) { return /_share$|^density_|^delivery_share_|^network_density$/.test(m); }
  function fmtNum(v) {
    if (v === null || v === undefined || !isFinite(v)) return "n/a";
    var a = Math.abs(v);
    if (a >= 100 || v === Math.round(v)) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    return String(Number(v.toPrecision(3)));
  }
  function fmt(m, v) {
    if (v !== null && v !== undefined && isFinite(v) && isShare(m)) return (v * 100).toFixed(1) + "%";
    return fmtNum(v);
  }

  var N = D.network, slider = document.getElementById("network-time");
  if (N && slider) {
    var ties = document.querySelectorAll("#network-svg line.tie");
    var dayOut = document.getElementById("network-day");
    var summary = document.getElementById("network-tie-summary");
    var play = document.getElementById("network-play");
    var levelAt = function (h, d) {
      var l = h[0][1];
      for (var i = 1; i < h.length && h[i][0] < d; i++) l = h[i][1];
      return l;
    };
    var show = function (d) {
      var counts = [0, 0, 0, 0, 0, 0, 0, 0];
      for (var i = 0; i < N.edges.length && i < ties.length; i++) {
        var l = levelAt(N.edges[i], d), t = ties[i];
        counts[l]++;
        t.setAttribute("data-level", l);
        if (l < 1) { t.setAttribute("visibility", "hidden"); continue; }
        t.removeAttribute("visibility");
        t.setAttribute("stroke", N.colour[l]);
        t.setAttribute("stroke-width", N.width[l]);
        t.setAttribute("stroke-opacity", N.opacity[l]);
      }
      dayOut.textContent = d <= 0 ? "Start of the run" : "Day " + d + " of " + N.ticks;
      var total = 0, parts = [];
      for (var k = 1; k < 8; k++) { total += counts[k]; if (counts[k] > 0) parts.push("level " + k + ": " + counts[k]); }
      summary.textContent = total + (total === 1 ? " tie" : " ties") + (parts.length ? " \u2014 " + parts.join(", ") : "");
    };
    slider.addEventListener("input", function () { show(Number(slider.value)); });
    var timer = null;
    if (play) play.addEventListener("click", function () {
      if (timer) { clearInterval(timer); timer = null; play.textContent = "Play"; return; }
      if (Number(slider.value) >= N.ticks) slider.value = 0;
      var step = Math.max(1, Math.round(N.ticks / 150));
      play.textContent = "Pause";
      timer = setInterval(function () {
        var d = Math.min(N.ticks, Number(slider.value) + step);
        slider.value = d;
        show(d);
        if (d >= N.ticks) { clearInterval(timer); timer = null; play.textContent = "Play"; }
      }, 60);
    });
  }

  var Q = D.districts, select = document.getElementById("district-metric");
  if (Q && select) {
    var hex = function (c, k) { return parseInt(c.substr(1 + 2 * k, 2), 16); };
    var ramp = function (t) {
      t = Math.max(0, Math.min(1, t));
      var a = t < 0.5 ? Q.ramp[0] : Q.ramp[1], b = t < 0.5 ? Q.ramp[1] : Q.ramp[2];
      var u = t < 0.5 ? t * 2 : (t - 0.5) * 2, out = "#";
      for (var k = 0; k < 3; k++) {
        var v = Math.round(hex(a, k) + (hex(b, k) - hex(a, k)) * u);
        out += (v < 16 ? "0" : "") + v.toString(16);
      }
      return out;
    };
    var paint = function (m) {
      var vals = Q.metrics[m] || [], lo = null, hi = null;
      vals.forEach(function (v) {
        if (v === null || !isFinite(v)) return;
        lo = lo === null ? v : Math.min(lo, v);
        hi = hi === null ? v : Math.max(hi, v);
      });
      for (var i = 0; i < Q.names.length; i++) {
        var v = vals[i], rect = document.getElementById("district-tile-" + i);
        var text = document.getElementById("district-value-" + i);
        var group = document.getElementById("district-group-" + i);
        var ok = v !== null && v !== undefined && isFinite(v);
        var t = ok ? (hi > lo ? (v - lo) / (hi - lo) : 0.5) : null;
        if (rect) rect.setAttribute("fill", ok ? ramp(t) : "#eeeeee");
        if (text) text.textContent = fmt(m, ok ? v : null);
        if (group) group.setAttribute("class", "district-tile " + (ok && t > 0.55 ? "light" : "dark"));
      }
      var mn = document.getElementById("district-legend-min"), mx = document.getElementById("district-legend-max");
      if (mn) mn.textContent = fmt(m, lo);
      if (mx) mx.textContent = fmt(m, hi);
    };
    select.addEventListener("change", function () { paint(select.value); });
  }
})();
