/* Pan and zoom for the swimlane on a version's page, and its steps as buttons.
 *
 * The diagram is an inline SVG inside .zoom-view; zooming and panning change its viewBox, so
 * text stays sharp at any size (readable on a projector). Wheel or pinch zooms around the
 * pointer, dragging pans, the toolbar's buttons (data-zoom = in, out, reset, fit) zoom around
 * the centre; with the diagram focused, + and − zoom, the arrow keys pan and 0 fits. A step
 * (g[data-step], focusable, role=button) opens its details in #step-panel on click, Enter or
 * Space, through htmx (GET data-step-url + step). No inline script or style: CSP default-src
 * 'self' holds. */
(function () {
  "use strict";
  var view = document.getElementById("swimlane");
  if (!view) { return; }
  var svg = view.querySelector("svg");
  if (!svg) { return; }
  var base = svg.viewBox.baseVal;
  var full = { x: base.x, y: base.y, w: base.width, h: base.height };
  var pxPerUnit = (parseFloat(svg.getAttribute("width")) || full.w) / full.w;
  var box = { x: full.x, y: full.y, w: full.w, h: full.h };
  var MIN_W = full.w / 40, MAX_W = full.w * 4;

  svg.setAttribute("width", "100%");
  svg.setAttribute("height", "100%");
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");

  function aspect() {
    var r = view.getBoundingClientRect();
    return r.height > 0 ? r.width / r.height : full.w / full.h;
  }
  function apply() {
    svg.setAttribute("viewBox", [box.x, box.y, box.w, box.h].join(" "));
    view.setAttribute("data-scale", String(Math.round(1000 * full.w / box.w) / 1000));
  }
  function fit() {
    var a = aspect();
    if (full.w / full.h > a) { box.w = full.w; box.h = full.w / a; }
    else { box.h = full.h; box.w = full.h * a; }
    box.x = full.x + (full.w - box.w) / 2;
    box.y = full.y + (full.h - box.h) / 2;
    apply();
  }
  function actual() {  /* 100 %: one diagram pixel per screen pixel, from the top left */
    var r = view.getBoundingClientRect();
    box.w = r.width / pxPerUnit; box.h = r.height / pxPerUnit;
    box.x = full.x; box.y = full.y;
    apply();
  }
  /* the SVG point under client (cx, cy) */
  function point(cx, cy) {
    var r = view.getBoundingClientRect();
    var s = Math.max(box.w / r.width, box.h / r.height);
    var offX = (r.width * s - box.w) / 2, offY = (r.height * s - box.h) / 2;
    return { x: box.x - offX + (cx - r.left) * s, y: box.y - offY + (cy - r.top) * s, s: s };
  }
  function zoom(factor, cx, cy) {
    var r = view.getBoundingClientRect();
    if (cx === undefined) { cx = r.left + r.width / 2; cy = r.top + r.height / 2; }
    var w = Math.min(Math.max(box.w / factor, MIN_W), MAX_W);
    var k = w / box.w, p = point(cx, cy);
    box.x = p.x - (p.x - box.x) * k; box.y = p.y - (p.y - box.y) * k;
    box.w = w; box.h = box.h * k;
    apply();
  }
  function pan(dxPx, dyPx) {
    var s = point(0, 0).s;
    box.x -= dxPx * s; box.y -= dyPx * s;
    apply();
  }

  document.querySelectorAll("[data-zoom]").forEach(function (button) {
    button.addEventListener("click", function () {
      var what = button.getAttribute("data-zoom");
      if (what === "in") { zoom(1.25); }
      else if (what === "out") { zoom(0.8); }
      else if (what === "reset") { actual(); }
      else { fit(); }
    });
  });

  view.addEventListener("wheel", function (e) {
    e.preventDefault();
    zoom(Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015)), e.clientX, e.clientY);
  }, { passive: false });

  var pointers = {}, moved = 0, pinch = 0;
  view.addEventListener("pointerdown", function (e) {
    pointers[e.pointerId] = { x: e.clientX, y: e.clientY };
    moved = 0;
    if (Object.keys(pointers).length === 2) { pinch = spread(); }
  });
  function spread() {
    var ps = Object.keys(pointers).map(function (k) { return pointers[k]; });
    return Math.hypot(ps[0].x - ps[1].x, ps[0].y - ps[1].y);
  }
  view.addEventListener("pointermove", function (e) {
    var last = pointers[e.pointerId];
    if (!last) { return; }
    var count = Object.keys(pointers).length;
    var dx = e.clientX - last.x, dy = e.clientY - last.y;
    pointers[e.pointerId] = { x: e.clientX, y: e.clientY };
    moved += Math.abs(dx) + Math.abs(dy);
    if (count === 1 && moved > 4) {
      if (!view.hasPointerCapture(e.pointerId)) { view.setPointerCapture(e.pointerId); }
      view.classList.add("panning");
      pan(dx, dy);
    } else if (count === 2) {
      var now = spread();
      if (pinch > 0) { zoom(now / pinch, e.clientX, e.clientY); }
      pinch = now;
    }
  });
  function release(e) {
    delete pointers[e.pointerId];
    if (Object.keys(pointers).length < 2) { pinch = 0; }
    view.classList.remove("panning");
  }
  view.addEventListener("pointerup", release);
  view.addEventListener("pointercancel", release);

  view.addEventListener("keydown", function (e) {
    if (e.target !== view) { return; }
    var step = 40;
    var keys = {
      "+": function () { zoom(1.25); }, "=": function () { zoom(1.25); },
      "-": function () { zoom(0.8); }, "0": fit,
      ArrowLeft: function () { pan(step, 0); }, ArrowRight: function () { pan(-step, 0); },
      ArrowUp: function () { pan(0, step); }, ArrowDown: function () { pan(0, -step); }
    };
    if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
  });

  var url = view.getAttribute("data-step-url");
  var panel = document.getElementById("step-panel");
  function open(node) {
    view.querySelectorAll("g[data-step].selected").forEach(function (g) {
      g.classList.remove("selected");
      g.removeAttribute("aria-pressed");
    });
    node.classList.add("selected");
    node.setAttribute("aria-pressed", "true");
    var target = url + encodeURIComponent(node.getAttribute("data-step"));
    window.htmx.ajax("GET", target, { target: panel, swap: "innerHTML" }).then(function () {
      var heading = panel.querySelector("h2");
      if (heading && window.matchMedia("(max-width: 80rem)").matches) { heading.focus(); }
    });
  }
  view.querySelectorAll("g[data-step]").forEach(function (node) {
    node.addEventListener("click", function () { if (moved <= 4) { open(node); } });
    node.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(node); }
    });
    node.addEventListener("focus", function () { reveal(node); });
  });
  /* keep a step reached with Tab inside the view */
  function reveal(node) {
    var r = node.getBoundingClientRect(), v = view.getBoundingClientRect();
    var dx = 0, dy = 0;
    if (r.left < v.left) { dx = v.left - r.left + 20; }
    else if (r.right > v.right) { dx = v.right - r.right - 20; }
    if (r.top < v.top) { dy = v.top - r.top + 20; }
    else if (r.bottom > v.bottom) { dy = v.bottom - r.bottom - 20; }
    if (dx || dy) { pan(dx, dy); }
  }

  fit();
  window.addEventListener("resize", function () { fit(); });
}());
