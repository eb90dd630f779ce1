// Perpetuo dashboard: small progressive enhancements. Everything works without this file.
// No inline handlers, no eval: it is loaded with <script src defer> under script-src 'self'.
(() => {
  "use strict";

  // Copy buttons: <button data-copy="#selector"> copies that element's value or text.
  document.addEventListener("click", async (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
    if (!button) return;
    const source = document.querySelector(button.getAttribute("data-copy") || "");
    if (!source) return;
    const text = "value" in source ? source.value : source.textContent || "";
    const label = button.textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied ✓";
    } catch {
      // No clipboard permission (or not a secure context): select it for Ctrl+C instead.
      if (source instanceof HTMLInputElement || source instanceof HTMLTextAreaElement) source.select();
      else window.getSelection()?.selectAllChildren(source);
      button.textContent = "Press Ctrl+C";
    }
    button.setAttribute("data-copied", "");
    setTimeout(() => {
      button.textContent = label;
      button.removeAttribute("data-copied");
    }, 2000);
  });

  // Copy buttons are rendered hidden (without JavaScript they could do nothing; the text stays
  // selectable); show them once this script runs, and again in content htmx swaps in.
  function revealCopyButtons() {
    for (const b of document.querySelectorAll("[data-copy][hidden]")) b.hidden = false;
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", revealCopyButtons);
  else revealCopyButtons();
  document.addEventListener("htmx:after:swap", revealCopyButtons);

  // Read-only key fields select themselves, so one click then Ctrl+C also works.
  document.addEventListener("focusin", (event) => {
    const el = event.target;
    if (el instanceof HTMLInputElement && el.hasAttribute("data-select-on-focus")) el.select();
  });

  // Disclosure menus (<details data-menu>): close on Escape and on a click elsewhere.
  document.addEventListener("click", (event) => {
    for (const menu of document.querySelectorAll("details[data-menu][open]")) {
      if (!(event.target instanceof Node) || !menu.contains(event.target)) menu.removeAttribute("open");
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    for (const menu of document.querySelectorAll("details[data-menu][open]")) {
      menu.removeAttribute("open");
      menu.querySelector("summary")?.focus();
    }
  });

  // Rows with data-row-href open their page from anywhere in the row; the first cell's link is the
  // real one (works without JavaScript, and is what keyboard users Tab to). Clicks on the row's own
  // controls, and a drag that selects text to copy, are left alone.
  function rowLink(row) {
    return row.querySelector("a.row-link");
  }
  // (Keyboard: Tab reaches the link, the row lights up with :focus-within, Enter follows it.)
  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const row = target ? target.closest("tr[data-row-href]") : null;
    if (!row || target.closest("a, button, input, select, textarea, summary, label")) return;
    if (String(window.getSelection() || "") !== "") return;
    const link = rowLink(row);
    if (!link) return;
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button === 1) {
      window.open(link.href, "_blank", "noopener");
      return;
    }
    link.click();
  });
  // After htmx swaps a whole page frame, move focus like a page load would: to the error summary
  // when the form came back with errors, else to the page heading.
  function focusAfterSwap(root) {
    const target = root.querySelector("[data-focus]") || root.querySelector("#main h1");
    if (!target) return;
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: false });
  }

  document.addEventListener("htmx:after:swap", (event) => {
    const ctx = event.detail && event.detail.ctx;
    if (ctx && ctx.target && ctx.target.id === "frame") {
      const frame = document.getElementById("frame");
      if (frame) focusAfterSwap(frame);
    }
  });

  // A request that never got an answer (network down, timeout): say so instead of doing nothing.
  document.addEventListener("htmx:error", (event) => {
    const ctx = event.detail && event.detail.ctx;
    if (ctx && ctx.response) return; // the server answered; its HTML was swapped in
    showToast("Perpetuo could not be reached. Check your connection and try again.");
  });

  function showToast(message) {
    let toast = document.getElementById("toast");
    if (!toast) {
      toast = document.createElement("div");
      toast.id = "toast";
      toast.className = "toast";
      toast.setAttribute("role", "alert");
      document.body.appendChild(toast);
    }
    toast.textContent = message;
    toast.hidden = false;
    clearTimeout(showToast.timer);
    showToast.timer = setTimeout(() => {
      toast.hidden = true;
    }, 6000);
  }
})();
