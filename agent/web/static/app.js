// facetory review: live build progress over server-sent events, and a sample counter.
"use strict";
(function () {
  function live() {
    if (!window.FACETORY_LIVE || !window.EventSource) return;
    var source = new EventSource("/events");
    source.addEventListener("progress", function (event) {
      var p = JSON.parse(event.data);
      set("accepted", p.accepted.toLocaleString());
      set("attempts", p.attempts.toLocaleString());
      set("state", p.state);
      var start = document.getElementById("start-form");
      if (start) start.hidden = p.running || p.state === "complete";
      var pill = document.getElementById("pill-lock");
      if (pill) pill.hidden = !p.running;
      var bar = document.getElementById("bar-total");
      if (bar && p.total) bar.style.width = (100 * p.accepted / p.total) + "%";
      p.classes.forEach(function (c) {
        var row = document.querySelector('tr[data-class="' + CSS.escape(c.name) + '"]');
        if (!row) return;
        row.querySelector(".acc").textContent = c.accepted + " / " + c.target;
        row.querySelector(".att").textContent = c.attempts;
        row.querySelector(".rej").textContent = c.rejected;
        row.querySelector(".dup").textContent = c.duplicates;
        var fill = row.querySelector(".bar > div");
        if (fill && c.target) fill.style.width = (100 * Math.min(c.accepted, c.target) / c.target) + "%";
      });
      p.cells.forEach(function (c) {
        var key = c["class"] + "|" + c.factor + "|" + c.level;
        var el = document.querySelector('.cell[data-cell="' + CSS.escape(key) + '"]');
        if (!el) return;
        el.querySelector(".v").textContent = c.accepted + "/" + c.target;
        el.classList.toggle("short", c.accepted < c.target);
      });
      document.body.dataset.progress = p.accepted + "/" + p.total;
    });
  }
  function set(id, text) { var el = document.getElementById(id); if (el) el.textContent = text; }
  function samples() {
    var note = document.getElementById("sample-progress");
    if (!note) return;
    var total = 0, done = 0;
    function tick() {
      done += 1;
      note.textContent = done < total ? "drawing samples: " + done + " of " + total + " ready"
        : total + " samples ready, drawn with the build's own backend and cached in samples/.";
    }
    function watch(img) {
      total += 1;
      if (img.complete && img.naturalWidth) tick();
      else { img.addEventListener("load", tick); img.addEventListener("error", tick); }
    }
    document.querySelectorAll(".samples img[src]").forEach(watch);
    // a diffusion backend draws a factor's samples only when asked (seconds each)
    document.querySelectorAll("button.draw").forEach(function (button) {
      button.addEventListener("click", function () {
        var box = document.querySelector('.samples[data-factor="' + CSS.escape(button.dataset.factor) + '"]');
        box.querySelectorAll("img[data-src]").forEach(function (img) {
          img.loading = "eager"; img.src = img.dataset.src; img.removeAttribute("data-src"); watch(img);
        });
        button.remove();
      });
    });
  }
  function lightbox() {
    var box = document.getElementById("lightbox");
    if (!box || !box.showModal) return;
    document.querySelectorAll("a.enlarge").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        document.getElementById("lightbox-image").src = link.href;
        var caption = link.parentElement.querySelector("figcaption");
        document.getElementById("lightbox-caption").textContent =
          caption ? caption.querySelector(".id").textContent : "";
        box.showModal();
      });
    });
    box.addEventListener("click", function (event) { if (event.target === box) box.close(); });
  }
  document.addEventListener("DOMContentLoaded", function () { live(); samples(); lightbox(); });
})();
