import Foundation

/// The station page's local authorization list: its versions as we and the charger know them,
/// and the buttons that send it.
extension StationPages {
    static func localList(_ state: LocalListState?, path: String, session: WebSession, format: DisplayFormat) -> HTML {
        let facts: HTML
        if let state {
            let answer = state.lastStatus.map { status in
                [status, state.lastUpdateType.map { "to the \($0.rawValue) update" }, state.lastSentAt.map { "at " + format.time($0) }]
                    .compactMap { $0 }.joined(separator: " ")
            }
            facts = """
                <dl class="facts">
                  <dt>Our version</dt><dd>\(state.version)</dd>
                  <dt>Confirmed</dt><dd id="local-list-confirmed">\(state.confirmedVersion.map(String.init) ?? "none yet")</dd>
                  <dt>Charger's</dt><dd>\(state.chargerVersion.map(String.init) ?? "not asked")</dd>
                  <dt>Last answer</dt><dd>\(answer ?? "—")</dd>
                  <dt>State</dt><dd id="local-list-state">\(freshness(state))</dd>
                  <dt>Entries</dt><dd>\(state.entries)</dd>
                </dl>
                """
        } else {
            facts = "<p class=\"muted\" id=\"no-local-list\">No list sent yet.</p>"
        }
        // One form, two buttons: the browser sends the `type` of the button pressed.
        return """
            \(facts)
            <form class="inline" method="post" action="\(path)/local-list" id="local-list-send">
              \(DashboardLayout.csrfField(session))
              <button type="submit" name="type" value="\(LocalListUpdateType.full.rawValue)">Send full list</button>
              <button type="submit" name="type" value="\(LocalListUpdateType.differential.rawValue)" class="secondary">Send changes</button>
            </form>
            """
    }

    private static func freshness(_ state: LocalListState) -> String {
        if state.needsFull { return "needs a full list: the charger reported a version mismatch" }
        if state.stale { return "stale: a tag changed since the confirmed version" }
        return state.confirmedVersion == nil ? "not confirmed" : "up to date"
    }
}
