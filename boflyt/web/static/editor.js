/* The draft editor (boflyt/web/draft_pages.py): CodeMirror 5 in YAML mode over the page's
 * <textarea>, the text checked on the server about 500 ms after typing stops, each problem
 * marked in the gutter at its line and listed under the editor, and the swimlane preview of the
 * last valid text. Without JavaScript the <textarea> and its Save / Check buttons still work.
 * On the drafts list: a chosen version file is read into the upload form's text field.
 * No inline script, no eval (the pages' CSP is default-src 'self'). */
(function () {
  "use strict";

  function debounce(run, ms) {
    var timer = null;
    return function () {
      if (timer !== null) { clearTimeout(timer); }
      timer = setTimeout(function () { timer = null; run(); }, ms);
    };
  }

  function fill(template, name, value) {
    return template.split("{" + name + "}").join(String(value));
  }

  function setupUpload() {
    var row = document.getElementById("upload-file-row");
    var file = document.getElementById("upload-file");
    var area = document.getElementById("upload-text");
    if (!row || !file || !area) { return; }
    row.hidden = false;
    file.addEventListener("change", function () {
      var chosen = file.files && file.files[0];
      if (!chosen) { return; }
      chosen.text().then(function (text) { area.value = text; });
    });
  }

  function setupEditor() {
    var form = document.getElementById("draft-form");
    var area = document.getElementById("draft-text");
    var section = document.getElementById("problems-section");
    if (!form || !area || !section) { return; }
    var list = document.getElementById("problems");
    var summary = document.getElementById("problems-summary");
    var preview = document.getElementById("preview");
    var note = document.getElementById("preview-note");
    var words = section.dataset;
    var editor = null;
    var marked = [];

    if (window.CodeMirror) {
      editor = window.CodeMirror.fromTextArea(area, {
        mode: "yaml",
        lineNumbers: true,
        gutters: ["CodeMirror-linenumbers", "draft-gutter"],
        readOnly: area.readOnly,
        indentUnit: 2,
        tabSize: 2,
        indentWithTabs: false,
        lineWrapping: false,
        screenReaderLabel: form.querySelector("label[for=draft-text]").textContent,
        /* Tab leaves the editor (no keyboard trap); YAML is indented with spaces. */
        extraKeys: { "Tab": false, "Shift-Tab": false }
      });
      editor.getWrapperElement().classList.add("draft-editor");
    }

    function text() { return editor ? editor.getValue() : area.value; }

    function jump(line) {
      if (editor) {
        editor.focus();
        editor.setCursor({ line: line - 1, ch: 0 });
        editor.scrollIntoView({ line: line - 1, ch: 0 }, 80);
      } else {
        area.focus();
      }
    }

    function mark(problems) {
      if (!editor) { return; }
      editor.operation(function () {
        editor.clearGutter("draft-gutter");
        marked.forEach(function (handle) {
          editor.removeLineClass(handle, "background", "draft-bad-line");
        });
        marked = [];
        problems.forEach(function (problem) {
          var at = Math.max(problem.line, 1) - 1;
          if (at >= editor.lineCount()) { at = editor.lineCount() - 1; }
          var dot = document.createElement("span");
          dot.className = "draft-marker";
          dot.textContent = "●";
          dot.title = fill(words.wordLine, "line", problem.line) + ": " + problem.message;
          editor.setGutterMarker(at, "draft-gutter", dot);
          marked.push(editor.addLineClass(at, "background", "draft-bad-line"));
        });
      });
    }

    function listProblems(problems) {
      list.textContent = "";
      problems.forEach(function (problem) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = "#draft-text";
        link.dataset.line = String(problem.line);
        link.textContent = fill(words.wordLine, "line", problem.line);
        var place = document.createElement("code");
        place.textContent = problem.place;
        item.append(link, " ", place, " ", problem.message);
        list.appendChild(item);
      });
      summary.textContent = problems.length
        ? fill(words.wordCount, "count", problems.length) : words.wordNone;
    }

    function show(result) {
      listProblems(result.problems);
      mark(result.problems);
      if (result.valid && result.svg) {
        preview.innerHTML = result.svg;
        note.textContent = words.wordValid;
      } else if (preview.firstElementChild) {
        note.textContent = words.wordLast;
      }
    }

    var asked = 0;
    function check() {
      var mine = ++asked;
      var body = new URLSearchParams();
      body.set("csrf", form.elements.csrf.value);
      body.set("text", text());
      fetch(form.dataset.check, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      }).then(function (result) {
        if (mine === asked) { show(result); }
      }).catch(function () {
        if (mine === asked) { summary.textContent = words.wordOffline; }
      });
    }

    var later = debounce(check, 500);
    if (editor) { editor.on("changes", later); } else { area.addEventListener("input", later); }
    section.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-line]");
      if (!link) { return; }
      event.preventDefault();
      jump(Number(link.dataset.line));
    });
    if (!area.readOnly) { check(); }
  }

  function start() { setupUpload(); setupEditor(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
