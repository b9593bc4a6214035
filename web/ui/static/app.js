// jitgate pages: live updates of the request lists.
//
// The server sends a Server-Sent Event named "changed" whenever the
// approval engine changes state. On each one, this script fetches the
// lists again (/requests?fragment=1) and swaps them in, so the page never
// polls. EventSource reconnects by itself after a dropped connection; the
// lists are fetched again on every (re)connect to catch up.
"use strict";

(function () {
  const lists = document.getElementById("live-lists");
  const status = document.getElementById("live-status");
  if (!lists || !window.EventSource) {
    return;
  }

  let fetching = false;
  let again = false;

  function showStatus(state, text) {
    if (status) {
      status.dataset.state = state;
      status.textContent = text;
    }
  }

  // refresh fetches the lists; a change that arrives during a fetch
  // triggers one more fetch after it, never two at once.
  async function refresh() {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    try {
      do {
        again = false;
        const resp = await fetch("/requests?fragment=1", {
          credentials: "same-origin",
          headers: { Accept: "text/html" },
        });
        if (resp.status === 401) {
          window.location.reload(); // the sign-in ended: show the form
          return;
        }
        if (resp.ok) {
          lists.innerHTML = await resp.text();
          lists.dataset.updates = String(Number(lists.dataset.updates || "0") + 1);
        }
      } while (again);
    } catch (err) {
      // The network failed; the next change event fetches again.
      console.warn("jitgate: fetching the request lists failed:", err);
    } finally {
      fetching = false;
    }
  }

  const source = new EventSource("/events");
  source.addEventListener("open", function () {
    showStatus("on", "Live");
    refresh();
  });
  source.addEventListener("error", function () {
    showStatus("off", "Reconnecting");
  });
  source.addEventListener("changed", refresh);
  source.addEventListener("signedout", function () {
    source.close();
    window.location.reload();
  });
})();
