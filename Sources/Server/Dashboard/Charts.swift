import Foundation

/// Server-rendered SVG charts: no script, no third-party code; presentation attributes only,
/// which the Content-Security-Policy allows (inline `style` it does not).
enum Charts {
    static let width = 720.0
    static let height = 220.0
    static let margin = 36.0

    /// One bar per value, labelled below; `title` is the accessible name.
    static func bars(_ values: [(label: String, value: Double)], title: String, unit: String) -> HTML {
        let maximum = max(values.map(\.value).max() ?? 0, 1e-9)
        let slot = (width - 2 * margin) / Double(max(values.count, 1))
        let bars = HTML(
            values.enumerated().map { index, entry -> HTML in
                let barHeight = (height - 2 * margin) * entry.value / maximum
                let x = margin + Double(index) * slot + slot * 0.1
                let y = height - margin - barHeight
                let label: HTML =
                    values.count <= 16 || index % max(1, values.count / 12) == 0
                    ? "<text x=\"\(number(x + slot * 0.4))\" y=\"\(number(height - margin + 14))\" font-size=\"10\" text-anchor=\"middle\" fill=\"#5b6475\">\(entry.label)</text>"
                    : .empty
                return """
                    <rect class="bar" x="\(number(x))" y="\(number(y))" width="\(number(slot * 0.8))" height="\(number(barHeight))" fill="#0b63c5"><title>\(entry.label): \(number(entry.value)) \(unit)</title></rect>\(label)
                    """
            })
        return frame(title: title, maximum: maximum, unit: unit, bars)
    }

    /// A line through `points` (x: time, y: value).
    static func line(_ points: [(at: Date, value: Double)], title: String, unit: String) -> HTML {
        guard let first = points.first, let last = points.last else { return "<p class=\"muted\">No samples yet.</p>" }
        let maximum = max(points.map(\.value).max() ?? 0, 1e-9)
        let span = max(last.at.timeIntervalSince(first.at), 1)
        let coordinates = points.map { point -> String in
            let x = margin + (width - 2 * margin) * point.at.timeIntervalSince(first.at) / span
            let y = height - margin - (height - 2 * margin) * point.value / maximum
            return "\(number(x)),\(number(y))"
        }.joined(separator: " ")
        return frame(
            title: title, maximum: maximum, unit: unit,
            "<polyline class=\"line\" points=\"\(coordinates)\" fill=\"none\" stroke=\"#0b63c5\" stroke-width=\"2\"></polyline>")
    }

    private static func frame(title: String, maximum: Double, unit: String, _ content: HTML) -> HTML {
        """
        <svg class="chart" viewBox="0 0 \(number(width)) \(number(height))" role="img" aria-label="\(title)" width="100%">
          <line x1="\(number(margin))" y1="\(number(height - margin))" x2="\(number(width - margin))" y2="\(number(height - margin))" stroke="#d9dde5"></line>
          <text x="\(number(margin))" y="\(number(margin - 8))" font-size="11" fill="#5b6475">max \(number(maximum)) \(unit)</text>
          \(content)
        </svg>
        """
    }

    /// Two decimals at most, no exponent: SVG coordinates and tooltips.
    static func number(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int64(rounded)) : String(format: "%.2f", rounded)
    }
}
