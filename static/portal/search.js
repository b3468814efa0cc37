// The header search box's suggestions (a combobox, WAI-ARIA's "list autocomplete" pattern).
// htmx fills the listbox as the person types; this script shows and hides it and lets the
// arrow keys, Enter and Escape work while focus stays in the box. Without JavaScript the
// box is a plain form that submits to /search.
(function () {
  "use strict";
  const input = document.getElementById("header-search");
  const list = document.getElementById("header-search-suggestions");
  if (!input || !list) return;
  let active = -1;

  function options() {
    return Array.from(list.querySelectorAll('[role="option"]'));
  }

  function setOpen(open) {
    list.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) select(-1);
  }

  function select(index) {
    const all = options();
    active = index;
    all.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
      option.classList.toggle("active", i === index);
    });
    if (index >= 0 && all[index]) {
      input.setAttribute("aria-activedescendant", all[index].id);
      all[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  list.addEventListener("htmx:afterSwap", function () {
    active = -1;
    setOpen(input.value.trim() !== "" && options().length > 0 && document.activeElement === input);
  });

  input.addEventListener("input", function () {
    if (input.value.trim() === "") setOpen(false);
  });

  input.addEventListener("keydown", function (event) {
    const all = options();
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!all.length) return;
      event.preventDefault();
      if (list.hidden) setOpen(true);
      const step = event.key === "ArrowDown" ? 1 : -1;
      // -1 is the box itself: the arrows cycle box → suggestions → box.
      let next = active + step;
      if (next >= all.length) next = -1;
      if (next < -1) next = all.length - 1;
      select(next);
    } else if (event.key === "Enter" && !list.hidden && active >= 0 && all[active]) {
      event.preventDefault();
      window.location.assign(all[active].querySelector("a").href);
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      setOpen(false);
    }
  });

  input.addEventListener("blur", function () {
    // Later than a click on a suggestion, which must still land.
    window.setTimeout(function () {
      if (!list.contains(document.activeElement)) setOpen(false);
    }, 150);
  });

  input.addEventListener("focus", function () {
    if (input.value.trim() !== "" && options().length) setOpen(true);
  });
})();
