// Drag-and-drop onto the upload form: dropped files join the file input, and the form
// still submits as a plain multipart POST (it works without this script too).
(function () {
  "use strict";
  const zone = document.getElementById("dropzone");
  if (!zone) return;
  const input = document.getElementById(zone.dataset.input);
  const list = document.getElementById("file-list");
  function show() {
    list.replaceChildren();
    for (const f of input.files) {
      const li = document.createElement("li");
      li.textContent = f.name + " (" + Math.round(f.size / 1024) + " KB)";
      list.appendChild(li);
    }
  }
  ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => {
    e.preventDefault();
    zone.classList.add("dropzone--over");
  }));
  ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, () => zone.classList.remove("dropzone--over")));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    const merged = new DataTransfer();
    for (const f of input.files) merged.items.add(f);
    for (const f of e.dataTransfer.files) merged.items.add(f);
    input.files = merged.files;
    show();
  });
  input.addEventListener("change", show);
})();
