// docdenoise serve: upload files one after another, poll each job, show pages before/after.
"use strict";

(function () {
  const $ = (selector, root = document) => root.querySelector(selector);
  const jobsBox = $("#jobs");
  const cards = new Map(); // job id -> card state
  let config = null;
  let uploading = Promise.resolve();

  function megabytes(bytes) {
    return (bytes / 1048576).toLocaleString(undefined, { maximumFractionDigits: 1 });
  }

  function ttaLabel(level) {
    if (level === 1) return "Fast (1 view)";
    if (level === 8) return "Better (8 views, 8\u00d7 slower)";
    return `${level} views (${level}\u00d7 slower)`;
  }

  async function loadConfig() {
    const response = await fetch("/api/config");
    config = await response.json();
    $("#version").textContent = config.version;
    const models = $("#model");
    for (const name of config.models) models.add(new Option(name, name));
    $("#model-option").hidden = config.models.length < 2;
    const tta = $("#tta");
    tta.add(new Option("The model's setting", ""));
    for (const level of config.tta_levels) tta.add(new Option(ttaLabel(level), String(level)));
    $("#limits").textContent =
      `PNG, JPEG, TIFF or PDF \u00b7 up to ${megabytes(config.max_upload_bytes)} MB ` +
      `and ${config.max_pages} pages per file`;
  }

  // ------------------------------------------------------------------ cards

  function newCard(file) {
    const node = $("#job-template").content.firstElementChild.cloneNode(true);
    $(".name", node).textContent = file.name;
    jobsBox.append(node);
    $("#toolbar").hidden = false;
    const card = { node, id: null, job: null, page: null, zoom: null, mode: "slider" };
    $(".remove", node).addEventListener("click", () => removeCard(card));
    setupViewer(card);
    return card;
  }

  function setState(card, state, text) {
    card.node.dataset.state = state;
    $(".status", card.node).textContent = text;
    updateToolbar();
  }

  function refuse(card, message) {
    setState(card, "refused", "not cleaned");
    const error = $(".error", card.node);
    error.textContent = message;
    error.hidden = false;
    $("progress", card.node).value = 0;
  }

  async function removeCard(card) {
    if (card.id) {
      cards.delete(card.id);
      await fetch(`/api/jobs/${card.id}`, { method: "DELETE" }).catch(() => {});
    }
    card.removed = true;
    card.node.remove();
    updateToolbar();
  }

  function updateToolbar() {
    const all = [...jobsBox.querySelectorAll(".job")];
    const done = [...cards.values()].filter((c) => c.job && c.job.state === "done");
    const link = $("#download-all");
    link.classList.toggle("disabled", done.length === 0);
    link.href = done.length ? `/api/results.zip?ids=${done.map((c) => c.id).join(",")}` : "#";
    $("#summary").textContent = all.length ? `${done.length} of ${all.length} files cleaned` : "";
    $("#toolbar").hidden = all.length === 0;
  }

  // ------------------------------------------------------------------ upload

  function addFiles(files) {
    for (const file of files) {
      const card = newCard(file);
      uploading = uploading.then(() => upload(card, file));
    }
  }

  function upload(card, file) {
    if (card.removed) return Promise.resolve();
    if (file.size > config.max_upload_bytes) {
      refuse(card, `${file.name} is ${megabytes(file.size)} MB, larger than ` +
        `${megabytes(config.max_upload_bytes)} MB, the largest file this server takes ` +
        "(docdenoise serve --max-upload-mb). Split it, or start the server with a higher limit.");
      return Promise.resolve();
    }
    const query = new URLSearchParams({
      name: file.name, model: $("#model").value, tta: $("#tta").value,
    });
    setState(card, "uploading", "uploading\u2026");
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `/api/jobs?${query}`);
      xhr.upload.onprogress = (event) => {
        if (!event.lengthComputable) return;
        $("progress", card.node).value = event.loaded / event.total;
        setState(card, "uploading", `uploading ${Math.round((100 * event.loaded) / event.total)}%`);
      };
      xhr.onload = () => {
        let answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (err) { /* not JSON */ }
        if (xhr.status === 201) {
          card.id = answer.id;
          cards.set(card.id, card);
          $("progress", card.node).value = 0;
          show(card, answer);
          if (card.removed) removeCard(card);
        } else {
          refuse(card, answer.error || `The server answered ${xhr.status} ${xhr.statusText}.`);
        }
        resolve();
      };
      xhr.onerror = () => {
        refuse(card, "The upload failed: is the docdenoise server still running?");
        resolve();
      };
      xhr.send(file);
    });
  }

  // ------------------------------------------------------------------ progress

  function statusText(job) {
    const pages = `${job.n_pages} page${job.n_pages === 1 ? "" : "s"}`;
    if (job.state === "queued") return `waiting (${pages})`;
    if (job.state === "running") {
      return `cleaning page ${Math.min(job.pages_done + 1, job.n_pages)} of ${job.n_pages}\u2026`;
    }
    if (job.state === "done") return `cleaned (${pages})`;
    return `failed after ${job.pages_done} of ${pages}`;
  }

  function show(card, job) {
    card.job = job;
    setState(card, job.state, statusText(job));
    $("progress", card.node).value = job.n_pages ? job.pages_done / job.n_pages : 0;
    const error = $(".error", card.node);
    error.hidden = !job.error;
    error.textContent = job.error || "";
    const list = $(".pages", card.node);
    job.pages.forEach((page, i) => {
      let button = list.children[i] && list.children[i].firstElementChild;
      if (!button) {
        const item = document.createElement("li");
        button = document.createElement("button");
        button.type = "button";
        button.textContent = page.number;
        button.addEventListener("click", () => selectPage(card, page.number));
        item.append(button);
        list.append(item);
      }
      button.dataset.state = page.state;
      button.title = `Page ${page.number}: ${page.state}`;
    });
    const result = $(".download-result", card.node);
    result.hidden = job.state !== "done";
    if (job.state === "done") {
      result.href = `/api/jobs/${job.id}/result`;
      result.download = job.result_name;
      result.textContent = `Download ${job.result_name}`;
    }
    const firstDone = job.pages.find((page) => page.state === "done");
    if (card.page === null && firstDone) selectPage(card, firstDone.number);
  }

  async function poll() {
    const active = [...cards.values()].filter(
      (card) => card.job && (card.job.state === "queued" || card.job.state === "running"),
    );
    for (const card of active) {
      try {
        const response = await fetch(`/api/jobs/${card.id}`, { cache: "no-store" });
        const answer = await response.json();
        if (!cards.has(card.id)) continue;
        if (response.ok) show(card, answer);
        else refuse(card, answer.error || `The server answered ${response.status}.`);
      } catch (err) {
        setState(card, card.job.state, "lost contact with the server\u2026");
      }
    }
    setTimeout(poll, active.length ? 500 : 1000);
  }

  // ------------------------------------------------------------------ viewer

  function selectPage(card, number) {
    const page = card.job.pages[number - 1];
    if (page.state !== "done") return;
    card.page = number;
    for (const button of card.node.querySelectorAll(".pages button")) {
      button.classList.toggle("selected", Number(button.textContent) === number);
    }
    const viewer = $(".viewer", card.node);
    viewer.hidden = false;
    const base = `/api/jobs/${card.id}/pages/${number}`;
    $("img.before", viewer).src = `${base}/before.png`;
    $("img.after", viewer).src = `${base}/after.png`;
    card.size = [page.width, page.height];
    const stem = card.job.name.replace(/\.[^.]*$/, "");
    const link = $(".download-page", viewer);
    link.href = `${base}/after.png`;
    link.download = card.job.n_pages > 1 ? `${stem}-p${String(number).padStart(4, "0")}-clean.png`
      : `${stem}-clean.png`;
    $(".page-label", viewer).textContent = `Page ${number} of ${card.job.n_pages} \u00b7 ` +
      `${page.width} \u00d7 ${page.height} px`;
    layout(card);
  }

  function fitZoom(card) {
    const stage = $(".stage", card.node);
    const [width] = card.size;
    const across = card.mode === "side" ? 2 * width + 10 : width;
    return Math.min(1, (stage.clientWidth - 2) / across);
  }

  function layout(card) {
    const viewer = $(".viewer", card.node);
    const zoom = card.zoom === null ? fitZoom(card) : card.zoom;
    const [width, height] = card.size;
    viewer.classList.toggle("slider", card.mode === "slider");
    viewer.classList.toggle("side", card.mode === "side");
    for (const img of viewer.querySelectorAll("img")) {
      img.style.width = `${Math.round(width * zoom)}px`;
      img.style.height = `${Math.round(height * zoom)}px`;
    }
    $(".canvas", viewer).style.width = card.mode === "slider" ? `${Math.round(width * zoom)}px` : "max-content";
    const split = $(".split", viewer).value;
    $(".side-after", viewer).style.clipPath = card.mode === "slider" ? `inset(0 0 0 ${split}%)` : "none";
    $(".divider", viewer).style.left = `${split}%`;
    for (const button of viewer.querySelectorAll("[data-mode]")) {
      button.classList.toggle("on", button.dataset.mode === card.mode);
    }
  }

  function zoomTo(card, zoom, focusX, focusY) {
    const stage = $(".stage", card.node);
    const old = card.zoom === null ? fitZoom(card) : card.zoom;
    const next = Math.max(0.05, Math.min(8, zoom));
    const x = focusX === undefined ? stage.clientWidth / 2 : focusX;
    const y = focusY === undefined ? stage.clientHeight / 2 : focusY;
    const sx = (stage.scrollLeft + x) / old;
    const sy = (stage.scrollTop + y) / old;
    card.zoom = next;
    layout(card);
    stage.scrollLeft = sx * next - x;
    stage.scrollTop = sy * next - y;
  }

  function setupViewer(card) {
    const viewer = $(".viewer", card.node);
    const stage = $(".stage", viewer);
    $(".split", viewer).addEventListener("input", () => layout(card));
    for (const button of viewer.querySelectorAll("[data-mode]")) {
      button.addEventListener("click", () => {
        card.mode = button.dataset.mode;
        card.zoom = null;
        layout(card);
      });
    }
    for (const button of viewer.querySelectorAll("[data-zoom]")) {
      button.addEventListener("click", () => {
        const current = card.zoom === null ? fitZoom(card) : card.zoom;
        const how = button.dataset.zoom;
        if (how === "fit") { card.zoom = null; layout(card); } else if (how === "in") zoomTo(card, current * 1.5);
        else if (how === "out") zoomTo(card, current / 1.5);
        else zoomTo(card, Number(how));
      });
    }
    stage.addEventListener("wheel", (event) => {
      if (!event.ctrlKey) return;
      event.preventDefault();
      const box = stage.getBoundingClientRect();
      const current = card.zoom === null ? fitZoom(card) : card.zoom;
      zoomTo(card, current * (event.deltaY < 0 ? 1.25 : 0.8), event.clientX - box.left, event.clientY - box.top);
    }, { passive: false });
    let drag = null;
    stage.addEventListener("pointerdown", (event) => {
      drag = { x: event.clientX, y: event.clientY, left: stage.scrollLeft, top: stage.scrollTop };
      stage.classList.add("dragging");
      stage.setPointerCapture(event.pointerId);
    });
    stage.addEventListener("pointermove", (event) => {
      if (!drag) return;
      stage.scrollLeft = drag.left - (event.clientX - drag.x);
      stage.scrollTop = drag.top - (event.clientY - drag.y);
    });
    const stop = () => { drag = null; stage.classList.remove("dragging"); };
    stage.addEventListener("pointerup", stop);
    stage.addEventListener("pointercancel", stop);
  }

  window.addEventListener("resize", () => {
    for (const card of cards.values()) if (card.page !== null && card.zoom === null) layout(card);
  });

  // ------------------------------------------------------------------ start

  const drop = $("#drop");
  const input = $("#files");
  input.addEventListener("change", () => { addFiles([...input.files]); input.value = ""; });
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (event) => { event.preventDefault(); drop.classList.add("over"); });
  }
  for (const name of ["dragleave", "drop"]) {
    drop.addEventListener(name, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    addFiles([...event.dataTransfer.files]);
  });
  // a file dropped next to the drop zone must not replace the page
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());
  $("#remove-all").addEventListener("click", () => {
    for (const node of [...jobsBox.querySelectorAll(".job")]) node.querySelector(".remove").click();
  });

  loadConfig().then(poll, () => {
    $("#limits").textContent = "Cannot reach the docdenoise server: is it still running?";
  });
})();
