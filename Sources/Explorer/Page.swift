/// The explorer's single page: HTML, style and script in one document, served by girfec
/// (no network, no other files: the release binary carries no resources).
enum Page {
    static var html: String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>girfec workshop explorer</title>
        <style>\(css)</style>
        </head>
        <body>
        \(body)
        <script>\(script)</script>
        </body>
        </html>
        """
    }

    static let body = #"""
    <a class="skip" href="#main">Skip to the diagram and charts</a>
    <header>
      <h1 id="title">girfec workshop explorer</h1>
      <span id="subtitle" class="note"></span>
      <p id="status" role="status" aria-live="polite">Loading the scenario…</p>
    </header>
    <div class="layout">
    <form id="settings" aria-labelledby="settings-h" onsubmit="return false">
      <h2 id="settings-h">What if…</h2>
      <fieldset>
        <legend>Arm being edited</legend>
        <div class="field"><label for="arm-select">Arm</label><select id="arm-select"></select></div>
        <div class="field"><label for="variant-name">Name for a new what-if</label><input type="text" id="variant-name" value="whatif1" autocomplete="off"></div>
        <button type="button" id="add-variant">Add what-if (copy of this arm)</button>
        <button type="button" id="remove-variant">Remove this arm</button>
      </fieldset>
      <div id="arm-fields"></div>
      <fieldset id="level-fields"><legend>Costs and QoL weights (every arm)</legend></fieldset>
      <fieldset id="time-fields"><legend>Time and model</legend></fieldset>
    </form>
    <main id="main">
      <section aria-labelledby="errors-h" id="errors-section" hidden>
        <h2 id="errors-h">Problems with the settings</h2>
        <p class="note">The charts show the last settings that were valid.</p>
        <ul id="errors" role="alert"></ul>
      </section>
      <section aria-labelledby="diagram-h">
        <h2 id="diagram-h">Stock-flow diagram: <span id="diagram-arm"></span></h2>
        <div class="row">
          <label for="year">Year shown</label>
          <input type="range" id="year" min="0" max="10" step="any" value="10" aria-describedby="year-out">
          <output id="year-out" for="year"></output>
          <button type="button" data-download-svg="diagram-svg">Download diagram (SVG)</button>
        </div>
        <div id="diagram"></div>
        <p class="note">Boxes are levels (children in each); red arrows are escalations, green arrows step-downs (children per year);
        dashed arrows are practices acting on the rates (− fewer escalations, + more step-downs).</p>
      </section>
      <section aria-labelledby="charts-h">
        <h2 id="charts-h">Over time</h2>
        <div class="charts">
          <figure class="wide"><figcaption id="stocks-cap">Children per level</figcaption><div id="chart-stocks"></div>
            <button type="button" data-download-svg="chart-stocks-svg">Download chart (SVG)</button>
            <button type="button" data-download-csv="stocks">Download table (CSV)</button></figure>
          <figure><figcaption id="cost-cap">Cost per year (£, undiscounted)</figcaption><div id="chart-cost"></div>
            <button type="button" data-download-svg="chart-cost-svg">Download chart (SVG)</button>
            <button type="button" data-download-csv="cost">Download table (CSV)</button></figure>
          <figure><figcaption id="qol-cap">QoL-years per year, difference from the baseline</figcaption><div id="chart-qol"></div>
            <button type="button" data-download-svg="chart-qol-svg">Download chart (SVG)</button>
            <button type="button" data-download-csv="qol">Download table (CSV)</button></figure>
        </div>
      </section>
      <section aria-labelledby="compare-h">
        <h2 id="compare-h">Arms compared with the baseline</h2>
        <div id="comparison"></div>
        <button type="button" data-download-csv="comparison">Download comparison (CSV)</button>
      </section>
      <section aria-labelledby="agents-h">
        <h2 id="agents-h">Simulate agents</h2>
        <p class="note">Runs the agent model on the current settings; bands (2.5–97.5 % of replications) appear on the charts as replications finish.</p>
        <div class="row">
          <label>Replications <input type="text" id="replications" value="20" inputmode="numeric"></label>
          <label>Seed <input type="text" id="seed" value="20261206" inputmode="numeric"></label>
          <button type="button" class="primary" id="simulate">Simulate agents</button>
          <button type="button" id="cancel" disabled>Cancel</button>
          <progress id="agent-progress" max="1" value="0" aria-label="Replications finished"></progress>
          <span id="agent-status" role="status" aria-live="polite"></span>
        </div>
      </section>
      <section aria-labelledby="export-h">
        <h2 id="export-h">Export</h2>
        <p class="note">A scenario file with every arm above, for <code>girfec validate</code> and <code>girfec run</code>; your browser saves it.</p>
        <button type="button" class="primary" id="export">Export scenario with these arms (YAML)</button>
        <span id="export-status" role="status" aria-live="polite"></span>
      </section>
    </main>
    </div>
    """#
}
