extension Page {
    /// The page's style: large type and high contrast for a projector; focus always visible.
    static let css = #"""
    :root { --red: #b71c1c; --green: #1b6e34; --ink: #000; --paper: #fff; --muted: #333; --line: #555; --focus: #ffbf00; }
    * { box-sizing: border-box; }
    body { margin: 0; font-family: "DejaVu Sans", Verdana, Arial, sans-serif; font-size: 20px; line-height: 1.4; color: var(--ink); background: var(--paper); }
    .skip { position: absolute; left: -9999px; }
    .skip:focus { left: 8px; top: 8px; background: var(--ink); color: var(--paper); padding: 8px; z-index: 10; }
    header { padding: 10px 20px; border-bottom: 3px solid var(--ink); display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: baseline; }
    h1 { font-size: 1.5em; margin: 0; }
    h2 { font-size: 1.2em; margin: 0 0 8px; }
    #status { margin: 0; font-weight: bold; }
    .layout { display: grid; grid-template-columns: minmax(360px, 30%) minmax(0, 1fr); gap: 16px; padding: 12px 20px; }
    main { min-width: 0; }
    #comparison { overflow-x: auto; }
    @media (max-width: 1100px) { .layout { grid-template-columns: 1fr; } }
    form fieldset { border: 2px solid var(--line); margin: 0 0 12px; padding: 8px 12px; }
    legend { font-weight: bold; padding: 0 4px; }
    .field { display: grid; grid-template-columns: 1fr 8.5em; gap: 4px 8px; align-items: center; margin: 4px 0; }
    .field label { font-size: 0.9em; }
    input, select, button { font: inherit; font-size: 0.95em; }
    input[type=text], select { border: 2px solid var(--ink); padding: 2px 6px; width: 100%; background: var(--paper); color: var(--ink); }
    input[aria-invalid=true] { border-color: var(--red); background: #fde7e7; }
    .field .error { grid-column: 1 / -1; color: var(--red); font-size: 0.85em; font-weight: bold; }
    button { border: 2px solid var(--ink); background: #e8e8e8; color: var(--ink); padding: 4px 10px; cursor: pointer; margin: 2px 4px 2px 0; }
    button.primary { background: var(--ink); color: var(--paper); }
    button:disabled { opacity: 0.45; cursor: not-allowed; }
    :focus-visible { outline: 4px solid var(--focus); outline-offset: 2px; }
    section { border: 2px solid var(--line); padding: 10px 14px; margin-bottom: 14px; }
    .charts { display: grid; grid-template-columns: 1fr; gap: 16px; }
    figure { margin: 0; }
    figcaption { font-weight: bold; }
    svg { max-width: 100%; height: auto; display: block; }
    table { border-collapse: collapse; font-size: 0.9em; }
    th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: right; }
    td { white-space: nowrap; }
    td.verdict { white-space: normal; min-width: 9em; text-align: left; }
    td.wrap { white-space: normal; min-width: 7em; }
    .nw { white-space: nowrap; }
    caption { caption-side: bottom; text-align: left; padding-top: 4px; }
    th:first-child, td:first-child { text-align: left; }
    .winwin { font-weight: bold; color: var(--green); }
    #errors li { color: var(--red); font-weight: bold; }
    #errors button { font-weight: normal; }
    .note { font-size: 0.85em; color: var(--muted); }
    progress { width: 20em; height: 1.2em; }
    .row { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; }
    .row label input { width: 7em; }
    """#
}
